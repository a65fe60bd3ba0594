"""The collection's own record on the server: parsing what win_reg_stat returns."""
from __future__ import annotations

from ansible_collections.osce.patching.plugins.module_utils import collection_state as cs


def test_missing_key_is_an_empty_record():
    record = cs.parse_values(None)
    assert record["exists"] is False
    assert record["run_lock"] is None and record["applied"] == {}


def test_values_round_trip_through_encode():
    lock = {"run_id": "r1", "controller": "ctl", "user": "ops", "pid": 42, "started": "2026-12-02T18:00:00Z"}
    applied = {"step": "cp5712r1", "sha256": "ab" * 32, "installed": "2026-12-02T18:10:00Z", "run_id": "r1"}
    values = {"runlock": cs.encode(lock), cs.applied_name("cp5712r1"): cs.encode(applied),
              "__sub_keys__": ["PrivilegeMarker"]}
    record = cs.parse_values(values)
    assert record["run_lock"] == lock  # value names are case-insensitive, as in the registry
    assert record["applied"] == {"cp5712r1": applied}
    assert record["privilege_marker_present"] is True
    assert record["unreadable"] == []


def test_a_value_that_is_not_a_json_object_is_reported_not_trusted():
    record = cs.parse_values({"RebootDebt": "yes", "Applied.sp3": "[1]", "__sub_keys__": []})
    assert record["reboot_debt"] is None and record["applied"] == {}
    assert sorted(record["unreadable"]) == ["Applied.sp3", "RebootDebt"]


def test_an_intent_is_apart_from_applied_and_confirmed_only_by_a_build_it_moved_to():
    started = cs.intent("cp5712r1", "AB", "lost", "2026-12-03T10:00:00Z", 5495, 5712)
    state = cs.parse_values({"Applied.cp5712r1": cs.encode(started)})
    assert state["applied"] == {} and state["installing"]["cp5712r1"]["from_build"] == 5495
    want = {"step": "cp5712r1", "sha256": "ab", "installed": "2026-12-03T10:00:00Z", "run_id": "lost"}
    assert cs.applied_or_confirmed(state, "cp5712r1", 5712) == want
    assert cs.applied_or_confirmed(state, "cp5712r1", 5495) is None   # the installer did not move the build
    over_itself = cs.parse_values({"Applied.cp5712r1": cs.encode(cs.intent("cp5712r1", "ab", "r", "t", 5712, 5712))})
    assert cs.applied_or_confirmed(over_itself, "cp5712r1", 5712) is None   # r1 over CP 5712: the build proves nothing
    done = cs.parse_values({"Applied.cp5712r1": cs.encode(cs.applied("cp5712r1", "ab", "t", "r"))})
    assert cs.applied_or_confirmed(done, "cp5712r1", 5712) == cs.applied("cp5712r1", "ab", "t", "r")


def test_a_failed_level_check_is_neither_applied_nor_an_intent_and_counts_per_installer():
    started = cs.intent("cp5712r1", "ab", "run1", "t1", 5600, 5712)
    first = cs.check_failed(started, None, "t2", 0, "sp3_patch2", 5600, "cp5712r1")
    state = cs.parse_values({"Applied.cp5712r1": cs.encode(first)})
    assert state["applied"] == {} and state["installing"] == {} and state["check_failed"]["cp5712r1"]["attempts"] == 1
    assert cs.applied_or_confirmed(state, "cp5712r1", 5712) is None and not cs.given_up(first, "AB")
    second = cs.check_failed(cs.intent("cp5712r1", "ab", "run2", "t3", 5600, 5712), first, "t4", 0, "sp3_patch2",
                             5600, "cp5712r1")
    assert second["attempts"] == 2 and second["runs"] == ["run1", "run2"]
    assert cs.given_up(second, "AB") and not cs.given_up(second, "cd")   # another installer is tried again
    other = cs.check_failed(cs.intent("cp5712r1", "cd", "run3", "t5", 5600, 5712), second, "t6", 0, "sp3_patch2",
                            5600, "cp5712r1")
    assert other["attempts"] == 1 and other["runs"] == ["run3"]
