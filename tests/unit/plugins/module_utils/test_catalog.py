from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.osce.patching.plugins.module_utils.catalog import (
    DEFAULT_SUCCESS_CODES, STEP_IDS, load_catalog, merge_build_map, merge_installers,
)
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError, OsceValidationError

import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


SHA = "a" * 64


def test_shipped_catalog_validates(catalog):
    assert catalog.step_ids == STEP_IDS
    assert [s.order for s in catalog.steps] == [1, 2, 3, 4, 5]
    assert catalog.step("sp3_patch2").optional and not catalog.step("cp5712r1").optional
    assert catalog.levels["sp3"] == () and catalog.levels["cp5495"] == (5495,)
    assert catalog.levels["cp5712"] == catalog.levels["cp5712r1"] == (5712,)


def test_cp5712r1_sizes_and_builds(catalog):
    cp = catalog.step("cp5712r1")
    assert cp.client_package_bytes == {"x86": 39007028, "x64": 46347060}
    assert 37.2 * 2**20 <= cp.package_bytes("x86") < 37.2 * 2**20 + 1
    assert cp.crcz_ptn_bytes == 20 * 2**20
    assert cp.server_build == 5712 and cp.client_build is None
    assert catalog.step("sp3").server_build is None and catalog.step("sp3").package_bytes("x86") is None
    assert all(s.clients_receive for s in catalog.steps)


def test_server_build_after_uses_build_map(catalog):
    assert catalog.server_build_after("cp5495") == 5495
    assert catalog.server_build_after("sp3_patch1_1") is None
    merged = merge_build_map(catalog, {"sp3_patch1_1": 4600})
    assert merged.server_build_after("sp3_patch1_1") == 4600


@pytest.mark.parametrize("path", sorted((FIXTURES / "catalog_bad").glob("*.yml")), ids=lambda p: p.stem)
def test_malformed_catalogs_rejected_with_one_line_naming_the_field(path: Path, schemas):
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ").strip()
    with pytest.raises(OsceError) as info:
        load_catalog(load_yaml(path), schemas["catalog"])
    lines = str(info.value).splitlines()
    assert any(line.startswith(expected + ":") for line in lines), lines
    assert all(" (got " in line or ": is required" in line for line in lines)
    assert all("Fix: " in line for line in lines)


def test_merge_installers_defaults_and_overrides(catalog, schemas):
    merged = merge_installers(catalog, {
        "cp5712r1": {"path": r"C:\p\cp.exe", "sha256": SHA.upper(), "log_path": r"C:\p\cp.log"},
        "sp3": {"path": "s.exe", "sha256": SHA, "method": "command", "arguments": "/s",
                "success_codes": [0], "client_build": 4001,
                "client_package_bytes": {"x86": 100, "x64": 200}},
    }, schemas["installers"])
    cp = merged.step("cp5712r1")
    assert cp.installer.success_codes == DEFAULT_SUCCESS_CODES == (0, 3010, 1641)
    assert cp.installer.method == "package" and cp.installer.sha256 == SHA and cp.installer.arguments == ""
    sp3 = merged.step("sp3")
    assert sp3.installer.method == "command" and sp3.installer.success_codes == (0,)
    assert sp3.client_build == 4001 and sp3.client_package_bytes == {"x86": 100, "x64": 200}
    assert merged.step("cp5495").installer is None
    assert catalog.step("sp3").installer is None  # original untouched
    assert merge_installers(catalog, None, schemas["installers"]).step("sp3").installer is None


@pytest.mark.parametrize("installers,field", [
    ({"cp9999": {"path": "x", "sha256": SHA}}, "osce_installers.cp9999"),
    ({"cp5712r1": {"path": "x", "sha256": "abc"}}, "osce_installers.cp5712r1.sha256"),
    ({"cp5712r1": {"path": "x", "sha256": "g" * 64}}, "osce_installers.cp5712r1.sha256"),
    ({"cp5712r1": {"path": "x"}}, "osce_installers.cp5712r1.sha256"),
    ({"cp5712r1": {"path": 3, "sha256": SHA}}, "osce_installers.cp5712r1.path"),
    ({"cp5712r1": {"path": "x", "sha256": SHA, "success_codes": "0"}}, "osce_installers.cp5712r1.success_codes"),
    ({"cp5712r1": {"path": "x", "sha256": SHA, "method": "msi"}}, "osce_installers.cp5712r1.method"),
    ({"cp5712r1": {"path": "x", "sha256": SHA, "timeout": 3}}, "osce_installers.cp5712r1.timeout"),
    ({"cp5712r1": "x.exe"}, "osce_installers.cp5712r1"),
])
def test_bad_installers_name_the_field(catalog, schemas, installers, field):
    with pytest.raises(OsceError) as info:
        merge_installers(catalog, installers, schemas["installers"])
    line = str(info.value)
    assert "\n" not in line and line.startswith(field + ":") and "Fix:" in line


def test_sha256_message_is_actionable(catalog, schemas):
    with pytest.raises(OsceError) as info:
        merge_installers(catalog, {"cp5712r1": {"path": "x", "sha256": "abc"}}, schemas["installers"])
    assert "64 hexadecimal" in str(info.value) and "Get-FileHash" in str(info.value)


def test_installers_for_step_missing_from_catalog(catalog, schemas):
    from dataclasses import replace
    small = replace(catalog, steps=catalog.steps[:1])
    with pytest.raises(OsceError, match="^osce_installers.cp5712r1: is not a step in the catalog"):
        merge_installers(small, {"cp5712r1": {"path": "x", "sha256": SHA}}, schemas["installers"])


def test_multiple_installer_problems_one_line_each(catalog, schemas):
    with pytest.raises(OsceValidationError) as info:
        merge_installers(catalog, {"cp5712r1": {"path": "", "sha256": "x"}}, schemas["installers"])
    assert len(str(info.value).splitlines()) == 2


def test_merge_build_map(catalog):
    merged = merge_build_map(catalog, {"sp3": 4000, "sp3_patch1_1": [4600, 4601], "gm": None})
    assert merged.levels["sp3"] == (4000,) and merged.levels["sp3_patch1_1"] == (4600, 4601)
    assert merged.levels["gm"] == () and merged.levels["cp5495"] == (5495,)
    assert merge_build_map(catalog, None) is catalog


@pytest.mark.parametrize("user_map,field", [
    ({"sp9": 1}, "osce_build_map.sp9"), ({"osce11": 1}, "osce_build_map.osce11"),
    ({"sp3": "four"}, "osce_build_map.sp3"), ({"sp3": 6000}, "osce_build_map.cp5495"),
    ([1, 2], "osce_build_map")])
def test_bad_build_map(catalog, user_map, field):
    with pytest.raises(OsceError) as info:
        merge_build_map(catalog, user_map)
    assert str(info.value).startswith(field + ":")


def test_missing_for_lists_what_the_user_must_supply(catalog, schemas):
    assert catalog.missing_for("cp5712r1") == ["osce_installers.cp5712r1", "osce_installers.cp5712r1.client_build"]
    merged = merge_installers(catalog, {"cp5712r1": {"path": "x", "sha256": SHA, "client_build": 5712}},
                              schemas["installers"])
    assert merged.missing_for("cp5712r1") == []
    assert "osce_build_map.sp3_patch1_1" in catalog.missing_for("sp3_patch1_1")
    assert "osce_installers.sp3.client_package_bytes.x64" in catalog.missing_for("sp3")
