"""Rollout report at estate scale: rollout.json, junit.xml and report.html for 50,000 clients.

The run is synthetic and recorded, not played: the events the callback would see in a site.yml run
(server step, client batches of ``serial`` 500 with client_upgrade start and finish, the verify play
over every client, the run outcome) are generated first and then replayed into the recorder
(``plugins/plugin_utils/_report_recorder.py``); the figure is the time from the first replayed
event to the three files on disk, in CPU seconds of this process (``time.process_time``: on a shared
machine wall time counts the other processes too; it is printed as a comment), and the peak memory
that takes (tracemalloc, in a second pass).

The last two lines are one figure each (see bench/README.md)::

    report_50k_s: <seconds>          limit 5 s
    report_50k_peak_mb: <MB>         limit 500 MB

Exit status 1 when a figure is over its limit.
"""
from __future__ import annotations

import argparse
import gc
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "osce" / "patching"
if not LINK.exists():  # the same import shim as the root conftest.py
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(ROOT, target_is_directory=True)
    except FileExistsError:
        pass
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.osce.patching.plugins.module_utils import report as core  # noqa: E402
from ansible_collections.osce.patching.plugins.module_utils.chain import DONE_LEVELS  # noqa: E402
from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS  # noqa: E402
from ansible_collections.osce.patching.plugins.module_utils.verdicts import VERDICTS  # noqa: E402
from ansible_collections.osce.patching.plugins.plugin_utils import _report_recorder as recorder  # noqa: E402
from ansible_collections.osce.patching.plugins.plugin_utils import _report_render as render  # noqa: E402

LIMITS = {"report_50k_s": 5.0, "report_50k_peak_mb": 500.0}
FORMATS = {"report_50k_s": "{:.3f}", "report_50k_peak_mb": "{:.1f}"}
SIZES = {"x86": 37_200_000, "x64": 44_200_000}
SERVER = "osce-srv"


class Clock:
    """The recorder's clock during a replay: each event carries its own time."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client_name(i: int) -> str:
    return f"pc{i:06d}"


def events(n: int, serial: int = 500, sites: int = 40) -> list[tuple]:
    """The recorded events of a synthetic site.yml run over ``n`` clients.

    One in 50 clients is offline (unreachable, ignored), one in 200 fails its upgrade, one in 97 ends
    program_behind, one in 31 runs conventional scan. Each event is (method, time, args, kwargs).
    """
    out: list[tuple] = []
    t = 0.0
    clients = [client_name(i) for i in range(1, n + 1)]
    out.append(("play_start", t, (), {"uuid": "server", "name": "OSCE step cp5712r1 | server", "step": "cp5712r1",
                                      "hosts": [SERVER], "serial": None, "all_hosts": 1}))
    out.append(("host_vars", t, (SERVER, ["osce_server"], {"osce_build_map": {"sp3_patch2": [5600]}}), {}))
    for action, data, dt in (
            ("build_facts", {"ansible_facts": {"osce_server": {"level": "sp3_patch2", "sp_build": 5600,
                                                               "client_program": {"build": 5600}}}}, 5),
            ("patch_chain", {"changed": True, "level_before": "sp3_patch2", "level": "cp5712r1", "build": 5712,
                             "reboot_required": False, "steps": [{"id": "cp5712r1", "status": "applied"}]}, 900),
            ("build_facts", {"ansible_facts": {"osce_server": {"level": "cp5712r1", "sp_build": 5712,
                                                               "client_program": {"build": 5712}}}}, 5),
            ("set_fact", {"ansible_facts": {"osce_rollout": {
                "step": "cp5712r1", "hosts": clients, "serial": [serial], "throttle": 50, "total_bytes": n * SIZES["x64"],
                "predicted_makespan_s": 36_000.0, "lower_bound_s": 30_000.0, "warnings": [],
                "budget_bps": 125_000_000.0}}}, 1)):
        out.append(("task_started", t, (SERVER, action), {}))
        t += dt
        out.append(("task_done", t, (SERVER,), {"task_uuid": action, "action": action,
                                                "status": "changed" if data.get("changed") else "ok", "data": data,
                                                "groups": ["osce_server"]}))
    batches = [clients[i:i + serial] for i in range(0, n, serial)]
    for batch in batches:
        out.append(("play_start", t, (), {"uuid": "clients", "name": "OSCE step cp5712r1 | clients",
                                          "step": "cp5712r1", "hosts": batch, "serial": [serial], "all_hosts": n}))
        for name in batch:  # what the variable manager resolves at the host's first play
            i = int(name[2:])
            out.append(("host_vars", t, (name, ["osce_clients"], {
                "osce_client_arch": "x86" if i % 3 == 0 else "x64", "osce_site": f"site{i % sites:02d}"}), {}))
        start = t
        for phase in ("start", "finish"):
            for k, name in enumerate(batch):
                i = int(name[2:])
                arch = "x86" if i % 3 == 0 else "x64"
                t0 = start + (k % 50) * 2.0 + (0 if phase == "start" else 400.0)
                out.append(("task_started", t0, (name, "upgrade-" + phase), {}))
                if i % 50 == 7:
                    if phase == "start":
                        out.append(("task_done", t0 + 30, (name,), {
                            "task_uuid": "upgrade-" + phase, "action": "client_upgrade", "status": "unreachable",
                            "data": {"msg": "WinRM: connection refused", "unreachable": True},
                            "ignore_unreachable": True, "groups": ["osce_clients"]}))
                    continue
                failed = phase == "finish" and i % 200 == 3
                data = {"changed": phase == "start", "phase": phase, "build_before": 5600,
                        "build": 5600 if phase == "start" or failed else 5712, "arch": arch,
                        "bytes_expected": SIZES[arch] if phase == "start" else 0, "reboot_required": True}
                if failed:
                    data["msg"] = f"{name}: did not reach build 5712 in 1800 s (still 5600). Fix: check the client"
                out.append(("task_done", t0 + (300.0 if phase == "start" else 120.0), (name,), {
                    "task_uuid": "upgrade-" + phase, "action": "client_upgrade",
                    "status": "failed" if failed else ("changed" if phase == "start" else "ok"), "data": data,
                    "groups": ["osce_clients"]}))
        t = start + 400.0 + 49 * 2.0 + 120.0 + 1.0
    out.append(("play_start", t, (), {"uuid": "verify", "name": "OSCE verify | clients", "step": None,
                                      "hosts": clients, "serial": None, "all_hosts": n}))
    for name in clients:
        i = int(name[2:])
        out.append(("task_started", t, (name, "verify"), {}))
        t += 0.01
        if i % 50 == 7:
            out.append(("task_done", t, (name,), {"task_uuid": "verify", "action": "pattern_verify",
                                                  "status": "unreachable", "data": {"msg": "unreachable"},
                                                  "ignore_unreachable": True, "groups": ["osce_clients"]}))
            continue
        verdict = ("program_behind" if i % 200 == 3 or i % 97 == 5 else
                   "conventional_scan" if i % 31 == 1 else "up_to_date")
        out.append(("task_done", t, (name,), {"task_uuid": "verify", "action": "pattern_verify", "status": "ok",
                                              "data": {"verdict": verdict, "evidence": {"program_build": 5712}},
                                              "groups": ["osce_clients"]}))
    held = [c for c in clients if int(c[2:]) % 200 == 3 or int(c[2:]) % 97 == 5]
    out.append(("play_start", t, (), {"uuid": "close", "name": "OSCE close | server", "step": None,
                                      "hosts": [SERVER], "serial": None, "all_hosts": 1}))
    out.append(("task_started", t, (SERVER, "outcome"), {}))
    out.append(("task_done", t + 1, (SERVER,), {"task_uuid": "outcome", "action": "set_fact", "status": "ok", "data": {
        "ansible_facts": {"osce_run_outcome": {"privilege": "held", "held_clients": held,
                                               "message": f"{len(held)} clients are still behind the server's build",
                                               "stopped": None}}}, "groups": ["osce_server"]}))
    return out


def replay(recorded: list[tuple], directory: str) -> dict:
    """Feed the recorded events to a recorder, build the document, write the three files; the document."""
    clock = Clock()
    rec = recorder.Recorder(run_id="bench-50k", clock=clock)
    rec.started = clock.now
    base = clock.now
    for method, when, args, kwargs in recorded:
        clock.now = base + when
        getattr(rec, method)(*args, **kwargs)
    run = rec.finish()
    report = core.build_report(run, rec.source(), levels=LEVELS, verdicts=VERDICTS, done_levels=DONE_LEVELS)
    render.write_report(report, directory)
    return report


def calibration() -> float:
    """CPU seconds of a 10-million-step Python loop: how fast this machine runs Python right now
    (about 0.4 s on an idle core of a 2020s x86_64 machine; far more on a loaded shared one)."""
    start = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - start


def measure(n: int = 50_000) -> dict:
    loop_s = calibration()
    recorded = events(n)
    with tempfile.TemporaryDirectory() as tmp:
        gc.collect()
        start, wall = time.process_time(), time.perf_counter()
        report = replay(recorded, tmp)
        elapsed, wall = time.process_time() - start, time.perf_counter() - wall
        sizes = {p.name: p.stat().st_size for p in Path(tmp).iterdir()}
        del report
        gc.collect()
        tracemalloc.start()
        replay(recorded, tmp)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    notes = [f"{n} clients, {len(recorded)} recorded events; files: "
             + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items())),
             f"report_50k_s is CPU time of this process (time.process_time); wall time {wall:.3f} s "
             "(on a shared machine wall time also counts the other processes' work)",
             f"calibration: a 10M-step Python loop took {loop_s:.2f} s of CPU (about 0.4 s on an idle core)",
             f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
             "(the recorded events included)"]
    return {"report_50k_s": elapsed, "report_50k_peak_mb": peak / 1e6, "notes": notes}


def print_figures(fig: dict, names) -> None:
    """One ``name: value`` line per figure in ``names`` (bench/README.md: the lines scripts read)."""
    for name in names:
        print(f"{name}: {FORMATS[name].format(fig[name])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50_000, help="clients in the synthetic run")
    args = parser.parse_args()
    print(f"# report bench: python {platform.python_version()} on {platform.machine()}")
    fig = measure(args.clients)
    for note in fig["notes"]:
        print(f"# {note}")
    print_figures(fig, FORMATS)
    over = [f"{name} {fig[name]:.2f} > {limit}" for name, limit in LIMITS.items() if fig[name] > limit]
    if over:
        print("# over the limit: " + "; ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
