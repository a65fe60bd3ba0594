from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.profile import (
    CONFIDENCES, KINDS, expand, load_profile,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

REQUIRED = ["server_local_path", "server_version", "server_sp_build", "server_hotfix_history",
            "server_ofcscan_ini", "server_client_program", "server_trusted_port", "server_agent_pattern_version",
            "isps_file_reputation_folder", "isps_web_reputation_folder", "isps_ports", "apache_conf", "iis_site",
            "server_services", "tmcm_version", "server_patch_log", "upgrade_privilege_root",
            "upgrade_privilege_domain", "upgrade_privilege_client", "privilege_marker", "client_app_path",
            "client_server", "client_program_version", "client_internal_pattern_version", "client_scan_type",
            "client_location_profile", "client_hotfix_installed", "client_default_folder_x64",
            "client_bf_ptn", "client_crcz_ptn", "client_agent_pattern_file"]


@pytest.fixture()
def profile(profile_doc, schemas):
    return load_profile(profile_doc, schemas["profile"])


def test_shipped_profile_validates_and_has_every_location(profile):
    for name in REQUIRED:
        assert name in profile
    assert {e.kind for e in profile.entries.values()} <= set(KINDS)
    assert {e.confidence for e in profile.entries.values()} <= set(CONFIDENCES)


def test_server_and_client_keys_have_x64_then_x86(profile):
    keys = profile["server_sp_build"].keys
    assert keys[0] == r"HKLM:\SOFTWARE\Wow6432Node\TrendMicro\OfficeScan\service\Information"
    assert keys[1] == r"HKLM:\SOFTWARE\TrendMicro\OfficeScan\service\Information"
    assert profile["server_sp_build"].value == "ServicePack_Build"
    assert profile["client_program_version"].keys[0].endswith(r"PC-cillinNTCorp\CurrentVersion\Misc.")
    assert profile["client_scan_type"].value == "ScanType"


def test_unknown_entries_have_no_location(profile):
    for name in ("isps_ports", "upgrade_privilege_root", "upgrade_privilege_domain", "upgrade_privilege_client"):
        entry = profile[name]
        assert entry.kind == "unknown" and entry.confidence == "unknown" and not entry.known
        assert entry.location() == "unknown" and not entry.keys and entry.path is None and entry.file is None


def test_confidence_tags(profile):
    assert profile["privilege_marker"].confidence == "ours"
    assert profile["privilege_marker"].keys == (r"HKLM:\SOFTWARE\osce.patching\PrivilegeMarker",)
    assert profile["apache_conf"].confidence == "inf" and not profile["apache_conf"].verified
    assert profile["iis_site"].site == "OfficeScan"
    assert profile["server_version"].verified


def test_expand_placeholders(profile):
    e = expand(profile["server_hotfix_history"], local_path=r"C:\Program Files\Trend Micro\OfficeScan\PCCSRV")
    assert e.path == r"C:\Program Files\Trend Micro\OfficeScan\PCCSRV\Admin\hotfix_history.ini"
    e = expand(profile["server_trusted_port"], local_path="D:\\OSCE\\PCCSRV\\")
    assert e.file == r"D:\OSCE\PCCSRV\ofcscan.ini"
    e = expand(profile["client_hotfix_installed"], product_version="10.6")
    assert e.keys[0].endswith(r"HotfixHistory\10.6")
    assert expand(profile["server_version"]).keys == profile["server_version"].keys
    with pytest.raises(OsceError, match=r"^profile.client_crcz_ptn: needs the placeholder \{app_path\}"):
        expand(profile["client_crcz_ptn"], local_path="C:\\")


def test_override_calibrates(profile_doc, schemas):
    p = load_profile(profile_doc, schemas["profile"], {
        "client_crcz_ptn": {"path": r"{app_path}Pattern\CRCz.ptn"},
        "isps_ports": {"kind": "ini", "file": r"{local_path}ofcscan.ini", "section": "INI_SPS", "key": "Port"},
        "upgrade_privilege_root": {"kind": "registry", "keys": [r"HKLM:\SOFTWARE\x"], "value": "v",
                                   "confidence": "3p", "source": "KB 1234"},
        "server_services": {"description": "edited"},
    })
    assert p["client_crcz_ptn"].path == r"{app_path}Pattern\CRCz.ptn" and p["client_crcz_ptn"].confidence == "calibrated"
    assert p["client_crcz_ptn"].source == "osce_profile_overrides"
    assert p["isps_ports"].kind == "ini" and p["isps_ports"].confidence == "calibrated" and p["isps_ports"].known
    assert p["upgrade_privilege_root"].confidence == "3p" and p["upgrade_privilege_root"].source == "KB 1234"
    assert p["server_services"].confidence == "doc" and p["server_services"].description == "edited"
    # the shipped document is not mutated
    assert profile_doc["entries"]["isps_ports"]["kind"] == "unknown"


def test_kind_change_drops_old_location(profile_doc, schemas):
    p = load_profile(profile_doc, schemas["profile"], {
        "server_agent_pattern_version": {"kind": "registry", "keys": ["HKLM:\\X"], "value": "Ptn"}})
    e = p["server_agent_pattern_version"]
    assert e.kind == "registry" and e.file is None and e.section is None


@pytest.mark.parametrize("overrides,field", [
    ({"nope": {"path": "x"}}, "osce_profile_overrides.nope"),
    ({"client_bf_ptn": "x"}, "osce_profile_overrides.client_bf_ptn"),
    ({"client_bf_ptn": {"kind": "wmi"}}, "osce_profile_overrides.client_bf_ptn.kind"),
    ({"isps_ports": {"path": "x"}}, "osce_profile_overrides.isps_ports.kind"),
    ({"server_version": {"keys": "HKLM:\\x"}}, "osce_profile_overrides.server_version.keys"),
    ({"server_version": {"kind": "ini", "file": "x", "key": "k"}}, "osce_profile_overrides.server_version.section"),
    ({"client_bf_ptn": {"confidence": "sure"}}, "osce_profile_overrides.client_bf_ptn.confidence"),
    ("text", "osce_profile_overrides"),
])
def test_bad_overrides_one_line_naming_the_field(profile_doc, schemas, overrides, field):
    with pytest.raises(OsceError) as info:
        load_profile(profile_doc, schemas["profile"], overrides)
    first = str(info.value).splitlines()[0]
    assert first.startswith(field + ":"), str(info.value)
    assert "Fix:" in first


@pytest.mark.parametrize("path", sorted((FIXTURES / "profile_bad").glob("*.yml")), ids=lambda p: p.stem)
def test_malformed_profiles_rejected(path, schemas):
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ").strip()
    with pytest.raises(OsceError) as info:
        load_profile(yaml.safe_load(path.read_text()), schemas["profile"])
    lines = str(info.value).splitlines()
    assert any(line.startswith(expected + ":") or line.startswith(expected + ".") for line in lines), lines
    assert all("Fix:" in line and "Failed validating" not in line for line in lines)


def test_data_loader_loads_the_shipped_files():
    from ansible_collections.osce.patching.plugins.plugin_utils import _data
    assert _data.load_catalog().step_ids[-1] == "cp5712r1"
    assert "isps_ports" in _data.load_profile()
    assert _data.schema("installers")["title"] == "osce_installers"
    assert _data.COLLECTION_ROOT.joinpath("data", "catalog.yml").is_file()
