# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``osce.patching.verify_report``: the clients the verify policy fails, and the fleet summary."""
from __future__ import annotations

DOCUMENTATION = r"""
name: verify_report
short_description: Judge the verified clients against osce_verify_fail_on and summarise the fleet by verdict
version_added: 0.2.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - Reads each client's C(osce_client_state) after verification (written by the C(client_state) filter,
    C(event=verify)) and decides, in Python, which clients the policy O(fail_on) fails and with which
    message, and the summary the C(verify) role prints once.
  - A client whose verdict is C(up_to_date) or C(conventional_scan) on a server that is not on the target
    (CP 5712r1 / OSCE 11) is judged C(server_not_on_target).
  - In check mode with an unblocked server chain still to install (what C(site.yml --check) installs
    first), C(server_not_on_target) is reported, not failed.
  - A client whose read failed (C(error)) fails whatever the policy, unless it is offline.
  - With a probe plan of scope C(site) (O(probes)), a port a prober found closed fails every client of its site
    that answered, each message naming the prober and the port.
options:
  _input:
    description: The C(hostvars) mapping; each host's C(osce_client_state) is read.
    type: dict
    required: true
  hosts:
    description: The clients to judge, in order, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  server:
    description: The inventory name of the OSCE server (C(groups['osce_server'][0])).
    type: str
    required: true
  server_facts:
    description: The server facts C(osce_server) (M(osce.patching.build_facts)) the verdicts were judged against.
    type: dict
    required: true
  fail_on:
    description: The verdicts that fail a client, C(osce_verify_fail_on).
    type: list
    elements: str
    required: true
  check_mode:
    description: Whether the run is in check mode (C(ansible_check_mode)).
    type: bool
    default: false
  server_reboot_required:
    description: Whether the server waits for a reboot (C(osce_server_reboot_required)), shown in the summary.
    type: bool
    default: false
  result_var:
    description: The host variable holding each client's registered M(osce.patching.pattern_verify) result, whose
      C(evidence.checks) tell which profile entries, at which confidence, each verdict rests on.
    type: str
    default: verify_result
  probes:
    description:
      - "The probe plan of the run (the C(probe_plan) filter): with C(scope=site), each endpoint was probed from one
        client per site, so a port a prober found closed fails every client of that site (with the prober and the
        port in the message), and the summary's C(reachability) shows per site what each probe found."
      - Each prober's C(reachability) is read from O(result_var).
    type: dict
"""

EXAMPLES = r"""
- name: Judge the fleet once
  ansible.builtin.set_fact:
    verify_report: >-
      {{ hostvars | osce.patching.verify_report(hosts=ansible_play_hosts_all, server=groups['osce_server'][0],
                                                server_facts=hostvars[groups['osce_server'][0]].osce_server,
                                                fail_on=osce_verify_fail_on, check_mode=ansible_check_mode) }}
  run_once: true

- name: Fail the clients the policy rejects
  ansible.builtin.fail:
    msg: "{{ verify_report.clients[inventory_hostname].message }}"
  when: verify_report.clients[inventory_hostname].failing
"""

RETURN = r"""
_value:
  description: The judgement of the fleet.
  type: dict
  contains:
    summary:
      description: "What the role prints once, in this order: C(mode) (C(verified on the hosts), or what a check-mode
        prediction means), C(server) (the server, its level and build, and whether it is on the target), C(clients)
        (how many), C(by_verdict) (counts by verdict), C(failing_policy) (O(fail_on)), C(warnings_not_failing),
        C(conventional_scan), C(offline), C(reboot_pending) (client names), C(server_reboot_pending), C(rests_on) (per
        check, the profile entries it read and their confidence - C(calibrated), C(documented), C(guessed), ... - so
        a verdict resting on a guessed location is visible), C(reachability) (with a O(probes) plan of scope
        C(site): per site, per C(host:port), C(reachable from <client>), C(NOT reachable from <client>) or
        C(not proven: <client> gave no answer); otherwise one line, C(not probed in this run: ...) or C(each client
        probed every port ...))."
      type: dict
    failing:
      description: The clients the policy fails, in the order of O(hosts).
      type: list
      elements: str
    clients:
      description: "Per client: C(verdict) (its own), C(failing_verdict) (the one the policy judges), C(failing),
        C(message) (one line with the fix; empty when not failing), C(warnings), C(reboot_required)."
      type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.module_utils import verify_report as core


def verify_report(hostvars, hosts=None, server=None, server_facts=None, fail_on=None, check_mode=False,
                  server_reboot_required=False, result_var="verify_result", probes=None):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("osce.patching.verify_report: the input must be hostvars")
    if hosts is None or not server:
        raise AnsibleFilterError("osce.patching.verify_report: hosts and server are required "
                                 "(pass hosts=ansible_play_hosts_all, server=groups['osce_server'][0])")
    states, evidences, reachability = core.client_states(hostvars, hosts), {}, {}
    for host in hosts:
        host_vars = hostvars[host] if host in hostvars else {}
        result = host_vars.get(result_var) if isinstance(host_vars, Mapping) else None
        if isinstance(result, Mapping) and isinstance(result.get("evidence"), Mapping):
            evidences[host] = result["evidence"]
        if isinstance(result, Mapping) and isinstance(result.get("reachability"), list):
            reachability[host] = result["reachability"]
    facts = server_facts if isinstance(server_facts, Mapping) else {}
    return core.verify_report(states, list(hosts), server=core.ServerView(str(server), facts),
                              fail_on=list(fail_on or ()), check_mode=bool(check_mode),
                              server_reboot_required=bool(server_reboot_required), evidences=evidences,
                              probes=probes if isinstance(probes, Mapping) else None, reachability=reachability)


class FilterModule:
    """osce.patching verify report filter."""

    def filters(self):
        return {"verify_report": verify_report}
