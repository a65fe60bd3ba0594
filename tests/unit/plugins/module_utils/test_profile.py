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
            "isps_file_reputation_folder", "isps_web_reputation_folder", "isps_port_frs_http", "isps_port_frs_https", "isps_port_wrs_http",
            "apache_conf", "iis_site",
            "server_services", "tmcm_version", "server_patch_log", "upgrade_privilege_root",
            "upgrade_privilege_domain", "upgrade_privilege_client", "privilege_marker", "client_app_path",
            "client_server", "client_program_version", "client_pattern_version", "client_scan_type",
            "client_location_profile", "client_hotfix_installed", "client_default_folder_x64",
            "client_bf_ptn", "client_crcz_ptn", "client_agent_pattern_file", "client_conventional_pattern_file"]


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
    for name in ("isps_port_frs_http", "isps_port_frs_https", "isps_port_wrs_http", "upgrade_privilege_root",
                 "upgrade_privilege_domain", "upgrade_privilege_client"):
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
        "isps_port_frs_http": {"kind": "ini", "file": r"{local_path}ofcscan.ini", "section": "INI_SPS", "key": "Port"},
        "upgrade_privilege_root": {"kind": "registry", "keys": [r"HKLM:\SOFTWARE\x"], "value": "v",
                                   "confidence": "3p", "source": "KB 1234"},
        "server_services": {"description": "edited"},
    })
    assert p["client_crcz_ptn"].path == r"{app_path}Pattern\CRCz.ptn" and p["client_crcz_ptn"].confidence == "calibrated"
    assert p["client_crcz_ptn"].source == "osce_profile_overrides"
    assert p["isps_port_frs_http"].kind == "ini" and p["isps_port_frs_http"].confidence == "calibrated"
    assert p["isps_port_frs_http"].known and not p["isps_port_wrs_http"].known
    assert p["upgrade_privilege_root"].confidence == "3p" and p["upgrade_privilege_root"].source == "KB 1234"
    assert p["server_services"].confidence == "doc" and p["server_services"].description == "edited"
    # the shipped document is not mutated
    assert profile_doc["entries"]["isps_port_frs_http"]["kind"] == "unknown"


def test_kind_change_drops_old_location(profile_doc, schemas):
    p = load_profile(profile_doc, schemas["profile"], {
        "server_agent_pattern_version": {"kind": "registry", "keys": ["HKLM:\\X"], "value": "Ptn"}})
    e = p["server_agent_pattern_version"]
    assert e.kind == "registry" and e.file is None and e.section is None


@pytest.mark.parametrize("overrides,field", [
    ({"nope": {"path": "x"}}, "osce_profile_overrides.nope"),
    ({"client_bf_ptn": "x"}, "osce_profile_overrides.client_bf_ptn"),
    ({"client_bf_ptn": {"kind": "wmi"}}, "osce_profile_overrides.client_bf_ptn.kind"),
    ({"isps_port_frs_http": {"path": "x"}}, "osce_profile_overrides.isps_port_frs_http.kind"),
    ({"isps_ports": {"path": "x"}}, "osce_profile_overrides.isps_ports"),
    ({"isps_ports": {"kind": "ini", "file": "x", "section": "s", "key": "Port"}}, "osce_profile_overrides.isps_ports"),
    ({"upgrade_privilege_root": {"on_value": [1]}}, "osce_profile_overrides.upgrade_privilege_root.on_value"),
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
    assert "isps_port_frs_http" in _data.load_profile()
    assert _data.schema("installers")["title"] == "osce_installers"
    assert _data.COLLECTION_ROOT.joinpath("data", "catalog.yml").is_file()


#: the lab inventory's override (tests/lab/make_fleet.py), written before the per-role entries
LAB_ISPS = {"isps_ports": {"kind": "ini", "confidence": "calibrated", "file": "{local_path}ofcscan.ini",
                           "section": "INI_SMART_PROTECTION", "key": "FRS_HTTP_Port",
                           "source": "osce.patching lab (GUESS, not OSCE)",
                           "description": "lab: keys FRS_HTTP_Port, FRS_HTTPS_Port, WRS_HTTP_Port"}}


def test_former_isps_ports_override_becomes_one_entry_per_role(profile_doc, schemas):
    p = load_profile(profile_doc, schemas["profile"], LAB_ISPS)
    assert "isps_ports" not in p
    keys = {n: (p[n].kind, p[n].section, p[n].key, p[n].confidence)
            for n in ("isps_port_frs_http", "isps_port_frs_https", "isps_port_wrs_http")}
    assert keys == {"isps_port_frs_http": ("ini", "INI_SMART_PROTECTION", "FRS_HTTP_Port", "calibrated"),
                    "isps_port_frs_https": ("ini", "INI_SMART_PROTECTION", "FRS_HTTPS_Port", "calibrated"),
                    "isps_port_wrs_http": ("ini", "INI_SMART_PROTECTION", "WRS_HTTP_Port", "calibrated")}
    # lower-case spelling follows too, and a per-role override given alongside wins
    p = load_profile(profile_doc, schemas["profile"], {
        "isps_ports": {"kind": "ini", "file": "f.ini", "section": "s", "key": "frs_http_port"},
        "isps_port_wrs_http": {"kind": "registry", "keys": ["HKLM:\\X"], "value": "Wrs"}})
    assert p["isps_port_frs_https"].key == "frs_https_port"
    assert p["isps_port_wrs_http"].kind == "registry" and p["isps_port_wrs_http"].value == "Wrs"


def test_privilege_switch_values(profile_doc, schemas, profile):
    for scope in ("root", "domain", "client"):
        entry = profile[f"upgrade_privilege_{scope}"]
        assert (entry.on_value, entry.off_value) == ("1", "0") and entry.switch_values == ("1", "0")
        assert "UNVERIFIED" in (entry.notes or "")
    p = load_profile(profile_doc, schemas["profile"], {
        "upgrade_privilege_root": {"kind": "registry", "keys": ["HKLM:\\X"], "value": "NoUpgrade", "on_value": 1,
                                   "off_value": 0},
        "upgrade_privilege_client": {"kind": "ini", "file": "f", "section": "s", "key": "k"}})
    assert p["upgrade_privilege_root"].switch_values == ("1", "0") and p["upgrade_privilege_root"].on_value == 1
    # changing kind keeps the shipped on/off values (they are not location fields)
    assert p["upgrade_privilege_client"].switch_values == ("1", "0")
    # an entry without them reads 1 / 0
    assert p["server_version"].switch_values == ("1", "0")
