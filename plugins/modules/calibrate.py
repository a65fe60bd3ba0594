# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/calibrate.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: calibrate
short_description: Find where your OSCE server keeps a setting the profile marks unknown
version_added: 0.1.0
description:
  - "Where OfficeScan stores the upgrade privilege and the integrated Smart Protection Server ports is not public.
    Calibration finds it on your server: take a O(mode=snapshot), change the setting once in the OSCE console,
    then run O(mode=compare) against the first snapshot. The module prints the profile entry that changed, ready
    to paste into C(osce_profile_overrides) (or O(profile_overrides))."
  - "A snapshot holds every INI file (parsed into sections and keys) and registry key the profile names on the
    server side: the files of C(ini) entries and the C(.ini) files of C(file) entries, the first existing key of each
    C(registry) entry (entries of confidence C(ours) excluded), plus O(extra_files) and O(extra_keys)."
  - Read-only on the host. The snapshot is a JSON file on the controller.
  - "Round trips: 1 registry read of the Information key (install path), 1 C(ansible.windows.slurp) per INI file,
    1 C(ansible.windows.win_reg_stat) per registry key (2 for a key absent from the C(Wow6432Node) view)."
options:
  mode:
    description:
      - C(snapshot) writes the snapshot to O(path).
      - C(compare) takes a new snapshot, compares it with the one in O(path) and returns the changed locations and
        the profile entry for O(entry). The new snapshot is written to O(save_to) when given.
    type: str
    required: true
    choices: [snapshot, compare]
  path:
    description:
      - Controller path of the snapshot (written in C(snapshot) mode, read in C(compare) mode).
    type: path
    required: true
  save_to:
    description:
      - Controller path where C(compare) writes the new snapshot.
    type: path
  entry:
    description:
      - The profile entry being calibrated (the setting you changed in the console).
    type: str
    default: upgrade_privilege_root
  extra_files:
    description:
      - More INI files on the server to include (full paths; C({local_path}) is filled).
    type: list
    elements: str
    default: []
  extra_keys:
    description:
      - More registry keys on the server to include (C(HKLM:\...)).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.read_only
attributes:
  check_mode:
    description: Reads the host the same; does not write the snapshot file on the controller.
  diff_mode:
    description: The comparison is the module's result (RV(changes)).
seealso:
  - module: osce.patching.upgrade_privilege
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Snapshot before flipping the privilege in the console
  osce.patching.calibrate:
    mode: snapshot
    path: "{{ playbook_dir }}/osce-before.json"

- name: After flipping it, print the profile entry that changed
  osce.patching.calibrate:
    mode: compare
    path: "{{ playbook_dir }}/osce-before.json"
    entry: upgrade_privilege_root
  register: calibration

- name: Show the snippet for osce_profile_overrides
  ansible.builtin.debug:
    msg: "{{ calibration.snippet }}"
"""

RETURN = r"""
snapshot:
  description: Summary of the snapshot taken (C(files), C(keys) counts and C(path)).
  returned: success
  type: dict
changes:
  description: Locations whose value differs between the snapshots; each with C(kind) (C(ini) or C(registry)),
    C(file), C(section), C(key) or C(keys), C(value), and C(before) / C(after).
  returned: compare mode
  type: list
  elements: dict
profile_overrides:
  description: The entry for O(entry) built from the single change (empty when nothing or several things changed).
  returned: compare mode
  type: dict
snippet:
  description: RV(profile_overrides) as YAML under C(osce_profile_overrides), or a note on what to do.
  returned: compare mode
  type: str
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
