from __future__ import annotations

import hashlib

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
    assert action.gateway.installer_calls == 0 and action.gateway.round_trips == 2


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
    assert res["failed"] and "osce_installers.cp5712r1: is required" in res["msg"] and fake.calls[-1][0].endswith("slurp")


def test_small_disk_fails_before_any_change():
    fake, inst = setup(level_build=5600)
    fake.disks[0]["size_remaining"] = 100 * 2**20
    res, _action = run(fake, inst)
    assert res["failed"] and "min_free_mb" in res["msg"] and fake.writes() == []


def test_build_did_not_move():
    fake, inst = setup(level_build=5600)
    fake.installers[inst["cp5712r1"]["path"].lower()] = lambda f: 0
    res, _action = run(fake, inst)
    assert res["failed"] and "but the server is on sp3_patch2" in res["msg"]


def test_named_step_with_unmet_prerequisites():
    fake, inst = setup(level_build=4100)
    res, _action = run(fake, inst, {"step": "cp5712r1"})
    assert res["failed"] and res["msg"].startswith("Failed to apply the patch chain on osce01: step: cp5712r1 does not apply")
    assert fake.writes() == []


def test_named_step_already_applied_is_skipped():
    fake, inst = setup(level_build=5600)
    res, action = run(fake, inst, {"step": "cp5495"})
    assert res["changed"] is False and action.gateway.installer_calls == 0
