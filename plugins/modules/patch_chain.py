# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/patch_chain.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: patch_chain
short_description: Apply the OSCE patch chain to 10.6 SP3 CP 5712r1, or one step of it
version_added: 0.1.0
description:
  - Detects the server's level (as M(osce.patching.build_facts) does), plans the vendor FAQ's chain and installs
    the selected steps on the OfficeScan server, in order.
  - "Before anything runs, for every selected step: the installer is given (O(installers) / C(osce_installers)),
    exists on the server and its SHA-256 matches; the step's prerequisite level holds; the volume of the OSCE
    install folder has at least O(min_free_mb) free; the server has no reboot pending (see below). Every problem
    found is collected - a tampered CP 5495 and a missing CP 5712r1 give two - and the task fails once, before a
    change, with one line listing them all and the list in RV(problems). In check mode this is the preflight."
  - "Installers are checked when they run: right before each installer runs, in the same task, it is hashed again
    (SHA-256) and refused on a mismatch or when it is gone. A C(package) installer is given the digest as
    C(win_package) C(checksum), so C(win_package) hashes it in the call that starts it (when that call fails before
    the installer started, one C(win_stat) tells a file gone since the pre-check); a C(command) installer is hashed
    by C(ansible.windows.win_stat) the round trip before. See the notes for the window that remains and how to close
    it."
  - Each step runs the installer through C(ansible.windows.win_package) (or C(ansible.windows.win_command) when its
    C(method) is C(command)) with the step's C(arguments). Exit code C(0) is success; C(1603) and any code not in
    the step's C(success_codes) fail the task with the installer's log path.
  - "Reboots are facts of the host, read before every install: Windows' own reboot-pending signals (profile
    entries C(reboot_pending_cbs) - Component Based Servicing C(RebootPending) key, C(reboot_pending_wu) - Windows
    Update C(Auto Update\\RebootRequired) key, C(reboot_pending_file_rename) - Session Manager
    C(PendingFileRenameOperations)) and the collection's own C(RebootDebt) (profile entry C(collection_state)).
    A pending reboot stops the task before the install (unless O(fail_on_reboot_pending=false)) and is returned
    as RV(reboot_pending), so a play can do its opt-in reboot first."
  - "Exit C(3010): the step is installed and the server needs a reboot. The chain stops there, RV(reboot_required)
    is true and the module writes C(RebootDebt) (C(step), C(exit_code), C(since), C(run_id) and C(shutdown_time),
    the server's last-shutdown time read before the install, profile entry C(last_shutdown_time),
    C(HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Windows) C(ShutdownTime)). The debt is paid when the server has
    rebooted: Windows writes a new C(ShutdownTime) at every clean shutdown, so the next run that reads a different
    value clears the debt (a change, RV(reboot_debt_cleared)). Confidence: C(ShutdownTime) is read by third
    parties (forensics), not documented by Microsoft; a dirty shutdown (power loss) does not update it, so the
    debt stands until a clean reboot (C(ansible.windows.win_reboot))."
  - "Exit C(1641): the installer restarted the server itself. The module waits for it (polls every
    O(reboot_poll_interval) s until the server answers and its C(ShutdownTime) changed, at most
    O(reboot_timeout) s), then verifies the build and goes on with the chain; it never reports a reboot still
    needed and never reboots again. A connection that drops while an installer runs is waited out the same way
    and the step is judged by the build read afterwards. Still unreachable at the deadline, the task is
    UNREACHABLE (C(changed=true))."
  - "Right before a step's installer runs the module writes its intent as C(Applied.<step id>) (C(status=installing),
    C(step), C(sha256), C(run_id), C(started), C(from_build), C(to_build)); after the verified install it replaces it
    by the record C(step), C(sha256), C(installed) as ISO 8601 UTC, C(run_id) from O(run_id), under the
    C(collection_state) key. An intent left by a run that lost the server or the controller during the install is
    confirmed by the next run (the same record, C(installed) = C(started)) when the server is on C(to_build) coming
    from another build; CP 5712r1's intent so confirmed also tells r1 from the original CP 5712."
  - After each step the build is read again and the task fails if the server is not on the step's resulting
    level. CP 5712r1 over CP 5712 keeps build 5712, so the installer's success exit is its proof (with or
    without a readable patch history).
  - "A failed level check is kept as C(Applied.<step id>) with C(status=check_failed), C(attempts), C(runs),
    C(rc), C(level_read), C(build_read), C(expected_level). The same installer (same sha256) failing it a second
    time is not run a third time: the task, and the preflight pre-check, fail before any change naming both runs.
    A different installer is tried again; deleting the value lets the same one run again."
  - Steps already applied are skipped, so a second run makes no installer call.
  - The FAQ asks that clients are up to date and the upgrade privilege on before each step; with O(step=next) the
    module applies one step so a play can roll clients out in between (see the roles).
  - "Round trips: 1 registry read and 1 patch history read to detect the level, 1 read of the collection's record
    (1 more when it holds a reboot debt); when a step is due, 1 disk read, 1 C(ansible.windows.win_stat) per
    selected installer and 4 registry reads (reboot signals, last shutdown); per step applied, 1
    C(ansible.windows.win_stat), 1 installer run, 2 reads and 2 C(ansible.windows.win_regedit) (the intent, then
    C(Applied.<step>); 1 more for C(RebootDebt)); before each further step of the same task, 4 registry reads."
options:
  step:
    description:
      - C(all) the whole planned chain; C(next) only the first step of the plan; or one step id, which is skipped
        when already applied and refused when its prerequisites do not hold.
    type: str
    choices: [all, next, sp3, sp3_patch1_1, cp5495, sp3_patch2, cp5712r1]
    default: all
  include_patch2:
    description:
      - Plan the optional SP3 Patch 2 (FAQ Q4 step d, recommended).
    type: bool
    default: true
  min_free_mb:
    description:
      - Free space (MiB) the volume of the OSCE install folder needs before a step runs.
    type: int
    default: 2048
  sps_versions:
    description:
      - Standalone Smart Protection Server host name to version (C(null) when unknown) for the SPS 3.0 gate.
    type: dict
    default: {}
  tmcm_version:
    description:
      - Control Manager version for the FAQ Q10 gate.
    type: str
  run_id:
    description:
      - Identifier of this run, written in C(Applied.<step>) and C(RebootDebt) records.
      - Default - the play variable C(osce_run_id) when it is set, else an empty string.
    type: str
  fail_on_reboot_pending:
    description:
      - Stop before an install (and fail the preflight in check mode) while the server has a reboot pending.
      - V(false) reports the pending reboot as a warning and in RV(reboot_pending) and goes on - for a play that
        reads RV(reboot_pending) in check mode to decide on its opt-in reboot, or after you checked that a
        signal is stale (some software leaves C(PendingFileRenameOperations) set).
    type: bool
    default: true
  reboot_timeout:
    description:
      - Seconds to wait for the server to come back after an installer restarted it (exit C(1641)) or the
        connection dropped while an installer ran.
    type: int
    default: 1800
  reboot_poll_interval:
    description:
      - Seconds between reads while waiting for the server to come back.
    type: int
    default: 15
  rebooted:
    description:
      - The task right before this one rebooted the server (C(ansible.windows.win_reboot), which fails unless the
        server came back). A reboot debt then counts as paid and is cleared, also when the debt holds no
        last-shutdown mark to compare (a debt written by hand or by an older release), and also in a C(--check)
        run, where the reboot before it is predicted.
      - Windows' own reboot-pending signals are still read before any install.
    type: bool
    default: false
  predict:
    description:
      - In a C(--check) run, keep the level this task predicts in the host fact C(osce_prediction), so the next
        step of the same run starts from it (and this task starts from the level an earlier step predicted).
      - V(false) for a pre-check that is no step of the run (the preflight), which must not move the prediction.
      - Has no effect outside a C(--check) run (a task with C(check_mode=true) in a real run predicts nothing).
    type: bool
    default: true
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.diff
attributes:
  check_mode:
    description: Runs every pre-check (installer, hash, prerequisites, disk) and lists the steps it would run with
      their installers and hashes; runs no installer. In a C(--check) run the level it predicts is carried to the
      next step (O(predict)); the diff and RV(prediction) say what cannot be predicted (the installer's exit code).
  diff_mode:
    description: Level and build before and after.
notes:
  - The installers come from the vendor; their paths and hashes are yours (C(osce_installers)).
  - C(win_package) is called without C(product_id); idempotence comes from the level check, not from the package.
  - "The window that remains: between the last hash (C(win_package) computes it just before it starts the
    process; C(win_command) installers only have the C(win_stat) hash one round trip earlier) and the installer
    reading its own file, someone who can write the installer folder could still swap the file. Close it with
    an ACL: keep the installers in a folder only Administrators and SYSTEM can write (for example
    C(icacls C:\\OSCE-Patches /inheritance:r /grant:r Administrators:(OI)(CI)F SYSTEM:(OI)(CI)F /grant:r Users:(OI)(CI)RX)),
    so no other account can change a file between the check and the run."
  - C(RebootDebt) carries C(shutdown_time) besides C(step), C(exit_code), C(since) and C(run_id) (the evidence its
    payment is judged by).
seealso:
  - module: osce.patching.build_facts
  - module: osce.patching.upgrade_privilege
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Apply the next step of the chain (installers from osce_installers)
  osce.patching.patch_chain:
    step: next
  register: patched

- name: Reboot when a step asked for it
  ansible.windows.win_reboot:
  when: patched.reboot_required

- name: Preflight - every installer problem and any pending reboot, nothing changed
  osce.patching.patch_chain:
    fail_on_reboot_pending: false
  check_mode: true
  register: preflight

- name: Reboot first when Windows or an earlier step left a reboot pending
  ansible.windows.win_reboot:
  when: preflight.reboot_pending.pending | default(false)

- name: Apply CP 5712r1 only, with an installer given here
  osce.patching.patch_chain:
    step: cp5712r1
    installers:
      cp5712r1:
        path: C:\OSCE-Patches\osce106_cp5712r1.exe
        sha256: dce2b87859f51bb4c730540d78d1bf9746966899b0e164ea94a006474c49c8e1
        arguments: /s
"""

RETURN = r"""
level_before:
  description: Level detected before the task.
  returned: success
  type: str
  sample: sp3_patch2
level:
  description: Level after the task (predicted in check mode).
  returned: success
  type: str
  sample: cp5712r1
build:
  description: ServicePack_Build after the task (predicted in check mode).
  returned: success
  type: int
  sample: 5712
steps:
  description: The selected steps with C(id), C(name), C(installer) (path, sha256, arguments, method), C(status)
    (C(applied), C(would_apply), C(already_applied), C(pending_reboot); on failure also C(failed), C(refused)),
    C(rc) and C(reboot_required); after exit 1641 C(rebooted=true) and C(waited) (seconds); C(connection_lost)
    when the connection dropped while the installer ran.
  returned: success
  type: list
  elements: dict
reboot_required:
  description: A step exited 3010 - reboot the server, then run the task again for the remaining steps. Never true
    for 1641 (the installer rebooted the server; the module waited for it).
  returned: success
  type: bool
  sample: false
reboot_pending:
  description:
    - The server's reboot-pending state read before the install - C(pending) (bool) and C(signals), one dict per
      signal set (C(name), C(entry) - the profile entry, C(confidence)); C(RebootDebt) counts when not paid.
  returned: when a step is due (success and the preflight's failure)
  type: dict
  sample: {"pending": true, "signals": [{"name": "Component Based Servicing RebootPending",
           "entry": "reboot_pending_cbs", "confidence": "3p"}]}
reboot_debt_cleared:
  description: The server rebooted since a step exited 3010 (its C(ShutdownTime) changed), so this task cleared
    C(RebootDebt) (predicted in check mode).
  returned: success
  type: bool
  sample: false
run_id:
  description: The run id written in the records (O(run_id)).
  returned: success
  type: str
problems:
  description: Every problem the preflight found (installer not given, missing, hash mismatch, disk, pending
    reboot), each with C(field), C(problem), C(value), C(fix) and C(msg) (one line).
  returned: failure of the preflight
  type: list
  elements: dict
remaining:
  description: Step ids of the plan still to apply after this task.
  returned: success
  type: list
  elements: str
prediction:
  description: In check mode, what the prediction assumes and cannot know before the installer runs (its exit
    code - a failure, 3010 or 1641). Also in the diff.
  returned: check mode, when a step would be installed
  type: str
log_path:
  description: Installer log path, on failure of an installer.
  returned: failure
  type: str
rc:
  description: Exit code of the installer that failed.
  returned: failure
  type: int
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
