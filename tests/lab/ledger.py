#!/usr/bin/env python3
"""Report on a lab fleet's transfer ledger: makespan, bytes, peak bandwidth, peak concurrency.

    python tests/lab/ledger.py DIR [--json] [--no-drain]

DIR is the fleet's state dir (the folder holding lab/ledger.jsonl; for inventories/lab: inventories/lab/.state).
By default pending downloads and installs (notified clients nobody waited for, AutoPcc installs
still running when the play ended) are first finished on the network model and applied to the
clients ("drained"), so the report covers every download the run caused.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from osce_lab.network import Lab  # noqa: E402
from osce_lab.osce import Fleet, settle_all  # noqa: E402


def resolve(fleet) -> Path:
    p = Path(fleet)
    if (p / "lab" / "lab.json").exists():
        return p
    if (p / ".state" / "lab" / "lab.json").exists():
        return p / ".state"
    raise SystemExit(f"ledger: no lab/lab.json under {p}")


def summary(fleet, drain: bool = True) -> dict:
    lab = Lab(resolve(fleet))
    if drain:
        settle_all(Fleet(resolve(fleet)))
    recs = lab.ledger()
    segs = []
    if lab.bw_path.exists():
        segs = [json.loads(l) for l in lab.bw_path.read_text().splitlines() if l.strip()]
    if not recs:
        return {"transfers": 0, "bytes": 0, "makespan": 0.0, "peak_bps": 0.0, "peak_concurrency": 0,
                "by_trigger": {}, "by_kind": {}, "max_simultaneous_starts": 0, "records": []}
    start = min(r["start"] for r in recs)
    end = max(r["end"] for r in recs)
    starts = Counter(round(r["start"], 6) for r in recs if r["kind"] == "package")
    return {
        "transfers": len(recs),
        "bytes": sum(r["bytes"] for r in recs),
        "first_start": start,
        "last_end": end,
        "makespan": end - start,
        "peak_bps": max((s["bps"] for s in segs), default=0.0),
        "peak_concurrency": max((s["transfers"] for s in segs), default=0),
        "by_trigger": dict(Counter(r["trigger"] for r in recs)),
        "by_kind": dict(Counter(r["kind"] for r in recs)),
        "max_simultaneous_starts": max(starts.values(), default=0),
        "records": sorted(recs, key=lambda r: r["seq"]),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fleet")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-drain", action="store_true")
    a = ap.parse_args(argv)
    s = summary(a.fleet, drain=not a.no_drain)
    if a.json:
        print(json.dumps(s, indent=1))
        return
    print(f"transfers: {s['transfers']}  bytes: {s['bytes']:,}  makespan: {s['makespan']:.1f} s (virtual)")
    print(f"peak bandwidth: {s['peak_bps'] * 8 / 1e6:.1f} Mbit/s  peak concurrency: {s['peak_concurrency']}  "
          f"max simultaneous package starts: {s['max_simultaneous_starts']}")
    print(f"by trigger: {s['by_trigger']}  by kind: {s['by_kind']}")
    for r in s["records"]:
        print(f"  #{r['seq']:<4} {r['host']:<10} {r['kind']:<8} {r['name']:<16} {r['bytes']:>11,} B  "
              f"{r['trigger']:<8} start {r['start']:9.2f}  done {r['transfer_end']:9.2f}  end {r['end']:9.2f}")


if __name__ == "__main__":
    main()
