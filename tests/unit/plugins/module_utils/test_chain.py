from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils.chain import (
    next_step, parse_sps_major, parse_tmcm_version, plan_chain, tmcm_compatible,
)
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.levels import detect_level

BUILDS = {"gm": 1000, "sp1": 2000, "sp2": 3000, "sp3": 4000, "sp3_patch1": 4500,
          "sp3_patch1_1": 4600, "sp3_patch2": 5600}
FULL = ("sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1")

# Every starting point the FAQ names: (evidence) -> (level, chain with Patch 2, chain without)
TABLE = [
    ("gm", {"sp_build": 1000}, "gm", FULL),
    ("sp1", {"sp_build": 2000}, "sp1", FULL),
    ("sp1 with patches", {"sp_build": 2300}, "sp1", FULL),
    ("sp2", {"sp_build": 3000}, "sp2", FULL),
    ("sp2 with patches", {"sp_build": 3300}, "sp2", FULL),
    ("sp3", {"sp_build": 4000}, "sp3", FULL[1:]),
    ("sp3 patch1", {"sp_build": 4500}, "sp3_patch1", FULL[2:]),
    ("sp3 patch1.1", {"sp_build": 4600}, "sp3_patch1_1", FULL[2:]),
    ("cp5495", {"sp_build": 5495}, "cp5495", FULL[3:]),
    ("sp3 patch2", {"sp_build": 5600}, "sp3_patch2", ("cp5712r1",)),
    ("cp5712 before r1", {"sp_build": 5712, "cp5712_installed_on": "2014-12-24"}, "cp5712", ("cp5712r1",)),
    ("cp5712 after r1", {"sp_build": 5712, "cp5712_installed_on": "2015-01-23"}, "cp5712r1", ()),
    ("cp5712r1 by history", {"sp_build": 5712, "patch_history": [
        {"name": "CP 5712r1", "build": 5712, "installed_on": "2015-05-05 10:00:00"}]}, "cp5712r1", ()),
    ("osce11", {"server_version": "11.0", "sp_build": 6054}, "osce11", ()),
    ("pre 10.6", {"server_version": "10.5", "sp_build": 1234}, "pre_10_6", ()),
]


def _evidence(extra):
    return {"server_version": "10.6", **extra}


@pytest.mark.parametrize("name,extra,level,chain", TABLE, ids=[t[0] for t in TABLE])
@pytest.mark.parametrize("patch2", [True, False], ids=["with-patch2", "without-patch2"])
def test_every_faq_starting_point(catalog, name, extra, level, chain, patch2):
    detection = detect_level(_evidence(extra), catalog.levels | BUILDS)
    assert detection.level == level
    plan = plan_chain(level, catalog, include_patch2=patch2)
    expected = chain if patch2 else tuple(s for s in chain if s != "sp3_patch2")
    assert plan.step_ids == expected
    assert plan.nothing_to_do == (level in ("cp5712r1", "osce11"))
    assert bool(plan.blockers) == (level == "pre_10_6")
    if plan.steps:
        assert plan.steps[0].from_level == level
        assert plan.steps[-1].to_level == "cp5712r1"
        for a, b in zip(plan.steps, plan.steps[1:]):
            assert a.to_level == b.from_level
        assert all(s.reason and "Q" in s.faq for s in plan.steps)


@pytest.mark.parametrize("name,extra,level,chain", TABLE, ids=[t[0] for t in TABLE])
def test_every_starting_point_with_sps2_and_old_tmcm(catalog, name, extra, level, chain):
    plan = plan_chain(level, catalog, sps_versions={"sps01": "2.6"}, tmcm_version="5.5 SP1 Patch 4")
    assert plan.step_ids == chain
    if chain:
        assert any("sps01" in b and "3.0" in b for b in plan.blockers)
        assert any("Control Manager" in b for b in plan.blockers)
        assert len(plan.blockers) == 2


def test_chain_steps_carry_the_faq_reason(catalog):
    plan = plan_chain("cp5712", catalog)
    assert "Q13" in plan.steps[0].reason
    assert plan.steps[0].step.package_bytes("x64") == 46347060
    plan = plan_chain("sp3", catalog)
    assert plan.steps[0].reason == catalog.step("sp3_patch1_1").reason


def test_skipping_patch2_warns(catalog):
    plan = plan_chain("cp5495", catalog, include_patch2=False)
    assert plan.step_ids == ("cp5712r1",) and any("Patch 2" in w for w in plan.warnings)
    assert not plan_chain("sp3_patch2", catalog, include_patch2=False).warnings


def test_unknown_sps_version_is_a_warning_not_a_blocker(catalog):
    plan = plan_chain("sp3", catalog, sps_versions={"sps01": None, "sps02": "3.0", "sps03": "3.3.1181"})
    assert plan.blockers == ()
    assert len(plan.warnings) == 1 and "sps01" in plan.warnings[0] and "possibly 2.x" in plan.warnings[0]


def test_sps_versions_as_pairs_or_plain_list(catalog):
    assert plan_chain("sp3", catalog, sps_versions=[("a", "2.5")]).blockers
    assert plan_chain("sp3", catalog, sps_versions=["2.1"]).blockers
    assert not plan_chain("sp3", catalog, sps_versions=["3.0"]).blockers


@pytest.mark.parametrize("version,ok", [
    ("5.5 SP1 Patch 5", True), ("5.5 SP1 Patch 6", True), ("5.5 SP1 Patch 4", False), ("5.5 SP1", False),
    ("5.5", False), ("5.0", False), ("6.0", False), ("6.0 SP1", True), ("6.0 SP2", True),
    ("6.0 SP1 Patch 3", True), ("7.0", True), ("6.5", True)])
def test_tmcm_gate(catalog, version, ok):
    assert tmcm_compatible(parse_tmcm_version(version)) is ok
    plan = plan_chain("sp3_patch2", catalog, tmcm_version=version)
    assert (not plan.blockers) is ok


def test_no_tmcm_and_unreadable_tmcm(catalog):
    assert plan_chain("sp3", catalog, tmcm_version=None).blockers == ()
    plan = plan_chain("sp3", catalog, tmcm_version="banana")
    assert len(plan.blockers) == 1 and "banana" in plan.blockers[0] and "osce_tmcm_version" in plan.blockers[0]


def test_parsers():
    assert parse_tmcm_version("5.5 SP1 Patch 5") == (5, 5, 1, 5)
    assert parse_tmcm_version("6.0") == (6, 0, 0, 0)
    assert parse_tmcm_version(None) is None
    assert parse_sps_major("2.6") == 2 and parse_sps_major("3.0 Patch 1") == 3 and parse_sps_major("x") is None


def test_pre_10_6_is_blocked_unsupported(catalog):
    plan = plan_chain("pre_10_6", catalog)
    assert plan.steps == () and "not supported" in plan.blockers[0] and not plan.nothing_to_do


def test_next_step(catalog):
    assert next_step("sp3", catalog).step_id == "sp3_patch1_1"
    assert next_step("cp5495", catalog, include_patch2=False).step_id == "cp5712r1"
    assert next_step("cp5712r1", catalog) is None
    with pytest.raises(OsceError, match="^chain:.*SPS 3.0"):
        next_step("sp3", catalog, sps_versions={"s": "2.6"})


def test_unknown_level_rejected(catalog):
    with pytest.raises(OsceError, match="^level:"):
        plan_chain("sp4", catalog)


def test_broken_catalog_chain_is_reported(catalog):
    from dataclasses import replace
    broken = replace(catalog, steps=tuple(s for s in catalog.steps if s.id != "cp5495"))
    with pytest.raises(OsceError, match="^catalog.steps: do not lead from sp3 to cp5712r1"):
        plan_chain("sp3", broken)


# ---------------------------------------------------------------- TMCM versions as the console shows them

@pytest.mark.parametrize("text,parsed,ok", [
    ("6.0", (6, 0, 0, 0), False),
    ("6.0 SP1", (6, 0, 1, 0), True),
    ("6.0 Service Pack 1", (6, 0, 1, 0), True),
    ("6.0 Service Pack 2", (6, 0, 2, 0), True),
    ("6.0 SP1 Patch 2", (6, 0, 1, 2), True),
    ("6.0 SP3", (6, 0, 3, 0), True),
    ("5.5 SP1 Patch 5", (5, 5, 1, 5), True),
    ("5.5 Service Pack 1 Patch 5", (5, 5, 1, 5), True),
    ("5.5 SP1 Patch 4", (5, 5, 1, 4), False),
    ("5.5 SP1", (5, 5, 1, 0), False),
    ("5.5", (5, 5, 0, 0), False),
    ("5.0", (5, 0, 0, 0), False),
    ("7.0", (7, 0, 0, 0), True),
    ("TMCM 6.0 SP1", (6, 0, 1, 0), True),
    ("Control Manager 6.0 Service Pack 1 Patch 1", (6, 0, 1, 1), True),
    ("6.0 SP1 (Build 1234)", (6, 0, 1, 0), True),
    ("6.0.0.1234", (6, 0, None, None), None),
    ("5.5.1234", (5, 5, None, None), None),
    ("7.0.0.1000", (7, 0, None, None), True),
    ("5.0.0.1000", (5, 0, None, None), False),
])
def test_tmcm_version_table(text, parsed, ok):
    assert parse_tmcm_version(text) == parsed
    assert tmcm_compatible(parsed) is ok


def test_service_pack_1_is_not_plain_6_0():
    assert parse_tmcm_version("6.0 Service Pack 1") != parse_tmcm_version("6.0")


@pytest.mark.parametrize("text", ["banana", "6.0 beta", "", None])
def test_unreadable_tmcm_versions(text):
    assert parse_tmcm_version(text) is None


@pytest.mark.parametrize("value,word", [("unknown", "version unknown"), ("", "version unknown"),
                                        ("6.0.0.1234", "names no service pack"), ("6.x", "could not be read")])
def test_tmcm_present_with_an_unknown_version_blocks_the_cp_with_a_fix(catalog, value, word):
    plan = plan_chain("sp3_patch2", catalog, tmcm_version=value)
    assert len(plan.blockers) == 1 and word in plan.blockers[0]
    assert "Fix:" in plan.blockers[0] and "osce_tmcm_version" in plan.blockers[0]
    # not a blocker when the chain has no CP to install
    assert plan_chain("cp5712r1", catalog, tmcm_version=value).blockers == ()


def test_hotfix_prerequisite_note(catalog):
    for level in ("sp3", "sp3_patch1", "cp5495", "sp3_patch2", "cp5712"):
        plan = plan_chain(level, catalog)
        assert any("Q12" in n and "hotfix" in n for n in plan.notes), level
        assert any("Q12" in n for n in plan.as_dict()["notes"])
    assert any("once on SP3" in n for n in plan_chain("sp1", catalog).notes)
    assert not any("hotfix" in n for n in plan_chain("cp5712r1", catalog).notes)
    assert plan_chain("osce11", catalog).notes == ()


def test_patch2_offer_on_cp5712_without_patch2(catalog):
    for level in ("cp5712", "cp5712r1"):
        plan = plan_chain(level, catalog, patch2_installed=False)
        assert any("Patch 2 is not in the patch history" in n and "Q4 step d" in n for n in plan.notes)
        assert any("may be missing" in n for n in plan_chain(level, catalog).notes)
        assert not any("Patch 2" in n for n in plan_chain(level, catalog, patch2_installed=True).notes)
    assert not any("Patch 2 is not" in n for n in plan_chain("sp3_patch2", catalog, patch2_installed=False).notes)
