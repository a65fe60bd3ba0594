"""The network model by hand: max-min fairness, the virtual clock, the ledger (no Ansible)."""
from __future__ import annotations

import json

import pytest

from labkit import make_fleet
from osce_lab.network import Lab, max_min_fair
from ledger import summary


def test_max_min_fair_by_hand():
    # uplink 10 shared by a, b, c; c also alone on a 2-wide downlink:
    # c is frozen at 2; a and b share the remaining 8 -> 4 each
    r = max_min_fair({"a": ["up", "da"], "b": ["up", "db"], "c": ["up", "dc"]},
                     {"up": 10, "da": 100, "db": 100, "dc": 2})
    assert r == pytest.approx({"a": 4, "b": 4, "c": 2})
    # a site link of 3 shared by a and b; c alone on the uplink: a = b = 1.5, c = 10 - 3 = 7
    r = max_min_fair({"a": ["up", "s", "da"], "b": ["up", "s", "db"], "c": ["up", "dc"]},
                     {"up": 10, "s": 3, "da": 100, "db": 100, "dc": 100})
    assert r == pytest.approx({"a": 1.5, "b": 1.5, "c": 7})


@pytest.fixture
def lab(tmp_path):
    out = tmp_path / "f"
    # uplink 80 Mbit/s = 1e7 B/s, downlink 32 Mbit/s = 4e6 B/s, install 5 s
    make_fleet.main(["--out", str(out), "--server-level", "cp5712r1", "--web", "apache", "--clients", "3",
                     "--uplink-mbps", "80", "--downlink-mbps", "32", "--install-seconds", "5", "--mode", "instant"])
    return out


def test_clock_and_ledger_by_hand(lab):
    L = Lab(lab)
    # A: 2e7 B, B: 1e7 B start together; both limited by uplink share 5e6 -> downlink 4e6 binds first:
    # each gets min(4e6, 1e7/2) = 4e6. B done at 1e7/4e6 = 2.5 s; A then alone at 4e6:
    # A has 2e7 - 1e7 = 1e7 left -> 2.5 s more -> transfer done at 5.0 s; +5 s install -> 10.0 s.
    a = L.start("pc0001", "package", "A", 20_000_000, trigger="test", install_seconds=5)
    b = L.start("pc0002", "package", "B", 10_000_000, trigger="test", install_seconds=5)
    rb = L.wait(b)
    assert rb["transfer_end"] == pytest.approx(2.5) and rb["end"] == pytest.approx(7.5)
    ra = L.wait(a)
    assert ra["transfer_end"] == pytest.approx(5.0) and ra["end"] == pytest.approx(10.0)
    # Three at once on a 1e7 uplink with 4e6 downlinks: 1e7/3 = 3.333e6 each (< 4e6):
    # 1e7 B / 3.333e6 = 3.0 s; starts at 10.0 -> transfer_end 13.0, no install.
    ids = [L.start(f"pc000{i}", "pattern", "P", 10_000_000, trigger="test") for i in (1, 2, 3)]
    for i in ids:
        assert L.wait(i)["end"] == pytest.approx(13.0)
    s = summary(lab)
    assert s["transfers"] == 5
    assert s["makespan"] == pytest.approx(13.0)
    assert s["peak_bps"] == pytest.approx(1e7)       # the uplink, saturated by the three
    assert s["peak_concurrency"] == 3
    assert s["bytes"] == 60_000_000


def test_drain_finishes_background(lab):
    L = Lab(lab)
    L.start("pc0001", "package", "bg", 8_000_000, trigger="notify", install_seconds=5)
    assert summary(lab, drain=False)["transfers"] == 0
    s = summary(lab)           # 8e6 / 4e6 = 2 s + 5 s install
    assert s["transfers"] == 1 and s["last_end"] == pytest.approx(7.0)
    assert json.loads((lab / "lab" / "clock.json").read_text())["items"] == {}


@pytest.fixture
def realtime_lab(tmp_path):
    out = tmp_path / "rt"
    make_fleet.main(["--out", str(out), "--server-level", "cp5712r1", "--web", "apache", "--clients", "3",
                     "--uplink-mbps", "80", "--downlink-mbps", "32", "--install-seconds", "5",
                     "--mode", "realtime", "--settle", "0.1"])
    return out


def test_controller_task_marker_holds_the_clock(realtime_lab, monkeypatch):
    """A fresh busy/task-<host> (lab_clock callback: the controller works on that host) keeps the clock
    still; a stale or expired one does not; the waiter's own host marker never blocks it."""
    import os
    import threading
    import time

    L = Lab(realtime_lab)
    busy = realtime_lab / "lab" / "busy"
    busy.mkdir(exist_ok=True)
    other = busy / "task-pc0003"
    other.touch()
    assert L._others_busy()
    os.utime(other, (0, 0))  # stale: that host's module is blocked on the clock
    assert not L._others_busy()
    old = time.time() - L.task_grace() - 1
    os.utime(other, (old, old))  # expired backstop: a marker nobody cleared
    assert not L._others_busy()

    other.touch()
    own = busy / "task-pc0001"
    own.touch()
    monkeypatch.setenv("OSCE_LAB_STATE", str(realtime_lab / "hosts" / "pc0001.json"))
    item = L.start("pc0001", "package", "A", 4_000_000, trigger="test", install_seconds=0)
    done = {}
    waiter = threading.Thread(target=lambda: done.update(L.wait(item)))
    waiter.start()
    time.sleep(0.6)  # six quiet periods: only the other host's fresh marker holds the clock
    assert not done and L.now() == 0.0
    assert own.stat().st_mtime == 0  # the waiter marked its own host as blocked
    other.unlink()  # the controller has that host's result
    waiter.join(timeout=10)
    assert done["end"] == pytest.approx(1.0)  # 4e6 B at the 4e6 B/s downlink
    assert time.time() - own.stat().st_mtime < 5  # fresh again: its module runs on
