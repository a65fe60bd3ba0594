from __future__ import annotations

import pytest
from fake_windows import BUILD_MAP, LAB_PROFILE, LOCAL, FakeWindows, make_action, osce_server

from ansible_collections.osce.patching.plugins.action.build_facts import ActionModule


def run(fake, args=None, **kw):
    action, tv = make_action(ActionModule, {"build_map": BUILD_MAP, **(args or {})}, fake, **kw)
    return action.run(task_vars=tv), action


def test_default_is_three_round_trips_and_plans_chain():
    fake = FakeWindows()
    osce_server(fake, build=5600)
    res, action = run(fake)
    assert not res.get("failed"), res.get("msg")
    facts = res["ansible_facts"]["osce_server"]
    assert facts["level"] == "sp3_patch2"
    assert [s["id"] for s in facts["chain"]["steps"]] == ["cp5712r1"]
    assert facts["patterns"]["agent"] == "11.345.00"
    assert facts["trusted_port"] == 8080
    assert facts["privilege"]["state"] == "unknown"
    assert action.gateway.round_trips == 3
    assert res["round_trips"]["round_trips"] == 3
    assert res["changed"] is False
    assert fake.writes() == []


def test_all_subsets_read_web_server_and_tmlisten():
    fake = FakeWindows()
    osce_server(fake, build=4100)
    res, action = run(fake, {"gather_subset": ["all"]}, task_vars={"osce_profile_overrides": LAB_PROFILE})
    facts = res["ansible_facts"]["osce_server"]
    assert facts["web_server"]["kind"] == "apache"
    assert facts["client_program"] == {"build": 4100, "file_version": "10.6.0.4100", "source": "file_version",
                                       "path": LOCAL + "Pccnt\\Common\\Tmlisten.exe"}
    assert facts["privilege"]["state"] == "off"
    assert facts["privilege"]["confidence"] == "calibrated"
    assert [s["id"] for s in facts["chain"]["steps"]] == ["cp5495", "sp3_patch2", "cp5712r1"]
    assert facts["collection_state"]["exists"] is False  # nothing recorded on a server we never touched
    assert action.gateway.round_trips == 6


def test_cp5712_before_cutoff_replans_r1_from_history():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[OfficeScan 10.6 SP3 Critical Patch 5712]\r\nBuild=5712\r\n"
                "InstallDate=2014-12-01 10:00:00\r\n")
    res, _action = run(fake)
    facts = res["ansible_facts"]["osce_server"]
    assert facts["level"] == "cp5712"
    assert [s["id"] for s in facts["chain"]["steps"]] == ["cp5712r1"]


def test_unknown_build_is_one_line_naming_build_map():
    fake = FakeWindows()
    osce_server(fake, build=4242)
    res, _action = run(fake, {"build_map": {}})
    assert res["failed"]
    assert "\n" not in res["msg"]
    assert res["msg"].startswith("Failed to gather OSCE server facts on osce01: sp_build:")
    assert "osce_build_map" in res["msg"]


def test_not_an_osce_server():
    fake = FakeWindows()
    res, _action = run(fake)
    assert res["failed"] and "no OfficeScan server registry key on osce01" in res["msg"]
    assert "Fix:" in res["msg"]


def test_unreachable_host():
    fake = FakeWindows()
    fake.unreachable = True
    res, _action = run(fake)
    assert res["unreachable"] is True and "failed" not in res
    assert "host osce01 is unreachable" in res["msg"]


def test_bad_option_fails_before_any_round_trip():
    fake = FakeWindows()
    res, action = run(fake, {"gather_subset": ["bogus"]})
    assert res["failed"] and "gather_subset" in res["msg"] and "\n" not in res["msg"]
    assert fake.calls == []


def test_bad_profile_override_fails_before_any_round_trip():
    fake = FakeWindows()
    res, _action = run(fake, {"profile_overrides": {"no_such_entry": {"path": "x"}}})
    assert res["failed"] and "osce_profile_overrides.no_such_entry" in res["msg"]
    assert fake.calls == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_check_mode_reads_the_same(check_mode):
    fake = FakeWindows()
    osce_server(fake)
    res, _action = run(fake, check_mode=check_mode)
    assert res["ansible_facts"]["osce_server"]["level"] == "sp3_patch2"


def test_privilege_state_reads_with_the_entry_on_off_values():
    fake = FakeWindows()
    osce_server(fake, build=5600)
    ini = LOCAL + "ofcscan.ini"
    fake.put(ini, fake.text(ini).replace("NoProgramUpgrade=0", "NoProgramUpgrade=yes"))
    res, _action = run(fake, task_vars={"osce_profile_overrides": LAB_PROFILE})
    assert res["ansible_facts"]["osce_server"]["privilege"]["state"] == "unknown"  # "yes" is neither 1 nor 0
    over = {**LAB_PROFILE, "upgrade_privilege_root": {**LAB_PROFILE["upgrade_privilege_root"], "on_value": "YES",
                                                      "off_value": "no"}}
    res, _action = run(fake, task_vars={"osce_profile_overrides": over})
    priv = res["ansible_facts"]["osce_server"]["privilege"]
    assert priv["state"] == "on" and priv["on_value"] == "YES" and priv["value"] == "yes"


def test_isps_record_per_role_and_legacy_override():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="")
    ini = LOCAL + "ofcscan.ini"
    fake.put(ini, fake.text(ini) + "[INI_SMART_PROTECTION]\r\nFRS_HTTP_Port=8082\r\nFRS_HTTPS_Port=4345\r\n"
             "WRS_HTTP_Port=5274\r\n")
    legacy = {"isps_ports": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "INI_SMART_PROTECTION",
                             "key": "FRS_HTTP_Port"}}
    res, action = run(fake, task_vars={"osce_profile_overrides": legacy})
    assert not res.get("failed"), res.get("msg")
    assert res["ansible_facts"]["osce_server"]["isps_ports"] == {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274}
    assert action.gateway.round_trips == 4  # the three entries share the ofcscan.ini read (+1: our record, build 5712)
    res, _action = run(fake)
    assert res["ansible_facts"]["osce_server"]["isps_ports"] == "unknown"


# ---------------------------------------------------------------- CP 5712 vs 5712r1 (issue 15)

APPLIED = ('{"installed":"2026-12-02T18:40:00Z","run_id":"r-1","sha256":"' + "ab" * 32 + '","step":"cp5712r1"}')
STATE_KEY = "HKLM:\\SOFTWARE\\osce.patching"


def test_other_builds_do_not_read_the_collection_state():
    fake = FakeWindows()
    osce_server(fake, build=5600)
    res, action = run(fake)
    facts = res["ansible_facts"]["osce_server"]
    assert "collection_state" not in facts and facts["cp5712r1_evidence"]["record_read"] is False
    assert action.gateway.round_trips == 3


def test_build_5712_reads_our_record_first():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[OfficeScan 10.6 SP3 Critical Patch 5712]\r\nBuild=5712\r\n"
                "InstallDate=2014-12-01 10:00:00\r\n")
    fake.set_reg(STATE_KEY, "Applied.cp5712r1", APPLIED)
    res, action = run(fake)
    facts = res["ansible_facts"]["osce_server"]
    assert facts["level"] == "cp5712r1", facts["level_reasons"]
    assert "Applied.cp5712r1" in facts["level_reasons"][-1]
    assert facts["cp5712r1_evidence"]["applied_record"]["run_id"] == "r-1"
    assert action.gateway.round_trips == 4          # the record: one more read, only on build 5712


def test_build_5712_without_record_falls_back_to_history():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[CP 5712]\r\nBuild=5712\r\nInstallDate=2014-12-01 10:00:00\r\n")
    res, _action = run(fake)
    facts = res["ansible_facts"]["osce_server"]
    assert facts["level"] == "cp5712" and "patch history" in facts["level_reasons"][-1]
    assert any("Patch 2 is not in the patch history" in n for n in facts["chain"]["notes"])


def test_ambiguous_history_date_is_refused_naming_the_variable():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[CP 5712]\r\nBuild=5712\r\nInstallDate=10/01/2015\r\n")
    res, _action = run(fake)
    assert res["failed"] and "ambiguous" in res["msg"] and "osce_cp5712r1_installed: true" in res["msg"]
    # the administrator states the fact: it converges, by option or by play variable
    res, action = run(fake, {"cp5712r1_installed": "true"})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712r1"
    assert action.gateway.round_trips == 3          # a stated fact needs no record read
    res, _action = run(fake, task_vars={"osce_cp5712r1_installed": False})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712"


def test_unreadable_history_converges_once_stated():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="garbage")
    res, _action = run(fake)
    facts = res["ansible_facts"]["osce_server"]
    assert facts["level"] == "cp5712" and any("osce_cp5712r1_installed" in w for w in res["warnings"])
    res, _action = run(fake, task_vars={"osce_cp5712r1_installed": True})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712r1"
    assert res["ansible_facts"]["osce_server"]["chain"]["nothing_to_do"] is True


def test_tmcm_unknown_is_a_chain_blocker():
    fake = FakeWindows()
    osce_server(fake, build=5600)
    res, _action = run(fake, {"tmcm_version": "unknown"})
    blockers = res["ansible_facts"]["osce_server"]["chain"]["blockers"]
    assert len(blockers) == 1 and "osce_tmcm_version" in blockers[0]


def test_statement_option_takes_a_yaml_bool_and_rejects_junk():
    fake = FakeWindows()
    osce_server(fake, build=5712, history="")
    res, _action = run(fake, {"cp5712r1_installed": True})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712r1"
    assert res["ansible_facts"]["osce_server"]["cp5712r1_evidence"]["stated"] is True
    res, _action = run(fake, {"cp5712r1_installed": "perhaps"})
    assert res["failed"] and "osce_cp5712r1_installed: must be true, false or empty" in res["msg"]


def test_a_check_run_reads_its_own_predicted_lock_and_marker_but_not_a_predicted_level():
    fake = FakeWindows()
    osce_server(fake, build=4100)
    prediction = {"run_id": "r1", "lock": {"run_id": "r1"}, "marker": {"root": "0"}, "marker_exists": True,
                  "server": {"level": "cp5712r1", "sp_build": 5712}}
    tv = {"osce_profile_overrides": LAB_PROFILE, "ansible_check_mode": True, "osce_run_id": "r1",
          "osce_prediction": prediction}
    res, _action = run(fake, {"gather_subset": ["collection_state"]}, check_mode=True, task_vars=tv)
    facts = res["ansible_facts"]["osce_server"]
    assert facts["collection_state"]["run_lock"] == {"run_id": "r1"}
    assert facts["collection_state"]["privilege_marker_present"] is True
    assert facts["collection_state"]["predicted"] == ["run_lock", "privilege_marker_present"]
    assert facts["level"] == "sp3_patch1_1"   # what was read: verify judges the clients against the real server
    # a real run never reads it
    res, _action = run(fake, {"gather_subset": ["collection_state"]}, task_vars=dict(tv, ansible_check_mode=False))
    assert res["ansible_facts"]["osce_server"]["collection_state"]["run_lock"] is None


def test_a_read_without_the_history_reads_it_when_only_the_history_tells_r1():
    """finish's re-read asks for no patch history; on build 5712 without our record or a statement, the level
    would be guessed as CP 5712 (verify would then fail every client): build_facts reads the history itself."""
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[OfficeScan 10.6 SP3 Critical Patch 5712 r1]\r\nBuild=5712\r\n"
                "InstallDate=2016-03-01 10:00:00\r\n")
    res, action = run(fake, {"gather_subset": ["collection_state"]})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712r1", res["ansible_facts"]["osce_server"]["level_reasons"]
    assert fake.count("slurp") == 2   # ofcscan.ini, then the history it needed
    # a statement decides: no history read
    fake = FakeWindows()
    osce_server(fake, build=5712, history="[CP 5712]\r\nBuild=5712\r\nInstallDate=2016-03-01 10:00:00\r\n")
    res, action = run(fake, {"gather_subset": ["collection_state"]}, task_vars={"osce_cp5712r1_installed": True})
    assert res["ansible_facts"]["osce_server"]["level"] == "cp5712r1" and fake.count("slurp") == 1
