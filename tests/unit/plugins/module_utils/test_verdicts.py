from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils.verdicts import (
    VERDICTS, client_verdict, comparable_patterns, parse_build, parse_pattern_version, scan_method_from_scan_type,
)

SERVER = {"client_build": "10.6.0.5712", "agent_pattern": "11.345.00", "cp_installed": True}
GOOD = {"program_build": "10.6.5712", "scan_method": "smart", "bf_ptn": False, "crcz_ptn": True,
        "agent_pattern": 1134500}


@pytest.mark.parametrize("value,build", [("10.6.0.5712", 5712), ("10.6.5712", 5712), (5712, 5712),
                                         ("5712", 5712), (None, None), ("abc", None), ("", None)])
def test_parse_build(value, build):
    assert parse_build(value) == build


@pytest.mark.parametrize("value,num", [("11.345.00", 1134500), (1134500, 1134500), ("11.345", 1134500),
                                       ("11.347.00", 1134700), ("9.9.1", 900901), (None, None), ("x", None)])
def test_parse_pattern_version(value, num):
    assert parse_pattern_version(value) == num


def test_pattern_versions_compare():
    assert parse_pattern_version("11.345.00") < parse_pattern_version("11.347.00") < parse_pattern_version("12.001.00")


@pytest.mark.parametrize("value,method", [(1, "smart"), ("2", "smart"), (0, "conventional"), (None, None), ("x", None)])
def test_scan_type(value, method):
    assert scan_method_from_scan_type(value) == method


@pytest.mark.parametrize("change,server_change,verdict", [
    ({}, {}, "up_to_date"),
    ({"scan_method": None}, {}, "unknown"),
    ({"program_build": None}, {}, "unknown"),
    ({}, {"client_build": None}, "unknown"),
    ({"scan_method": "conventional"}, {}, "conventional_scan"),
    ({"scan_method": "conventional", "program_build": 5495}, {}, "program_behind"),
    ({"program_build": "10.6.0.5495"}, {}, "program_behind"),
    ({"program_build": 5495, "crcz_ptn": False}, {}, "program_behind"),
    ({"crcz_ptn": False, "bf_ptn": True}, {}, "crcz_missing"),
    ({"crcz_ptn": None}, {}, "unknown"),
    ({"bf_ptn": True}, {}, "bf_in_use"),
    ({"bf_ptn": True, "agent_pattern": 1}, {}, "bf_in_use"),
    ({"bf_ptn": None}, {}, "up_to_date"),
    ({"agent_pattern": "11.343.00"}, {}, "agent_pattern_behind"),
    ({"agent_pattern": None}, {}, "up_to_date"),          # inferred check not made: said in the reason
    ({}, {"agent_pattern": None}, "up_to_date"),
    ({}, {"cp_installed": None}, "unknown"),
    ({"crcz_ptn": False, "bf_ptn": True}, {"cp_installed": False}, "server_not_on_target"),
    ({"crcz_ptn": False, "agent_pattern": 1}, {"cp_installed": False}, "server_not_on_target"),
    ({"program_build": 5800}, {}, "unknown"),
])
def test_precedence(change, server_change, verdict):
    result = client_verdict({**GOOD, **change}, {**SERVER, **server_change})
    assert result.verdict == verdict, result.reason
    assert result.verdict in VERDICTS and result.reason


def test_conventional_client_behind_is_program_behind_not_hidden():
    res = client_verdict({**GOOD, "scan_method": "conventional", "program_build": 5495}, SERVER)
    assert res.verdict == "program_behind" and res.evidence["program_current"] is False
    assert "conventional" in res.reason and res.evidence["program_build"] == 5495
    res = client_verdict({**GOOD, "scan_method": "conventional"}, SERVER)
    assert res.verdict == "conventional_scan" and "Q11" in res.reason and "5712 is current" in res.reason


def test_evidence_is_parsed():
    res = client_verdict(GOOD, SERVER)
    assert res.evidence["program_build"] == 5712 and res.evidence["server_agent_pattern"] == 1134500
    assert res.as_dict()["verdict"] == "up_to_date"


@pytest.mark.parametrize("client,server,expected", [
    ("411", "11.411.00", (411, 411)),        # file extension vs dotted record
    ("11.409.00", "411", (409, 411)),        # registry PatternVer vs a bare record (the lab's PtnVersion)
    (1141100, "11.411.00", (1141100, 1141100)),
    ("11.411.00", "12.001.00", (1141100, 1200100)),
    (None, "411", (None, 411)),
])
def test_comparable_patterns(client, server, expected):
    assert comparable_patterns(parse_pattern_version(client), parse_pattern_version(server)) == expected


def test_agent_pattern_from_file_matches_a_dotted_server_record():
    result = client_verdict({**GOOD, "agent_pattern": "345"}, SERVER)
    assert result.verdict == "up_to_date", result.reason
    result = client_verdict({**GOOD, "agent_pattern": "343"}, SERVER)
    assert result.verdict == "agent_pattern_behind", result.reason


# ---------------------------------------------------------------- target, facts vs inferences (issues 12/13/15)

def test_up_to_date_only_on_the_target():
    for level in ("cp5712r1", "osce11"):
        assert client_verdict(GOOD, {**SERVER, "level": level}).verdict == "up_to_date"
    for level, build in (("sp3_patch2", 5600), ("cp5495", 5495), ("cp5712", 5712)):
        server = {**SERVER, "level": level, "build": build, "client_build": build,
                  "cp_installed": False}
        res = client_verdict({**GOOD, "program_build": build}, server)
        assert res.verdict == "server_not_on_target", res.reason
        assert level in res.reason and str(build) in res.reason and "CP 5712r1" in res.reason
        assert res.evidence["server_on_target"] is False and res.evidence["checks"]["target"]["result"] == "fail"
    # unknown level and unknown CP state: not judged up to date
    assert client_verdict(GOOD, {**SERVER, "cp_installed": None}).verdict == "unknown"


def test_level_wins_over_cp_installed_for_the_target():
    res = client_verdict(GOOD, {**SERVER, "level": "cp5712", "cp_installed": True})
    assert res.verdict == "server_not_on_target"


def test_fact_and_inferred_verdicts_partition_the_failing_ones():
    from ansible_collections.osce.patching.plugins.module_utils.verdicts import FACT_VERDICTS, INFERRED_VERDICTS
    assert set(FACT_VERDICTS) | set(INFERRED_VERDICTS) == set(VERDICTS) - {"up_to_date", "conventional_scan", "unknown"}
    assert not set(FACT_VERDICTS) & set(INFERRED_VERDICTS)
    assert {"bf_in_use", "agent_pattern_behind", "custom_update_source"} == set(INFERRED_VERDICTS)


def test_checks_name_their_basis_and_entries():
    res = client_verdict({**GOOD, "bf_ptn": True, "agent_pattern": "11.343.00"}, SERVER)
    checks = res.evidence["checks"]
    assert checks["program"] == {"basis": "fact", "entries": ["client_program_version", "server_client_program"],
                                 "result": "pass", "detail": "client 5712, server offers 5712"}
    assert checks["bf"]["basis"] == "inferred" and checks["bf"]["result"] == "fail"
    assert checks["agent_pattern"]["basis"] == "inferred" and checks["agent_pattern"]["result"] == "fail"
    assert res.verdict == "bf_in_use" and len(res.evidence["warnings"]) == 1
    assert "agent pattern" in res.evidence["warnings"][0].lower()


def test_inferred_findings_ride_along_a_fact_verdict():
    res = client_verdict({**GOOD, "crcz_ptn": False, "agent_pattern": "11.343.00"}, SERVER)
    assert res.verdict == "crcz_missing" and any("behind" in w for w in res.evidence["warnings"])


def test_custom_update_source():
    names = ["osce01", "osce01.example.com", "10.0.0.5"]
    res = client_verdict({**GOOD, "update_source": "http://osce01.example.com:8080/officescan/download"},
                         {**SERVER, "names": names})
    assert res.verdict == "up_to_date" and res.evidence["custom_update_source"] is False
    res = client_verdict({**GOOD, "update_source": "http://updsrv02:8080/au", "agent_pattern": "11.343.00"},
                         {**SERVER, "names": names})
    assert res.verdict == "custom_update_source" and res.evidence["custom_update_source"] is True
    # behind a custom source, the server's pattern is not the reference: no agent_pattern_behind finding
    assert res.evidence["warnings"] == [] and res.evidence["checks"]["agent_pattern"]["result"] == "fail"
    # nothing to compare with: not judged
    res = client_verdict({**GOOD, "update_source": "http://x"}, SERVER)
    assert res.evidence["custom_update_source"] is None and res.verdict == "up_to_date"
    assert "update_source" in res.reason


def test_crcz_freshness_is_reported_as_not_checkable():
    res = client_verdict(GOOD, SERVER)
    assert res.evidence["crcz_freshness"].startswith("not checkable")
