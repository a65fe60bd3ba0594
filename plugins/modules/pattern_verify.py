# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/pattern_verify.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pattern_verify
short_description: Verify one OSCE client against what its server offers
version_added: 0.1.0
description:
  - Reads the client's program build and pattern files and returns the collection's verdict for it
    (C(up_to_date), C(program_behind), C(server_not_on_target), C(crcz_missing), C(bf_in_use), C(custom_update_source),
    C(agent_pattern_behind), C(conventional_scan), C(unknown)) with the evidence behind it, comparing with the server
    facts of M(osce.patching.build_facts).
  - C(up_to_date) only when the server is on the target (CP 5712r1 or OSCE 11, C(level) of the server facts) and the
    client matches it; a client matching a server on an intermediate build is C(server_not_on_target) (the reason
    names the server's level and build). A conventional scan client whose program is behind is C(program_behind).
  - "Facts and inferences: C(evidence.checks) lists each check (C(program), C(target), C(crcz), C(bf),
    C(update_source), C(agent_pattern), C(scan_method) when inferred) with its C(basis) (C(fact) or C(inferred)),
    its C(result), the profile entries it reads and their C(confidence). Inferred findings besides the verdict are in
    C(evidence.warnings). CRCz.ptn freshness is reported as not checkable (C(evidence.crcz_freshness): its version
    record on a client is not public)."
  - The update source (C(Misc.\Updatefrom), profile entry C(client_update_from), 3p) comes with the program build's
    read; it is compared with the name and C(ansible_host) of the first host of C(osce_server).
  - "Round trips per client: 1 C(ansible.windows.win_reg_stat) of the client's C(Misc.) key (profile entry
    C(client_program_version); 1 more on a 32-bit client, where the C(Wow6432Node) candidate is absent) and 1
    C(ansible.windows.win_find) over the folders of the profile entries C(client_bf_ptn), C(client_crcz_ptn) and
    C(client_agent_pattern_file), C(client_conventional_pattern_file) - 2 on a 64-bit client. O(read_scan_type) adds 1, each O(sps_endpoints) item 1."
  - The scan method is inferred from the pattern files (Smart Scan Agent Pattern C(icrc$oth.###) present means smart
    scan, only the conventional C(lpt$vpn.###) (profile entry C(client_conventional_pattern_file)) means
    conventional) unless O(read_scan_type) reads C(iCRC Scan\ScanType) (profile entry C(client_scan_type)).
  - The Smart Scan Agent Pattern version is the extension of C(icrc$oth.###) (documented), else the registry value
    of the profile entry C(client_pattern_version) (C(Misc.\PatternVer), 3p; read with the program build, no extra
    round trip). C(Misc.\InternalPatternVer) is not read (believed to be the same pattern as an integer). A bare
    pattern number (C(411)) and a full version (C(11.411.00)) are compared on the pattern number.
  - An unreachable client is reported UNREACHABLE (C(unreachable=true), not failed), so C(ignore_unreachable)
    applies.
  - Read-only; runs the same in check mode. Target the clients (C(hosts) a client group).
options:
  server_facts:
    description:
      - The server's C(ansible_facts.osce_server) from M(osce.patching.build_facts), typically
        C("{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"). Uses C(client_program.build),
        C(patterns.agent), C(cp_installed), C(level), C(sp_build).
    type: dict
    required: true
  fail_on:
    description:
      - Verdicts that fail the task.
      - By default only the verdicts that rest on facts - C(program_behind), C(server_not_on_target), C(crcz_missing).
        The inferred ones - C(bf_in_use), C(custom_update_source), C(agent_pattern_behind) - come back as Ansible
        warnings (and in C(evidence.warnings)) unless listed here (opt in).
    type: list
    elements: str
    choices: [program_behind, server_not_on_target, crcz_missing, bf_in_use, custom_update_source, agent_pattern_behind,
              conventional_scan, unknown]
    default: [program_behind, server_not_on_target, crcz_missing]
  app_path:
    description:
      - The client's install folder, when it is not one of the profile's default folders.
    type: str
  read_scan_type:
    description:
      - Read the scan method from the registry (profile entry C(client_scan_type)) instead of inferring it (1 more round trip).
    type: bool
    default: false
  sps_endpoints:
    description:
      - Smart protection source C(host) and C(port) pairs the client must reach, each proven with
        C(ansible.windows.win_wait_for) run on the client (1 round trip each), for example the C(endpoints) returned by M(osce.patching.sps_ports).
    type: list
    elements: dict
    default: []
  min_free_bytes:
    description:
      - Free space (bytes) the client's system drive needs, for example the client package plus a margin before
        an upgrade. When above V(0), one C(community.windows.win_disk_facts) round trip reads the free space and
        RV(disk) reports it; a short drive does not fail the task - the C(problem) of RV(disk) says so in one line.
      - The system drive is the first drive letter on the disk Windows reports as the system disk, C(C) when
        none is reported.
      - V(0) skips the read.
    type: int
    default: 0
  disk_margin_bytes:
    description:
      - Size the free-space check from the client itself - the largest client package of the chain for the
        client's architecture (catalog and C(osce_installers), C(osce_package_bytes) for a step whose size is not
        given), plus CRCz.ptn (about 20 MB), plus this margin in bytes. Preflight passes
        C(osce_client_disk_margin_bytes). One C(community.windows.win_disk_facts) round trip; a short drive does
        not fail the task - the C(problem) of RV(disk) says so in one line naming the client.
      - A client that takes no package in this run (on the build the server offers, no step due in the chain of
        O(server_facts)) is not read - RV(disk) is then C({skipped - why}).
      - Mutually exclusive with a O(min_free_bytes) above V(0). Unset - no such check.
    type: int
  previous:
    description:
      - A result of this module registered earlier in the run on this client (preflight's). Its program and
        pattern-file reads (RV(reads)) stand in for this task's own when they were made against the same
        O(server_facts) (the server was not re-read since - no step ran, nothing released), with the same
        O(app_path) and O(read_scan_type), and the client was not upgraded since (C(osce_client_state) records
        no step, no upgrade error, no drop). The verdict is computed again; the O(sps_endpoints) probes and the
        O(min_free_bytes) read still run. Otherwise it is ignored and the client is read.
    type: dict
  program_read:
    description:
      - A result of M(osce.patching.client_upgrade) (phase C(finish)) registered earlier in the run on this client.
        Its last read of the program key stands in for this task's own when it showed the client program build
        the server offers now (O(server_facts)) and C(osce_client_state) holds that build, with no upgrade error
        and no drop (a client cannot move past the server's build). The pattern files are read afresh.
    type: dict
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.client
  - osce.patching.attributes.read_only
attributes:
  check_mode:
    description: Read-only; verifies the same in check mode.
seealso:
  - module: osce.patching.build_facts
  - module: osce.patching.client_upgrade
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Verify every client against the server
  osce.patching.pattern_verify:
    server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
    fail_on: [program_behind, crcz_missing]
  register: verdict

- name: Also prove the integrated SPS answers from the client
  osce.patching.pattern_verify:
    server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
    sps_endpoints:
      - {host: "{{ groups.osce_server[0] }}", port: 8082}
"""

RETURN = r"""
verdict:
  description: The verdict.
  returned: always
  type: str
  sample: crcz_missing
reason:
  description: Why, in one sentence.
  returned: always
  type: str
evidence:
  description: The values the verdict was decided on (program build, server build, server level and whether it is on
    the target, scan method, BF.ptn, CRCz.ptn, agent pattern versions, update source) plus the files found and the
    folders searched, C(checks) (per check C(basis), C(result), C(entries), C(confidence)), C(warnings) (inferred
    findings) and C(crcz_freshness).
  returned: always
  type: dict
reachability:
  description: Per O(sps_endpoints) item C(host), C(port), C(reachable), C(elapsed).
  returned: when sps_endpoints is given
  type: list
  elements: dict
disk:
  description:
    - The system drive's free space against O(min_free_bytes) - C(drive), C(free_bytes) (C(null) when the drive
      was not found), C(required_bytes), C(ok) (false when short or not found) and, when not ok, C(problem) (one
      line - field, problem, got, Fix). With O(disk_margin_bytes) also C(need) (C(arch), C(package_bytes),
      C(crcz_bytes), C(margin_bytes)); only C(skipped) (why) when O(disk_margin_bytes) found no package for
      this client in this run.
  returned: when min_free_bytes is above 0 or disk_margin_bytes is set
  type: dict
  sample: {"drive": "C", "free_bytes": 104857600, "required_bytes": 300000000, "ok": false,
           "problem": "min_free_bytes: drive C: on pc0001 has 104857600 bytes free, less than required (got 300000000).
             Fix: free disk space on the client before it takes the package"}
reads:
  description:
    - What the verdict was computed from (the program read, the pattern files, the update source) and a fingerprint
      of O(server_facts); what O(previous) reuses. C(reused) is true when this task made no read of its own,
      C(program_reused) when the program key was not read here (O(previous) or O(program_read)).
  returned: success
  type: dict
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
