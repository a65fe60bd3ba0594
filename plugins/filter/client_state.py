# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``osce.patching.client_state``: the one shape of the host fact ``osce_client_state``."""
from __future__ import annotations

DOCUMENTATION = r"""
name: client_state
short_description: The client state fact osce_client_state after preflight, an upgrade or a verification
version_added: 0.2.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - Every role records what it learnt about a client in the host fact C(osce_client_state), always in the same
    shape (docs/variables.md, "The client state"). This filter computes it from the module results, so the shape
    and the rules (a client unreachable during its own upgrade I(dropped) and failed its batch; offline means
    unreachable at preflight) live in Python, not in the roles.
options:
  _input:
    description: The current C(osce_client_state) (or an empty dict).
    type: dict
    required: true
  event:
    description: What happened.
    type: str
    choices: [preflight, upgrade, verify]
    required: true
  name:
    description: The client's inventory name.
    type: str
    required: true
  result:
    description: "The module result: M(osce.patching.pattern_verify) for C(preflight) and C(verify),
      the C(start) phase of M(osce.patching.client_upgrade) for C(upgrade)."
    type: dict
  finish:
    description: The C(finish) phase result of M(osce.patching.client_upgrade) (C(upgrade) only).
    type: dict
  step:
    description: The step being rolled out (C(upgrade) only).
    type: str
  arch:
    description: The architecture to assume when the client does not report one (C(preflight) only).
    type: str
  site:
    description: The client's site (C(preflight) only).
    type: str
  fail_on:
    description:
      - "The verdicts that fail the run, C(osce_verify_fail_on) (C(verify) only). An inferred verdict
        (C(bf_in_use), C(custom_update_source), C(agent_pattern_behind)) that is not listed is recorded
        in C(warnings) as C(<verdict>: <reason>), beside the inferred findings of the evidence."
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Record what preflight read
  hosts: osce_clients
  gather_facts: false
  tasks:
    - name: Read the client
      osce.patching.pattern_verify:
        server_facts: "{{ hostvars[groups['osce_server'][0]].osce_server }}"
        fail_on: []
      register: read
    - name: Record it
      ansible.builtin.set_fact:
        osce_client_state: "{{ {} | osce.patching.client_state(event='preflight', name=inventory_hostname, result=read) }}"
"""

RETURN = r"""
_value:
  description: "The state: C(read), C(online), C(preflight_online), C(build), C(arch), C(site), C(verdict), C(error),
    C(reason), C(warnings), C(upgrade_error), C(dropped), C(reboot_required), C(steps), C(disk_problem)."
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.module_utils import step as core


def client_state(current, event=None, name=None, result=None, finish=None, step=None, arch=None, site=None,
                 fail_on=None):
    if not name:
        raise AnsibleFilterError("osce.patching.client_state: name is required (pass name=inventory_hostname)")
    if event == "preflight":
        return core.state_from_preflight(name, result, arch=arch, site=site)
    if event == "upgrade":
        return core.state_after_upgrade(name, current, step or "", result, finish)
    if event == "verify":
        return core.state_after_verify(name, current, result, fail_on=fail_on or ())
    raise AnsibleFilterError(f"osce.patching.client_state: event must be preflight, upgrade or verify (got {event!r})")


class FilterModule:
    """osce.patching client state filter."""

    def filters(self):
        return {"client_state": client_state}
