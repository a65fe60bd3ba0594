# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/build_facts.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: build_facts
short_description: Gather the OfficeScan server's build level, patterns and planned patch chain
version_added: 0.1.0
description:
  - Reads the OfficeScan (OSCE) server's version, service-pack build, install path, patch history, web server,
    current integrated Smart Protection Server (iSPS) ports, client program build offered, pattern versions and
    the state of the upgrade privilege, decides the build level with the collection's level rules, and plans
    the patch chain to 10.6 SP3 Critical Patch 5712r1 (vendor FAQ Q4).
  - Returns everything under C(ansible_facts.osce_server).
  - "Round trips (each one WinRM exchange): 1 C(ansible.windows.win_reg_stat) of the key of the profile
    entries C(server_version), C(server_sp_build) and C(server_local_path), 1 C(ansible.windows.slurp) of C(ofcscan.ini) (patterns, trusted port and, where
    the profile has them, the privilege and iSPS port records), plus 1 per item of O(gather_subset).
    With the default O(gather_subset) the module makes exactly 3 round trips (4 on a 32-bit server, where the
    C(Wow6432Node) candidate key is absent and the second candidate is read)."
  - A value whose location the profile marks C(unknown) is reported as C(unknown), never guessed.
    Run M(osce.patching.calibrate) to find it on your server.
  - Read-only; runs the same in check mode.
options:
  gather_subset:
    description:
      - Extra reads, each one round trip.
      - C(patch_history) reads the patch history INI (profile entry C(server_hotfix_history)); level detection uses it
        to tell CP 5712 from its r1 repack by install date (FAQ Q13). On build 5712 with neither this collection's
        record nor C(osce_cp5712r1_installed) to decide, the history is read even when not asked for (one round
        trip more), since the level would otherwise be guessed.
      - C(web_server) lists the services to tell the bundled Apache from IIS (profile entry C(server_web_services)); IIS is read as the virtual web site
        (profile entry C(iis_site)) unless the calibrated iSPS port record says the default web site.
      - C(client_program) reads the version of the client program the server offers (profile entry
        C(server_client_program), C(Tmlisten.exe)); without it the build comes from the catalog for the level.
      - "C(collection_state) reads this collection's own record on the server (profile entry C(collection_state)):
        the run lock, a reboot still owed, the steps it installed and whether a privilege marker is open."
      - C(all) is all four (6 round trips). An empty list reads only the registry and C(ofcscan.ini) (2).
    type: list
    elements: str
    choices: [patch_history, web_server, client_program, collection_state, all]
    default: [patch_history]
  include_patch2:
    description:
      - Plan the optional SP3 Patch 2 step (FAQ Q4 step d, recommended).
    type: bool
    default: true
  sps_versions:
    description:
      - Standalone Smart Protection Server host name to its version (C(null) when unknown), for the chain's
        SPS 3.0 gate (FAQ Q4 step a). Omit when you have no standalone SPS.
    type: dict
    default: {}
  tmcm_version:
    description:
      - The Control Manager version managing this server as its console shows it (for example C(6.0 SP1),
        C(6.0 Service Pack 1), C(5.5 SP1 Patch 5)), for the FAQ Q10 gate. Omit when no Control Manager manages
        the server.
      - C(unknown) (or an empty string) means a Control Manager manages the server but its version could not be read;
        like an unreadable version or a bare build number (C(6.0.0.1234), which names no service pack), it blocks
        a chain that holds CP 5712r1 (C(chain.blockers)) with a Fix naming C(osce_tmcm_version).
    type: str
  cp5712r1_installed:
    description:
      - The administrator's statement whether CP 5712r1 (the repack) is installed on a server whose build is 5712
        (CP 5712 and its r1 repack share the build, FAQ Q13) - C(true), C(false), or empty to let the collection
        decide.
      - When omitted, the play variable C(osce_cp5712r1_installed) is used.
      - "Evidence in order of trust: this statement (a C(false) yields to the record below, a later fact, with a
        warning); this collection's record C(Applied.cp5712r1) (written by
        M(osce.patching.patch_chain) after a verified install, read only when the build is 5712 - no extra round
        trip on other builds); the install date in the patch history (the latest entry with build 5712; before
        2015-01-23 is the original CP). An ambiguous slash date (C(10/01/2015), day and month both 12 or less)
        whose readings fall on both sides of the cut-off is refused with a Fix naming C(osce_cp5712r1_installed);
        without any evidence the build reads as the original CP 5712 (re-apply r1) with a warning."
      - Ignored, with a warning, when the build is not 5712.
    type: raw
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.read_only
attributes:
  check_mode:
    description: >-
      Read-only; gathers the same facts in check mode. In a C(--check) run C(collection_state) shows the run lock
      and privilege marker earlier tasks of the run predicted (host fact C(osce_prediction), listed in
      C(collection_state.predicted)); the level and builds are always as read.
notes:
  - The profile entries used and their confidence are listed in C(docs/modules.md).
seealso:
  - module: osce.patching.patch_chain
  - module: osce.patching.calibrate
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
# The service-pack builds come from the play variable osce_build_map (from your patch readmes)
- name: Detect the OSCE server build and plan the chain
  osce.patching.build_facts:

- name: Show the planned steps
  ansible.builtin.debug:
    msg: "{{ ansible_facts.osce_server.level }} -> {{ ansible_facts.osce_server.chain.steps | map(attribute='id') | list }}"

- name: Everything, including the web server kind, Tmlisten.exe and our own record (6 round trips)
  osce.patching.build_facts:
    gather_subset: [all]
    sps_versions:
      sps01.example.com: "3.0"
    tmcm_version: 6.0 SP1
"""

RETURN = r"""
ansible_facts:
  description: Facts about the OSCE server.
  returned: always
  type: dict
  contains:
    osce_server:
      description: The server's state and plan.
      returned: success
      type: dict
      contains:
        version:
          description: C(Server_Version), for example C(10.6).
          type: str
          returned: success
          sample: "10.6"
        sp_build:
          description: C(ServicePack_Build) as an integer (C(null) when missing).
          type: int
          returned: success
          sample: 5712
        install_path:
          description: C(Local_Path), the C(PCCSRV) folder.
          type: str
          returned: success
          sample: 'C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV\'
        level:
          description: The build level id (C(pre_10_6), C(gm), ... C(cp5712r1), C(osce11)).
          type: str
          returned: success
          sample: sp3_patch2
        level_name:
          description: Display name of the level.
          type: str
          returned: success
          sample: OSCE 10.6 SP3 Patch 2
        level_reasons:
          description: Why this level was chosen.
          type: list
          elements: str
          returned: success
        warnings:
          description: Caveats of the detection and the plan.
          type: list
          elements: str
          returned: success
        patch_history:
          description: Installed patches (C(name), C(build), C(installed_on)); C(unknown) when not read.
          type: raw
          returned: success
        web_server:
          description: C(kind) (C(apache), C(iis-virtual), C(iis-default) or C(unknown)) and the C(source) it came from.
          type: dict
          returned: success
          sample: {kind: apache, source: services}
        isps_ports:
          description:
            - Current iSPS ports by role (C(frs_http), C(frs_https), C(wrs_http)) from the profile entries
              C(isps_port_frs_http), C(isps_port_frs_https), C(isps_port_wrs_http), or C(unknown) until all three are
              calibrated.
          type: raw
          returned: success
        client_program:
          description: C(build) of the client program the server offers and its C(source) (C(file_version) or C(catalog)).
          type: dict
          returned: success
          sample: {build: 5624, source: catalog}
        patterns:
          description:
            - Pattern versions read from C(ofcscan.ini) - C(conventional) (profile entry C(server_conventional_pattern_version))
              and C(agent) (C(server_agent_pattern_version)).
          type: dict
          returned: success
        trusted_port:
          description: The server's trusted port (C(Master_DomainPort)).
          type: int
          returned: success
          sample: 8080
        privilege:
          description:
            - C(state) (C(on), C(off) or C(unknown)) of the upgrade privilege with the C(confidence) of its location;
              once calibrated also the raw C(value), the C(location) and the C(on_value) / C(off_value) it was read with
              (profile entry C(upgrade_privilege_root), default C(1) / C(0), unverified).
          type: dict
          returned: success
          sample: {state: unknown, confidence: unknown}
        chain:
          description:
            - The planned chain (C(steps) with C(id), C(name), C(from_level), C(to_level)), C(blockers), C(warnings),
              C(nothing_to_do), and C(notes) - what the FAQ says besides the chain (the CP is a prerequisite of any OSCE
              hotfix on SP3 and later, Q11/Q12; SP3 Patch 2 is recommended when a CP 5712 server's history lacks it, Q4 d).
          type: dict
          returned: success
        collection_state:
          description:
            - This collection's own record on the server (with O(gather_subset) C(collection_state)).
            - C(run_lock) (C(run_id), C(controller), C(user), C(pid), C(started)), C(lock_broken), C(reboot_debt)
              (C(step), C(exit_code), C(since), C(run_id)) are objects or null; C(applied) maps a step id to
              C(step), C(sha256), C(installed), C(run_id); C(installing) and C(check_failed) map a step id to an
              install started and not confirmed, and to one whose server missed the step's level (see
              M(osce.patching.patch_chain)); C(privilege_marker_present) tells whether a privilege
              marker is open; C(unreadable) lists values that are not a JSON object (never trusted).
          type: dict
          returned: when O(gather_subset) has C(collection_state), or the build is CP 5712's and O(cp5712r1_installed) is not stated
          sample: {exists: true, run_lock: null, reboot_debt: null, applied: {}, privilege_marker_present: false}
        cp5712r1_evidence:
          description:
            - What told CP 5712 from its r1 repack - C(stated) (the O(cp5712r1_installed) statement, C(null) when
              not given), C(applied_record) (this collection's C(Applied.cp5712r1) record or C(null)) and
              C(record_read) (whether the record was read). C(level_reasons) says which evidence decided.
          type: dict
          returned: success
          sample: {stated: null, applied_record: {step: cp5712r1, installed: "2026-12-02T18:40:00Z"}, record_read: true}
        cp_installed:
          description: Whether CP 5712r1 (or OSCE 11) is on the server.
          type: bool
          returned: success
        registry_key:
          description: The registry key the server's version was read from (tells the C(Wow6432Node) view).
          type: str
          returned: success
        profile_entries:
          description: Every profile entry this task used, with its confidence (C(unknown) for entries without a location).
          type: dict
          returned: success
          sample: {server_version: 3p, upgrade_privilege_root: unknown}
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
  sample: {round_trips: 3, per_module: {ansible.windows.slurp: 2, ansible.windows.win_reg_stat: 1}}
"""
