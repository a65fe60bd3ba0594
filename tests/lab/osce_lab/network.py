"""Virtual clock, network model and transfer ledger.

Network model (all rates in bytes per virtual second, 1 MB = 10**6 bytes):

* every client download crosses the OSCE server's uplink (``uplink_bps``), shared by all
  concurrent downloads;
* optionally the link of the client's site (``sites: {name: bps}``), shared by that site's downloads;
* the client's own downlink (``downlink_bps``, per client, default ``default_downlink_bps``);
* concurrent downloads share these links max-min fairly (progressive filling);
* after its download a client installs for ``install_seconds`` (virtual, per client) — no network.

Clock (file ``<fleet>/lab/clock.json``, guarded by flock): ``start()`` registers a download at the
current virtual time; ``wait()`` blocks the calling module process in real time until the virtual
clock reaches the item's completion. The clock only jumps to the next completion event after the
lab has been quiet (no start/finish registered) for ``settle_seconds`` of real time and nothing is
busy (no stand-in running un-blocked, no controller task in flight for a host that is not blocked on
the clock: ``<fleet>/lab/busy/``), so Ansible's
controller overhead costs no virtual time while its scheduling (which downloads overlap: serial
batches, throttle, forks) is exactly what gets observed. In ``instant`` mode the waiter advances the
clock at once (no real waiting) — good for functional tests; overlap then depends on process races.

Ledger: ``<fleet>/lab/ledger.jsonl`` gets one record per finished item; ``bandwidth.jsonl`` one
record per clock interval with the aggregate rate. ``tests/lab/ledger.py`` reports makespan and peak.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .state import flocked, read_json, write_json

EPS = 1e-9
TASK_MARKER = "task-"     # <fleet>/lab/busy/task-<host>: the controller runs a task on <host>
TASK_GRACE_MIN_S = 30.0  # longer than a worker takes to start its module on a loaded machine
WAIT_CPU = [0.0]         # CPU seconds this process spent in Lab.wait (polling the clock), for the CPU log


def touch_existing(path: Path | None, stale: bool = False) -> None:
    """Refresh a marker's time (``stale``: set it to the epoch) if it exists; never create one."""
    if path is None:
        return
    try:
        os.utime(path, (0, 0) if stale else None)
    except FileNotFoundError:
        pass


def max_min_fair(flows: dict, caps: dict) -> dict:
    """flows: id -> list of link names; caps: link -> capacity. Returns id -> rate (progressive filling)."""
    rates = {f: 0.0 for f in flows}
    left = dict(caps)
    active = {f for f, links in flows.items() if links}
    while active:
        users = {}
        for f in active:
            for link in flows[f]:
                users.setdefault(link, []).append(f)
        inc = min(left[l] / len(u) for l, u in users.items())
        for f in active:
            rates[f] += inc
        for l, u in users.items():
            left[l] -= inc * len(u)
        saturated = {l for l in users if left[l] <= EPS * max(1.0, caps[l])}
        active = {f for f in active if not (set(flows[f]) & saturated)}
    return rates


class Lab:
    """The shared lab files of a fleet: config, clock, ledger."""

    def __init__(self, fleet_dir):
        self.dir = Path(fleet_dir) / "lab"
        self.config = read_json(self.dir / "lab.json")
        self.clock_path = self.dir / "clock.json"
        self.ledger_path = self.dir / "ledger.jsonl"
        self.bw_path = self.dir / "bandwidth.jsonl"

    # --------------------------------------------------------------- helpers
    @property
    def net(self) -> dict:
        return self.config["network"]

    def _load(self) -> dict:
        if self.clock_path.exists():
            return read_json(self.clock_path)
        return {"now": 0.0, "seq": 0, "last_activity": 0.0, "items": {}, "done": {}}

    def _links(self, item: dict) -> list:
        links = ["uplink", "down:" + item["host"]]
        site = item.get("site")
        if site and site in self.net.get("sites", {}):
            links.append("site:" + site)
        return links

    def _caps(self, items) -> dict:
        caps = {"uplink": float(self.net["uplink_bps"])}
        for s, bps in self.net.get("sites", {}).items():
            caps["site:" + s] = float(bps)
        for it in items:
            caps["down:" + it["host"]] = float(it["downlink_bps"])
        return caps

    def rates(self, st: dict) -> dict:
        moving = [i for i in st["items"].values() if i["phase"] == "transfer"]
        return max_min_fair({i["id"]: self._links(i) for i in moving}, self._caps(moving))

    # --------------------------------------------------------------- public
    def start(self, host: str, kind: str, name: str, nbytes: int, *, trigger: str, site=None,
              downlink_bps=None, install_seconds: float = 0.0, seconds: float | None = None) -> str:
        """Register a download (or, with ``seconds``, a plain timer such as a server install)."""
        with flocked(self.clock_path):
            st = self._load()
            st["seq"] += 1
            iid = f"{st['seq']}"
            item = {"id": iid, "seq": st["seq"], "host": host, "kind": kind, "name": name,
                    "bytes": int(nbytes), "remaining": float(nbytes), "trigger": trigger, "site": site,
                    "downlink_bps": float(downlink_bps or self.net["default_downlink_bps"]),
                    "install_seconds": float(install_seconds), "start": st["now"],
                    "phase": "transfer", "transfer_end": None, "end_at": None}
            if seconds is not None:
                item.update(phase="timer", end_at=st["now"] + float(seconds), bytes=0, remaining=0.0)
            elif nbytes <= 0:
                item.update(phase="install", transfer_end=st["now"], end_at=st["now"] + item["install_seconds"])
            st["items"][iid] = item
            st["last_activity"] = time.time()
            write_json(self.clock_path, st)
        return iid

    def _advance(self, st: dict) -> None:
        """Jump to the next completion event and finish what completes there."""
        items = st["items"]
        if not items:
            return
        rates = self.rates(st)
        now = st["now"]
        cands = []
        for i in items.values():
            if i["phase"] == "transfer":
                r = rates.get(i["id"], 0.0)
                if r > 0:
                    cands.append(now + i["remaining"] / r)
            else:
                cands.append(i["end_at"])
        t = max(now, min(cands))
        dt = t - now
        total = sum(rates.values())
        if dt > 0:
            with open(self.bw_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"t0": now, "t1": t, "bps": total,
                                     "transfers": sum(1 for r in rates.values() if r > 0)}) + "\n")
        st["now"] = t
        finished = []
        for i in list(items.values()):
            if i["phase"] == "transfer":
                i["remaining"] -= rates.get(i["id"], 0.0) * dt
                if i["remaining"] <= 1e-6 * max(1.0, i["bytes"]) + 1e-6:
                    i["remaining"] = 0.0
                    i["transfer_end"] = t
                    i["phase"] = "install"
                    i["end_at"] = t + i["install_seconds"]
            if i["phase"] in ("install", "timer") and i["end_at"] <= t + 1e-9:
                finished.append(i)
        for i in finished:
            del items[i["id"]]
            rec = {k: i[k] for k in ("seq", "host", "kind", "name", "bytes", "trigger", "site", "start",
                                      "transfer_end", "install_seconds")}
            rec["end"] = i["end_at"]
            st["done"][i["id"]] = rec
            if i["kind"] != "timer":
                with open(self.ledger_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rec) + "\n")
        st["last_activity"] = time.time()

    def _others_busy(self) -> bool:
        """Another lab module process is running and not blocked on the clock (see standin.mark_busy),
        or the controller has a task in flight for a host that is not blocked on the clock (a fresh
        ``task-<host>`` marker, see tests/lab/callback_plugins/lab_clock.py)."""
        busy = self.dir / "busy"
        if not busy.is_dir():
            return False
        now = time.time()
        for m in busy.iterdir():
            if m.name.startswith(TASK_MARKER):
                try:
                    if now - m.stat().st_mtime < self.task_grace():
                        return True
                except FileNotFoundError:
                    pass
                continue
            pid = int(m.name) if m.name.isdigit() else 0
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, ValueError, OSError):
                m.unlink(missing_ok=True)  # a dead process's marker
                continue
            return True
        return False

    def task_grace(self) -> float:
        """How long a task marker counts as busy after it was last refreshed: a backstop, so a marker the
        controller never cleared (a crash, a result processed late) delays the clock but never stops it."""
        return max(TASK_GRACE_MIN_S, 4 * float(self.config.get("settle_seconds", 1.0)))

    def task_marker(self) -> Path | None:
        """This module process's host task marker (stand-ins know their host from OSCE_LAB_STATE)."""
        state = os.environ.get("OSCE_LAB_STATE")
        return self.dir / "busy" / f"{TASK_MARKER}{Path(state).stem}" if state else None

    def wait(self, iid: str, until: str = "end") -> dict:
        """Block until item ``iid`` is finished (``until="transfer"``: until its download has ended, the
        install may still run); returns its ledger record (or the item, for ``transfer``).

        realtime: the clock jumps to the next event only when the lab has been quiet for
        ``settle_seconds`` AND no other lab module is busy (running but not waiting here)."""
        mode = self.config.get("mode", "realtime")
        settle = float(self.config.get("settle_seconds", 1.0))
        marker = self.dir / "busy" / str(os.getpid())
        was_busy = marker.exists()
        marker.unlink(missing_ok=True)   # waiting on the clock is not being busy
        task = self.task_marker()
        touch_existing(task, stale=True)  # nor is the controller's task for this host while it waits
        cpu0 = time.process_time()
        seen = None  # (clock.json's identity, its last_activity) as of the last locked read
        try:
            while True:
                if seen is not None and self._unchanged(seen[0]) and (
                        time.time() - seen[1] < settle or self._others_busy()):
                    # The clock file is the one read last time (so neither return condition changed) and the
                    # clock may not jump yet: skip the lock and the JSON parse (the lab's own waste while
                    # dozens of modules wait, docs/lab.md "Cost of a module call"). When it may jump, the
                    # locked path below decides again on fresh state, as before.
                    time.sleep(min(0.05, settle / 4))
                    continue
                with flocked(self.clock_path):
                    st = self._load()
                    if iid in st["done"]:
                        return st["done"][iid]
                    item = st["items"].get(iid)
                    if until == "transfer" and item is not None and item["transfer_end"] is not None:
                        return dict(item)
                    if mode == "instant" or (time.time() - st["last_activity"] >= settle
                                             and not self._others_busy()):
                        self._advance(st)
                        write_json(self.clock_path, st)
                        continue
                    seen = (self._identity(), st["last_activity"])
                time.sleep(min(0.05, settle / 4))
        finally:
            WAIT_CPU[0] += time.process_time() - cpu0
            if was_busy:
                marker.touch()
            touch_existing(task)

    def _identity(self):
        """clock.json's (inode, mtime, size): every write replaces the file (write_json), so a read under the
        lock and this tuple describe the same content."""
        try:
            s = os.stat(self.clock_path)
        except FileNotFoundError:
            return None
        return (s.st_ino, s.st_mtime_ns, s.st_size)

    def _unchanged(self, identity) -> bool:
        return identity is not None and self._identity() == identity

    def drain(self) -> float:
        """Finish every pending item at once (end of a run); returns the final virtual time."""
        with flocked(self.clock_path):
            st = self._load()
            while st["items"]:
                self._advance(st)
            write_json(self.clock_path, st)
            return st["now"]

    def now(self) -> float:
        with flocked(self.clock_path, exclusive=False):
            return self._load()["now"]

    def ledger(self) -> list:
        if not self.ledger_path.exists():
            return []
        return [json.loads(l) for l in self.ledger_path.read_text().splitlines() if l.strip()]

    def pending(self) -> list:
        with flocked(self.clock_path, exclusive=False):
            return list(self._load()["items"].values())
