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
                                   "server_reboot_required", "result_var"}
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
