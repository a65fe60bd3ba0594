"""pattern_verify min_free_bytes: the client's system drive against a threshold (one win_disk_facts)."""
from __future__ import annotations

from fake_windows import APP, CLIENT_KEY, FakeWindows, make_action

from ansible_collections.osce.patching.plugins.action.pattern_verify import ActionModule

SERVER = {"client_program": {"build": 5712}, "patterns": {"agent": "411"}, "cp_installed": True, "level": "cp5712r1"}
# the same server with a step due: every client may take a package in this run
CHAIN_DUE = {**SERVER, "chain": {"steps": [{"id": "cp5712r1", "from_level": "cp5712"}]}}


def client(free=50 * 2**30):
    fake = FakeWindows()
    fake.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", "10.6.5712")
    for f in ("CRCz.ptn", "icrc$oth.411"):
        fake.put(APP + f, "x")
    fake.disks = [{"drive_letter": "D", "size": 10 * 2**30, "size_remaining": 9 * 2**30},
                  {"drive_letter": "C", "size": 100 * 2**30, "size_remaining": free}]
    return fake


def run(fake, args=None, **kw):
    action, tv = make_action(ActionModule, {"server_facts": CHAIN_DUE if "disk_margin_bytes" in (args or {}) else SERVER,
                                            "fail_on": [], **(args or {})}, fake,
                             host="pc1", **kw)
    return action.run(task_vars=tv), action


def test_zero_skips_the_read():
    fake = client()
    res, action = run(fake)
    assert "disk" not in res and fake.count("win_disk_facts") == 0 and action.gateway.round_trips == 2


def test_enough_space_is_ok_in_one_round_trip():
    fake = client()
    res, action = run(fake, {"min_free_bytes": 300_000_000})
    assert not res.get("failed"), res.get("msg")
    assert res["disk"] == {"drive": "C", "free_bytes": 50 * 2**30, "required_bytes": 300_000_000, "ok": True}
    assert fake.count("win_disk_facts") == 1 and action.gateway.round_trips == 3 and res["changed"] is False


def test_short_drive_is_reported_in_one_line_without_failing():
    fake = client(free=100 * 10**6)
    res, _action = run(fake, {"min_free_bytes": 300_000_000}, check_mode=True)
    assert not res.get("failed") and res["disk"]["ok"] is False and res["disk"]["free_bytes"] == 100 * 10**6
    assert res["disk"]["problem"] == ("min_free_bytes: drive C: on pc1 has 100000000 bytes free, less than required "
                                      "(got 300000000). Fix: free disk space on the client before it takes the package")


def test_system_disk_flag_picks_the_drive():
    fake = client()

    def disk_facts(_args):
        return {"changed": False, "ansible_facts": {"ansible_disks": [
            {"number": 0, "system_disk": False, "partitions": [{"drive_letter": "C", "volumes": [{"size_remaining": 1}]}]},
            {"number": 1, "system_disk": True, "partitions": [{"drive_letter": None, "volumes": []},
                                                              {"drive_letter": "E", "volumes": [{"size_remaining": 7}]}]},
        ]}}

    fake._m_win_disk_facts = disk_facts
    res, _action = run(fake, {"min_free_bytes": 5})
    assert res["disk"] == {"drive": "E", "free_bytes": 7, "required_bytes": 5, "ok": True}


def test_drive_not_found():
    fake = client()
    fake.disks = [{"drive_letter": "D", "size": 1, "size_remaining": 1}]
    res, _action = run(fake, {"min_free_bytes": 5})
    assert res["disk"]["ok"] is False and res["disk"]["free_bytes"] is None
    assert res["disk"]["problem"].startswith("min_free_bytes: drive C: not found on pc1 (got 5). Fix:")


def test_disk_margin_sizes_the_need_from_the_client_package():
    fake = client(free=100 * 10**6)
    res, action = run(fake, {"disk_margin_bytes": 104_857_600}, check_mode=True,
                      task_vars={"osce_package_bytes": {"x86": 1, "x64": 2}})
    disk = res["disk"]
    assert not res.get("failed") and disk["ok"] is False and disk["free_bytes"] == 100 * 10**6
    # x64 client (Wow6432Node key): CP 5712r1's 44.2 MB package, CRCz.ptn, the margin
    assert disk["need"] == {"arch": "x64", "package_bytes": 46_347_060, "crcz_bytes": 20_971_520,
                            "margin_bytes": 104_857_600}
    assert disk["required_bytes"] == 46_347_060 + 20_971_520 + 104_857_600
    assert disk["problem"].startswith("pc1: drive C: has less free space than the 172176180 bytes its upgrade needs")
    assert fake.count("win_disk_facts") == 1 and action.gateway.round_trips == 3


def test_disk_margin_with_enough_space_has_no_problem():
    res, _action = run(client(), {"disk_margin_bytes": 0})
    assert res["disk"]["ok"] is True and "problem" not in res["disk"]


def test_disk_margin_and_min_free_bytes_exclude_each_other():
    res, _action = run(client(), {"disk_margin_bytes": 0, "min_free_bytes": 5})
    assert res["failed"] and "mutually exclusive" in res["msg"]


def test_disk_margin_reads_nothing_for_a_client_that_takes_no_package():
    """A rerun: the client is on the build the server offers and no step is due, so no download will come."""
    fake = client(free=1)
    action, tv = make_action(ActionModule, {"server_facts": SERVER, "fail_on": [], "disk_margin_bytes": 0}, fake,
                             host="pc1")
    res = action.run(task_vars=tv)
    assert res["disk"] == {"skipped": "takes no package in this run (on the server's client build, no step due)"}
    assert fake.count("win_disk_facts") == 0 and action.gateway.round_trips == 2
    # behind the offered build: read
    fake.set_reg(CLIENT_KEY + "\\Misc.", "ProgramVer", "10.6.5495")
    action, tv = make_action(ActionModule, {"server_facts": SERVER, "fail_on": [], "disk_margin_bytes": 0}, fake,
                             host="pc1")
    res = action.run(task_vars=tv)
    assert res["disk"]["ok"] is False and fake.count("win_disk_facts") == 1
