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
    ({"scan_method": "conventional", "program_build": 5495}, {}, "conventional_scan"),
    ({"program_build": "10.6.0.5495"}, {}, "program_behind"),
    ({"program_build": 5495, "crcz_ptn": False}, {}, "program_behind"),
    ({"crcz_ptn": False, "bf_ptn": True}, {}, "crcz_missing"),
    ({"crcz_ptn": None}, {}, "unknown"),
    ({"bf_ptn": True}, {}, "bf_in_use"),
    ({"bf_ptn": True, "agent_pattern": 1}, {}, "bf_in_use"),
    ({"bf_ptn": None}, {}, "up_to_date"),
    ({"agent_pattern": "11.343.00"}, {}, "agent_pattern_behind"),
    ({"agent_pattern": None}, {}, "unknown"),
    ({}, {"agent_pattern": None}, "unknown"),
    ({}, {"cp_installed": None}, "unknown"),
    ({"crcz_ptn": False, "bf_ptn": True}, {"cp_installed": False}, "up_to_date"),
    ({"crcz_ptn": False, "agent_pattern": 1}, {"cp_installed": False}, "agent_pattern_behind"),
    ({"program_build": 5800}, {}, "unknown"),
])
def test_precedence(change, server_change, verdict):
    result = client_verdict({**GOOD, **change}, {**SERVER, **server_change})
    assert result.verdict == verdict, result.reason
    assert result.verdict in VERDICTS and result.reason


def test_conventional_evidence_keeps_program_comparison():
    res = client_verdict({**GOOD, "scan_method": "conventional", "program_build": 5495}, SERVER)
    assert res.evidence["program_current"] is False and "behind" in res.reason
    assert "Q11" in res.reason


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
