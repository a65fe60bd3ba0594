from __future__ import annotations

from fake_windows import LAB_PROFILE, LOCAL, FakeWindows, make_action, osce_server

from ansible_collections.osce.patching.plugins.action.upgrade_privilege import ActionModule

MARKER = "HKLM:\\SOFTWARE\\osce.patching\\PrivilegeMarker"
INI = LOCAL + "ofcscan.ini"


def run(fake, args, **kw):
    kw.setdefault("task_vars", {"osce_profile_overrides": LAB_PROFILE})
    action, tv = make_action(ActionModule, args, fake, **kw)
    return action.run(task_vars=tv), action


def server():
    fake = FakeWindows()
    osce_server(fake)
    return fake


def test_on_records_marker_first_then_sets_and_is_idempotent():
    fake = server()
    res, _action = run(fake, {"state": "on"})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["privilege"] == {"root": "on"} and res["marker"] == {"root": "0"}
    writes = [(m, a) for m, a in fake.calls if m.endswith(("win_regedit", "win_lineinfile"))]
    assert writes[0][0].endswith("win_regedit")  # marker before the privilege
    assert "NoProgramUpgrade=1" in fake.text(INI)
    assert fake.get_reg(MARKER, "root") == "0"
    assert res["diff"]["before"]["privilege"] == {"root": "off"}
    res2, _action = run(fake, {"state": "on"})
    assert res2["changed"] is False and fake.writes().count("win_regedit") == 1


def test_restored_puts_original_back_and_clears_marker():
    fake = server()
    run(fake, {"state": "on"})
    res, _action = run(fake, {"state": "restored"})
    assert res["changed"] and res["privilege"] == {"root": "off"} and res["marker"] == {}
    assert "NoProgramUpgrade=0" in fake.text(INI)
    assert fake.get_reg(MARKER, "root") is None
    res2, _action = run(fake, {"state": "restored"})
    assert res2["changed"] is False


def test_check_mode_writes_nothing_and_predicts():
    fake = server()
    before = fake.snapshot()
    res, _action = run(fake, {"state": "on"}, check_mode=True)
    assert res["changed"] and res["privilege"] == {"root": "on"}
    assert fake.writes() == [] and fake.snapshot() == before


def test_client_scope_inserts_into_section():
    fake = server()
    res, _action = run(fake, {"state": "on", "scope": "client", "targets": ["pc1", "pc2"]})
    assert res["privilege"] == {"client:pc1": "on", "client:pc2": "on"}
    text = fake.text(INI)
    assert "[Client Privilege]" in text and "client:pc1=1" in text
    res, _action = run(fake, {"state": "restored"})
    assert res["changed"] and "client:pc1" not in fake.text(INI)


def test_unknown_location_points_to_calibrate_before_any_round_trip():
    fake = server()
    res, _action = run(fake, {"state": "on"}, task_vars={})
    assert res["failed"] and "calibrate" in res["msg"] and "profile.upgrade_privilege_root" in res["msg"]
    assert fake.calls == []


def test_targets_required_for_domain_scope():
    fake = server()
    res, _action = run(fake, {"state": "on", "scope": "domain"})
    assert res["failed"] and res["msg"].startswith("Failed to set the upgrade privilege on osce01: targets:")
    assert fake.calls == []


def test_bad_state():
    res, _action = run(server(), {"state": "maybe"})
    assert res["failed"] and "state" in res["msg"]


def test_on_off_values_come_from_the_profile():
    """A server storing text (Enabled / Disabled) for the privilege: calibrated through on_value / off_value."""
    fake = server()
    fake.put(INI, fake.text(INI).replace("NoProgramUpgrade=0", "NoProgramUpgrade=Disabled"))
    profile = {**LAB_PROFILE, "upgrade_privilege_root": {**LAB_PROFILE["upgrade_privilege_root"],
                                                         "on_value": "Enabled", "off_value": "Disabled"}}
    res, _action = run(fake, {"state": "on"}, task_vars={"osce_profile_overrides": profile})
    assert not res.get("failed"), res.get("msg")
    assert res["diff"]["before"]["privilege"] == {"root": "off"} and res["privilege"] == {"root": "on"}
    assert "NoProgramUpgrade=Enabled" in fake.text(INI) and res["marker"] == {"root": "Disabled"}
    assert res["location"]["on_value"] == "Enabled" and res["location"]["off_value"] == "Disabled"
    res, _action = run(fake, {"state": "restored"}, task_vars={"osce_profile_overrides": profile})
    assert "NoProgramUpgrade=Disabled" in fake.text(INI) and res["privilege"] == {"root": "off"}


def test_integer_on_value_writes_a_dword():
    fake = server()
    key = "HKLM:\\SOFTWARE\\Wow6432Node\\TrendMicro\\OfficeScan\\service\\Privileges"
    fake.set_reg(key, "NoUpgrade", 0, "REG_DWORD")
    profile = {"upgrade_privilege_root": {"kind": "registry", "keys": [key], "value": "NoUpgrade", "on_value": 1,
                                          "off_value": 0}}
    res, _action = run(fake, {"state": "on"}, task_vars={"osce_profile_overrides": profile})
    assert not res.get("failed"), res.get("msg")
    assert fake.get_reg(key, "NoUpgrade") == 1
    sets = [a for m, a in fake.calls if m.endswith("win_regedit") and a.get("path") == key]
    assert sets == [{"path": key, "name": "NoUpgrade", "data": 1, "type": "dword"}]


def check_run(fake, args, prediction=None):
    """A task of a --check run (ansible_check_mode), with what earlier tasks of the run predicted."""
    tv = {"osce_profile_overrides": LAB_PROFILE, "ansible_check_mode": True, "osce_run_id": "r1"}
    if prediction is not None:
        tv["osce_prediction"] = prediction
    res, _action = run(fake, args, check_mode=True, task_vars=tv)
    return res, (res.get("ansible_facts") or {}).get("osce_prediction", prediction)


def test_a_check_run_carries_the_privilege_from_step_to_step():
    """Four steps of a --check run: on and restored each time, as the real run does, writing nothing."""
    fake = server()
    before = fake.snapshot()
    prediction = None
    for _step in range(4):
        res, prediction = check_run(fake, {"state": "on"}, prediction)
        assert res["changed"] and res["diff"]["before"]["privilege"] == {"root": "off"}
        assert res["diff"]["after"] == {"privilege": {"root": "on"}, "marker": {"root": "0"}}
        assert prediction["privilege"] == {"root": "1"} and prediction["marker_exists"] is True
        again, prediction = check_run(fake, {"state": "on"}, prediction)
        assert again["changed"] is False                       # on already, in this run
        res, prediction = check_run(fake, {"state": "restored"}, prediction)
        assert res["changed"] and res["diff"]["after"] == {"privilege": {"root": "off"}, "marker": {}}
        assert prediction["marker"] == {} and prediction["marker_exists"] is False
        again, prediction = check_run(fake, {"state": "restored"}, prediction)
        assert again["changed"] is False                       # nothing left to restore
    assert fake.writes() == [] and fake.snapshot() == before


def test_a_prediction_is_read_only_by_a_check_run():
    fake = server()
    _res, prediction = check_run(fake, {"state": "on"})
    # a real run (or a task with check_mode: true inside one) never reads nor keeps a prediction
    tv = {"osce_profile_overrides": LAB_PROFILE, "osce_prediction": prediction, "osce_run_id": "r1",
          "ansible_check_mode": False}
    res, _action = run(fake, {"state": "on"}, check_mode=True, task_vars=dict(tv))
    assert res["changed"] and "ansible_facts" not in res
    res, _action = run(fake, {"state": "restored"}, task_vars=dict(tv))
    assert res["changed"] is False and fake.writes() == []
    # another run's prediction is ignored
    res, _prediction = check_run(fake, {"state": "restored"}, dict(prediction, run_id="r0"))
    assert res["changed"] is False
