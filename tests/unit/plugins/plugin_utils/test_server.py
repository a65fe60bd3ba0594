"""plugin_utils/_server.py: the OSCE server's evidence read from profile entries (fixtures: fake_windows)."""
from __future__ import annotations

import types
from pathlib import Path

import pytest
from fake_windows import LOCAL, SERVER_KEY, osce_server

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils import _server as reader
from ansible_collections.osce.patching.plugins.plugin_utils._locations import UNKNOWN, Locator

HISTORY = (Path(__file__).resolve().parents[2] / "fixtures" / "hotfix_history.ini").read_text(encoding="utf-8")


def test_privilege_state_compares_the_stored_text_with_the_entry_values():
    assert reader.privilege_state("1") == "on" and reader.privilege_state(" 0 ") == "off"
    assert reader.privilege_state("Yes", "yes", "no") == "on" and reader.privilege_state("NO", "yes", "no") == "off"
    assert reader.privilege_state(None) == UNKNOWN and reader.privilege_state("2") == UNKNOWN
    assert reader.privilege_state(1) == "on"
    assert reader.privilege_state("off", " on ", " Off ") == "off"   # the entry's values are trimmed too


def test_client_build_from_catalog_names_its_step_or_says_unknown():
    step = types.SimpleNamespace(id="cp5712r1", resulting_level="cp5712r1", client_build=5712)
    catalog = types.SimpleNamespace(steps=[types.SimpleNamespace(id="sp3", resulting_level="sp3", client_build=None), step])
    assert reader.client_build_from_catalog(catalog, "cp5712r1") == {"build": 5712, "source": "catalog step cp5712r1"}
    assert reader.client_build_from_catalog(catalog, "sp3")["build"] is None
    assert "unknown" in reader.client_build_from_catalog(catalog, "gm")["source"]


def test_basics_read_version_build_and_path_in_one_round_trip(fake, make_ctx):
    osce_server(fake, build=5712)
    srv = reader.ServerReader(make_ctx())
    assert srv.basics() == {"version": "10.6", "sp_build": 5712, "install_path": LOCAL, "registry_key": SERVER_KEY}
    assert fake.count("win_reg_stat") == 1
    assert srv.locator.placeholders["local_path"] == LOCAL


def test_basics_fail_without_the_server_key_or_its_local_path(fake, make_ctx):
    with pytest.raises(OsceError, match="no OfficeScan server registry key on osce01"):
        reader.ServerReader(make_ctx()).basics()
    fake.set_reg(SERVER_KEY, "Server_Version", "10.6")
    with pytest.raises(OsceError, match="Local_Path is missing on osce01") as err:
        reader.ServerReader(make_ctx()).basics()
    assert err.value.field == "server_local_path"


def test_ofcscan_reads_patterns_port_and_reports_unknown_locations(fake, make_ctx):
    osce_server(fake, agent_ptn="11.400.00")
    srv = reader.ServerReader(make_ctx())
    srv.basics()
    out = srv.ofcscan()
    assert out["patterns"] == {"conventional": "11.345.00", "agent": "11.400.00"}
    assert out["trusted_port"] == 8080
    # the shipped profile knows neither the privilege nor the iSPS port record
    assert out["privilege"] == {"state": UNKNOWN, "value": None, "confidence": UNKNOWN, "location": UNKNOWN}
    assert out["isps_ports"] == UNKNOWN
    assert fake.count("slurp") == 1


def test_ofcscan_without_the_file_fails(fake, make_ctx):
    from ansible_collections.osce.patching.plugins.plugin_utils._gateway import RemoteCallFailed

    fake.set_reg(SERVER_KEY, "Server_Version", "10.6")
    fake.set_reg(SERVER_KEY, "Local_Path", LOCAL)
    srv = reader.ServerReader(make_ctx())
    srv.basics()
    with pytest.raises(RemoteCallFailed):
        srv.ofcscan()


@pytest.mark.parametrize("stored, state", [("0", "off"), ("1", "on"), ("7", UNKNOWN)])
def test_a_calibrated_privilege_reads_on_or_off(fake, make_ctx, lab_profile, stored, state):
    osce_server(fake)
    fake.put(LOCAL + "ofcscan.ini", f"[Global Setting]\r\nNoProgramUpgrade={stored}\r\n")
    srv = reader.ServerReader(make_ctx(lab_profile))
    srv.basics()
    out = srv.privilege("root")
    assert out["state"] == state and out["value"] == stored
    assert out["on_value"] == "1" and out["off_value"] == "0"
    assert "NoProgramUpgrade" in out["location"]


ISPS_INI = {name: {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "iSPS", "key": key}
            for name, key in (("isps_port_frs_http", "FrsHttp"), ("isps_port_frs_https", "FrsHttps"),
                              ("isps_port_wrs_http", "WrsHttp"))}


def test_the_isps_record_when_calibrated_and_none_for_unreadable_ports(fake, make_ctx):
    osce_server(fake)
    fake.put(LOCAL + "ofcscan.ini", "[iSPS]\r\nFrsHttp=8082\r\nFrsHttps=4345\r\nWrsHttp=x\r\n")
    srv = reader.ServerReader(make_ctx(ISPS_INI))
    srv.basics()
    assert srv.isps_record() == {"frs_http": 8082, "frs_https": 4345, "wrs_http": None}
    # one calibrated entry of three is not a record
    partial = reader.ServerReader(make_ctx({"isps_port_frs_http": ISPS_INI["isps_port_frs_http"]}))
    assert partial.isps_record() == UNKNOWN


def test_write_isps_port_edits_the_ini_line_under_its_section(fake, make_ctx):
    osce_server(fake)
    fake.put(LOCAL + "ofcscan.ini", "[iSPS]\r\nFrsHttp=8082\r\n[Other]\r\nX=1\r\n")
    srv = reader.ServerReader(make_ctx(ISPS_INI))
    srv.basics()
    srv.write_isps_port("frs_https", 4345)
    # a new key goes right under its section header, never into another section
    assert fake.text(LOCAL + "ofcscan.ini").splitlines() == ["[iSPS]", "FrsHttps=4345", "FrsHttp=8082", "[Other]", "X=1"]
    srv.write_isps_port("frs_http", 8088)               # an existing key is replaced in place
    assert fake.text(LOCAL + "ofcscan.ini").splitlines()[2] == "FrsHttp=8088"
    srv.forget_isps_record()
    assert srv.isps_record()["frs_https"] == 4345


def test_patch_history_parsed_or_empty(fake, make_ctx):
    osce_server(fake, history=HISTORY)
    srv = reader.ServerReader(make_ctx())
    srv.basics()
    history = srv.patch_history()
    assert [h["build"] for h in history] == [4500, 5712]
    assert "Critical Patch 5712" in str(history[1])
    fake.files.pop((LOCAL + "Admin\\hotfix_history.ini").lower())
    empty = reader.ServerReader(make_ctx())
    empty.basics()
    assert empty.patch_history() == []


def test_web_server_apache_iis_and_none(fake, make_ctx):
    osce_server(fake, web="apache")
    assert reader.ServerReader(make_ctx()).web_server()["kind"] == "apache"
    fake.services.clear()
    none = reader.ServerReader(make_ctx()).web_server()
    assert none["kind"] == UNKNOWN and none["warnings"]
    fake.services["W3SVC"] = {"display_name": "World Wide Web Publishing Service", "state": "running"}
    iis = reader.ServerReader(make_ctx()).web_server()
    assert iis["kind"] == "iis-virtual" and iis["assumed"] and iis["site"] == "OfficeScan"
    assert "iis_site" in iis["warnings"][0]


@pytest.mark.parametrize("frs_http, kind", [(80, "iis-default"), (8082, "iis-virtual")])
def test_web_server_iis_kind_from_the_port_record(fake, make_ctx, frs_http, kind):
    osce_server(fake, web="iis")
    fake.put(LOCAL + "ofcscan.ini", f"[iSPS]\r\nFrsHttp={frs_http}\r\nFrsHttps=4345\r\nWrsHttp=5274\r\n")
    srv = reader.ServerReader(make_ctx(ISPS_INI))
    srv.basics()
    out = srv.web_server()
    assert out["kind"] == kind and "assumed" not in out


def test_client_program_build_from_the_file_version(fake, make_ctx):
    osce_server(fake, build=5712)
    srv = reader.ServerReader(make_ctx())
    srv.basics()
    out = srv.client_program()
    assert out["build"] == 5712 and out["file_version"] == "10.6.0.5712"
    assert out["path"] == LOCAL + "Pccnt\\Common\\Tmlisten.exe"


CBS = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
SESSION = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
WINDOWS = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Windows"


def test_reboot_signals_by_key_and_by_non_empty_value(fake, make_ctx):
    ctx = make_ctx()
    fake.set_reg(SESSION, "PendingFileRenameOperations", ["", " "], "REG_MULTI_SZ")
    fake.set_reg(WINDOWS, "ShutdownTime", [1, 2, 3], "REG_BINARY")
    loc = Locator(ctx.profile, ctx.gateway)
    quiet = reader.reboot_signals(loc)
    assert quiet == {"signals": [], "shutdown_time": "1,2,3"}
    assert fake.count("win_reg_stat") == 4
    fake.set_reg(CBS, "(default)", "")
    fake.set_reg(SESSION, "PendingFileRenameOperations", ["\\??\\C:\\x", ""], "REG_MULTI_SZ")
    assert reader.reboot_signals(loc) == quiet                      # cached reads
    assert fake.count("win_reg_stat") == 4
    names = [s["entry"] for s in reader.reboot_signals(loc, fresh=True)["signals"]]
    assert names == ["reboot_pending_cbs", "reboot_pending_file_rename"]


def test_shutdown_mark_and_listen_ports():
    assert reader.shutdown_mark(None) is None and reader.shutdown_mark([]) is None
    assert reader.shutdown_mark([0, 255]) == "0,255" and reader.shutdown_mark("abc") == "abc"
    conf = "ServerRoot x\nListen 8080\n  listen 10.0.0.1:4343 https\n#Listen 81\nListen [::]:8443\n"
    assert reader.parse_listen_ports(conf) == [8080, 4343, 8443]
    assert reader.parse_listen_ports(None) == []
