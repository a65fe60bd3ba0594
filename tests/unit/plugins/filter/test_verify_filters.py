"""The filters osce.patching.verify_report and client_state (event=verify) as the verify role calls them."""
from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.filter import client_state as state_plugin
from ansible_collections.osce.patching.plugins.filter import verify_report as plugin

verify_report = plugin.FilterModule().filters()["verify_report"]
client_state = state_plugin.FilterModule().filters()["client_state"]
FAIL_ON = ["program_behind", "server_not_on_target", "crcz_missing"]
SERVER = {"level": "cp5712r1", "level_name": "CP 5712r1", "sp_build": 5712}


def test_documentation_is_valid_yaml_and_names_every_option():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "verify_report"
    assert set(doc["options"]) == {"_input", "hosts", "server", "server_facts", "fail_on", "check_mode",
                                   "server_reboot_required", "result_var", "probes"}
    yaml.safe_load(plugin.EXAMPLES)
    assert set(yaml.safe_load(plugin.RETURN)["_value"]["contains"]) == {"summary", "failing", "clients"}
    for text in (state_plugin.DOCUMENTATION, state_plugin.EXAMPLES, state_plugin.RETURN):
        yaml.safe_load(text)
    assert "fail_on" in yaml.safe_load(state_plugin.DOCUMENTATION)["options"]


def test_reads_each_hosts_client_state_from_hostvars():
    hostvars = {
        "pc1": {"osce_client_state": client_state({}, event="verify", name="pc1", fail_on=FAIL_ON,
                                                  result={"verdict": "program_behind", "reason": "5600 < 5712"})},
        "pc2": {"osce_client_state": client_state({}, event="verify", name="pc2", fail_on=FAIL_ON,
                                                  result={"verdict": "agent_pattern_behind", "reason": "older"})},
        "pc3": {},                                        # never verified
        "osce-srv": {"osce_client_state": {"verdict": "program_behind"}},  # not in hosts: not judged
    }
    report = verify_report(hostvars, hosts=["pc1", "pc2", "pc3", "pc4"], server="osce-srv", server_facts=SERVER,
                           fail_on=FAIL_ON)
    assert report["failing"] == ["pc1"]
    assert report["clients"]["pc1"]["message"].startswith("pc1: verdict program_behind is in osce_verify_fail_on (got 5600 < 5712)")
    assert report["clients"]["pc2"]["warnings"] == ["agent_pattern_behind: older"]
    assert report["summary"]["warnings_not_failing"] == ["pc2"]
    assert report["summary"]["by_verdict"] == {"program_behind": 1, "agent_pattern_behind": 1, "unknown": 2}


def test_hosts_and_server_are_required():
    with pytest.raises(AnsibleFilterError, match="hosts and server are required"):
        verify_report({}, server_facts=SERVER, fail_on=FAIL_ON)
    with pytest.raises(AnsibleFilterError, match="must be hostvars"):
        verify_report([], hosts=[], server="s", server_facts=SERVER, fail_on=FAIL_ON)


def test_inventory_contract_filter_documents_its_options_and_checks_its_input():
    from ansible_collections.osce.patching.plugins.filter import inventory_contract as contract_plugin

    doc = yaml.safe_load(contract_plugin.DOCUMENTATION)
    assert set(doc["options"]) == {"_input", "play_hosts", "limit"}
    yaml.safe_load(contract_plugin.EXAMPLES)
    contract = contract_plugin.FilterModule().filters()["inventory_contract"]
    groups = {"osce_server": ["osce-srv"], "osce_clients": ["pc1"]}
    assert contract(groups, play_hosts=["pc1"], limit="pc1")["problem"].startswith("--limit: the OSCE server osce-srv")
    assert contract(groups, play_hosts=["osce-srv", "pc1"], limit=None) == {"problem": "", "empty_groups": ["osce_sps", "osce_tmcm"]}
    with pytest.raises(AnsibleFilterError, match="play_hosts is required"):
        contract(groups)
    with pytest.raises(AnsibleFilterError, match="groups mapping"):
        contract(["osce-srv"], play_hosts=[])


def test_the_summary_reads_the_registered_pattern_verify_evidence():
    evidence = {"checks": {"crcz_ptn": {"confidence": {"client_crcz_file": "guessed"}}}}
    hostvars = {"pc1": {"verify_result": {"verdict": "up_to_date", "evidence": evidence}}, "pc2": {}}
    out = plugin.verify_report(hostvars, hosts=["pc1", "pc2"], server="srv", server_facts={}, fail_on=[])
    assert out["summary"]["rests_on"] == {"crcz_ptn": {"client_crcz_file": "guessed"}}


# ------------------------------------------------------------------------- probe_plan (who probes the iSPS ports)
from ansible_collections.osce.patching.plugins.filter import probe_plan as probe_plugin  # noqa: E402

probe_plan = probe_plugin.FilterModule().filters()["probe_plan"]
PORTS = [{"host": "osce-srv", "port": 8082, "role": "frs_http"}, {"host": "osce-srv", "port": 4345},
         {"host": "osce-srv", "port": 5274}]


def test_probe_plan_documents_its_options():
    doc = yaml.safe_load(probe_plugin.DOCUMENTATION)
    assert set(doc["options"]) == {"_input", "hosts", "endpoints", "scope"}
    yaml.safe_load(probe_plugin.EXAMPLES)
    assert set(yaml.safe_load(probe_plugin.RETURN)["_value"]["contains"]) == {"scope", "hosts"}


def test_a_site_closed_port_fails_every_client_of_that_site_only():
    hostvars = {f"pc{i}": {"osce_client_state": {"online": True, "site": "north" if i < 4 else "south"}}
                for i in range(1, 6)}
    plan = probe_plan(hostvars, hosts=sorted(hostvars), endpoints=PORTS)
    assert plan["hosts"] == {"pc1": [{"host": "osce-srv", "port": 8082}], "pc2": [{"host": "osce-srv", "port": 4345}],
                             "pc3": [{"host": "osce-srv", "port": 5274}],
                             "pc4": [{"host": "osce-srv", "port": 8082}, {"host": "osce-srv", "port": 5274}],
                             "pc5": [{"host": "osce-srv", "port": 4345}]}
    for host, points in plan["hosts"].items():   # pattern_verify's reachability: pc2's 4345 is closed
        hostvars[host]["verify_result"] = {"reachability": [
            {**p, "reachable": not (host == "pc2" and p["port"] == 4345)} for p in points]}
        hostvars[host]["osce_client_state"]["verdict"] = "up_to_date"
    hostvars["pc2"]["osce_client_state"]["error"] = "smart protection source not reachable from the client: osce-srv:4345"
    report = verify_report(hostvars, hosts=sorted(hostvars), server="osce-srv", server_facts=SERVER, fail_on=FAIL_ON,
                           probes=plan)
    assert report["failing"] == ["pc1", "pc2", "pc3"]
    assert report["clients"]["pc1"]["message"].startswith(
        "pc1: the smart protection source is not reachable from site north: osce-srv:4345 (probed from pc2)")
    assert report["clients"]["pc2"]["message"].startswith("smart protection source not reachable from the client")
    assert report["summary"]["reachability"]["north"]["osce-srv:4345"] == "NOT reachable from pc2"
    south = {"osce-srv:8082": "reachable from pc4", "osce-srv:4345": "reachable from pc5",
             "osce-srv:5274": "reachable from pc4"}
    assert report["summary"]["reachability"]["south"] == south


def test_probe_plan_client_scope_and_bad_input():
    hostvars = {"pc1": {"osce_client_state": {"online": True}}, "pc2": {}}
    plan = probe_plan(hostvars, hosts=["pc1", "pc2"], endpoints=PORTS[:2], scope="client")
    assert plan["hosts"]["pc1"] == plan["hosts"]["pc2"] == [{"host": "osce-srv", "port": 8082},
                                                            {"host": "osce-srv", "port": 4345}]
    with pytest.raises(AnsibleFilterError, match="osce_verify_probe_scope must be one of site, client"):
        probe_plan(hostvars, hosts=["pc1"], endpoints=PORTS, scope="sites")
    with pytest.raises(AnsibleFilterError, match=r"endpoints\[0\] needs a host and a numeric port"):
        probe_plan(hostvars, hosts=["pc1"], endpoints=[{"host": "osce-srv"}])
