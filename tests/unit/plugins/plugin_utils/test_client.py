"""plugin_utils/_client.py: one client's program build and pattern files (fixtures: fake_windows)."""
from __future__ import annotations

import types

import pytest
from fake_windows import APP

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils import _client as reader

MISC_X64 = "HKLM:\\SOFTWARE\\Wow6432Node\\TrendMicro\\PC-cillinNTCorp\\CurrentVersion\\Misc."
MISC_X86 = "HKLM:\\SOFTWARE\\TrendMicro\\PC-cillinNTCorp\\CurrentVersion\\Misc."
APP_X86 = "C:\\Program Files\\Trend Micro\\OfficeScan Client\\"


def test_server_expectations_from_build_facts():
    facts = {"client_program": {"build": 5712}, "patterns": {"agent": "11.400.00"}, "cp_installed": True,
             "level": "cp5712r1"}
    assert reader.server_expectations(facts) == {"client_build": 5712, "agent_pattern": "11.400.00",
                                                 "cp_installed": True, "level": "cp5712r1"}
    unknown = reader.server_expectations({"patterns": {"agent": "unknown"}, "client_program": "?"})
    assert unknown == {"client_build": None, "agent_pattern": None, "cp_installed": None, "level": None}


def test_program_on_a_64_bit_client_in_one_round_trip(fake, make_ctx):
    fake.set_reg(MISC_X64, "ProgramVer", "10.6.0.5712")
    fake.set_reg(MISC_X64, "PatternVer", "11.400.00")
    out = reader.ClientReader(make_ctx(host="pc1")).program()
    assert out == {"program_version": "10.6.0.5712", "program_build": 5712, "agent_pattern": "11.400.00",
                   "arch": "x64", "registry_key": MISC_X64, "update_source": None}
    assert fake.count("win_reg_stat") == 1


def test_a_32_bit_client_named_so_costs_one_read_not_two(fake, make_ctx):
    fake.set_reg(MISC_X86, "ProgramVer", "10.6.0.5712")
    ctx = make_ctx(host="pc1")
    ctx.task_vars = {"osce_client_arch": "x86"}
    out = reader.ClientReader(ctx).program()
    assert out["arch"] == "x86" and out["program_build"] == 5712
    assert fake.count("win_reg_stat") == 1          # the Wow6432Node key it lacks is not asked for


def test_a_wrong_arch_hint_costs_a_read_never_a_wrong_answer(fake, make_ctx):
    fake.set_reg(MISC_X64, "ProgramVer", "10.6.0.5712")
    ctx = make_ctx(host="pc1")
    ctx.task_vars = {"osce_client_state": {"arch": "x86"}}
    out = reader.ClientReader(ctx).program()
    assert out["arch"] == "x64" and out["program_build"] == 5712 and fake.count("win_reg_stat") == 2


def test_program_on_a_32_bit_client_and_an_unreadable_version(fake, make_ctx):
    fake.set_reg(MISC_X86, "PatternVer", "11.400.00")
    out = reader.ClientReader(make_ctx(host="pc1")).program()
    assert out["arch"] == "x86" and out["program_version"] is None and out["program_build"] is None
    assert fake.count("win_reg_stat") == 2


def test_program_without_a_client_key_fails_with_the_fix(make_ctx):
    with pytest.raises(OsceError, match="no OfficeScan client registry key on pc1"):
        reader.ClientReader(make_ctx(host="pc1")).program()


def test_forget_reads_the_program_again(fake, make_ctx):
    fake.set_reg(MISC_X64, "ProgramVer", "10.6.0.5600")
    client = reader.ClientReader(make_ctx(host="pc1"))
    assert client.program()["program_build"] == 5600
    fake.set_reg(MISC_X64, "ProgramVer", "10.6.0.5712")
    assert client.program()["program_build"] == 5600
    client.forget()
    assert client.program()["program_build"] == 5712


def test_smart_scan_client_pattern_files_in_one_find(fake, make_ctx):
    for name in ("CRCz.ptn", "icrc$oth.345", "icrc$oth.1400", "lpt$vpn.900", "other.txt"):
        fake.put(APP + name, "x")
    fake.put(APP + "Temp\\BF.ptn", "x")                  # another folder: not the client's BF.ptn
    out = reader.ClientReader(make_ctx(host="pc1")).pattern_files("x64", APP)
    assert out["scan_method"] == "smart" and out["crcz_ptn"] and not out["bf_ptn"]
    assert out["agent_pattern_from_file"] == "1400"             # the highest extension, as a number
    assert out["agent_pattern_files"] == [APP + "icrc$oth.1400", APP + "icrc$oth.345"]
    assert out["conventional_pattern_files"] == [APP + "lpt$vpn.900"]
    assert out["folders"] == [APP.rstrip("\\")]
    assert fake.count("win_find") == 1


def test_conventional_and_unknown_scan_methods(fake, make_ctx):
    fake.put(APP + "lpt$vpn.900", "x")
    fake.put(APP + "BF.ptn", "x")
    out = reader.ClientReader(make_ctx(host="pc1")).pattern_files("x64", APP)
    assert out["scan_method"] == "conventional" and out["bf_ptn"] and out["agent_pattern_from_file"] is None
    fake.files.clear()
    assert reader.ClientReader(make_ctx(host="pc1")).pattern_files("x64", APP)["scan_method"] is None


def test_without_an_app_path_both_default_folders_are_searched_own_arch_first(fake, make_ctx):
    fake.put(APP_X86 + "icrc$oth.345", "x")
    out = reader.ClientReader(make_ctx(host="pc1")).pattern_files("x86", None)
    assert out["folders"] == [APP_X86.rstrip("\\"), APP.rstrip("\\")]
    assert out["scan_method"] == "smart"
    assert fake.count("win_find") == 1
    assert reader.ClientReader(make_ctx(host="pc1")).pattern_files("x64", None)["folders"][0] == APP.rstrip("\\")


@pytest.mark.parametrize("stored, method", [(1, "smart"), (0, "conventional"), (None, None)])
def test_scan_type_from_the_registry(fake, make_ctx, stored, method):
    key = "HKLM:\\SOFTWARE\\Wow6432Node\\TrendMicro\\PC-cillinNTCorp\\CurrentVersion\\iCRC Scan"
    if stored is not None:
        fake.set_reg(key, "ScanType", stored, "REG_DWORD")
    assert reader.ClientReader(make_ctx(host="pc1")).scan_type() == method


class DiskGateway:
    def __init__(self, disks):
        self.disks = disks

    def call(self, module, args):
        assert module == "win_disk_facts"
        return {"ansible_facts": {"ansible_disks": self.disks}}


def disk(system, *parts):
    return {"system_disk": system, "partitions": [
        {"drive_letter": letter, "volumes": [{"size_remaining": free}] if free is not None else []}
        for letter, free in parts]}


def ctx(disks):
    return types.SimpleNamespace(gateway=DiskGateway(disks), host="pc1")


def test_free_space_of_the_system_drive():
    out = reader.client_free_space(ctx([disk(False, ("C", 10)), disk(True, ("D:\\", 500))]), 100)
    assert out == {"drive": "D", "free_bytes": 500, "required_bytes": 100, "ok": True}


def test_free_space_defaults_to_c_and_says_what_is_short():
    short = reader.client_free_space(ctx([disk(False, ("c:", 50))]), 100)
    assert short["drive"] == "C" and not short["ok"]
    assert short["problem"].startswith("min_free_bytes: drive C: on pc1 has 50 bytes free, less than required (got 100)")
    missing = reader.client_free_space(ctx([disk(False, ("E", 500))]), 100)
    assert missing["free_bytes"] is None and not missing["ok"] and "drive C: not found on pc1" in missing["problem"]
