# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/upgrade_privilege.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: upgrade_privilege
short_description: Turn the OSCE client upgrade privilege on or off, and restore it
version_added: 0.1.0
description:
  - Sets the OfficeScan privilege "Clients can update components but not upgrade the client program or deploy
    hot fixes" (console Networked Computers > Client Management > Settings > Privileges and Other Settings >
    Other Settings > Update Settings) for the root, domains or clients, as the vendor FAQ (Q4 note) asks around
    every patch step.
  - Before its first change the module records the original value in a marker under the server registry key of
    the profile entry C(privilege_marker) (C(HKLM:\SOFTWARE\osce.patching\PrivilegeMarker)), one value per
    scope target, so O(state=restored) puts the original back even after a crash or a killed controller.
    The marker values are removed once restored.
  - Where OSCE stores the privilege is not public. The profile entries C(upgrade_privilege_root),
    C(upgrade_privilege_domain) and C(upgrade_privilege_client) ship as C(unknown); while they are, the module
    fails before any change and points to M(osce.patching.calibrate). A calibrated location is an INI key
    (edited with C(community.windows.win_lineinfile)) or a registry value (C(ansible.windows.win_regedit));
    the key or value name may contain C({client}) or C({domain}), filled per target. The value stored for on and
    off is the entry's C(on_value) / C(off_value) (default C(1) / C(0), unverified; an integer C(on_value) on a
    registry entry writes a DWORD).
  - "Round trips: 1 registry read of the server's Information key (install path), 1 read of the marker key,
    1 read of the privilege file or key; when changing, 1 write per marker value and 1 per privilege value."
options:
  state:
    description:
      - C(on) clients may update components but not upgrade the program (set before a patch step).
      - C(off) clients may upgrade the program again.
      - C(restored) put back the values recorded in the marker and remove the marker; nothing to do without a marker.
    type: str
    required: true
    choices: ['on', 'off', restored]
  scope:
    description:
      - Where the privilege is set. C(domain) and C(client) need O(targets).
    type: str
    choices: [root, domain, client]
    default: root
  targets:
    description:
      - Domain or client names for O(scope=domain) or O(scope=client).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.diff
attributes:
  check_mode:
    description: >-
      Reads the current values and reports what would change; writes nothing, marker included. In a C(--check)
      run the privilege and marker it predicts are kept in the host fact C(osce_prediction) and read by the next
      C(upgrade_privilege) task of the run, so the diff shows the privilege turned on and put back at every step
      as the real run does (not "on" at every step and the restore never).
  diff_mode:
    description: Before and after state per target.
seealso:
  - module: osce.patching.calibrate
  - module: osce.patching.patch_chain
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Clients may update components but not the program while the server is patched
  osce.patching.upgrade_privilege:
    state: 'on'

- name: Per domain
  osce.patching.upgrade_privilege:
    state: 'off'
    scope: domain
    targets: [Workstations]

- name: Always put the original back (for example in an always block)
  osce.patching.upgrade_privilege:
    state: restored
"""

RETURN = r"""
privilege:
  description: State per target after the task (C(on), C(off) or C(absent) when no value is stored).
  returned: success
  type: dict
  sample: {root: 'on'}
marker:
  description: Original raw values recorded in the marker per target (empty once restored).
  returned: success
  type: dict
  sample: {root: '0'}
location:
  description: Where the privilege lives (from the profile) and its confidence.
  returned: success
  type: dict
  sample: {location: 'C:\...\ofcscan.ini [Global Setting] NoProgramUpgrade', confidence: calibrated}
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
