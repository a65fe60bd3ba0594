# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/rollout_step.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: rollout_step
short_description: Decide one step of the OSCE patch chain for the server and its clients
version_added: 0.2.0
description:
  - The one place that decides a step (the roles hold no decision logic) - whether it is due, the level it ends
    on, which clients take it, the bytes each architecture downloads, the server facts the clients upgrade to
    (predicted in check mode), the batches (C(serial)), the download C(throttle) and the health gate.
  - "One definition of I(behind): a client whose known program build is lower than the target build. A client
    whose build is newer than the server's is current."
  - Reads the rollout variables from the play (C(osce_bandwidth_budget_bps), C(osce_serial), C(osce_throttle),
    C(osce_max_fail_percentage), C(osce_offline_clients) ... see C(docs/variables.md)), converts and checks each once,
    booleans included; a bad value fails with one line naming the variable, the problem, the value and the fix.
  - Reads the clients' state from the host fact C(osce_client_state) of each host of O(clients_group) (preflight
    writes it), and the server facts from C(osce_server) (M(osce.patching.build_facts)).
  - Runs on the controller only; makes no remote call and never reports C(changed).
options:
  step:
    description:
      - A catalog step id (C(sp3), C(sp3_patch1_1), C(cp5495), C(sp3_patch2), C(cp5712r1)), C(catch_up) (clients behind the
        server's current build), or C(all) with O(phase=preflight).
    type: str
    required: true
  phase:
    description:
      - C(plan) before the server install (check mode predicts the server facts; C(gate) says whether the clients are
        current).
      - C(installed) after the install, from the server facts read again (who is behind the new build).
      - C(batch) the health gate of one client batch (O(batch)).
      - C(close) whether the upgrade privilege may go back to its original value without any client upgrading outside
        a batch (every client of O(clients_group) known to be on the server's client build).
      - C(preflight) check every variable and plan every step of the chain; returns C(problems), never fails on them.
      - C(finish) at the end of a run, whether a reboot the server still owes (this run's last install exited 3010,
        or a C(RebootDebt) left earlier) stops the run (C(osce_reboot_stop)), or is paid now (C(reboot_now),
        with C(osce_server_reboot)).
    type: str
    choices: [plan, installed, batch, close, preflight, finish]
    default: plan
  clients_group:
    description: Inventory group holding every client the OSCE server manages.
    type: str
    default: osce_clients
  clients:
    description: The client names to consider instead of O(clients_group).
    type: list
    elements: str
  batch:
    description: The clients of the batch to judge (O(phase=batch)), e.g. C(ansible_play_batch).
    type: list
    elements: str
    default: []
  server_facts:
    description: The server facts; default the host fact C(osce_server).
    type: dict
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.read_only
attributes:
  check_mode:
    description: >-
      Decides the same way; before the install it predicts the server facts of the step. In a C(--check) run it
      decides on the server facts with the installs earlier steps of the run predicted laid over them (host fact
      C(osce_prediction)), so step 2 is decided as if step 1 were installed, and C(osce_rollout.prediction) /
      C(osce_release.prediction) say what the prediction assumes and what it cannot know.
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Read the server (the decision starts from its facts; preflight does this in a run)
  osce.patching.build_facts:

- name: Decide CP 5712r1 (before the install)
  osce.patching.rollout_step:
    step: cp5712r1
  register: decision

- name: May the privilege go back without a burst?
  osce.patching.rollout_step:
    step: cp5712r1
    phase: close
  register: release

- name: Say what it decided
  ansible.builtin.debug:
    msg: "{{ decision.osce_rollout.reason }}; release: {{ release.osce_release.message }}"
"""

RETURN = r"""
osce_rollout:
  description: The step decision (phases C(plan) and C(installed)); also set as a host fact.
  returned: phase plan or installed
  type: dict
  contains:
    step: {description: The step id., type: str, returned: always}
    due: {description: Whether the step runs., type: bool, returned: always}
    reason: {description: Why it is due or not., type: str, returned: always}
    to_level: {description: The level the step ends on., type: str, returned: always}
    target_build: {description: The client build the step's clients end on (null when not known before the install)., type: int, returned: always}
    hosts: {description: "The clients that take the step, in batch order.", type: list, elements: str, returned: always}
    offline: {description: Clients unreachable at preflight or since., type: list, elements: str, returned: always}
    package_bytes: {description: Bytes per architecture the plan counts., type: dict, returned: always}
    package_bytes_source: {description: "Per architecture: C(catalog) or C(assumed (osce_package_bytes))", type: dict, returned: always}
    server_facts: {description: The server facts the clients upgrade to (predicted before the install)., type: dict, returned: always}
    serial: {description: The batches for the client play's C(serial)., type: list, returned: always}
    throttle: {description: Clients downloading at once., type: int, returned: always}
    max_fail_percentage: {description: The health gate per batch., type: float, returned: always}
    gate: {description: "C(ok), C(blocking) (reachable clients behind or unreadable), C(offline), C(message)", type: dict, returned: always}
    plan: {description: "The planner's full plan (batches, floor, predicted makespan), or null when not due.", type: dict, returned: always}
    settings: {description: The rollout variables as converted and checked., type: dict, returned: always}
    total_bytes: {description: Bytes the step's clients download in all (0 when not due)., type: int, returned: always}
    predicted_makespan_s: {description: The planner's predicted time for the step's batches (0 when not due)., type: float, returned: always}
    lower_bound_s: {description: The physical floor of those batches (bytes / budget plus one install)., type: float, returned: always}
    budget_bps: {description: The bandwidth budget the plan used (osce_bandwidth_budget_bps)., type: float, returned: always}
    phase: {description: The phase that produced it., type: str, returned: always}
    warnings: {description: What the plan assumed., type: list, elements: str, returned: always}
    prediction:
      description: "In a C(--check) run, what the prediction of the step's client batches assumes and cannot know,
        starting C(prediction:) (empty otherwise)."
      type: str
      returned: always
osce_release:
  description: "Phase C(close): C(release) (bool), C(server_build), C(held) (client -> why), C(offline_released), C(message);
    in a C(--check) run also C(prediction) (what the decision rests on)."
  returned: phase close
  type: dict
osce_batch_health:
  description: "Phase C(batch): C(tripped), C(failed), C(size), C(max_fail_percentage), C(message)."
  returned: phase batch
  type: dict
osce_settings:
  description: Phase C(preflight) - the rollout variables as converted and checked.
  returned: phase preflight
  type: dict
estate:
  description: Phase C(preflight) - the clients read, online, offline, not read (outside --limit), by build.
  returned: phase preflight
  type: dict
osce_reboot_stop:
  description: "Phase C(finish) - the stop (C(step), C(reason), C(fix)) for a reboot the server still owes, or null."
  returned: phase finish
  type: dict
reboot_now:
  description: Phase C(finish) - reboot the server now (C(osce_server_reboot) and a C(RebootDebt) on it).
  returned: phase finish
  type: bool
work_due:
  description: Phase C(preflight) - whether a run has anything to do (a step, a client behind, an open privilege marker,
    a reboot debt).
  returned: phase preflight
  type: bool
sites:
  description: Phase C(preflight) - the sites (C(osce_site); an empty string for none) of the clients read in this
    run, which a site batch job (C(osce_budget_share)) claims with its lease.
  returned: phase preflight
  type: list
  elements: str
problems:
  description: Phase C(preflight) - every problem found, one line each, naming the variable and the fix.
  returned: phase preflight
  type: list
  elements: str
"""
