# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``osce.patching.probe_plan``: which client probes which smart protection endpoint in verify."""
from __future__ import annotations

DOCUMENTATION = r"""
name: probe_plan
short_description: Which client probes which integrated Smart Protection Server port in verify
version_added: 0.2.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - Each probe is one C(win_wait_for) round trip from a client to one port of the server. A probe proves the
    network path from where the client sits to that port, so by default (O(scope=site)) each port is probed once
    per site (C(osce_site)), the ports dealt in turn over the site's clients that answered at their last contact,
    in name order. An estate of 50,000 clients in 40 sites pays 120 probes instead of 150,000.
  - With O(scope=client) every client that answered probes every port.
  - A client that did not answer at its last contact (offline, or dropped during its upgrade) probes nothing.
  - "The C(verify_report) filter takes the plan (its C(probes) option): a port found closed fails every client of
    the prober's site."
options:
  _input:
    description: The C(hostvars) mapping; each host's C(osce_client_state) (C(site), C(online)) is read.
    type: dict
    required: true
  hosts:
    description: The clients, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  endpoints:
    description: The ports to probe, each with C(host) and C(port) (what M(osce.patching.sps_ports) configured).
    type: list
    elements: dict
    required: true
  scope:
    description: C(site) (one probe per site and port) or C(client) (every client probes every port).
    type: str
    choices: [site, client]
    default: site
"""

EXAMPLES = r"""
- name: Decide the probes once
  ansible.builtin.set_fact:
    verify_probe_plan: "{{ hostvars | osce.patching.probe_plan(hosts=ansible_play_hosts_all, endpoints=endpoints) }}"
  run_once: true

- name: Probe this client's share
  osce.patching.pattern_verify:
    server_facts: "{{ hostvars[groups['osce_server'][0]].ansible_facts.osce_server }}"
    sps_endpoints: "{{ verify_probe_plan.hosts[inventory_hostname] }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    scope:
      description: The scope it was made for.
      type: str
    hosts:
      description: Per client of O(hosts), the endpoints (C(host), C(port)) it probes; an empty list for none.
      type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.module_utils import verify_report as core


def probe_plan(hostvars, hosts=None, endpoints=None, scope="site"):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("osce.patching.probe_plan: the input must be hostvars")
    if hosts is None or endpoints is None:
        raise AnsibleFilterError("osce.patching.probe_plan: hosts and endpoints are required "
                                 "(pass hosts=ansible_play_hosts_all, endpoints=<host/port list>)")
    try:
        return core.probe_plan(core.client_states(hostvars, hosts), list(hosts), list(endpoints), str(scope))
    except ValueError as exc:
        fix = "set osce_verify_probe_scope to site or client" if "scope" in str(exc) else "give each a host and a port"
        raise AnsibleFilterError(f"osce.patching.probe_plan: {exc}. Fix: {fix}") from exc


class FilterModule:
    """osce.patching probe plan filter."""

    def filters(self):
        return {"probe_plan": probe_plan}
