"""The inventory contract and the --limit patterns (module_utils/inventory.py): one test per branch."""
from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils import inventory as core

GROUPS = {"all": ["osce-srv", "sps01", "tmcm01", "pc0001", "pc0002"], "ungrouped": [],
          "osce_server": ["osce-srv"], "osce_sps": ["sps01"], "osce_tmcm": ["tmcm01"],
          "osce_clients": ["pc0001", "pc0002"]}
EVERYONE = GROUPS["all"]
PILOT = "--limit 'osce_server:osce_sps:osce_tmcm:pc0001'"


def test_the_whole_inventory_and_a_pilot_are_fine():
    assert core.inventory_problem(GROUPS, EVERYONE) == ""
    assert core.inventory_problem(GROUPS, ["osce-srv", "sps01", "tmcm01", "pc0002"], "osce_server:osce_sps:osce_tmcm:pc0002") == ""


@pytest.mark.parametrize("servers, got", [([], "none"), (["a", "b"], "a, b"), (None, "none")])
def test_osce_server_must_hold_exactly_one_host(servers, got):
    groups = {**GROUPS, "osce_server": servers}
    assert core.inventory_problem(groups, EVERYONE) == (
        f"inventory: group osce_server must hold exactly one host (got {got}). Fix: put your OSCE server, and only "
        "it, in the osce_server group (see inventories/example/hosts.yml).")


def test_an_absent_server_group_is_the_same_problem():
    groups = {k: v for k, v in GROUPS.items() if k != "osce_server"}
    assert core.inventory_problem(groups, EVERYONE).startswith("inventory: group osce_server must hold exactly one host (got none)")


def test_the_server_left_out():
    assert core.inventory_problem(GROUPS, ["pc0001"], "pc0001") == (
        "--limit: the OSCE server osce-srv is left out, and every step starts on it (got pc0001). "
        f"Fix: a pilot is the server, its gates and some clients: {PILOT}")


def test_the_gates_left_out():
    assert core.inventory_problem(GROUPS, ["osce-srv", "pc0001"], "osce_server,pc0001") == (
        "--limit: sps01, tmcm01 (osce_sps / osce_tmcm) are left out, so the FAQ's gates (SPS 3.0, Control Manager "
        f"version) cannot be checked (got osce_server,pc0001). Fix: keep them in the pilot: {PILOT}")
    # one gate in the run, the other left out; a host in both gate groups is named once
    groups = {**GROUPS, "osce_tmcm": ["tmcm01", "sps01"]}
    assert core.inventory_problem(groups, ["osce-srv", "tmcm01"]).startswith("--limit: sps01 (osce_sps / osce_tmcm)")


def test_foreign_hosts():
    groups = {**GROUPS, "all": [*EVERYONE, "web01"], "ungrouped": ["web01"]}
    assert core.inventory_problem(groups, [*EVERYONE, "web01", "web01"], "all") == (
        "--limit: web01 are in none of the groups osce_server, osce_clients, osce_sps, osce_tmcm (got all). "
        f"Fix: limit to hosts of those groups: {PILOT}")


def test_the_server_problem_comes_before_the_gates_and_foreign_hosts():
    assert core.inventory_problem(GROUPS, ["web01"], "web01").startswith("--limit: the OSCE server osce-srv is left out")
    assert core.inventory_problem(GROUPS, ["osce-srv", "web01"]).startswith("--limit: sps01, tmcm01")


def test_the_pilot_names_the_first_client_or_a_placeholder():
    assert core.pilot_pattern(GROUPS) == PILOT
    assert core.pilot_pattern({**GROUPS, "osce_clients": []}) == "--limit 'osce_server:osce_sps:osce_tmcm:pc0001'"
    assert core.pilot_pattern({**GROUPS, "osce_clients": ["ws-7"]}).endswith(":ws-7'")


def test_empty_or_absent_optional_groups_are_named():
    assert core.empty_groups(GROUPS) == []
    groups = {"osce_server": ["osce-srv"], "osce_clients": [], "osce_tmcm": ["tmcm01"]}
    assert core.empty_groups(groups) == ["osce_clients", "osce_sps"]
    assert core.inventory_contract(groups, ["osce-srv", "tmcm01"]) == {"problem": "", "empty_groups": ["osce_clients", "osce_sps"]}
