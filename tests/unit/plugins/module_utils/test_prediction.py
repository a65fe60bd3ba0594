"""What a --check run carries from task to task (module_utils/prediction.py)."""
from __future__ import annotations

from ansible_collections.osce.patching.plugins.module_utils import prediction as p


def test_current_is_a_copy_and_ignores_another_runs_prediction():
    made = p.updated({}, "run-1", lock={"run_id": "run-1"})
    got = p.current(made, "run-1")
    assert got == made and got is not made
    got["lock"]["run_id"] = "changed"
    assert made["lock"]["run_id"] == "run-1"
    assert p.current(made, "run-2") == {}          # kept by a fact cache from another run
    assert p.current(made, "") == made             # the run is not named yet: nothing to compare
    assert p.current(None, "run-1") == {} and p.current("text", "run-1") == {}


def test_installed_predicts_the_server_and_says_when_the_client_build_is_unknown():
    first = p.installed({}, level="sp3_patch1_1", level_name="SP3 Patch 1.1", sp_build=4100, client_build=4100,
                        step="sp3_patch1_1", run_id="r")
    assert first["server"] == {"level": "sp3_patch1_1", "level_name": "SP3 Patch 1.1", "sp_build": 4100,
                               "cp_installed": False,
                               "client_program": {"build": 4100, "source": "predicted (check mode)"}}
    assert first["notes"] == [] and first["run_id"] == "r"
    second = p.installed(first, level="cp5712r1", level_name=None, sp_build=5712, client_build=None, step="cp5712r1")
    assert second["server"]["level"] == "cp5712r1" and second["server"]["cp_installed"] is True
    assert second["server"]["level_name"] == "SP3 Patch 1.1"   # merged key by key: not given, kept
    assert len(second["notes"]) == 1 and second["notes"][0].startswith("prediction: ")
    assert "osce_installers.cp5712r1.client_build" in second["notes"][0]
    assert p.with_note(second, second["notes"][0])["notes"] == second["notes"]  # once


def test_server_facts_lays_the_predicted_install_over_what_was_read():
    read = {"level": "sp3", "sp_build": 3000, "client_program": {"build": 3000}, "chain": {"steps": [1]}, "x": 1}
    assert p.server_facts(read, {}) == read
    pred = p.installed({}, level="sp3_patch1_1", level_name="SP3 Patch 1.1", sp_build=4100, client_build=4100,
                       step="sp3_patch1_1")
    got = p.server_facts(read, pred)
    assert got["level"] == "sp3_patch1_1" and got["client_program"]["build"] == 4100 and got["sp_build"] == 4100
    assert got["chain"] == {"steps": [1]} and got["x"] == 1
    assert got["predicted"] == sorted(p.SERVER_KEYS)
    assert read["level"] == "sp3"


def test_privilege_overlay_and_after():
    read = {"privilege": {"root": "0"}, "marker": {}}
    assert p.privilege(read, {}) == (read, None)
    on = p.privilege_after({}, {"privilege": {"root": "1"}, "marker": {"root": "0"}}, True, "r")
    state, exists = p.privilege(read, on)
    assert state == {"privilege": {"root": "1"}, "marker": {"root": "0"}} and exists is True
    off = p.privilege_after(on, {"privilege": {"root": "0"}, "marker": {}}, False)
    state, exists = p.privilege(read, off)
    assert state == {"privilege": {"root": "0"}, "marker": {}} and exists is False
    # a target the prediction never touched keeps what was read
    state, _exists = p.privilege({"privilege": {"domain:a": None}, "marker": {}}, on)
    assert state["privilege"] == {"domain:a": None}


def test_lock_and_collection_state():
    held = {"run_id": "r"}
    assert p.lock(None, {}) is None and p.lock(held, {}) == held
    taken = p.updated({}, "r", lock=held)
    assert p.lock(None, taken) == held
    released = p.updated(taken, lock=None)
    assert p.lock(held, released) is None
    state = {"run_lock": None, "privilege_marker_present": False, "applied": {}}
    assert p.collection_state(state, {}) == state
    both = p.privilege_after(taken, {"privilege": {"root": "1"}, "marker": {"root": "0"}}, True)
    got = p.collection_state(state, both)
    assert got["run_lock"] == held and got["privilege_marker_present"] is True
    assert got["predicted"] == ["run_lock", "privilege_marker_present"]
