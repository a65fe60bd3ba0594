from __future__ import annotations

from fake_windows import CLIENT_KEY, FakeWindows, make_action

from ansible_collections.osce.patching.plugins.action.client_upgrade import ActionModule

SERVER = {"client_program": {"build": 5712}, "level": "cp5712r1", "cp_installed": True, "patterns": {}}
SHARE = "\\\\osce-srv\\ofcscan\\AutoPcc.exe"


def client(build=5600, upgrade_to=5712, rc=0):
    fake = FakeWindows()
    fake.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", f"10.6.{build}")

    def autopcc(f, argv):
        if upgrade_to:
            f.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", f"10.6.{upgrade_to}")
        return rc

    fake.commands[SHARE.lower()] = autopcc
    return fake


def run(fake, args=None, **kw):
    action, tv = make_action(ActionModule, {"server": "osce-srv", "server_facts": SERVER, "poll_interval": 1,
                                            "timeout": 3, **(args or {})}, fake, host="pc1", **kw)
    action.sleep = lambda s: None
    ticks = iter(range(0, 1000))
    action.clock = lambda: next(ticks)
    return action.run(task_vars=tv), action


def test_upgrade_then_noop():
    fake = client()
    res, _action = run(fake)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["build_before"] == 5600 and res["build"] == 5712
    assert res["bytes_expected"] == 46347060 and res["arch"] == "x64"
    assert fake.calls[1][1]["argv"] == [SHARE, "-f", "-u"]
    res2, action = run(fake)
    assert res2["changed"] is False and res2["bytes_expected"] == 0 and action.gateway.installer_calls == 0


def test_check_mode_runs_nothing():
    fake = client()
    res, _action = run(fake, check_mode=True)
    assert res["changed"] and res["build"] == 5712 and fake.writes() == []


def test_timeout_when_build_does_not_move():
    res, _action = run(client(upgrade_to=None))
    assert res["failed"] and "still 5600 after 3 s" in res["msg"]


def test_share_unreachable_mentions_double_hop():
    res, _action = run(client(rc=53))
    assert res["failed"] and "exited 53" in res["msg"] and "double hop" in res["msg"]


def test_server_facts_without_build():
    res, _action = run(client(), {"server_facts": {"client_program": {"build": None}}})
    assert res["failed"] and "server_facts.client_program.build" in res["msg"]


def test_reboot_required_after_an_upgrade_only():
    fake = client()
    res, _action = run(fake)
    assert res["reboot_required"] is True and "TDI driver" in res["reboot_required_source"]
    res, _action = run(fake)
    assert res["changed"] is False and res["reboot_required"] is False


def test_reboot_required_predicted_in_check_mode():
    res, _action = run(client(), check_mode=True)
    assert res["reboot_required"] is True


def test_offline_client_is_unreachable_not_failed():
    fake = client()
    fake.unreachable = True
    res, _action = run(fake)
    assert res["unreachable"] is True and "failed" not in res and res["changed"] is False
    assert "pc1 is unreachable" in res["msg"]


def test_client_dropping_off_during_the_upgrade_is_polled_again():
    fake = client()
    real = fake.execute
    drops = {"left": 2}

    def flaky(module_name=None, module_args=None, **kw):
        # after AutoPcc ran, the first two reads find the client disconnected (firewall driver reload)
        if fake.count("win_command") and module_name.endswith("win_reg_stat") and drops["left"]:
            drops["left"] -= 1
            fake.calls.append((module_name, dict(module_args or {})))
            return {"unreachable": True, "msg": "winrm: connection reset"}
        return real(module_name=module_name, module_args=module_args, **kw)

    action, tv = make_action(ActionModule, {"server": "osce-srv", "server_facts": SERVER, "poll_interval": 1,
                                            "timeout": 30}, fake, host="pc1")
    action._execute_module = flaky
    action.sleep = lambda s: None
    ticks = iter(range(0, 1000))
    action.clock = lambda: next(ticks)
    res = action.run(task_vars=tv)
    assert not res.get("failed") and not res.get("unreachable"), res.get("msg")
    assert res["build"] == 5712 and res["reboot_required"] is True and drops["left"] == 0


def test_client_gone_for_good_after_autopcc_fails_as_dropped_and_changed():
    fake = client()
    real = fake.execute

    def gone(module_name=None, module_args=None, **kw):
        if fake.count("win_command"):
            fake.calls.append((module_name, dict(module_args or {})))
            return {"unreachable": True, "msg": "winrm: host down"}
        return real(module_name=module_name, module_args=module_args, **kw)

    action, tv = make_action(ActionModule, {"server": "osce-srv", "server_facts": SERVER, "poll_interval": 1,
                                            "timeout": 3}, fake, host="pc1")
    action._execute_module = gone
    action.sleep = lambda s: None
    ticks = iter(range(0, 1000))
    action.clock = lambda: next(ticks)
    res = action.run(task_vars=tv)
    assert res["failed"] is True and "unreachable" not in res and res["changed"] is True and res["dropped"] is True
    assert "stopped answering during its upgrade" in res["msg"] and "\n" not in res["msg"]


def test_phase_start_runs_autopcc_and_does_not_wait():
    fake = client(upgrade_to=None)  # the build stays behind: start must not wait for it
    res, _action = run(fake, {"phase": "start"})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["pending"] is True and res["phase"] == "start"
    assert res["build"] == 5600 and res["bytes_expected"] == 46347060
    assert res["diff"]["after"] == {"build": 5712}
    assert res["reboot_required"] is True and "AutoPcc started" in res["reboot_required_source"]
    assert [c[1]["argv"] for c in fake.calls if "argv" in c[1]] == [[SHARE, "-f", "-u"]]


def test_phase_finish_waits_and_never_runs_anything():
    fake = client()
    polls = {"n": 0}
    calls_at_poll = []

    def install_ends_on_second_poll(_seconds):
        polls["n"] += 1
        calls_at_poll.append(len(fake.calls))
        if polls["n"] == 2:
            fake.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", "10.6.5712")

    action, tv = make_action(ActionModule, {"server": "osce-srv", "server_facts": SERVER, "poll_interval": 1,
                                            "timeout": 30, "phase": "finish"}, fake, host="pc1")
    action.sleep = install_ends_on_second_poll
    ticks = iter(range(0, 1000))
    action.clock = lambda: next(ticks)
    action_res = action.run(task_vars=tv)
    assert not action_res.get("failed"), action_res.get("msg")
    assert action_res["changed"] is False and action_res["build"] == 5712 and action_res["build_before"] == 5600
    assert action_res["pending"] is False and action_res["bytes_expected"] == 0 and action_res["waited"] > 0
    assert action_res["reboot_required"] is True
    assert not any("argv" in c[1] for c in fake.calls) and fake.writes() == []
    # gather's read, then one read per poll: no immediate re-read of a build just seen behind
    per_read = calls_at_poll[0]
    assert per_read > 0 and calls_at_poll == [per_read, 2 * per_read] and len(fake.calls) == 3 * per_read


def test_phase_finish_times_out_on_a_client_nobody_started():
    res, _action = run(client(), {"phase": "finish"})
    assert res["failed"] and "still 5600 after 3 s" in res["msg"]


def test_phase_finish_in_check_mode_reads_and_does_not_wait():
    res, _action = run(client(), {"phase": "finish"}, check_mode=True)
    assert not res.get("failed") and res["changed"] is False and res["pending"] is True and res["build"] == 5600


def test_phase_finish_on_a_current_client_is_a_noop():
    fake = client(build=5712)
    res, _action = run(fake, {"phase": "finish"})
    assert res["changed"] is False and res["pending"] is False and res["waited"] == 0.0
    assert res["reboot_required"] is False


def test_retry_is_real_the_fake_goes_unreachable_then_back():
    fake = client(upgrade_to=None)
    share = fake.commands[SHARE.lower()]

    def autopcc_then_reboot_driver(f, argv):
        f.down_for = 3      # the next three calls find the client gone (firewall driver reload)
        f.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", "10.6.5712")
        return share(f, argv)

    fake.commands[SHARE.lower()] = autopcc_then_reboot_driver
    res, action = run(fake, {"timeout": 60})
    assert not res.get("failed") and not res.get("unreachable"), res.get("msg")
    assert res["build"] == 5712 and res["dropped"] is False and res["disconnects"] == 3
    reads_after = [m for m, _a in fake.calls[fake.names().index("win_command") + 1:]]
    assert len(reads_after) == 4 and all(m.endswith("win_reg_stat") for m in reads_after)


def test_stall_fails_fast_with_the_privilege_diagnosis():
    fake = client(upgrade_to=None)          # AutoPcc returns 0 and nothing moves (privilege respected?)
    res, _action = run(fake, {"timeout": 1800, "stall_timeout": 5})
    assert res["failed"] and res["stalled"] is True and res["dropped"] is False and res["changed"] is True
    assert "stayed at 5600 for stall_timeout (5 s) after AutoPcc returned success" in res["msg"]
    assert "is unknown" in res["msg"] and "AutoPcc and the upgrade privilege" in res["msg"]
    assert fake.count("win_reg_stat") < 12     # not 1,800 s of polls


def test_stall_check_off_with_zero():
    res, _action = run(client(upgrade_to=None), {"timeout": 8, "stall_timeout": 0})
    assert res["failed"] and res["stalled"] is False and "still 5600 after 8 s" in res["msg"]


def test_phase_finish_first_read_unreachable_is_polled_again():
    fake = client(build=5712)
    fake.down_for = 1
    res, _action = run(fake, {"phase": "finish", "timeout": 30})
    assert not res.get("failed") and not res.get("unreachable"), res.get("msg")
    assert res["build"] == 5712 and res["disconnects"] == 1 and res["arch"] == "x64"


def test_phase_start_offline_client_stays_unreachable():
    fake = client()
    fake.down_for = 1
    res, _action = run(fake, {"phase": "start"})
    assert res["unreachable"] is True and "failed" not in res and "dropped" not in res


def test_check_mode_says_what_it_assumes():
    res, _action = run(client(), check_mode=True)
    assert res["diff"]["after"]["build"] == 5712 and res["diff"]["after"]["prediction"].startswith("prediction: ")
    assert res["prediction"] == res["diff"]["after"]["prediction"]


def test_check_mode_with_a_server_build_not_known_before_the_install():
    """A predicted step whose client build nobody gave: AutoPcc would run, the build cannot be predicted."""
    fake = client()
    unknown = dict(SERVER, client_program={"build": None, "source": "predicted (check mode)"})
    res, _action = run(fake, {"server_facts": unknown}, check_mode=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["diff"]["after"]["build"] is None
    assert "not known before" in res["diff"]["after"]["prediction"] and fake.writes() == []
    res, _action = run(fake, {"server_facts": unknown})            # a real run still refuses it
    assert res["failed"] and "server_facts.client_program.build" in res["msg"]
