# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``osce.patching.inventory_contract``: the inventory groups and the supported --limit patterns."""
from __future__ import annotations

DOCUMENTATION = r"""
name: inventory_contract
short_description: Check the inventory groups and the --limit pattern of a run
version_added: 0.2.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - The group C(osce_server) must hold exactly one host, and every step starts on it. A pilot is the server,
    its gates (standalone SPS C(osce_sps), Control Manager C(osce_tmcm)) and some clients, for example
    C(--limit 'osce_server:osce_sps:osce_tmcm:pc0001').
  - Checked in this order, the first problem being the one returned - C(osce_server) holds exactly one host; the
    server is in the run; no host of C(osce_sps) / C(osce_tmcm) is left out; no host of the run is outside the
    groups C(osce_server), C(osce_clients), C(osce_sps), C(osce_tmcm).
  - "Each problem is one line with the pattern to use, for example
    C(--limit: the OSCE server osce-srv is left out, and every step starts on it (got pc0001). Fix: ...)."
options:
  _input:
    description: The inventory groups (C(groups)).
    type: dict
    required: true
  play_hosts:
    description: The hosts of the run (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  limit:
    description: The run's C(--limit) (C(ansible_limit)), quoted in the messages.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Check the inventory groups and the --limit pattern
  ansible.builtin.assert:
    that: preflight_inventory.problem | length == 0
    fail_msg: "{{ preflight_inventory.problem }}"
    quiet: true
  vars:
    preflight_inventory: >-
      {{ groups | osce.patching.inventory_contract(play_hosts=ansible_play_hosts_all, limit=ansible_limit | default('')) }}
  run_once: true
"""

RETURN = r"""
_value:
  description: The contract.
  type: dict
  contains:
    problem:
      description: The first problem as one line with its fix; empty when the run may go on.
      type: str
    empty_groups:
      description: Which of C(osce_clients), C(osce_sps), C(osce_tmcm) are empty or absent.
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.module_utils import inventory as core


def inventory_contract(groups, play_hosts=None, limit=""):
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("osce.patching.inventory_contract: the input must be the groups mapping (groups)")
    if play_hosts is None:
        raise AnsibleFilterError("osce.patching.inventory_contract: play_hosts is required "
                                 "(pass play_hosts=ansible_play_hosts_all)")
    return core.inventory_contract(groups, list(play_hosts), str(limit or ""))


class FilterModule:
    """osce.patching inventory contract filter."""

    def filters(self):
        return {"inventory_contract": inventory_contract}
