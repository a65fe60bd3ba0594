from __future__ import annotations

import json

from fake_windows import FakeWindows, make_action

from ansible_collections.osce.patching.plugins.action.run_lock import ActionModule, pid_alive

KEY = "HKLM:\\SOFTWARE\\osce.patching"
HERE = "ctl1"
DEAD = 999_999_999


def run(fake, args, *, alive=lambda pid: pid != DEAD, sleep=None, user="ops", **kw):
    action, tv = make_action(ActionModule, args, fake, **kw)
    action.controller = lambda: HERE
    action.user = lambda: user
    action.run_pid = lambda: 4242
    action.now = lambda: "2026-12-02T18:40:00Z"
    action.pid_alive = alive
    action.sleep = sleep or (lambda seconds: None)
    return action.run(task_vars=tv)


def lock_of(fake, name="RunLock"):
    raw = fake.get_reg(KEY, name)
    return None if raw is None else json.loads(raw)


def hold(fake, run_id, controller="ctl2", pid=100, user="alice"):
    fake.set_reg(KEY, "RunLock", json.dumps({"run_id": run_id, "controller": controller, "user": user, "pid": pid,
                                             "started": "2026-12-02T10:15:00Z"}))


def test_take_a_free_lock_then_again_is_no_change():
    fake = FakeWindows()
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert not res.get("failed"), res.get("msg")
    mine = {"run_id": "r1", "controller": HERE, "user": "ops", "pid": 4242, "started": "2026-12-02T18:40:00Z"}
    assert res["changed"] and res["held_by_us"] and res["lock"] == mine and lock_of(fake) == mine
    assert res["broken"] is None and res["stale"] is False
    assert res["diff"] == {"before": {"lock": None}, "after": {"lock": mine}}
    assert res["round_trips"]["per_module"] == {"ansible.windows.win_reg_stat": 2, "ansible.windows.win_regedit": 1}
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert res["changed"] is False and res["held_by_us"] and fake.writes() == ["win_regedit"]


def test_held_by_a_live_other_run_fails_naming_the_holder():
    fake = FakeWindows()
    hold(fake, "r0")
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert res["failed"] and res["changed"] is False and fake.writes() == []
    assert res["msg"] == ("Failed to take the run lock on osce01: run r0 from ctl2 by alice (pid 100) holds it since "
                          "2026-12-02T10:15:00Z. Fix: wait for that run to end; if it is dead, run playbooks/unlock.yml "
                          "-e osce_break_lock=r0.")
    # a live holder on this very controller is not stale either
    hold(fake, "r0", controller=HERE)
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert res["failed"] and "run r0 from ctl1" in res["msg"]


def test_stale_lock_of_this_controller_is_taken_over_and_recorded():
    fake = FakeWindows()
    hold(fake, "r0", controller=HERE, pid=DEAD)
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and res["stale"] and res["held_by_us"] and lock_of(fake)["run_id"] == "r1"
    broken = {"run_id": "r0", "by_run": "r1", "at": "2026-12-02T18:40:00Z",
              "reason": f"holder process {DEAD} on {HERE} is gone"}
    assert res["broken"] == broken and lock_of(fake, "LockBroken") == broken
    assert any("stale" in w for w in res["warnings"])
    # the same dead pid on another controller proves nothing: it fails
    hold(fake, "r0", controller="ctl2", pid=DEAD)
    res = run(fake, {"state": "present", "run_id": "r2"})
    assert res["failed"] and "run r0 from ctl2" in res["msg"]


def test_break_lock_on_purpose():
    fake = FakeWindows()
    hold(fake, "r0")
    res = run(fake, {"state": "present", "run_id": "r1", "break_lock": "r9"})
    assert res["failed"]  # names another run: nothing broken
    res = run(fake, {"state": "present", "run_id": "r1", "break_lock": "r0"})
    assert not res.get("failed"), res.get("msg")
    assert res["held_by_us"] and res["broken"]["reason"] == "broken on purpose by ops"
    assert lock_of(fake, "LockBroken")["run_id"] == "r0" and lock_of(fake)["run_id"] == "r1"


def test_settle_reread_detects_a_concurrent_writer():
    fake = FakeWindows()

    def other_run_writes(seconds):
        assert seconds == 0.5
        hold(fake, "r2", controller="ctl3", user="bob", pid=77)

    res = run(fake, {"state": "present", "run_id": "r1", "settle": 0.5}, sleep=other_run_writes)
    assert res["failed"] and res["changed"] is True
    assert "another run took the lock at the same time: run r2 from ctl3 by bob (pid 77)" in res["msg"]
    assert res["held_by_us"] is False and res["lock"]["run_id"] == "r2"
    assert lock_of(fake)["run_id"] == "r2"  # the winner's lock is left alone


def test_absent_semantics():
    fake = FakeWindows()
    res = run(fake, {"state": "absent", "run_id": "r1"})
    assert res["changed"] is False and res["lock"] is None and fake.writes() == []
    hold(fake, "r0")
    res = run(fake, {"state": "absent", "run_id": "r1"})
    assert res["changed"] is False and lock_of(fake)["run_id"] == "r0"
    assert "left the run lock on osce01 alone: run r0 from ctl2 by alice" in res["warnings"][0]
    res = run(fake, {"state": "absent", "run_id": "r0"})
    assert res["changed"] and lock_of(fake) is None and res["held_by_us"] is False and res["lock"] is None
    hold(fake, "r0")
    res = run(fake, {"state": "absent", "run_id": "r0", "break_lock": "r0"})  # what playbooks/unlock.yml does
    assert res["changed"] and lock_of(fake) is None and lock_of(fake, "LockBroken")["run_id"] == "r0"
    assert res["broken"]["reason"] == "broken on purpose by ops"
    hold(fake, "r5")
    res = run(fake, {"state": "absent", "run_id": "r5x", "break_lock": "r5"})
    assert res["changed"] and lock_of(fake) is None
    assert lock_of(fake, "LockBroken") == res["broken"] and res["broken"]["run_id"] == "r5"


def test_query_reads_only():
    fake = FakeWindows()
    hold(fake, "r0", controller=HERE, pid=DEAD)
    res = run(fake, {"state": "query"})
    assert res["changed"] is False and res["lock"]["run_id"] == "r0" and res["stale"] and res["held_by_us"] is False
    assert fake.writes() == [] and res["round_trips"]["round_trips"] == 1


def test_check_mode_writes_nothing():
    fake = FakeWindows()
    res = run(fake, {"state": "present", "run_id": "r1"}, check_mode=True)
    assert res["changed"] and res["held_by_us"] and lock_of(fake) is None
    hold(fake, "r0")
    res = run(fake, {"state": "present", "run_id": "r1"}, check_mode=True)
    assert not res.get("failed") and res["changed"] is False and res["held_by_us"] is False
    assert "a real run would fail here" in res["warnings"][0] and "run r0 from ctl2" in res["warnings"][0]
    hold(fake, "r0", controller=HERE, pid=DEAD)
    res = run(fake, {"state": "present", "run_id": "r1"}, check_mode=True)
    assert res["changed"] and res["stale"] and res["broken"]["run_id"] == "r0"
    assert res["warnings"][0].startswith("would take over a stale run lock: run r0 from ctl1")
    res = run(fake, {"state": "absent", "run_id": "r0"}, check_mode=True)
    assert res["changed"] and res["lock"] is None
    assert fake.count("win_regedit") == 0 and lock_of(fake)["run_id"] == "r0" and lock_of(fake, "LockBroken") is None


def test_run_id_required_and_settle_not_negative():
    fake = FakeWindows()
    res = run(fake, {"state": "present"})
    assert res["failed"] and "run_id" in res["msg"] and fake.calls == []
    res = run(fake, {"state": "present", "run_id": "r1", "settle": -1})
    assert res["failed"] and "settle" in res["msg"] and fake.calls == []


def test_unreadable_lock_fails_with_the_fix():
    fake = FakeWindows()
    fake.set_reg(KEY, "RunLock", "not json")
    res = run(fake, {"state": "present", "run_id": "r1"})
    assert res["failed"] and "RunLock" in res["msg"] and "not a JSON object" in res["msg"] and fake.writes() == []


def test_pid_alive():
    import os

    assert pid_alive(os.getpid()) and not pid_alive(DEAD) and pid_alive("x") and pid_alive(None)


def test_a_check_run_releases_the_lock_it_would_take():
    fake = FakeWindows()
    tv = {"ansible_check_mode": True, "osce_run_id": "r1"}
    res = run(fake, {"state": "present", "run_id": "r1"}, check_mode=True, task_vars=dict(tv))
    assert res["changed"] and res["held_by_us"]
    prediction = res["ansible_facts"]["osce_prediction"]
    assert prediction["lock"]["run_id"] == "r1"
    res = run(fake, {"state": "absent", "run_id": "r1"}, check_mode=True, task_vars=dict(tv, osce_prediction=prediction))
    assert res["changed"] and res["diff"]["after"] == {"lock": None}
    assert res["ansible_facts"]["osce_prediction"]["lock"] is None
    assert fake.writes() == [] and lock_of(fake) is None
    # without the prediction (the lock was never really taken) there would be nothing to release
    res = run(fake, {"state": "absent", "run_id": "r1"}, check_mode=True, task_vars=dict(tv))
    assert res["changed"] is False


# -- site batch jobs: leases of the budget (share > 0) -------------------------------------------------

def lease(fake, run_id, share, sites, controller="ctl2", pid=100, started="2026-12-02T10:15:00Z"):
    value = {"run_id": run_id, "controller": controller, "user": "alice", "pid": pid, "started": started,
             "share": share, "sites": sites}
    fake.set_reg(KEY, f"RunShare.{run_id}", json.dumps(value))


def take(fake, run_id, share, sites, settle=0.0, **kw):
    return run(fake, {"state": "present", "run_id": run_id, "share": share, "sites": sites, "settle": settle}, **kw)


def test_two_site_jobs_share_the_budget_and_release_their_own_lease():
    fake = FakeWindows()
    res = take(fake, "a", 0.5, ["site1"])
    assert res["changed"] and res["held_by_us"] and res["lock"] is None
    assert lock_of(fake, "RunShare.a")["share"] == 0.5 and lock_of(fake, "RunShare.a")["sites"] == ["site1"]
    res = take(fake, "b", 0.5, ["site2"])
    assert res["changed"] and sorted(res["shares"]) == ["a", "b"]
    assert take(fake, "b", 0.5, ["site2"])["changed"] is False            # idempotent
    res = run(fake, {"state": "absent", "run_id": "a", "share": 0.5})
    assert res["changed"] and res["held_by_us"] is False and lock_of(fake, "RunShare.a") is None
    assert lock_of(fake, "RunShare.b") is not None                          # the other job's lease stays


def test_a_lease_is_refused_above_the_budget_on_a_claimed_site_and_under_the_run_lock():
    fake = FakeWindows()
    lease(fake, "a", 0.6, ["site1"])
    res = take(fake, "b", 0.5, ["site2"])
    assert res["failed"] and "the shares would add up to 1.1 of the budget" in res["msg"]
    res = take(fake, "b", 0.4, ["site1", "site2"])
    assert res["failed"] and "site site1 is in the lease of run a" in res["msg"]
    assert lock_of(fake, "RunShare.b") is None
    fake2 = FakeWindows()
    hold(fake2, "server-job")
    res = take(fake2, "b", 0.5, ["site2"])
    assert res["failed"] and "a server step holds the estate: run server-job" in res["msg"]
    res = take(fake2, "b", 0.5, ["site2"], check_mode=True)                  # --check reports it and goes on
    assert not res.get("failed") and "a real run would fail here" in res["warnings"][0]


def test_the_run_lock_waits_for_live_leases_and_removes_dead_ones():
    fake = FakeWindows()
    lease(fake, "a", 0.5, ["site1"])
    res = run(fake, {"state": "present", "run_id": "server"})
    assert res["failed"] and "site batch jobs hold leases: site batch job a (share 0.5, sites site1)" in res["msg"]
    assert lock_of(fake) is None
    fake = FakeWindows()
    lease(fake, "a", 0.5, ["site1"], controller=HERE, pid=DEAD)              # its ansible-playbook is gone
    res = run(fake, {"state": "present", "run_id": "server"})
    assert not res.get("failed"), res.get("msg")
    assert res["held_by_us"] and lock_of(fake, "RunShare.a") is None and "removed a stale lease" in res["warnings"][0]


def test_the_later_of_two_concurrent_writers_gives_way():
    fake = FakeWindows()

    def other_job_writes(_seconds):   # wrote its lease for the same site before this one re-reads
        lease(fake, "early", 0.5, ["site1"], started="2026-12-02T18:39:59Z")

    res = take(fake, "late", 0.5, ["site1"], sleep=other_job_writes, settle=0.5)
    assert res["failed"] and "gives way: site site1 is in the lease of run early" in res["msg"]
    assert lock_of(fake, "RunShare.late") is None and lock_of(fake, "RunShare.early") is not None

    fake = FakeWindows()

    def server_job_writes(_seconds):
        hold(fake, "server-job")

    res = take(fake, "a", 0.5, ["site1"], sleep=server_job_writes, settle=0.5)
    assert res["failed"] and "a server step took the lock at the same time" in res["msg"]
    assert lock_of(fake, "RunShare.a") is None


def test_unlock_breaks_a_dead_lease_by_its_run_id():
    fake = FakeWindows()
    lease(fake, "a", 0.5, ["site1"])
    res = run(fake, {"state": "absent", "run_id": "a", "break_lock": "a"})
    assert res["changed"] and lock_of(fake, "RunShare.a") is None and lock_of(fake, "LockBroken")["run_id"] == "a"


def test_share_must_be_a_part_of_the_budget():
    res = take(FakeWindows(), "a", 1.5, ["site1"])
    assert res["failed"] and "share" in res["msg"] and "must be from 0 to 1" in res["msg"]
