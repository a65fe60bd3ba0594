from __future__ import annotations

import re

import pytest
from fake_windows import LOCAL, FakeWindows, make_action, osce_server

from ansible_collections.osce.patching.plugins.action.sps_ports import ActionModule

CONF = LOCAL + "..\\Apache2\\conf\\httpd.conf"
RECORD = {f"isps_port_{role}": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "INI_SMART_PROTECTION",
                                "key": key}
          for role, key in (("frs_http", "FRS_HTTP_Port"), ("frs_https", "FRS_HTTPS_Port"), ("wrs_http", "WRS_HTTP_Port"))}
#: the former single entry (the lab inventory's override): still accepted, split into the three roles
LEGACY_RECORD = {"isps_ports": {"kind": "ini", "confidence": "calibrated", "file": "{local_path}ofcscan.ini",
                                "section": "INI_SMART_PROTECTION", "key": "FRS_HTTP_Port", "source": "lab",
                                "description": "lab: keys FRS_HTTP_Port, FRS_HTTPS_Port, WRS_HTTP_Port"}}


def apache(conflict=None):
    fake = FakeWindows()
    osce_server(fake, build=5712, web="apache")
    if conflict:
        fake.listeners.append({"port": conflict, "name": "java.exe", "pid": 77})

    def restart(f):
        ports = [int(m) for m in re.findall(r"^Listen (\d+)", f.text(CONF), re.M)]
        foreign = {l["port"] for l in f.listeners if l["name"] != "httpd.exe"}
        if foreign & set(ports):
            return f"could not bind to {sorted(foreign & set(ports))[0]}"
        f.listeners = [l for l in f.listeners if l["name"] != "httpd.exe"] + [
            {"port": p, "name": "httpd.exe", "pid": 2104} for p in ports]
        return None

    fake.on_restart["Apache2"] = restart
    restart(fake)
    return fake


def run(fake, args=None, **kw):
    action, tv = make_action(ActionModule, dict(args or {}), fake, **kw)
    return action.run(task_vars=tv), action


def test_apache_sets_faq_ports_restarts_once_then_idempotent():
    fake = apache()
    res, _action = run(fake)
    assert not res.get("failed"), res.get("msg")
    assert res["ports"] == {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274}
    assert res["restarted"] == ["Apache2"] and fake.services["Apache2"]["restarts"] == 1
    assert "Listen 8082" in fake.text(CONF)
    assert res["diff"]["after"]["apache_listen"] == [8080, 4343, 8082, 4345, 5274]
    res2, _action = run(fake)
    assert res2["changed"] is False and fake.services["Apache2"]["restarts"] == 1


def test_conflict_without_a_record_refuses_to_move_and_names_it():
    fake = apache(conflict=8082)
    snap = fake.snapshot()
    for check in (False, True):
        res, _action = run(fake, check_mode=check)
        assert res["failed"] and "\n" not in res["msg"], res
        assert "File Reputation HTTP port 8082: port 8082 is held by java" in res["msg"]
        assert "would move it to 8083" in res["msg"] and "CP 5712r1 installer" in res["msg"] and "FAQ Q8" in res["msg"]
        assert "calibrate the iSPS port record" in res["msg"]
        assert res["conflicts"] == [{"role": "frs_http", "port": 8082, "to": 8083,
                                     "reason": res["conflicts"][0]["reason"]}]
        assert fake.writes() == [] and fake.snapshot() == snap


def test_every_conflict_is_named():
    fake = apache(conflict=8082)
    fake.listeners.append({"port": 5274, "name": "nginx.exe", "pid": 78})
    res, _action = run(fake, check_mode=True)
    assert res["failed"] and "8082" in res["msg"] and "5274: port 5274 is held by nginx" in res["msg"]
    assert [c["role"] for c in res["conflicts"]] == ["frs_http", "wrs_http"]


def with_record(fake):
    fake.put(LOCAL + "ofcscan.ini", fake.text(LOCAL + "ofcscan.ini") +
             "[INI_SMART_PROTECTION]\r\nFRS_HTTP_Port=8082\r\nFRS_HTTPS_Port=4345\r\nWRS_HTTP_Port=5274\r\n")
    fake.put(CONF, fake.text(CONF) + "Listen 8082\r\nListen 4345\r\nListen 5274\r\n")
    return fake


def test_check_mode_with_a_record_names_the_conflict_and_what_would_be_done():
    fake = with_record(apache(conflict=8082))
    snap = fake.snapshot()
    res, _action = run(fake, check_mode=True, task_vars={"osce_profile_overrides": RECORD})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["ports"]["frs_http"] == 8083 and res["conflicts"][0]["port"] == 8082
    kinds = {(w["kind"], w["target"]) for w in res["would"]}
    assert ("record", "frs_http") in kinds and ("listen", "apache_conf") in kinds and ("unlisten", "frs_http") in kinds
    assert fake.writes() == [] and fake.snapshot() == snap
    # named in the warnings too (preflight's summary and the --check output carry them)
    assert any("port 8082" in w and "would move to 8083 together with OSCE's port record" in w for w in res["warnings"])


def test_move_with_a_record_proves_record_and_listener_agree():
    fake = with_record(apache(conflict=8082))
    res, _action = run(fake, task_vars={"osce_profile_overrides": RECORD})
    assert not res.get("failed"), res.get("msg")
    assert res["agreement"] == "record, configuration and listeners agree"
    assert "FRS_HTTP_Port=8083" in fake.text(LOCAL + "ofcscan.ini")
    assert {l["port"] for l in fake.listeners if l["name"] == "httpd.exe"} >= {8083, 4345, 5274}


def test_record_that_does_not_follow_the_write_fails(monkeypatch):
    from ansible_collections.osce.patching.plugins.plugin_utils import _server
    fake = with_record(apache(conflict=8082))
    # the record write lands somewhere the re-read does not see (a miscalibrated entry)
    monkeypatch.setattr(_server.ServerReader, "write_isps_port", lambda self, role, port: None)
    res, _action = run(fake, task_vars={"osce_profile_overrides": RECORD})
    assert res["failed"] and "record does not hold the ports" in res["msg"] and "8083" in res["msg"]


@pytest.mark.parametrize("record", [RECORD, LEGACY_RECORD], ids=["per_role", "legacy_isps_ports"])
def test_conflict_with_calibrated_record_removes_stale_listen(record):
    fake = apache(conflict=8082)
    fake.put(LOCAL + "ofcscan.ini", fake.text(LOCAL + "ofcscan.ini") +
             "[INI_SMART_PROTECTION]\r\nFRS_HTTP_Port=8082\r\nFRS_HTTPS_Port=4345\r\nWRS_HTTP_Port=5274\r\n")
    fake.put(CONF, fake.text(CONF) + "Listen 8082\r\nListen 4345\r\nListen 5274\r\n")
    res, _action = run(fake, task_vars={"osce_profile_overrides": record})
    assert not res.get("failed"), res.get("msg")
    assert "FRS_HTTP_Port=8083" in fake.text(LOCAL + "ofcscan.ini")
    assert "Listen 8082" not in fake.text(CONF) and "Listen 8083" in fake.text(CONF)
    assert run(fake, task_vars={"osce_profile_overrides": record})[0]["changed"] is False


def test_check_mode_changes_nothing():
    fake = apache()
    snap = fake.snapshot()
    res, _action = run(fake, check_mode=True)
    assert res["changed"] and res["ports"]["wrs_http"] == 5274 and res["conflicts"] == []
    assert any(w["kind"] == "listen" and w["port"] == 5274 for w in res["would"])
    assert fake.writes() == [] and fake.snapshot() == snap


def test_iis_auto_without_record_refuses_to_guess():
    fake = FakeWindows()
    osce_server(fake, web="iis")
    res, _action = run(fake)
    assert res["failed"] and "web_server: iis-virtual or iis-default" in res["msg"] and fake.writes() == []


def test_iis_virtual_binds_without_restart():
    fake = FakeWindows()
    osce_server(fake, web="iis")
    res, _action = run(fake, {"web_server": "iis-virtual"})
    assert not res.get("failed"), res.get("msg")
    assert res["web_server"] == "iis-virtual" and res["restarted"] == []
    assert {b["port"] for b in fake.iis["OfficeScan"]} == {8082, 4345, 5274}
    assert run(fake, {"web_server": "iis-virtual"})[0]["changed"] is False


def test_iis_default_changes_nothing():
    fake = FakeWindows()
    osce_server(fake, web="iis")
    fake.listeners += [{"port": 80, "name": "System", "pid": 4}, {"port": 443, "name": "System", "pid": 4}]
    res, _action = run(fake, {"web_server": "iis-default"})
    assert res["changed"] is False and res["ports"] == {"frs_http": 80, "frs_https": 443, "wrs_http": 80}


def test_restart_failure_is_one_line():
    fake = apache()
    fake.on_restart["Apache2"] = lambda f: "could not bind to 8082"
    res, _action = run(fake)
    assert res["failed"] and res["changed"] and "Apache2 did not restart" in res["msg"] and "\n" not in res["msg"]


def test_record_roles_may_live_apart():
    """One entry per role: keys need not follow one spelling, nor share a file or the registry."""
    fake = apache()
    fake.put(LOCAL + "ofcscan.ini", fake.text(LOCAL + "ofcscan.ini") + "[SPS]\r\nFileRepPort=8082\r\nFileRepSSL=4345\r\n")
    fake.set_reg("HKLM:\\SOFTWARE\\X\\LWCS", "HttpPort", 5274, "REG_DWORD")
    fake.put(CONF, fake.text(CONF) + "Listen 8082\r\nListen 4345\r\nListen 5274\r\n")
    fake.listeners.append({"port": 5274, "name": "java.exe", "pid": 77})
    record = {"isps_port_frs_http": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "SPS", "key": "FileRepPort"},
              "isps_port_frs_https": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "SPS", "key": "FileRepSSL"},
              "isps_port_wrs_http": {"kind": "registry", "keys": ["HKLM:\\SOFTWARE\\X\\LWCS"], "value": "HttpPort"}}
    res, action = run(fake, task_vars={"osce_profile_overrides": record})
    assert not res.get("failed"), res.get("msg")
    assert res["ports"]["wrs_http"] == 5275 and fake.get_reg("HKLM:\\SOFTWARE\\X\\LWCS", "HttpPort") == 5275
    assert "FileRepPort=8082" in fake.text(LOCAL + "ofcscan.ini")
    assert action.gateway.per_module["community.windows.win_lineinfile"] >= 1


def test_partial_record_is_unknown():
    fake = apache()
    action, tv = make_action(ActionModule, {}, fake, task_vars={"osce_profile_overrides": {
        "isps_port_frs_http": RECORD["isps_port_frs_http"]}})
    res = action.run(task_vars=tv)
    assert not res.get("failed"), res.get("msg")
    assert "INI_SMART_PROTECTION" not in fake.text(LOCAL + "ofcscan.ini")
    assert res["ports"] == {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274}


def test_a_port_served_off_the_faq_default_without_a_record_is_kept_with_a_warning():
    """An earlier move (or a hand edit) left Apache on 8083 for File Reputation HTTP: without OSCE's record the
    collection cannot tell whether clients query 8083, so it keeps the port and says so instead of passing silently."""
    fake = apache()
    fake.put(CONF, fake.text(CONF) + "Listen 8083\r\nListen 4345\r\nListen 5274\r\n")
    fake.on_restart["Apache2"](fake)
    res, _action = run(fake, check_mode=True)
    assert not res.get("failed"), res.get("msg")
    assert res["ports"]["frs_http"] == 8083 and res["changed"] is False
    assert any("served on 8083, not the FAQ's 8082" in w and "calibrate" in w for w in res["warnings"])
    res, _action = run(fake, check_mode=True, task_vars={"osce_profile_overrides": RECORD})
    assert not any("not calibrated" in w for w in res.get("warnings", []))
