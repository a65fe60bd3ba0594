from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ansible_collections.osce.patching.plugins.module_utils.ini import (
    parse_hotfix_history, parse_ini, set_value,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TEXT = "; comment\r\nTop=1\r\n[INI_SERVER_SECTION]\r\nMaster_DomainPort = 8080\r\nFoo=1\r\n\r\n[Other]\r\nx=1\r\n"


def test_parse_case_insensitive_and_ordered():
    doc = parse_ini(TEXT)
    assert doc.section_names() == ("", "INI_SERVER_SECTION", "Other")
    assert doc.get("ini_server_section", "MASTER_DOMAINPORT") == "8080"
    assert doc.get("", "top") == "1" and doc.get("Other", "missing", "d") == "d"
    assert [k for k, _value in doc.items("INI_SERVER_SECTION")] == ["Master_DomainPort", "Foo"]
    assert doc.has_section("other") and not doc.has_section("nope")


def test_repeated_section_joins_first_and_bom_ignored():
    doc = parse_ini("\ufeff[A]\nx=1\n[B]\ny=2\n[a]\nz=3\n")
    assert doc.section_names() == ("A", "B") and doc.get("A", "z") == "3"


def test_set_existing_key_changes_only_that_line():
    new = set_value(TEXT, "ini_server_section", "master_domainport", 8081)
    assert new == TEXT.replace("Master_DomainPort = 8080", "Master_DomainPort = 8081")


def test_set_same_value_returns_text_unchanged():
    assert set_value(TEXT, "INI_SERVER_SECTION", "Master_DomainPort", "8080") is TEXT


def test_set_new_key_goes_after_last_key_of_section():
    new = set_value(TEXT, "INI_SERVER_SECTION", "Bar", "2")
    assert new == TEXT.replace("Foo=1\r\n", "Foo=1\r\nBar=2\r\n")


def test_set_new_section_appended_keeps_lf():
    new = set_value("[A]\nx=1\n", "B", "y", "2")
    assert new == "[A]\nx=1\n\n[B]\ny=2\n"
    assert set_value("", "S", "k", "v") == "[S]\nk=v\n"


def test_set_global_key():
    assert set_value("a=1\n[S]\nb=2\n", "", "a", "3") == "a=3\n[S]\nb=2\n"
    assert parse_ini(set_value("[S]\nb=2\n", "", "a", "3")).get("", "a") == "3"


def test_hotfix_history_fixture():
    entries = parse_hotfix_history((FIXTURES / "hotfix_history.ini").read_text())
    assert [e.name for e in entries] == ["OSCE 10.6 Service Pack 3", "OSCE 10.6 SP3 Critical Patch 5712"]
    assert entries[1].build == 5712 and entries[1].installed_on == datetime(2014, 11, 20, 14, 30)
    assert entries[0].as_dict()["installed_on"] == "2014-03-01 09:00:00"


def test_hotfix_history_missing_or_bad_values():
    entries = parse_hotfix_history("[X]\nBuild=abc\n[Y]\ninstalldate=2015-02-01\nbuild=5712\n")
    assert entries[0].build is None and entries[0].installed_on is None
    assert entries[1].build == 5712 and entries[1].installed_on == datetime(2015, 2, 1)


def test_history_feeds_detection():
    from ansible_collections.osce.patching.plugins.module_utils.levels import detect_level
    entries = parse_hotfix_history((FIXTURES / "hotfix_history.ini").read_text())
    assert detect_level({"server_version": "10.6", "sp_build": 5712, "patch_history": entries}, {}).level == "cp5712"
