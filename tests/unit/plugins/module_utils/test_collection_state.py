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
