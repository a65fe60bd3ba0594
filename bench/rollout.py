"""Rollout benchmark: playbooks/site.yml on one generated lab fleet, the planner against plain serial.

Four real ansible-playbook runs of site.yml through tests/lab/ansible-lab, each on a fresh copy of the
same generated fleet (same seed: same clients, same architectures):

- link = budget, planner (the roles' default)          -> makespan_over_floor
- link = budget, the baseline an admin would write:
  ``osce_serial: ["10%"]`` and no throttle              -> baseline_makespan_over_floor, ours_over_baseline
- link = 5 x budget, planner                           -> peak_over_budget
- link = 5 x budget, baseline                          -> baseline_peak_over_budget

Every figure comes from the lab's transfer ledger (tests/lab/ledger.py), not from the plan: makespan is
first download start to last install end, the floor is total bytes / budget + the shortest
single-client install, peak is the highest aggregate rate on the server uplink. The planner figures
of bench/planner.py are measured again and printed last, so the last lines of ``make bench`` are the
issue's figures (bench/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRAPPER = ROOT / "tests" / "lab" / "ansible-lab"
MAKE_FLEET = ROOT / "tests" / "lab" / "make_fleet.py"
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import planner  # noqa: E402  (bench/planner.py: the planner timing, reprinted last)
from ledger import summary  # noqa: E402  (tests/lab/ledger.py: the lab's transfer ledger)

MBIT = 125_000.0  # bytes per second in one Mbit/s
FAST_LINK = 5.0   # the second pair of runs: a link this many times the budget


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=300, help="clients in the fleet (default 300)")
    ap.add_argument("--x86-share", type=float, default=0.4, help="share of 32-bit clients (default 0.4)")
    ap.add_argument("--budget-mbps", type=float, default=50.0, help="rollout budget, Mbit/s (default 50)")
    ap.add_argument("--downlink-mbps", type=float, default=10.0,
                    help="one client's download rate, Mbit/s (default 10; it divides the budget)")
    ap.add_argument("--install-seconds", type=float, default=120.0,
                    help="one client's install time, virtual seconds (default 120)")
    ap.add_argument("--settle", type=float, default=0.1,
                    help="lab quiet period before the virtual clock jumps, real seconds (default 0.1)")
    ap.add_argument("--forks", type=int, default=40,
                    help="Ansible forks for every run (default 40: the baseline's 10%% batch is not capped)")
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--planner-runs", type=int, default=5, help="bench/planner.py --runs (default 5)")
    ap.add_argument("--keep", metavar="DIR", help="keep the fleets, logs and reports in DIR")
    return ap.parse_args(argv)


def make_fleet(out: Path, args: argparse.Namespace, uplink_mbps: float) -> Path:
    """The benchmark fleet: server at SP3 Patch 2 (one step to go: CP 5712r1, the FAQ's client sizes),
    every client online and on smart scan, no SPS or TMCM gates."""
    cmd = [sys.executable, str(MAKE_FLEET), "--out", str(out), "--server-level", "sp3_patch2", "--web", "apache",
           "--clients", str(args.clients), "--x86-share", str(args.x86_share), "--conventional-share", "0",
           "--offline", "0", "--sps-version", "none", "--tmcm-version", "none",
           "--uplink-mbps", str(uplink_mbps), "--budget-mbps", str(args.budget_mbps),
           "--downlink-mbps", str(args.downlink_mbps), "--install-seconds", str(args.install_seconds),
           "--mode", "realtime", "--settle", str(args.settle), "--seed", str(args.seed)]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    return out


def run_site(fleet: Path, run_id: str, args: argparse.Namespace, reports: Path, extra_vars: dict) -> dict:
    """One real site.yml run; fails the benchmark (exit 1) when the playbook fails."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_FORKS=str(args.forks),
               ANSIBLE_CALLBACKS_ENABLED="osce.patching.rollout_report", OSCE_REPORT_DIR=str(reports),
               OSCE_REPORT_RUN_ID=run_id, OSCE_REPORT_LEDGER=str(fleet))
    cmd = [str(WRAPPER), "ansible-playbook", "-i", str(fleet / "inventory.yml"), "playbooks/site.yml"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - started
    (reports / f"{run_id}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        sys.exit(f"bench/rollout.py: site.yml failed for {run_id} (rc {proc.returncode}); log "
                 f"{reports / (run_id + '.log')}:\n{tail}")
    report = json.loads((reports / run_id / "rollout.json").read_text())
    return {"wall_s": wall, "report": report}


def ledger_figures(fleet: Path, budget_bps: float, clients: int) -> dict:
    """Makespan, floor and peak from the lab's ledger; every client must have downloaded once."""
    led = summary(fleet)
    packages = [r for r in led["records"] if r["kind"] == "package"]
    hosts = {r["host"] for r in packages}
    if len(hosts) != clients or len(packages) != clients:
        sys.exit(f"bench/rollout.py: {fleet}: {len(packages)} package downloads by {len(hosts)} clients, "
                 f"expected one by each of {clients}")
    floor = led["bytes"] / budget_bps + min(r["install_seconds"] for r in led["records"])
    return {"makespan_s": led["makespan"], "floor_s": floor, "bytes": led["bytes"], "peak_bps": led["peak_bps"],
            "peak_concurrency": led["peak_concurrency"]}


def describe(name: str, run: dict, fig: dict, budget_bps: float) -> str:
    batches = run["report"].get("batches", [])
    sizes = [len(b["hosts"]) for b in batches]
    return (f"# {name}: {len(batches)} batches {sizes if len(sizes) <= 12 else sizes[:12] + ['...']}, "
            f"{fig['bytes'] / 1e6:.0f} MB, makespan {fig['makespan_s']:.0f} s, floor {fig['floor_s']:.0f} s, "
            f"peak {fig['peak_bps'] / 1e6:.2f} MB/s ({fig['peak_concurrency']} at once) vs budget "
            f"{budget_bps / 1e6:.2f} MB/s; report efficiency {run['report']['fleet'].get('efficiency')}; "
            f"{run['wall_s']:.0f} s real")


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = args.budget_mbps * MBIT
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="osce-bench-rollout-"))
    work.mkdir(parents=True, exist_ok=True)
    reports = work / "reports"
    reports.mkdir(exist_ok=True)
    baseline_vars = {"osce_serial": ["10%"], "osce_throttle": args.clients}  # a throttle of everyone: none
    runs = [("ours", 1.0, {}), ("baseline", 1.0, baseline_vars),
            ("ours_fast", FAST_LINK, {}), ("baseline_fast", FAST_LINK, baseline_vars)]
    print(f"# rollout bench: python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.clients} clients ({args.x86_share:.0%} x86), budget {args.budget_mbps:g} Mbit/s, client "
          f"{args.downlink_mbps:g} Mbit/s, install {args.install_seconds:g} s, forks {args.forks}, "
          f"settle {args.settle:g} s; work dir {work}", flush=True)
    figures = {}
    for name, link, extra in runs:
        fleet = make_fleet(work / name, args, args.budget_mbps * link)
        run = run_site(fleet, name, args, reports, extra)
        figures[name] = ledger_figures(fleet, budget, args.clients)
        print(describe(f"{name} (link {link:g} x budget)", run, figures[name], budget), flush=True)

    ours, base = figures["ours"], figures["baseline"]
    results = {
        "makespan_over_floor": ours["makespan_s"] / ours["floor_s"],
        "baseline_makespan_over_floor": base["makespan_s"] / base["floor_s"],
        "ours_over_baseline": ours["makespan_s"] / base["makespan_s"],
        "peak_over_budget": figures["ours_fast"]["peak_bps"] / budget,
        "baseline_peak_over_budget": figures["baseline_fast"]["peak_bps"] / budget,
    }
    timing = planner.measure(args.planner_runs)
    for note in timing["notes"]:
        print(f"# planner {note}")
    print("# targets: makespan_over_floor <= 1.10, ours_over_baseline <= 0.75, peak_over_budget <= 1.00")
    for name, value in results.items():
        print(f"{name}: {value:.3f}")
    planner.print_figures(timing, ("planner_100k_s", "planner_growth_10k_to_100k"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
