# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/client_upgrade.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: client_upgrade
short_description: Bring one OSCE client to the program build its server offers
version_added: 0.1.0
description:
  - Reads the client's program build; when it is behind the build the server offers, runs C(AutoPcc.exe) from the
    server's C(ofcscan) share on the client (profile entry C(client_autopcc), C(\\{server}\ofcscan\AutoPcc.exe),
    run with C(ansible.windows.win_command)), then reads the build again until it reaches the server's or
    O(timeout) passes.
  - O(phase) splits that in two tasks so a play can cap the downloads without holding a slot through the
    install - C(start) runs C(AutoPcc.exe) and returns when it exits (it copies the program files from the share,
    the network part); C(finish) only waits for the build. Put C(throttle) on the C(start) task alone, as the
    role C(osce.patching.client_rollout) does. If C(AutoPcc.exe) also waits for the install on your estate, the
    split still holds the budget; it only saves nothing.
  - Does nothing when the client is already current (no command run).
  - An offline client (the connection fails on the first read) is reported UNREACHABLE - C(unreachable=true),
    not C(failed) - so C(ignore_unreachable) applies and the client does not count against
    C(max_fail_percentage).
  - "A client that drops during its own upgrade: while waiting for the new build, a read that finds the client
    unreachable is retried every O(poll_interval) s until O(timeout) (a program update can briefly disconnect it;
    RV(disconnects) counts those reads). With O(phase=finish) this holds for the first read too (the client may
    be installing right then), so give the finish task only the clients the start task reached. Still
    unreachable at the deadline, the task FAILS with RV(dropped=true) (C(changed=true) when this task ran
    C(AutoPcc.exe); with O(phase=finish) the start task reported the change), so it counts against the batch."
  - "Stall: whether C(AutoPcc.exe) upgrades a client while the privilege 'clients can update components but not
    upgrade the client program' is on is unknown. When C(AutoPcc.exe) returned success and the client answers
    but its build has not moved for O(stall_timeout) s, the task fails at once with RV(stalled=true) and a
    diagnosis naming that unknown and the way on (user guide, 'AutoPcc and the upgrade privilege'), instead of
    waiting out O(timeout)."
  - RV(reboot_required) rests on the documented fact that a client program update needs a restart to load the
    new TDI driver - true when this task moved the program build; C(AutoPcc.exe) reports nothing about reboots.
  - Returns the bytes the client is expected to download for its architecture (catalog C(client_package_bytes)
    of the step that brought the server to its level, or C(osce_installers.<step>.client_package_bytes)).
  - "Round trips: 1 C(ansible.windows.win_reg_stat) of the client's C(Misc.) key (1 more on a 32-bit client);
    when behind, 1 C(ansible.windows.win_command) and 1 read per poll."
  - "WinRM double hop: AutoPcc.exe runs from a network share, which a plain NTLM or Kerberos WinRM session cannot
    reach with your credentials. Use C(become: true) with C(become_method: runas) and C(become_user) an account
    with access to the share (become gives the process a fresh logon with network credentials), or a delegating
    transport (C(ansible_winrm_transport: credssp), or Kerberos with C(ansible_winrm_kerberos_delegation: true)).
    Credentials stay in your inventory or vault; the module never returns them."
options:
  server_facts:
    description:
      - The server's C(ansible_facts.osce_server) from M(osce.patching.build_facts). Uses C(client_program.build)
        and C(level).
    type: dict
    required: true
  server:
    description:
      - Host name of the OSCE server as the client reaches its C(ofcscan) share (fills C({server}) in the profile entry
        C(client_autopcc)).
    type: str
    required: true
  arguments:
    description:
      - Arguments passed to C(AutoPcc.exe).
    type: list
    elements: str
    default: ['-f', '-u']
  poll_interval:
    description:
      - Seconds between reads of the program build while waiting.
    type: int
    default: 15
  stall_timeout:
    description:
      - Seconds the program build may stay where it is, the client answering, while waiting after
        C(AutoPcc.exe) returned success; then the task fails with RV(stalled=true). A read that finds the client
        unreachable restarts the count (the client is busy installing).
      - V(0), or a value not below O(timeout), turns the check off.
    type: int
    default: 300
  phase:
    description:
      - V(all) runs C(AutoPcc.exe) when the client is behind and waits for the new build.
      - V(start) runs C(AutoPcc.exe) when the client is behind and returns when it exits, without waiting for the
        build (RV(pending) is true). Changed when it ran C(AutoPcc.exe).
      - V(finish) never runs anything; it waits until the build reaches the server's (fails after O(timeout)).
        Never changed - the V(start) task reported the change. In check mode it reads the build and does not wait.
    type: str
    choices: [all, start, finish]
    default: all
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.client
  - osce.patching.attributes.diff
attributes:
  check_mode:
    description: >-
      Reads the build and reports whether the client would be upgraded; runs nothing. The diff and RV(prediction)
      say what is assumed (AutoPcc succeeds) and, when the server's client build is not known before its step is
      installed, that only the AutoPcc run is predicted.
  diff_mode:
    description: Program build before and after.
seealso:
  - module: osce.patching.pattern_verify
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Upgrade clients in staggered batches
  hosts: osce_clients
  serial: [1, 5, 25]
  gather_facts: false
  tasks:
    - name: Take the server's program build
      osce.patching.client_upgrade:
        server: "{{ groups.osce_server[0] }}"
        server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
        timeout: 900
      throttle: 5

- name: Cap the downloads, not the installs (what the client_rollout role does)
  hosts: osce_clients
  serial: [1, 50]
  gather_facts: false
  tasks:
    - name: Start AutoPcc on at most 5 clients at once
      osce.patching.client_upgrade:
        server: "{{ groups.osce_server[0] }}"
        server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
        phase: start
      throttle: 5

    - name: Wait for every client's new build while the next ones download
      osce.patching.client_upgrade:
        server: "{{ groups.osce_server[0] }}"
        server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
        phase: finish
        timeout: 900
"""

RETURN = r"""
prediction:
  description: In check mode, what the predicted build rests on and what cannot be known, starting C(prediction:).
  returned: check mode, when the client would be upgraded
  type: str
build_before:
  description: Program build before the task.
  returned: success
  type: int
  sample: 5600
build:
  description:
    - Program build after the task (predicted in check mode). With O(phase=start), the build read before
      C(AutoPcc.exe) ran (the new build is not verified yet; see RV(pending)).
  returned: success
  type: int
  sample: 5712
pending:
  description: True when the client is still behind the server's build as the task returns (O(phase=start) after
    C(AutoPcc.exe), or O(phase=finish) in check mode).
  returned: success
  type: bool
  sample: false
phase:
  description: The O(phase) this task ran.
  returned: success
  type: str
  sample: start
expected_build:
  description: The build the server offers.
  returned: success
  type: int
  sample: 5712
arch:
  description: C(x64) or C(x86), from the registry view the client key was found in.
  returned: success
  type: str
bytes_expected:
  description:
    - Bytes the client downloads for this upgrade (C(0) when current, C(null) when the catalog does not know).
      Always C(0) with O(phase=finish) (the V(start) task downloads).
  returned: success
  type: int
  sample: 44200000
waited:
  description: Seconds spent waiting for the new build.
  returned: success
  type: float
reboot_required:
  description:
    - Whether the client needs a restart. True when this task moved the program build (predicted in check mode)
      - a client program update needs a restart to load the new TDI driver (Trend Micro documentation); false when
      the client was already current. Not read from the client (C(AutoPcc.exe) and C(ansible.windows.win_command)
      report nothing about reboots).
  returned: success
  type: bool
  sample: true
reboot_required_source:
  description: What RV(reboot_required) is based on.
  returned: success
  type: str
  sample: "program build changed: a client program update needs a restart to load the new TDI driver (doc)"
dropped:
  description: The client stopped answering while its upgrade ran and did not answer again within O(timeout) -
    the task failed (it counts against its batch). False on success.
  returned: success and failure (not on an UNREACHABLE result)
  type: bool
  sample: false
stalled:
  description: The build did not move for O(stall_timeout) s after C(AutoPcc.exe) returned success, the client
    answering - the task failed with the diagnosis in C(msg). False on success.
  returned: success and failure (not on an UNREACHABLE result)
  type: bool
  sample: false
disconnects:
  description: Reads that found the client unreachable while waiting for the new build (each retried).
  returned: success or dropped
  type: int
  sample: 0
reads:
  description: The last read of the program key (C(program)) and the build expected (C(expected_build)), when it
    showed the server's build; what M(osce.patching.pattern_verify)'s O(osce.patching.pattern_verify#module:program_read)
    reuses.
  returned: when the client is on the server's build after this task (not in check mode)
  type: dict
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
