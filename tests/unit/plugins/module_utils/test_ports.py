from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ports import plan_ports, required_ports

DEFAULT = {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274}


@pytest.mark.parametrize("kind,ports", [
    ("apache", (8082, 4345, 5274)), ("iis-virtual", (8082, 4345, 5274)), ("iis-default", (80, 443, 80))])
def test_required_ports_faq_q8(kind, ports):
    assert tuple(required_ports(kind).values()) == ports
    assert list(required_ports(kind)) == ["frs_http", "frs_https", "wrs_http"]


def test_unknown_kind():
    with pytest.raises(OsceError, match="^web_kind:"):
        required_ports("nginx")


def test_all_free_and_configured_keeps():
    plan = plan_ports("apache", DEFAULT, {8082: "httpd.exe", 4345: "httpd", 5274: "Apache.exe"})
    assert not plan.changed and {d.action for d in plan.decisions.values()} == {"keep"}


def test_not_configured_sets_defaults():
    plan = plan_ports("iis-virtual", None, {80: "System", 8082: "System"})
    assert plan.changed and plan.ports == DEFAULT
    assert all(d.action == "set" for d in plan.decisions.values())


def test_conflict_moves_to_next_free_port_above_default():
    plan = plan_ports("apache", None, {8082: "java.exe", 8083: "sqlservr.exe", 8084: "httpd"})
    d = plan.decisions["frs_http"]
    assert d.action == "move" and d.port == 8085 and "java" in d.reason and "8082" in d.reason
    assert plan.decisions["frs_https"].port == 4345 and plan.decisions["wrs_http"].port == 5274


def test_move_never_picks_console_master_or_another_role():
    plan = plan_ports("apache", {"frs_http": 4343, "frs_https": 4345, "wrs_http": 4346},
                      {4346: "other", 8083: "x"})
    # frs_http on console port -> moves from 8082+1 upward: 8083 held, 8084 free
    assert plan.decisions["frs_http"].action == "move" and plan.decisions["frs_http"].port == 8084
    assert plan.decisions["wrs_http"].port == 5275
    plan = plan_ports("apache", None, {4345: "x", 4346: "y"})
    assert plan.decisions["frs_https"].port == 4347
    plan = plan_ports("apache", {"frs_http": 8079, "frs_https": 4345, "wrs_http": 5274}, {8079: "x", 8083: "a"})
    assert plan.decisions["frs_http"].port == 8084
    # reserved 8080 is skipped when a move walks over it
    plan = plan_ports("apache", {"frs_http": 8082, "frs_https": 8079, "wrs_http": 5274}, {8079: "x"})
    # frs_https default 4345 + 1 upward
    assert plan.decisions["frs_https"].port == 4346


def test_duplicate_role_ports_move_the_later_role():
    plan = plan_ports("apache", {"frs_http": 8082, "frs_https": 4345, "wrs_http": 8082}, {})
    assert plan.decisions["wrs_http"].action == "move" and plan.decisions["wrs_http"].port == 5275
    assert len(set(plan.ports.values())) == 3


def test_earlier_move_is_kept():
    plan = plan_ports("apache", {"frs_http": 8085, "frs_https": 4345, "wrs_http": 5274}, {8082: "java"})
    assert not plan.changed and plan.decisions["frs_http"].port == 8085


def test_iis_default_shares_80_443_by_design():
    plan = plan_ports("iis-default", {"frs_http": 80, "frs_https": 443, "wrs_http": 80},
                      {80: "System", 443: "System"})
    assert not plan.changed and plan.ports == {"frs_http": 80, "frs_https": 443, "wrs_http": 80}
    assert plan.warnings == ()


def test_iis_default_foreign_holder_warns_never_moves():
    plan = plan_ports("iis-default", None, {80: "skype.exe"})
    assert plan.ports["frs_http"] == 80 and plan.decisions["frs_http"].action == "set"
    assert any("skype" in w for w in plan.warnings)


def test_iis_own_processes_not_conflicts():
    plan = plan_ports("iis-virtual", DEFAULT, {8082: "w3wp.exe", 4345: "http.sys", 5274: "SYSTEM"})
    assert not plan.changed
    plan = plan_ports("iis-virtual", DEFAULT, {8082: "httpd.exe"})
    assert plan.decisions["frs_http"].action == "move"


def test_bad_inputs():
    with pytest.raises(OsceError, match="^current.frs:"):
        plan_ports("apache", {"frs": 1}, {})
    with pytest.raises(OsceError, match="^current.frs_http: must be a TCP port"):
        plan_ports("apache", {"frs_http": "x"}, {})


def test_as_dict_roundtrip():
    data = plan_ports("apache", None, {}).as_dict()
    assert data["changed"] is True and data["ports"] == DEFAULT
    assert data["decisions"]["frs_http"]["action"] == "set"
