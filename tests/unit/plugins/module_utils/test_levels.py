from __future__ import annotations

from datetime import date, datetime

import pytest

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.levels import (
    DISPLAY_NAMES, LEVELS, Detection, detect_level, display_name, is_at_least, level_index,
    normalize_build_map, parse_date, parse_version,
)

BUILDS = {"gm": 1000, "sp1": 2000, "sp2": 3000, "sp3": 4000, "sp3_patch1": 4500,
          "sp3_patch1_1": 4600, "sp3_patch2": 5600}


def ev(version="10.6", build=None, history=(), cp_date=None):
    return {"server_version": version, "sp_build": build, "patch_history": list(history),
            "cp5712_installed_on": cp_date}


def test_levels_are_the_shared_vocabulary_in_order():
    assert LEVELS == ("pre_10_6", "gm", "sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1", "cp5495",
                      "sp3_patch2", "cp5712", "cp5712r1", "osce11")
    assert set(DISPLAY_NAMES) == set(LEVELS)
    assert display_name("sp3_patch1_1") == "OSCE 10.6 SP3 Patch 1.1"


def test_level_index_and_is_at_least():
    assert level_index("gm") == 1
    assert is_at_least("cp5712r1", "cp5712") and not is_at_least("cp5495", "sp3_patch2")
    assert is_at_least("sp3", "sp3")
    with pytest.raises(OsceError, match="level: is not a known level"):
        level_index("sp4")


@pytest.mark.parametrize("text,parsed", [("10.6", (10, 6)), ("11.0", (11, 0)), ("10.5", (10, 5)),
                                         ("12", (12, 0)), (None, None), ("abc", None)])
def test_parse_version(text, parsed):
    assert parse_version(text) == parsed


@pytest.mark.parametrize("value,parsed", [
    ("2015-01-22", date(2015, 1, 22)), ("2015-01-23 10:00:00", date(2015, 1, 23)),
    ("2015-01-23T10:00:00Z", date(2015, 1, 23)), ("01/22/2015", date(2015, 1, 22)),
    (datetime(2014, 5, 1, 3), date(2014, 5, 1)), (date(2016, 1, 1), date(2016, 1, 1)),
    (None, None), ("soon", None), ("2015-13-40", None)])
def test_parse_date(value, parsed):
    assert parse_date(value) == parsed


@pytest.mark.parametrize("evidence,level", [
    (ev("10.5", 1234), "pre_10_6"), (ev("10.0"), "pre_10_6"),
    (ev("11.0", 6054), "osce11"), (ev("12.0"), "osce11"),
    (ev(build=5495), "cp5495"), (ev(build="5495"), "cp5495"),
    (ev(build=1000), "gm"), (ev(build=2000), "sp1"), (ev(build=3000), "sp2"), (ev(build=4000), "sp3"),
    (ev(build=4500), "sp3_patch1"), (ev(build=4600), "sp3_patch1_1"), (ev(build=5600), "sp3_patch2"),
    (ev(build=2500), "sp1"), (ev(build=2999), "sp1"), (ev(build=3500), "sp2"),
    (ev(build=5712, cp_date="2014-12-01"), "cp5712"), (ev(build=5712, cp_date="2015-01-22"), "cp5712"),
    (ev(build=5712, cp_date="2015-01-23"), "cp5712r1"), (ev(build=5712, cp_date="2015-06-01"), "cp5712r1"),
])
def test_detect_level(evidence, level):
    assert detect_level(evidence, BUILDS).level == level


def test_detection_carries_build_reasons_and_no_warnings():
    det = detect_level(ev(build=4600), BUILDS)
    assert isinstance(det, Detection)
    assert det.build == 4600 and det.warnings == ()
    assert any("4600" in r for r in det.reasons)
    assert det.as_dict()["name"] == "OSCE 10.6 SP3 Patch 1.1"


def test_cp5712_date_falls_back_to_the_history_entry():
    history = [{"name": "SP3", "build": 4000, "installed_on": "2013-01-01"},
               {"name": "CP 5712", "build": 5712, "installed_on": "2014-10-10 08:00:00"}]
    det = detect_level(ev(build=5712, history=history), BUILDS)
    assert det.level == "cp5712" and any("history" in r for r in det.reasons)
    history.append({"name": "CP 5712r1", "build": 5712, "installed_on": "2015-02-01"})
    assert detect_level(ev(build=5712, history=history), BUILDS).level == "cp5712r1"


def test_cp5712_explicit_date_wins_over_history():
    history = [{"name": "CP 5712", "build": 5712, "installed_on": "2014-10-10"}]
    assert detect_level(ev(build=5712, history=history, cp_date="2015-03-03"), BUILDS).level == "cp5712r1"


def test_cp5712_unknown_date_reads_as_cp5712_with_a_warning():
    det = detect_level(ev(build=5712), {})
    assert det.level == "cp5712"
    assert len(det.warnings) == 1 and "Q13" in det.warnings[0]


def test_history_objects_are_accepted():
    from ansible_collections.osce.patching.plugins.module_utils.ini import HistoryEntry
    det = detect_level(ev(build=5712, history=[HistoryEntry("CP", 5712, datetime(2014, 1, 1))]), {})
    assert det.level == "cp5712" and det.warnings == ()


def test_patched_sp_needs_both_neighbours_known():
    # sp1 known, sp2 unknown: 2500 could be SP1 Patch x or SP2 -> no guess
    with pytest.raises(OsceError):
        detect_level(ev(build=2500), {"sp1": 2000, "sp3": 4000})


def test_between_builds_only_for_sp1_and_sp2():
    # between sp3 (4000) and sp3_patch1 (4500) is not "SP3 with patches"
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=4200), BUILDS)
    assert info.value.field == "sp_build"


def test_unknown_build_error_shows_evidence_and_how_to_fix():
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=4601, history=[{"name": "SP3", "build": 4000}]), {"sp3": 4000})
    text = str(info.value)
    assert "\n" not in text
    assert "4601" in text and "10.6" in text and "SP3=4000" in text
    assert "osce_build_map: {LEVEL: 4601}" in text and "osce_build_map: {sp3: [4000, 4601]}" in text


def test_build_list_values_and_multiple_matches():
    assert detect_level(ev(build=4601), {"sp3_patch1_1": [4600, 4601]}).level == "sp3_patch1_1"
    det = detect_level(ev(build=4600), {"sp3_patch1": 4600, "sp3_patch1_1": 4600})
    assert det.level == "sp3_patch1_1" and det.warnings


def test_missing_version_or_build_is_an_error():
    with pytest.raises(OsceError, match="^server_version:"):
        detect_level({"sp_build": 5712}, {})
    with pytest.raises(OsceError, match="^sp_build:.*ServicePack_Build"):
        detect_level(ev(build=None), {})


def test_normalize_build_map_fills_public_cp_builds_and_rejects_junk():
    m = normalize_build_map({"sp3": "4000", "gm": None})
    assert m["sp3"] == (4000,) and m["gm"] == () and m["cp5495"] == (5495,) and m["cp5712r1"] == (5712,)
    with pytest.raises(OsceError, match=r"^osce_build_map.sp3\[1\]: must be a build number"):
        normalize_build_map({"sp3": [4000, "x"]})
    with pytest.raises(OsceError, match="^osce_build_map.sp9:"):
        normalize_build_map({"sp9": 1})


# ---------------------------------------------------------------- vendor truth (issue 15)

LAB_BUILDS = {"gm": 1000, "sp1": 2000, "sp2": 2500, "sp3": 3000, "sp3_patch1": 4000, "sp3_patch1_1": 4100,
              "cp5495": 5495, "sp3_patch2": 5600, "cp5712": 5712, "cp5712r1": 5712}  # tests/lab/osce_lab/osce.py
RECORD = {"step": "cp5712r1", "sha256": "ab" * 32, "installed": "2026-12-02T18:40:00Z", "run_id": "r-1"}


def test_lab_build_map_matches_the_lab():
    import ast
    from pathlib import Path
    tree = ast.parse((Path(__file__).parents[4] / "tests/lab/osce_lab/osce.py").read_text())
    node = next(n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "LEVELS")
    lab = ast.literal_eval(node)
    assert {lvl: b for lvl, (_v, b, _n) in lab.items() if lvl not in ("pre_10_6", "osce11")} == LAB_BUILDS


@pytest.mark.parametrize("value,readings", [
    ("10/01/2015", (date(2015, 10, 1), date(2015, 1, 10))), ("01/22/2015", (date(2015, 1, 22),)),
    ("22/01/2015", (date(2015, 1, 22),)), ("10/10/2015", (date(2015, 10, 10),)),
    ("2015-01-10", (date(2015, 1, 10),)), ("31/02/2015", ()), ("", ()), (None, ())])
def test_date_readings(value, readings):
    from ansible_collections.osce.patching.plugins.module_utils.levels import date_readings
    assert date_readings(value) == readings


def test_parse_date_never_guesses_an_ambiguous_slash_date():
    assert parse_date("10/01/2015") is None
    assert parse_date("2015-10-01") == date(2015, 10, 1) and parse_date("13/01/2015") == date(2015, 1, 13)


@pytest.mark.parametrize("history_date", ["10/01/2015", "01/10/2015", "12/01/2015 10:00:00"])
def test_ambiguous_history_date_that_decides_is_refused_with_the_variable(history_date):
    history = [{"name": "CP 5712", "build": 5712, "installed_on": history_date}]
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=5712, history=history), LAB_BUILDS)
    text = str(info.value)
    assert "ambiguous" in text and "osce_cp5712r1_installed: true" in text and history_date in text


def test_ambiguous_date_whose_readings_agree_is_not_refused():
    # 03/04/2016: 4 March or 3 April 2016 - both after the cut-off, the answer does not depend on it
    det = detect_level(ev(build=5712, history=[{"name": "CP", "build": 5712, "installed_on": "03/04/2016"}]),
                       LAB_BUILDS)
    assert det.level == "cp5712r1" and any("either reading" in r for r in det.reasons)
    assert detect_level(ev(build=5712, cp_date="02/03/2014"), LAB_BUILDS).level == "cp5712"


def test_iso_and_unambiguous_history_dates_still_parse():
    for text, level in (("2015-01-10", "cp5712"), ("2015-10-01 08:00:00", "cp5712r1"), ("01/22/2015", "cp5712"),
                        ("22/01/2015", "cp5712"), ("01/23/2015", "cp5712r1")):
        hist = [{"name": "CP", "build": 5712, "installed_on": text}]
        assert detect_level(ev(build=5712, history=hist), LAB_BUILDS).level == level, text


def test_our_applied_record_decides_before_the_history():
    history = [{"name": "CP 5712", "build": 5712, "installed_on": "2014-10-10"}]
    det = detect_level({**ev(build=5712, history=history), "applied_record": RECORD}, LAB_BUILDS)
    assert det.level == "cp5712r1" and det.warnings == ()
    assert "Applied.cp5712r1" in det.reasons[-1] and "r-1" in det.reasons[-1]
    # without the record the history decides
    det = detect_level(ev(build=5712, history=history), LAB_BUILDS)
    assert det.level == "cp5712" and "patch history" in det.reasons[-1]
    # an ambiguous history date does not matter when the record decides
    hist = [{"name": "CP", "build": 5712, "installed_on": "10/01/2015"}]
    assert detect_level({**ev(build=5712, history=hist), "applied_record": RECORD}, LAB_BUILDS).level == "cp5712r1"


@pytest.mark.parametrize("stated,level", [(True, "cp5712r1"), ("true", "cp5712r1"), (False, "cp5712"),
                                          ("no", "cp5712")])
def test_the_administrators_statement_decides_first(stated, level):
    hist = [{"name": "CP", "build": 5712, "installed_on": "10/01/2015"}]   # ambiguous: ignored
    det = detect_level({**ev(build=5712, history=hist), "cp5712r1_installed": stated}, LAB_BUILDS)
    assert det.level == level and "osce_cp5712r1_installed" in det.reasons[-1]
    assert "stated by the administrator" in det.reasons[-1]


def test_an_unreadable_history_converges_once_the_fact_is_stated():
    det = detect_level(ev(build=5712), LAB_BUILDS)
    assert det.level == "cp5712" and "osce_cp5712r1_installed" in det.warnings[0]
    assert detect_level({**ev(build=5712), "cp5712r1_installed": True}, LAB_BUILDS).level == "cp5712r1"
    assert detect_level({**ev(build=5712), "cp5712r1_installed": ""}, LAB_BUILDS).level == "cp5712"


def test_statement_false_against_our_record_warns_and_the_record_wins():
    # "false" said what the CP was; r1 installed and verified since must not be re-applied on every run
    det = detect_level({**ev(build=5712), "cp5712r1_installed": False, "applied_record": RECORD}, LAB_BUILDS)
    assert det.level == "cp5712r1" and "Applied.cp5712r1" in det.warnings[0] and "remove the statement" in det.warnings[0]
    assert detect_level({**ev(build=5712), "cp5712r1_installed": False}, LAB_BUILDS).level == "cp5712"


def test_statement_on_another_build_is_ignored_with_a_warning():
    det = detect_level({**ev(build=5600), "cp5712r1_installed": True}, LAB_BUILDS)
    assert det.level == "sp3_patch2" and "ignored" in det.warnings[0]
    with pytest.raises(OsceError, match="^osce_cp5712r1_installed: must be true, false or empty"):
        detect_level({**ev(build=5712), "cp5712r1_installed": "maybe"}, LAB_BUILDS)


@pytest.mark.parametrize("build,below,hotfix_map", [
    (1500, "gm", "{gm: [1000, 1500]}"),
    (3100, "sp3", "{sp3: [3000, 3100]}"),
    (5650, "sp3_patch2", "{sp3_patch2: [5600, 5650]}"),
    (6000, "cp5712r1", "{cp5712r1: [5712, 6000]}"),
])
def test_unmapped_build_fix_names_the_nearest_level_below(build, below, hotfix_map):
    from ansible_collections.osce.patching.plugins.module_utils.levels import nearest_level_below
    assert nearest_level_below(build, LAB_BUILDS) == below
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=build), LAB_BUILDS)
    text = str(info.value)
    assert f"osce_build_map: {hotfix_map}" in text and "nearest level below" in text
    assert f"planned from {below}" in text and "\n" not in text
    # following the Fix works: the build is then that level
    merged = {**LAB_BUILDS, below: [LAB_BUILDS[below], build]}
    assert detect_level(ev(build=build), merged).level == below


@pytest.mark.parametrize("build", [1500, 3100])
def test_unmapped_build_with_the_shipped_map_guesses_no_level(build):
    """The shipped catalog knows only 5495 and 5712: a build below them could be any of GM .. SP3 Patch 1.1,
    and suggesting one (once: sp3_patch1_1) would skip SP3 or Patch 1.1 on a server below it."""
    import pathlib
    import yaml
    shipped = yaml.safe_load((pathlib.Path(__file__).parents[4] / "data" / "catalog.yml").read_text())["levels"]
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=build), shipped)
    text = str(info.value)
    assert f"`osce_build_map: {{LEVEL: {build}}}`" in text
    assert all(f"{lvl} (" in text for lvl in ("gm", "sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1"))
    assert "{sp3_patch1_1:" not in text and "would skip installs" in text


def test_unmapped_build_with_one_level_allowed_names_it():
    # between CP 5495 and CP 5712 only Patch 2 is unmapped: that one, or CP 5495 with a hotfix
    shipped = {"cp5495": 5495, "cp5712": 5712, "cp5712r1": 5712}
    with pytest.raises(OsceError) as info:
        detect_level(ev(build=5600), shipped)
    assert "`osce_build_map: {sp3_patch2: 5600}`" in str(info.value)
    assert "`osce_build_map: {cp5495: [5495, 5600]}`" in str(info.value)


def test_unmapped_build_below_every_known_level():
    with pytest.raises(OsceError, match="no level in the build map is below it"):
        detect_level(ev(build=500), LAB_BUILDS)


def test_dead_helpers_are_gone():
    from ansible_collections.osce.patching.plugins.module_utils import catalog, levels
    assert not hasattr(levels, "levels_between") and not hasattr(levels, "history_entries")
    assert not hasattr(catalog, "level_after_steps")
