from __future__ import annotations

import hashlib
import json

from fake_windows import BUILD_MAP, LOCAL, SERVER_KEY, FakeWindows, make_action, osce_server

from ansible_collections.osce.patching.plugins.action.patch_chain import ActionModule

HIST = LOCAL + "Admin\\hotfix_history.ini"


def installer(fake, step, build, rc=0, body=None, date="2015-11-20 09:00:00"):
    path = f"C:\\OSCE-Patches\\{step}.exe"
    body = body or f"installer {step}"
    fake.put(path, body)

    def effect(f):
        if rc in (0, 3010, 1641):
            f.set_reg(SERVER_KEY, "ServicePack_Build", str(build))
            f.put(HIST, (f.text(HIST) or "") + f"[{step}]\r\nBuild={build}\r\nInstallDate={date}\r\n")
        return rc

    fake.installers[path.lower()] = effect
    return {"path": path, "sha256": hashlib.sha256(body.encode()).hexdigest(), "arguments": "/s"}


def setup(level_build=4100, rc=0):
    fake = FakeWindows()
    osce_server(fake, build=level_build)
    inst = {"cp5495": installer(fake, "cp5495", 5495), "sp3_patch2": installer(fake, "sp3_patch2", 5600),
            "cp5712r1": installer(fake, "cp5712r1", 5712, rc=rc)}
    return fake, inst


def run(fake, inst, args=None, **kw):
    action, tv = make_action(ActionModule, {"build_map": BUILD_MAP, "installers": inst, **(args or {})}, fake, **kw)
    action.sleep = lambda seconds: None
    return action.run(task_vars=tv), action


def test_all_steps_then_rerun_makes_no_installer_call():
    fake, inst = setup()
    res, _action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and [s["id"] for s in res["steps"]] == ["cp5495", "sp3_patch2", "cp5712r1"]
    assert res["level"] == "cp5712r1" and res["build"] == 5712 and res["remaining"] == []
    assert res["diff"] == {"before": {"level": "sp3_patch1_1", "build": 4100}, "after": {"level": "cp5712r1", "build": 5712}}
    res2, action = run(fake, inst)
    assert res2["changed"] is False and res2["steps"] == []
    assert action.gateway.installer_calls == 0 and action.gateway.round_trips == 3  # + the collection's record


def test_next_applies_one_step():
    fake, inst = setup()
    res, _action = run(fake, inst, {"step": "next"})
    assert [s["id"] for s in res["steps"]] == ["cp5495"] and res["remaining"] == ["sp3_patch2", "cp5712r1"]


def test_check_mode_lists_steps_with_hashes_and_runs_nothing():
    fake, inst = setup()
    snap = fake.snapshot()
    res, action = run(fake, inst, check_mode=True)
    assert res["changed"] and [s["status"] for s in res["steps"]] == ["would_apply"] * 3
    assert res["steps"][2]["installer"]["sha256"] == inst["cp5712r1"]["sha256"]
    assert res["level"] == "cp5712r1"
    assert fake.writes() == [] and fake.snapshot() == snap


def test_reboot_codes_stop_the_chain_and_are_returned():
    fake, inst = setup(level_build=5600, rc=3010)
    res, _action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    assert res["reboot_required"] is True and res["steps"][0]["status"] == "pending_reboot"


def test_1603_fails_with_log_path():
    fake, inst = setup(level_build=5600, rc=1603)
    res, _action = run(fake, inst)
    assert res["failed"] and res["rc"] == 1603 and res["changed"] is True
    assert "exited 1603 (fatal error during installation); log: %SystemDrive%\\TMPatch.log" in res["msg"]
    assert "\n" not in res["msg"]


def test_tampered_installer_fails_before_any_change():
    fake, inst = setup(level_build=5600)
    inst["cp5712r1"]["sha256"] = "0" * 64
    res, _action = run(fake, inst)
    assert res["failed"] and "osce_installers.cp5712r1.sha256" in res["msg"] and fake.writes() == []


def test_missing_installer_file():
    fake, inst = setup(level_build=5600)
    del fake.files[inst["cp5712r1"]["path"].lower()]
    res, _action = run(fake, inst)
    assert res["failed"] and "installer not found on osce01" in res["msg"] and fake.writes() == []


def test_installer_not_given():
    fake, inst = setup(level_build=5600)
    del inst["cp5712r1"]
    res, _action = run(fake, inst)
    assert res["failed"] and "osce_installers.cp5712r1: is required" in res["msg"] and fake.writes() == []
    assert [p["field"] for p in res["problems"]] == ["osce_installers.cp5712r1"]


def test_small_disk_fails_before_any_change():
    fake, inst = setup(level_build=5600)
    fake.disks[0]["size_remaining"] = 100 * 2**20
    res, _action = run(fake, inst)
    assert res["failed"] and "min_free_mb" in res["msg"] and fake.writes() == []


def test_build_did_not_move():
    fake, inst = setup(level_build=5600)
    fake.installers[inst["cp5712r1"]["path"].lower()] = lambda f: 0
    res, _action = run(fake, inst)
    assert res["failed"] and "but the server is on sp3_patch2" in res["msg"] and "not be run again" not in res["msg"]
    assert record(fake, "Applied.cp5712r1")["attempts"] == 1


def test_an_installer_that_fails_the_level_check_twice_is_not_run_a_third_time():
    fake, inst = setup(level_build=5600)
    fake.installers[inst["cp5712r1"]["path"].lower()] = lambda f: 0   # exits 0, the build never moves
    for attempt in (1, 2):
        res, action = run(fake, inst, task_vars={"osce_run_id": f"run{attempt}"})
        assert res["failed"] and action.gateway.installer_calls == 1
    assert "failed the check 2 times, so it will not be run again" in res["msg"]
    assert "osce_build_map" in res["msg"] and "Applied.cp5712r1" in res["msg"]
    failed = record(fake, "Applied.cp5712r1")
    assert failed["status"] == "check_failed" and failed["runs"] == ["run1", "run2"]
    assert failed["level_read"] == "sp3_patch2" and failed["expected_level"] == "cp5712r1"
    # the third run (and preflight's check-mode pre-check) refuse before running anything
    for check in (True, False):
        res, action = run(fake, inst, check_mode=check)
        assert res["failed"] and action.gateway.installer_calls == 0
        assert "osce_installers.cp5712r1: this installer already ran 2 times (runs run1, run2)" in res["msg"]
    # another installer (a new sha256) is tried again
    fixed = installer(fake, "cp5712r1", 5712, body="installer cp5712r1, fixed build")
    res, action = run(fake, {**inst, "cp5712r1": fixed})
    assert not res.get("failed"), res.get("msg")
    assert action.gateway.installer_calls == 1 and "status" not in record(fake, "Applied.cp5712r1")


def test_named_step_with_unmet_prerequisites():
    fake, inst = setup(level_build=4100)
    res, _action = run(fake, inst, {"step": "cp5712r1"})
    assert res["failed"] and res["msg"].startswith("Failed to apply the patch chain on osce01: step: cp5712r1 does not apply")
    assert fake.writes() == []


def test_named_step_already_applied_is_skipped():
    fake, inst = setup(level_build=5600)
    res, action = run(fake, inst, {"step": "cp5495"})
    assert res["changed"] is False and action.gateway.installer_calls == 0


# -- issue 13: nothing lost ----------------------------------------------------------------------------
STATE_KEY = "HKLM:\\SOFTWARE\\osce.patching"
CBS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
SM_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
WIN_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Windows"


def shutdown(fake, n):
    fake.set_reg(WIN_KEY, "ShutdownTime", [n, 0, 0, 0, 0, 0, 0, 1], "REG_BINARY")


def record(fake, name):
    raw = fake.get_reg(STATE_KEY, name)
    return None if raw is None else json.loads(raw)


def test_preflight_collects_every_installer_problem():
    fake, inst = setup()
    fake.put(inst["cp5495"]["path"], "tampered cp5495")
    del fake.files[inst["cp5712r1"]["path"].lower()]
    snap = fake.snapshot()
    res, _action = run(fake, inst, check_mode=True)
    assert res["failed"] and "\n" not in res["msg"]
    assert [p["field"] for p in res["problems"]] == ["osce_installers.cp5495.sha256", "osce_installers.cp5712r1.path"]
    assert "2 problems, nothing was changed: (1) osce_installers.cp5495.sha256: does not match" in res["msg"]
    assert "(2) osce_installers.cp5712r1.path: installer not found on osce01" in res["msg"]
    assert fake.snapshot() == snap and fake.writes() == []


def test_installer_is_hashed_again_right_before_it_runs():
    fake, inst = setup()
    effect = fake.installers[inst["cp5495"]["path"].lower()]

    def swap_next(f):   # while CP 5495 installs, someone replaces the Patch 2 installer
        f.put(inst["sp3_patch2"]["path"], "evil")
        return effect(f)

    fake.installers[inst["cp5495"]["path"].lower()] = swap_next
    ran = []
    patch2 = fake.installers[inst["sp3_patch2"]["path"].lower()]
    fake.installers[inst["sp3_patch2"]["path"].lower()] = lambda f: ran.append("sp3_patch2") or patch2(f)
    res, _action = run(fake, inst)
    assert res["failed"] and "installer of sp3_patch2 changed after the pre-check, not run" in res["msg"]
    assert "did not match" in res["msg"]
    assert [(s["id"], s["status"]) for s in res["steps"]] == [("cp5495", "applied"), ("sp3_patch2", "refused")]
    assert ran == []                                              # the swapped file never started
    packages = [a for m, a in fake.calls if m.endswith("win_package")]
    assert [(p["checksum"], p["checksum_algorithm"]) for p in packages] == [
        (inst["cp5495"]["sha256"], "sha256"), (inst["sp3_patch2"]["sha256"], "sha256")]
    names = fake.names()   # win_package hashes in the call that starts it: no win_stat the round trip before
    assert names[names.index("win_package") - 1] != "win_stat"


def test_an_installer_gone_since_the_pre_check_is_named_as_such():
    fake, inst = setup()
    effect = fake.installers[inst["cp5495"]["path"].lower()]

    def delete_next(f):
        del f.files[inst["sp3_patch2"]["path"].lower()]
        return effect(f)

    fake.installers[inst["cp5495"]["path"].lower()] = delete_next
    res, _action = run(fake, inst)
    assert "installer of sp3_patch2 changed after the pre-check, not run: installer not found on" in res["msg"]
    assert [(s["id"], s["status"]) for s in res["steps"]] == [("cp5495", "applied"), ("sp3_patch2", "refused")]


def test_a_command_installer_is_hashed_the_round_trip_before_it_runs():
    fake, inst = setup(level_build=5600)
    path = inst["cp5712r1"]["path"]
    fake.commands[path.lower()] = lambda f, argv: fake.installers[path.lower()](f)
    inst["cp5712r1"] = {**inst["cp5712r1"], "method": "command"}
    res, _action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    names = fake.names()
    assert names[names.index("win_command") - 1] == "win_stat"

    fake2, inst2 = setup(level_build=5600)
    fake2.commands[path.lower()] = lambda f, argv: fake2.installers[path.lower()](f)
    inst2["cp5712r1"] = {**inst2["cp5712r1"], "method": "command"}
    real_stat = fake2._m_win_stat   # the file is swapped after the pre-check's hash, before the run's
    hashed = []

    def swap_after_first(a):
        hashed.append(a["path"])
        if len(hashed) == 2:
            fake2.put(path, "evil")
        return real_stat(a)

    fake2._m_win_stat = swap_after_first
    res2, action2 = run(fake2, inst2)
    assert "installer of cp5712r1 changed after the pre-check, not run" in res2["msg"]
    assert action2.gateway.installer_calls == 0


def test_applied_record_after_a_verified_install():
    fake, inst = setup(level_build=5600)
    res, _action = run(fake, inst, task_vars={"osce_run_id": "20261202T1900Z"})
    assert not res.get("failed"), res.get("msg")
    rec = record(fake, "Applied.cp5712r1")
    assert rec["step"] == "cp5712r1" and rec["sha256"] == inst["cp5712r1"]["sha256"] and rec["run_id"] == "20261202T1900Z"
    assert rec["installed"].endswith("Z") and rec["installed"][10] == "T" and res["run_id"] == "20261202T1900Z"
    res2, _action = run(fake, inst, {"run_id": "other"})
    assert res2["changed"] is False and record(fake, "Applied.cp5712r1")["run_id"] == "20261202T1900Z"


def test_check_mode_writes_no_record():
    fake, inst = setup(level_build=5600)
    res, _action = run(fake, inst, check_mode=True)
    assert res["changed"] and fake.writes() == [] and record(fake, "Applied.cp5712r1") is None
    assert res["reboot_pending"] == {"pending": False, "signals": []}


def test_windows_reboot_signal_stops_before_the_install():
    fake, inst = setup(level_build=5600)
    fake.set_reg(CBS_KEY, "(default)", "")
    fake.set_reg(SM_KEY, "PendingFileRenameOperations", ["\\??\\C:\\x.tmp", ""], "REG_MULTI_SZ")
    res, action = run(fake, inst)
    assert res["failed"] and action.gateway.installer_calls == 0 and fake.writes() == []
    assert res["msg"].endswith("Fix: reboot the server, or set osce_server_reboot: true.")
    assert [s["entry"] for s in res["reboot_pending"]["signals"]] == ["reboot_pending_cbs", "reboot_pending_file_rename"]
    # the preflight reports it too; fail_on_reboot_pending: false returns it for the play to decide
    res, _action = run(fake, inst, {"fail_on_reboot_pending": False}, check_mode=True)
    assert not res.get("failed") and res["reboot_pending"]["pending"] is True
    assert any("reboot pending" in w for w in res["warnings"])


def test_empty_pending_file_rename_is_no_signal():
    fake, inst = setup(level_build=5600)
    fake.set_reg(SM_KEY, "PendingFileRenameOperations", [], "REG_MULTI_SZ")
    res, _action = run(fake, inst, check_mode=True)
    assert not res.get("failed") and res["reboot_pending"]["pending"] is False


def test_3010_writes_a_debt_paid_when_shutdown_time_changes():
    fake, inst = setup(level_build=5495)
    shutdown(fake, 1)
    genuine = fake.installers[inst["sp3_patch2"]["path"].lower()]

    def exit_3010(f):
        genuine(f)  # the installer does its work, then asks for a reboot
        return 3010

    fake.installers[inst["sp3_patch2"]["path"].lower()] = exit_3010
    res, _action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    assert res["reboot_required"] is True and res["remaining"] == ["cp5712r1"]
    debt = record(fake, "RebootDebt")
    assert debt["step"] == "sp3_patch2" and debt["exit_code"] == 3010 and debt["shutdown_time"] == "1,0,0,0,0,0,0,1"
    # no reboot yet: the debt stops the next install
    res, action = run(fake, inst)
    assert res["failed"] and "RebootDebt: sp3_patch2 exited 3010" in res["msg"] and action.gateway.installer_calls == 0
    # check mode after a reboot predicts the payment, writes nothing
    shutdown(fake, 2)
    res, _action = run(fake, inst, check_mode=True)
    assert res["reboot_debt_cleared"] is True and record(fake, "RebootDebt") is not None
    res, _action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    assert res["reboot_debt_cleared"] is True and record(fake, "RebootDebt") is None and res["level"] == "cp5712r1"


def test_debt_cleared_when_nothing_is_left_to_install():
    fake, inst = setup(level_build=5600, rc=3010)
    shutdown(fake, 1)
    run(fake, inst)
    assert record(fake, "RebootDebt")["step"] == "cp5712r1"
    res, _action = run(fake, inst)
    assert res["changed"] is False and record(fake, "RebootDebt") is not None   # not rebooted: owed still
    shutdown(fake, 2)
    res, _action = run(fake, inst)
    assert res["changed"] is True and res["reboot_debt_cleared"] is True and record(fake, "RebootDebt") is None
    res, _action = run(fake, inst)
    assert res["changed"] is False and res["reboot_debt_cleared"] is False


def test_a_debt_is_paid_by_the_reboot_of_the_task_before():
    """The role's opt-in reboot then `rebooted: true`: the debt is cleared even when it holds no shutdown
    mark to compare (written by hand or by an older release), and a --check run predicts that clear."""
    fake, inst = setup(level_build=5600)
    fake.set_reg(STATE_KEY, "RebootDebt", json.dumps({"step": "cp5712r1", "exit_code": 3010}), "REG_SZ")
    assert record(fake, "RebootDebt") is not None
    res, _action = run(fake, inst, check_mode=True)
    assert res["failed"] and "RebootDebt: cp5712r1 exited 3010" in res["msg"]   # owed, no evidence of a reboot
    res, _action = run(fake, inst, {"rebooted": True}, check_mode=True)
    assert res["changed"] is True and res["reboot_debt_cleared"] is True and record(fake, "RebootDebt") is not None
    res, _action = run(fake, inst, {"rebooted": True})
    assert res["changed"] is True and res["reboot_debt_cleared"] is True and record(fake, "RebootDebt") is None


def restarting(fake, inst, step, down=3):
    old = fake.installers[inst[step]["path"].lower()]

    def effect(f):
        old(f)
        shutdown(f, 9)
        f.down_for = down
        return 1641

    fake.installers[inst[step]["path"].lower()] = effect


def test_1641_waits_for_the_server_and_goes_on():
    fake, inst = setup()
    shutdown(fake, 1)
    restarting(fake, inst, "cp5495")
    res, action = run(fake, inst, {"reboot_poll_interval": 1})
    assert not res.get("failed"), res.get("msg")
    assert [s["id"] for s in res["steps"]] == ["cp5495", "sp3_patch2", "cp5712r1"] and res["level"] == "cp5712r1"
    assert res["steps"][0]["rebooted"] is True and res["steps"][0]["reboot_required"] is False
    assert res["reboot_required"] is False and record(fake, "RebootDebt") is None
    assert action.gateway.installer_calls == 3


def test_1641_server_never_back_is_unreachable():
    fake, inst = setup(level_build=5600)
    shutdown(fake, 1)
    restarting(fake, inst, "cp5712r1", down=10**6)
    action, tv = make_action(ActionModule, {"build_map": BUILD_MAP, "installers": inst, "reboot_timeout": 60,
                                            "reboot_poll_interval": 15}, fake)
    ticks = iter(range(0, 10**6, 15))
    action.sleep = lambda seconds: None
    action.clock = lambda: next(ticks)
    res = action.run(task_vars=tv)
    assert res.get("unreachable") and not res.get("failed") and res["changed"] is True
    assert "did not come back within reboot_timeout (60 s) after cp5712r1" in res["msg"]


def check_run(fake, inst, args=None, prediction=None):
    """A step task of a --check run (ansible_check_mode), with what earlier steps of the run predicted."""
    tv = {"ansible_check_mode": True, "osce_run_id": "r1"}
    if prediction is not None:
        tv["osce_prediction"] = prediction
    res, _action = run(fake, inst, args, check_mode=True, task_vars=tv)
    return res, (res.get("ansible_facts") or {}).get("osce_prediction", prediction)


def test_a_check_run_goes_on_from_the_level_the_step_before_predicted():
    fake, inst = setup()
    snap = fake.snapshot()
    prediction = None
    for step, level, build in (("cp5495", "cp5495", 5495), ("sp3_patch2", "sp3_patch2", 5600),
                               ("cp5712r1", "cp5712r1", 5712)):
        res, prediction = check_run(fake, inst, {"step": step}, prediction)
        assert not res.get("failed"), res.get("msg")
        assert res["changed"] and [s["id"] for s in res["steps"]] == [step]
        assert res["diff"]["after"]["level"] == level and res["diff"]["after"]["build"] == build
        # what cannot be predicted is said, in the diff and the result
        assert res["diff"]["after"]["prediction"].startswith("prediction: ") and "3010" in res["prediction"]
        assert prediction["server"]["level"] == level and prediction["server"]["sp_build"] == build
    assert res["diff"]["before"]["predicted"]          # step 3 started from step 2's prediction
    assert fake.writes() == [] and fake.snapshot() == snap
    # the same step again in the same run: already (predicted) installed
    res, _prediction = check_run(fake, inst, {"step": "cp5712r1"}, prediction)
    assert res["changed"] is False and res["steps"] == []


def test_a_pre_check_neither_reads_nor_keeps_the_prediction():
    fake, inst = setup()
    _res, prediction = check_run(fake, inst, {"step": "cp5495"})
    res, kept = check_run(fake, inst, {"step": "all", "predict": False}, prediction)
    assert [s["id"] for s in res["steps"]] == ["cp5495", "sp3_patch2", "cp5712r1"] and kept == prediction
    # a task with check_mode: true inside a real run predicts nothing
    res, _action = run(fake, inst, {"step": "all"}, check_mode=True, task_vars={"ansible_check_mode": False})
    assert res["changed"] and "ansible_facts" not in res


def test_an_install_whose_server_was_lost_is_confirmed_by_the_next_run():
    # CP 5712r1's installer restarts the server, which does not come back in time: no Applied record yet
    fake, inst = setup(level_build=5495)
    shutdown(fake, 1)
    restarting(fake, inst, "cp5712r1", down=10**6)
    action, tv = make_action(ActionModule, {"build_map": BUILD_MAP, "installers": inst, "reboot_timeout": 60,
                                            "include_patch2": False}, fake, task_vars={"osce_run_id": "lost"})
    ticks = iter(range(0, 10**6, 15))
    action.sleep = lambda seconds: None
    action.clock = lambda: next(ticks)
    assert action.run(task_vars=tv).get("unreachable")
    started = record(fake, "Applied.cp5712r1")
    assert started["status"] == "installing" and (started["from_build"], started["to_build"]) == (5495, 5712)
    assert started["run_id"] == "lost" and started["sha256"] == inst["cp5712r1"]["sha256"]

    # the server is back on 5712 (undated history: only the intent tells r1 from the original CP 5712)
    fake.down_for = 0
    fake.put(HIST, "")
    res, action = run(fake, inst, {"include_patch2": False, "run_id": "rerun"})
    assert not res.get("failed"), res.get("msg")
    assert res["level"] == "cp5712r1" and res["changed"] is True and action.gateway.installer_calls == 0
    assert record(fake, "Applied.cp5712r1") == {"step": "cp5712r1", "sha256": inst["cp5712r1"]["sha256"],
                                                "installed": started["started"], "run_id": "lost"}
    res, _action = run(fake, inst, {"include_patch2": False, "run_id": "third"})
    assert res["changed"] is False


def test_an_intent_the_build_does_not_prove_is_not_confirmed():
    # the installer of CP 5495 never ran to the end (the build stayed): the step is due again, no record
    fake, inst = setup(level_build=4100)
    fake.set_reg(STATE_KEY, "Applied.cp5495", json.dumps({"step": "cp5495", "sha256": inst["cp5495"]["sha256"],
                                                          "run_id": "lost", "status": "installing",
                                                          "started": "2026-12-03T10:00:00Z", "from_build": 4100,
                                                          "to_build": 5495}))
    res, _action = run(fake, inst, {"step": "next", "run_id": "rerun"})
    assert not res.get("failed"), res.get("msg")
    assert [s["id"] for s in res["steps"]] == ["cp5495"] and res["build"] == 5495
    # installed again by this run and recorded by it, not confirmed from the stale intent (run "lost")
    rec = record(fake, "Applied.cp5495")
    assert rec["run_id"] == "rerun" and "status" not in rec and rec["installed"] != "2026-12-03T10:00:00Z"


def test_r1_over_cp5712_without_a_readable_history_is_applied_once():
    """A CP 5712 server whose history gives no install date reads as the original CP (FAQ Q13: re-apply r1).
    The r1 installer keeps the build, so only its success exit proves the repack: the install is recorded
    and the next run has nothing to do (it used to fail the post-install check and reinstall every run)."""
    fake, inst = setup(level_build=5712)

    def r1_without_history(f):
        return 0   # succeeds; the server's build stays 5712 and the history stays unreadable
    fake.installers[inst["cp5712r1"]["path"].lower()] = r1_without_history
    res, action = run(fake, inst)
    assert not res.get("failed"), res.get("msg")
    assert [s["id"] for s in res["steps"]] == ["cp5712r1"] and res["level"] == "cp5712r1"
    assert action.gateway.installer_calls == 1
    rec = record(fake, "Applied.cp5712r1")
    assert rec["step"] == "cp5712r1" and "status" not in rec
    res2, action = run(fake, inst)
    assert res2["changed"] is False and action.gateway.installer_calls == 0


def test_the_r1_statement_decides_for_patch_chain_too():
    fake, inst = setup(level_build=5712)
    # stated true: nothing to install on a 5712 server whatever its history says
    res, action = run(fake, inst, task_vars={"osce_cp5712r1_installed": True})
    assert res["changed"] is False and res["steps"] == [] and action.gateway.installer_calls == 0
    # stated false: r1 is re-applied once; the record then wins over the statement (rerun: nothing to do)
    res, action = run(fake, inst, task_vars={"osce_cp5712r1_installed": False})
    assert not res.get("failed"), res.get("msg")
    assert [s["id"] for s in res["steps"]] == ["cp5712r1"] and action.gateway.installer_calls == 1
    res, action = run(fake, inst, task_vars={"osce_cp5712r1_installed": False})
    assert res["changed"] is False and action.gateway.installer_calls == 0
    # junk is refused naming the variable, before anything is installed
    fake2, inst2 = setup(level_build=5712)
    res, action = run(fake2, inst2, task_vars={"osce_cp5712r1_installed": "maybe"})
    assert res["failed"] and "osce_cp5712r1_installed" in res["msg"] and action.gateway.installer_calls == 0
