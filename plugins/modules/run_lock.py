# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/run_lock.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_lock
short_description: Take, release or read the run lock that lets one run at a time patch an OSCE estate
version_added: 0.1.0
description:
  - Keeps two playbook runs from patching the same OfficeScan estate at once. The lock is the value C(RunLock)
    of this collection's own registry key on the OSCE server (profile entry C(collection_state),
    C(HKLM:\SOFTWARE\osce.patching)), a JSON object C(run_id), C(controller) (host name of the Ansible
    controller), C(user), C(pid) and C(started) (ISO 8601 UTC).
  - C(pid) is the process id of the C(ansible-playbook) process of the run. ansible-core forks the worker that
    runs this action plugin from that process, so the module records its parent process id.
  - O(state=present) takes a free lock, or does nothing when O(run_id) already holds it. A lock held by another
    run whose C(controller) is this controller and whose C(pid) no longer exists is stale; the module takes it
    over, records the break in the value C(LockBroken) (C(run_id) of the holder, C(by_run), C(at), C(reason))
    and warns. A lock held by another run is also taken when O(break_lock) names that run. Otherwise the module
    fails, naming the holder and how to break a dead lock (C(playbooks/unlock.yml)).
  - After writing the lock the module waits O(settle) seconds and reads it again; if another run wrote the lock
    in between (two runs started seconds apart), the one that does not find itself fails naming the other.
  - O(state=absent) releases the lock held by O(run_id). A lock held by another run is left alone with a warning,
    unless O(break_lock) names that run, which removes it and records C(LockBroken).
  - O(state=query) only reads the lock.
  - "A site batch job (O(share) above 0) takes a lease instead of the lock: the value C(RunShare.<run_id>) with
    C(share) and C(sites) besides the fields above. The lock and the leases exclude each other: a server step
    never runs while a site's client batches run, and a site job never starts while a server step holds the lock.
    Leases of live runs add up to 1 at most and never claim the same site. A lease of a dead run on this
    controller is stale and removed, as a stale lock is; O(break_lock) breaks a lease by its run id."
  - "Round trips: 1 C(ansible.windows.win_reg_stat) of the key; when changing, 1 C(ansible.windows.win_regedit)
    per value written or removed (C(LockBroken), C(RunLock)) and 1 more read to verify."
options:
  state:
    description:
      - C(present) take the lock for O(run_id).
      - C(absent) release the lock held by O(run_id).
      - C(query) read the lock; never changes anything.
    type: str
    choices: [present, absent, query]
    default: present
  run_id:
    description:
      - The id of this run (for example the C(osce_run_id) of C(playbooks/site.yml)). Required with
        O(state=present) and O(state=absent).
    type: str
  break_lock:
    description:
      - The run id of a holder to break on purpose (a run you know is dead, on another controller or
        under another user). Only a holder with exactly this id is broken.
    type: str
    default: ''
  share:
    description:
      - 0 takes the estate's run lock (a whole-estate run, or a server job).
      - Above 0 (at most 1), the part of the rollout budget a site batch job may use (C(osce_budget_share)); takes,
        or with O(state=absent) releases, this run's lease instead of the lock.
    type: float
    default: 0
  sites:
    description:
      - The sites (the clients' C(osce_site); an empty string for clients without one) whose client batches this
        site batch job runs. Only with O(share) above 0.
    type: list
    elements: str
    default: []
  settle:
    description:
      - Seconds to wait after writing the lock before reading it back to prove this run holds it.
      - Longer than the time two runs may take between their first read and their write.
    type: float
    default: 3.0
extends_documentation_fragment:
  - osce.patching.common
attributes:
  check_mode:
    support: full
    description: >-
      Reads the lock and reports what O(state=present) or O(state=absent) would do, C(changed) when it would
      take or release it; writes nothing. A lock held by another live run gives a warning instead of a failure,
      so C(--check) and C(playbooks/plan.yml) report it without taking it. In a C(--check) run the lock it
      predicts is kept in the host fact C(osce_prediction), so the release at the end of the run is predicted too.
  diff_mode:
    support: full
    description: The lock before and after.
  platform:
    support: full
    platforms: windows
    description: Target is the OfficeScan server.
seealso:
  - module: osce.patching.build_facts
author:
  - osce.patching maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Take the run lock for this run (fails naming the holder when another run has it)
  osce.patching.run_lock:
    state: present
    run_id: nightly-20261202

- name: Who holds the lock?
  osce.patching.run_lock:
    state: query
  register: osce_lock

- name: Release it when the run ends (in an always block)
  osce.patching.run_lock:
    state: absent
    run_id: nightly-20261202

- name: A site batch job takes half of the budget for site1 (fails while the lock or another lease on site1 is held)
  osce.patching.run_lock:
    state: present
    run_id: site1-20261202
    share: 0.5
    sites: [site1]

- name: Break the lock of a run that is known to be dead (what playbooks/unlock.yml does)
  osce.patching.run_lock:
    state: absent
    run_id: nightly-20261201
    break_lock: nightly-20261201
"""

RETURN = r"""
run_id:
  description: The O(run_id) of this task.
  returned: success
  type: str
  sample: 20261202T184000-ctl1
lock:
  description: The holder of the lock after the task (in check mode, as it would be), or null when the lock is free.
  returned: success
  type: dict
  sample: {run_id: 20261202T184000-ctl1, controller: ctl1, user: ops, pid: 41872, started: '2026-12-02T18:40:00Z'}
  contains:
    run_id:
      description: The run holding the lock.
      type: str
    controller:
      description: Host name of the Ansible controller of that run.
      type: str
    user:
      description: User that ran it.
      type: str
    pid:
      description: Process id of the C(ansible-playbook) process of that run, on its controller.
      type: int
    started:
      description: When it took the lock (ISO 8601 UTC).
      type: str
shares:
  description: The site batch jobs' leases after the task (in check mode, as they would be), by run id; each has the
    fields of RV(lock) plus C(share) and C(sites).
  returned: success
  type: dict
  sample: {site1-20261202: {run_id: site1-20261202, controller: ctl1, user: ops, pid: 41872,
           started: '2026-12-02T18:40:00Z', share: 0.5, sites: [site1]}}
held_by_us:
  description: Whether O(run_id) holds the lock (with O(share) above 0, its lease) after the task.
  returned: success
  type: bool
stale:
  description: Whether the holder found by this task ran on this controller and its C(ansible-playbook) process is gone.
  returned: success
  type: bool
broken:
  description: The C(LockBroken) record this task wrote (or would write in check mode), or null.
  returned: success
  type: dict
  sample: {run_id: 20261202T101500-ctl1, by_run: 20261202T184000-ctl1, at: '2026-12-02T18:40:01Z',
           reason: holder process 41002 on ctl1 is gone}
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
