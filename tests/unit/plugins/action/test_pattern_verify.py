from __future__ import annotations

import pytest
from fake_windows import APP, CLIENT_KEY, FakeWindows, make_action

from ansible_collections.osce.patching.plugins.action.pattern_verify import ActionModule

SERVER = {"client_program": {"build": 5712}, "patterns": {"agent": "411"}, "cp_installed": True, "level": "cp5712r1"}


def client(build=5712, files=("CRCz.ptn", "icrc$oth.411"), scan_type=1, x64=True):
    fake = FakeWindows()
    key = CLIENT_KEY if x64 else CLIENT_KEY.replace("Wow6432Node\\", "")
    app = APP if x64 else APP.replace(" (x86)", "")
    fake.set_reg(key + "\\Misc.", "ProgramVer", f"10.6.{build}")
    fake.set_reg(key + "\\iCRC Scan", "ScanType", scan_type, "REG_DWORD")
    for f in files:
        fake.put(app + f, "x")
    return fake


def run(fake, args=None, **kw):
    action, tv = make_action(ActionModule, {"server_facts": SERVER, **(args or {})}, fake, host="pc1", **kw)
    return action.run(task_vars=tv), action


@pytest.mark.parametrize("files,build,verdict", [
    (("CRCz.ptn", "icrc$oth.411"), 5712, "up_to_date"),
    (("BF.ptn", "icrc$oth.411"), 5600, "program_behind"),
    (("BF.ptn", "icrc$oth.411"), 5712, "crcz_missing"),
    (("BF.ptn", "CRCz.ptn", "icrc$oth.411"), 5712, "bf_in_use"),
    (("CRCz.ptn", "icrc$oth.409"), 5712, "agent_pattern_behind"),
    (("lpt$vpn.235",), 5712, "conventional_scan"),
    (("lpt$vpn.235",), 5600, "program_behind"),
])
def test_verdicts_in_two_round_trips(files, build, verdict):
    res, action = run(client(build, files), {"fail_on": []})
    assert not res.get("failed"), res.get("msg")
    assert res["verdict"] == verdict and res["changed"] is False
    assert action.gateway.round_trips == 2


def test_fail_on_gives_one_line_with_evidence():
    res, _action = run(client(5600, ("BF.ptn", "icrc$oth.411")))
    assert res["failed"] and res["verdict"] == "program_behind" and "\n" not in res["msg"]
    assert res["msg"].startswith("Failed to verify the client on pc1: verdict program_behind:")
    assert res["evidence"]["program_build"] == 5600


def test_x86_client_costs_one_more_read():
    res, action = run(client(x64=False), {"fail_on": []})
    assert res["verdict"] == "up_to_date" and res["evidence"]["arch"] == "x86"
    assert action.gateway.round_trips == 3


def test_read_scan_type_and_reachability():
    fake = client()
    fake.reachable.add(("osce-srv", 8082))
    res, action = run(fake, {"read_scan_type": True, "sps_endpoints": [{"host": "osce-srv", "port": 8082}]})
    assert res["evidence"]["scan_method_source"].startswith("registry")
    assert res["reachability"][0]["reachable"] is True
    assert action.gateway.round_trips == 4


def test_unreachable_sps_fails():
    res, _action = run(client(), {"sps_endpoints": [{"host": "osce-srv", "port": 4345}]})
    assert res["failed"] and "osce-srv:4345" in res["msg"]


def test_not_a_client():
    res, _action = run(FakeWindows())
    assert res["failed"] and "no OfficeScan client registry key on pc1" in res["msg"]


def test_server_facts_required():
    action, tv = make_action(ActionModule, {}, FakeWindows(), host="pc1")
    res = action.run(task_vars=tv)
    assert res["failed"] and "server_facts" in res["msg"]


def test_agent_pattern_from_patternver_when_no_pattern_file():
    """Misc.\\PatternVer (profile entry client_pattern_version) is the registry fallback, compared on the
    pattern number with the server's record."""
    fake = client(files=("CRCz.ptn",))
    fake.set_reg(CLIENT_KEY + "\\Misc.", "PatternVer", "11.409.00")
    fake.set_reg(CLIENT_KEY + "\\Misc.", "InternalPatternVer", 1141100, "REG_DWORD")  # not read
    res, action = run(fake, {"fail_on": [], "read_scan_type": True})
    assert res["verdict"] == "agent_pattern_behind", res["reason"]
    assert res["evidence"]["agent_pattern"] == 409 and res["evidence"]["server_agent_pattern"] == 411
    assert "client_pattern_version" in res["evidence"]["agent_pattern_source"]
    assert action.gateway.round_trips == 3  # PatternVer comes with the program build's read


def test_conventional_pattern_file_follows_the_profile():
    fake = client(build=5712, files=())
    fake.put(APP + "Pattern\\lpt$vpn.235", "x")
    res, _action = run(fake, {"fail_on": []})
    assert res["verdict"] == "unknown"  # nothing where the shipped entry looks
    res, _action = run(fake, {"fail_on": [], "profile_overrides": {
        "client_conventional_pattern_file": {"path": "{app_path}Pattern\\lpt$vpn.*"}}})
    assert res["verdict"] == "conventional_scan" and res["evidence"]["scan_method"] == "conventional"


# ---------------------------------------------------------------- facts vs inferences, the target

def test_default_fail_on_holds_only_facts_inferred_findings_warn():
    res, _action = run(client(5712, ("BF.ptn", "CRCz.ptn", "icrc$oth.411")))
    assert not res.get("failed"), res.get("msg")
    assert res["verdict"] == "bf_in_use" and any("inferred check, not failing" in w for w in res["warnings"])
    checks = res["evidence"]["checks"]
    assert checks["bf"]["basis"] == "inferred" and checks["bf"]["confidence"] == {"client_bf_ptn": "inf"}
    assert checks["program"]["confidence"] == {"client_program_version": "3p", "server_client_program": "3p"}
    res, _action = run(client(5712, ("CRCz.ptn", "icrc$oth.409")))
    assert not res.get("failed") and res["verdict"] == "agent_pattern_behind"
    # opt in
    res, _action = run(client(5712, ("BF.ptn", "CRCz.ptn", "icrc$oth.411")), {"fail_on": ["bf_in_use"]})
    assert res["failed"] and "bf_in_use" in res["msg"]


def test_client_on_an_intermediate_server_is_server_not_on_target_and_fails_by_default():
    server = {"client_program": {"build": 5600}, "patterns": {"agent": "411"}, "cp_installed": False,
              "level": "sp3_patch2", "sp_build": 5600}
    res, _action = run(client(5600, ("BF.ptn", "icrc$oth.411")), {"server_facts": server})
    assert res["failed"] and res["verdict"] == "server_not_on_target"
    assert "sp3_patch2" in res["msg"] and "5600" in res["msg"]


def test_custom_update_source_from_the_misc_key_without_a_round_trip():
    fake = client(5712, ("CRCz.ptn", "icrc$oth.411"))
    fake.set_reg(CLIENT_KEY + "\\Misc.", "Updatefrom", "http://relay07:8080/au")
    res, action = run(fake, task_vars={"groups": {"osce_server": ["osce01"]},
                                       "hostvars": {"osce01": {"ansible_host": "10.0.0.5"}}})
    assert not res.get("failed") and res["verdict"] == "custom_update_source"
    assert res["evidence"]["update_source"] == "http://relay07:8080/au"
    assert action.gateway.round_trips == 2
    fake.set_reg(CLIENT_KEY + "\\Misc.", "Updatefrom", "http://10.0.0.5:8080/au")
    res, _action = run(fake, task_vars={"groups": {"osce_server": ["osce01"]},
                                        "hostvars": {"osce01": {"ansible_host": "10.0.0.5"}}})
    assert res["verdict"] == "up_to_date" and res["evidence"]["custom_update_source"] is False
