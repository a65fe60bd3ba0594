"""plugin_utils/_locations.py: profile entries read through the gateway, one round trip per key or file."""
from __future__ import annotations

import pytest
from fake_windows import LOCAL, SERVER_KEY, osce_server

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils._locations import UNKNOWN, Locator

PLAIN_KEY = "HKLM:\\SOFTWARE\\TrendMicro\\OfficeScan\\service\\Information"


def locator(make_ctx, overrides=None, **placeholders):
    ctx = make_ctx(overrides)
    return Locator(ctx.profile, ctx.gateway, **placeholders)


def test_values_of_one_key_cost_one_round_trip(fake, make_ctx):
    osce_server(fake, build=5712)
    loc = locator(make_ctx)
    assert loc.registry_value("server_version") == "10.6"
    assert loc.registry_value("server_sp_build") == "5712"
    assert loc.registry_value("server_local_path") == LOCAL
    assert fake.count("win_reg_stat") == 1
    assert loc.used_entries() == {"server_local_path": "3p", "server_sp_build": "3p", "server_version": "3p"}


def test_value_names_match_without_case(fake, make_ctx):
    fake.set_reg(SERVER_KEY, "server_version", "10.6")
    assert locator(make_ctx).registry_value("server_version") == "10.6"


def test_the_first_candidate_key_that_exists_wins_and_sets_the_view(fake, make_ctx):
    # a 32-bit server: no Wow6432Node key, so the second candidate answers
    fake.set_reg(PLAIN_KEY, "Server_Version", "10.6")
    loc = locator(make_ctx)
    key, values = loc.registry_key("server_version")
    assert key == PLAIN_KEY and values["Server_Version"] == "10.6"
    assert fake.count("win_reg_stat") == 2
    # a later entry with candidates starts with the view found: the plain key first, one round trip
    fake.set_reg("HKLM:\\SOFTWARE\\TrendMicro\\TVCS", "Version", "6.0")
    assert loc.registry_value("tmcm_version") == "6.0"
    assert fake.count("win_reg_stat") == 3
    assert [args["path"] for _m, args in fake.calls][-1] == "HKLM:\\SOFTWARE\\TrendMicro\\TVCS"


def test_a_missing_key_or_value_reads_none(fake, make_ctx):
    loc = locator(make_ctx)
    assert loc.registry_key("server_version") == (None, None)
    assert loc.registry_value("server_version") is None
    fake.set_reg(SERVER_KEY, "Other", "x")
    assert locator(make_ctx).registry_value("server_version") is None


def test_require_key_names_the_entry_and_the_fix(fake, make_ctx):
    with pytest.raises(OsceError) as err:
        locator(make_ctx).require_key("server_version", "osce01", "server")
    assert err.value.field == "server_version"
    assert "no OfficeScan server registry key on osce01" in err.value.line()
    assert "calibrate the profile entry server_version" in err.value.line()


def test_registry_key_refuses_an_entry_of_another_kind(make_ctx):
    with pytest.raises(OsceError, match="must be registry here"):
        locator(make_ctx, local_path=LOCAL).registry_key("server_ofcscan_ini")


def test_an_entry_whose_placeholder_was_not_read_says_which_to_read_first(make_ctx, fake):
    with pytest.raises(OsceError, match="needs the placeholder {local_path}"):
        locator(make_ctx).file_text("server_ofcscan_ini")
    assert fake.calls == []


def test_forget_key_reads_again(fake, make_ctx):
    osce_server(fake)
    loc = locator(make_ctx)
    assert loc.registry_value("server_sp_build") == "5600"
    fake.set_reg(SERVER_KEY, "ServicePack_Build", "5712")
    assert loc.registry_value("server_sp_build") == "5600"     # cached
    loc.forget_key("server_sp_build")
    assert loc.registry_value("server_sp_build") == "5712"
    assert fake.count("win_reg_stat") == 2


def test_an_ini_file_is_read_once_for_all_its_keys(fake, make_ctx):
    osce_server(fake)
    loc = locator(make_ctx, local_path=LOCAL)
    assert loc.ini_value("server_trusted_port") == "8080"
    assert loc.ini_value("server_conventional_pattern_version") == "11.345.00"
    assert loc.ini_value("server_agent_pattern_version") == "11.345.00"
    assert fake.count("slurp") == 1
    loc.forget_file("server_trusted_port")
    assert loc.ini_value("server_trusted_port") == "8080" and fake.count("slurp") == 2


def test_an_unknown_entry_reads_unknown_without_a_round_trip(make_ctx, fake):
    loc = locator(make_ctx)
    assert loc.ini_value("upgrade_privilege_root") == UNKNOWN
    assert not loc.known("upgrade_privilege_root") and not loc.known("no_such_entry")
    assert loc.confidence("no_such_entry") == UNKNOWN
    assert loc.used_entries() == {"upgrade_privilege_root": UNKNOWN}
    assert fake.calls == []


def test_an_ini_entry_calibrated_as_registry_reads_the_registry(fake, make_ctx):
    key = "HKLM:\\SOFTWARE\\Example\\Privilege"
    fake.set_reg(key, "NoUpgrade", "1")
    loc = locator(make_ctx, {"upgrade_privilege_root": {"kind": "registry", "keys": [key], "value": "NoUpgrade"}})
    assert loc.ini_value("upgrade_privilege_root") == "1"


def test_missing_files_read_none_unless_required(fake, make_ctx):
    from ansible_collections.osce.patching.plugins.plugin_utils._gateway import RemoteCallFailed

    loc = locator(make_ctx, local_path=LOCAL)
    assert loc.file_text("server_hotfix_history") is None
    assert loc.ini("server_ofcscan_ini") is None
    assert loc.ini_value("server_trusted_port") is None
    with pytest.raises(RemoteCallFailed):
        locator(make_ctx, local_path=LOCAL).file_text("server_ofcscan_ini", missing_ok=False)


def test_placeholders_fill_paths(make_ctx):
    loc = locator(make_ctx, local_path="D:\\OSCE\\PCCSRV\\")
    assert loc.path("server_client_program") == "D:\\OSCE\\PCCSRV\\Pccnt\\Common\\Tmlisten.exe"
    with pytest.raises(OsceError, match="names no path"):
        loc.path("server_trusted_port")
