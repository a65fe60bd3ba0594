"""Rollout benchmark: playbooks/site.yml on one generated lab fleet, the planner against plain serial.

Default (``make bench``, about 11 min on 2 shared cores): 50 clients, budget = client downlink = 10 Mbit/s
(throttle 1), install 100 s: the same X / I and baseline batch count as the full run, see bench/README.md for
what is and is not scale-invariant. ``--full`` (``make bench-full``, about an hour): 300 clients, budget
50 Mbit/s (throttle 5), the figures of docs/performance.md's first table.

Four real ansible-playbook runs of site.yml (three in the default run: ours only on the fast link) through tests/lab/ansible-lab, each on a fresh copy of the
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
import resource
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
CLIENT_STEPS = 1  # chain steps each client takes here: the server starts at SP3 Patch 2, one step (CP 5712r1)


# The two sizes (bench/README.md "Why these sizes"): X / I = 16.6 in both (X = bytes / budget: 1,987 s and 1,656 s).
FULL = {"clients": 300, "budget_mbps": 50.0, "downlink_mbps": 10.0, "install_seconds": 120.0}
QUICK = {"clients": 50, "budget_mbps": 10.0, "downlink_mbps": 10.0, "install_seconds": 100.0}
COST_CLIENTS = 6  # the small extra run: controller cost = fixed + per client x clients, two sizes give both


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true",
                    help="the hour-long run: 300 clients, budget 50 Mbit/s, throttle 5 (make bench-full)")
    ap.add_argument("--clients", type=int, help="clients in the fleet (default 50; --full 300)")
    ap.add_argument("--x86-share", type=float, default=0.4, help="share of 32-bit clients (default 0.4)")
    ap.add_argument("--budget-mbps", type=float, help="rollout budget, Mbit/s (default 10; --full 50)")
    ap.add_argument("--downlink-mbps", type=float,
                    help="one client's download rate, Mbit/s (default 10; it divides the budget)")
    ap.add_argument("--install-seconds", type=float,
                    help="one client's install time, virtual seconds (default 100; --full 120)")
    ap.add_argument("--settle", type=float, default=0.1,
                    help="lab quiet period before the virtual clock jumps, real seconds (default 0.1)")
    ap.add_argument("--forks", type=int, default=40,
                    help="Ansible forks for every run (default 40: the baseline's 10%% batch is not capped)")
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--cost-clients", type=int, default=COST_CLIENTS,
                    help=f"clients of the extra small run that separates the controller's fixed cost from its "
                         f"cost per client (default {COST_CLIENTS}; 0 = no such run)")
    ap.add_argument("--planner-runs", type=int, default=5, help="bench/planner.py --runs (default 5)")
    ap.add_argument("--keep", metavar="DIR", help="keep the fleets, logs and reports in DIR")
    args = ap.parse_args(argv)
    for key, value in (FULL if args.full else QUICK).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


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


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished, waited-for descendant of this process."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_site(fleet: Path, run_id: str, args: argparse.Namespace, reports: Path, extra_vars: dict) -> dict:
    """One real site.yml run; fails the benchmark (exit 1) when the playbook fails.

    CPU: ``cpu_s`` is the whole ansible-playbook process tree (the wrapper, the controller, its forks and
    every module process: getrusage(RUSAGE_CHILDREN) around the run, all of them are waited for). The lab's
    share is what the stand-in module processes log at exit (``OSCE_LAB_CPU_LOG``, tests/lab/osce_lab/
    standin.py: each process's own CPU, interpreter start-up and the launcher included): on a real estate
    that is the Windows hosts' CPU, not the controller's. ``controller_cpu_s`` = the rest."""
    cpu_log = reports / f"{run_id}.cpu.jsonl"
    cpu_log.unlink(missing_ok=True)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_FORKS=str(args.forks),
               ANSIBLE_CALLBACKS_ENABLED="osce.patching.rollout_report", OSCE_REPORT_DIR=str(reports),
               OSCE_REPORT_RUN_ID=run_id, OSCE_REPORT_LEDGER=str(fleet), OSCE_LAB_CPU_LOG=str(cpu_log),
               # a process per module call, inside the measured tree: its CPU is counted, then subtracted
               # (a fork server's children are not this process's descendants)
               OSCE_LAB_FORKSERVER="0")
    cmd = [str(WRAPPER), "ansible-playbook", "-i", str(fleet / "inventory.yml"), "playbooks/site.yml"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    started, cpu0 = time.monotonic(), children_cpu()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.monotonic() - started, children_cpu() - cpu0
    (reports / f"{run_id}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        sys.exit(f"bench/rollout.py: site.yml failed for {run_id} (rc {proc.returncode}); log "
                 f"{reports / (run_id + '.log')}:\n{tail}")
    report = json.loads((reports / run_id / "rollout.json").read_text())
    calls = [json.loads(line) for line in cpu_log.read_text().splitlines()] if cpu_log.exists() else []
    lab_cpu = sum(c["cpu"] for c in calls)
    return {"wall_s": wall, "report": report, "cpu_s": cpu, "lab_cpu_s": lab_cpu, "lab_calls": len(calls),
            "lab_wait_cpu_s": sum(c.get("wait_cpu", 0.0) for c in calls), "controller_cpu_s": cpu - lab_cpu}


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
            f"{run['wall_s']:.0f} s real, CPU {run['cpu_s']:.0f} s = controller {run['controller_cpu_s']:.0f} s + "
            f"lab {run['lab_cpu_s']:.0f} s ({run['lab_calls']} module calls, {run['lab_wait_cpu_s']:.1f} s of it "
            f"polling the lab clock)")


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
    if not args.full:
        # make bench: ours runs once, on the fast link. Its throttle holds the budget, so the link above the budget
        # is never used and the makespan is the one on a link = budget (measured: 2,270 / 2,269 s at 300 clients,
        # 1,856 / 1,856 s at 50); a rollout that broke the budget would fail peak_over_budget. bench/README.md.
        runs = [r for r in runs if r[0] != "ours"]
    print(f"# rollout bench: python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.clients} clients ({args.x86_share:.0%} x86), budget {args.budget_mbps:g} Mbit/s, client "
          f"{args.downlink_mbps:g} Mbit/s, install {args.install_seconds:g} s, forks {args.forks}, "
          f"settle {args.settle:g} s; work dir {work}", flush=True)
    figures, cost = {}, {}
    for name, link, extra in runs:
        fleet = make_fleet(work / name, args, args.budget_mbps * link)
        cost[name] = run = run_site(fleet, name, args, reports, extra)
        figures[name] = ledger_figures(fleet, budget, args.clients)
        print(describe(f"{name} (link {link:g} x budget)", run, figures[name], budget), flush=True)
    if "ours" not in figures:
        figures["ours"], cost["ours"] = figures["ours_fast"], cost["ours_fast"]
    small_link = 1.0 if args.full else FAST_LINK  # the same link as the run it is compared with
    if args.cost_clients:
        small = argparse.Namespace(**{**vars(args), "clients": args.cost_clients})
        fleet = make_fleet(work / "ours_small", small, args.budget_mbps * small_link)
        cost["ours_small"] = run = run_site(fleet, "ours_small", small, reports, {})
        print(describe(f"ours_small ({args.cost_clients} clients, link {small_link:g} x budget)", run,
                       ledger_figures(fleet, budget, args.cost_clients), budget), flush=True)

    ours, base = figures["ours"], figures["baseline"]
    results = {
        "makespan_over_floor": ours["makespan_s"] / ours["floor_s"],
        "baseline_makespan_over_floor": base["makespan_s"] / base["floor_s"],
        "ours_over_baseline": ours["makespan_s"] / base["makespan_s"],
        "peak_over_budget": figures["ours_fast"]["peak_bps"] / budget,
        "baseline_peak_over_budget": figures["baseline_fast"]["peak_bps"] / budget,
    }
    cost = {name: c for name, c in cost.items() if name != "ours" or args.full}  # each run once
    lab_calls = sum(c["lab_calls"] for c in cost.values())
    results["lab_cpu_per_call_s"] = sum(c["lab_cpu_s"] for c in cost.values()) / max(1, lab_calls)
    results["lab_wait_share"] = sum(c["lab_wait_cpu_s"] for c in cost.values()) / max(
        1e-9, sum(c["lab_cpu_s"] for c in cost.values()))
    if "ours_small" in cost:
        big, few = cost["ours" if args.full else "ours_fast"], cost["ours_small"]
        per_client = (big["controller_cpu_s"] - few["controller_cpu_s"]) / (args.clients - args.cost_clients)
        calls_per_client = (big["lab_calls"] - few["lab_calls"]) / (args.clients - args.cost_clients)
        results["module_calls_per_client_step"] = calls_per_client / CLIENT_STEPS
        results["controller_cpu_per_client_step_s"] = per_client / CLIENT_STEPS
        results["controller_cpu_per_call_s"] = per_client / calls_per_client
        results["controller_cpu_fixed_s"] = big["controller_cpu_s"] - per_client * args.clients
        print(f"# controller cost (ours runs, {args.cost_clients} and {args.clients} clients): "
              f"{few['controller_cpu_s']:.1f} s and {big['controller_cpu_s']:.1f} s of CPU, i.e. "
              f"{results['controller_cpu_fixed_s']:.1f} s fixed + {per_client:.3f} s per client "
              f"({calls_per_client:.1f} module calls per client, {CLIENT_STEPS} step)")
    timing = planner.measure(args.planner_runs)
    for note in timing["notes"]:
        print(f"# planner {note}")
    print("# targets: makespan_over_floor <= 1.10, ours_over_baseline <= 0.75, peak_over_budget <= 1.00")
    for name, value in results.items():
        print(f"{name}: {value:.4f}" if name.endswith("_s") and value < 10 else f"{name}: {value:.3f}")
    planner.print_figures(timing, ("planner_100k_s", "planner_growth_10k_to_100k"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
