"""Planner timing: plan_rollout for 10,000 and 100,000 clients in one invocation.

Best of several runs each (the minimum is the least noisy estimate of the planner's own cost).
The fleet is a realistic mix: two thirds 64-bit, one in fifty offline, eight sites of which two have
their own link budget (so the site interleave and per-site checks run too, without tightening the
throttle). No maintenance window: both sizes do the same work per client.

The last two lines are one figure each (see bench/README.md)::

    planner_100k_s: <seconds>
    planner_growth_10k_to_100k: <100k time / 10k time>   (linear = about 10)
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
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

from ansible_collections.osce.patching.plugins.module_utils.rollout import plan_rollout  # noqa: E402

SIZES = {"x86": 39_007_437, "x64": 46_347_060}  # CP 5712r1, FAQ sizes read as MiB
OPTIONS = dict(package_bytes=SIZES, budget_bps=125_000_000, client_bps=12_500_000,
               site_budgets={"site6": 125_000_000, "site7": 250_000_000}, install_s=180)


def fleet(n: int) -> list[dict]:
    return [{"name": f"pc{i:07d}", "arch": "x86" if i % 3 == 0 else "x64", "site": f"site{i % 8}",
             "online": i % 50 != 7} for i in range(n)]


def best_of(clients: list[dict], runs: int) -> tuple[float, object]:
    best = float("inf")
    plan = None
    for dummy in range(runs):
        start = time.perf_counter()
        plan = plan_rollout(clients, **OPTIONS)
        best = min(best, time.perf_counter() - start)
    return best, plan


def measure(runs: int = 5) -> dict:
    """Best planner time for 10k and 100k clients (``runs`` for 100k, 4 × runs for 10k) and their ratio;
    ``notes`` are comment lines describing the plans."""
    small, big = fleet(10_000), fleet(100_000)
    best_of(small, 1)  # warm-up: imports, allocator
    t_small, plan_small = best_of(small, runs * 4)  # short runs: more of them
    t_big, plan_big = best_of(big, runs)
    notes = [f"{label}: {t:.4f}s, {plan.clients} online, serial {len(plan.serial)} batches "
             f"{plan.serial[:4]}..., throttle {plan.throttle}, predicted/floor {plan.predicted_over_floor:.3f}"
             for label, t, plan in (("10k", t_small, plan_small), ("100k", t_big, plan_big))]
    return {"planner_10k_s": t_small, "planner_100k_s": t_big, "planner_growth_10k_to_100k": t_big / t_small,
            "notes": notes}


FORMATS = {"planner_10k_s": "{:.4f}", "planner_100k_s": "{:.4f}", "planner_growth_10k_to_100k": "{:.2f}"}


def print_figures(fig: dict, names) -> None:
    """One ``name: value`` line per figure in ``names`` (bench/README.md: the lines scripts read)."""
    for name in names:
        print(f"{name}: {FORMATS[name].format(fig[name])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per size (best is reported)")
    args = parser.parse_args()
    print(f"# planner bench: python {platform.python_version()} on {platform.machine()}, "
          f"best of {args.runs} runs")
    fig = measure(args.runs)
    for note in fig["notes"]:
        print(f"# {note}")
    print_figures(fig, FORMATS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
