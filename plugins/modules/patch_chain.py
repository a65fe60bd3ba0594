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
    install folder has at least O(min_free_mb) free. Any failure here stops the task before a change."
  - Each step runs the installer through C(ansible.windows.win_package) (or C(ansible.windows.win_command) when its
    C(method) is C(command)) with the step's C(arguments). Exit code C(0) is success; C(3010) and C(1641) are
    success with a reboot needed, returned as RV(reboot_required) (never swallowed; the chain stops there so you
    can reboot with C(ansible.windows.win_reboot) and run the task again); C(1603) and any other code fail the
    task with the installer's log path.
  - After each step the build is read again and the task fails if the server is not on the step's resulting
    level (CP 5712r1 over CP 5712 keeps build 5712 and is told by its patch history date).
  - Steps already applied are skipped, so a second run makes no installer call.
  - The FAQ asks that clients are up to date and the upgrade privilege on before each step; with O(step=next) the
    module applies one step so a play can roll clients out in between (see the roles).
  - "Round trips: 1 registry read and 1 patch history read to detect the level; when a step is due, 1 disk read
    and 1 C(ansible.windows.win_stat) per selected installer; per step applied, 1 installer run and 2 reads."
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
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.diff
attributes:
  check_mode:
    description: Runs every pre-check (installer, hash, prerequisites, disk) and lists the steps it would run with
      their installers and hashes; runs no installer.
  diff_mode:
    description: Level and build before and after.
notes:
  - The installers come from the vendor; their paths and hashes are yours (C(osce_installers)).
  - C(win_package) is called without C(product_id); idempotence comes from the level check, not from the package.
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
    (C(applied), C(would_apply), C(already_applied), C(pending_reboot)), C(rc) and C(reboot_required).
  returned: success
  type: list
  elements: dict
reboot_required:
  description: A step exited 3010 or 1641; reboot the server, then run the task again for the remaining steps.
  returned: success
  type: bool
  sample: false
remaining:
  description: Step ids of the plan still to apply after this task.
  returned: success
  type: list
  elements: str
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
