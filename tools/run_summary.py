"""Print the short human summary of a rollout from its report: ``python tools/run_summary.py reports/<run-id>``.

`make demo` ends with it. It reads only ``rollout.json`` (written by the osce.patching.rollout_report
callback), so what it prints is what the report says, not what the plan predicted.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def summary(report_dir: Path) -> list[str]:
    report = json.loads((report_dir / "rollout.json").read_text(encoding="utf-8"))
    lines = []
    for host in report.get("hosts", []):
        if host.get("role") != "server":
            continue
        applied = [s["id"] for s in host.get("steps", []) if s.get("status") in ("applied", "pending_reboot")]
        lines.append(
            f"Server {host['name']}: {host.get('level_before') or '?'} -> {host.get('level_after') or '?'}; "
            f"steps applied: {', '.join(applied) if applied else 'none (nothing was due)'}"
        )
    fleet = report.get("fleet", {})
    counts = fleet.get("counts", {})
    verdicts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())) or "none verified"
    lines.append(f"Clients: {verdicts}; offline {fleet.get('offline', 0)}; failed {fleet.get('failed', 0)}")
    if fleet.get("makespan_s"):
        span = fleet.get("rollout_span_s")
        lines.append(
            f"Client rollout: {fleet.get('bytes', 0) / 1e6:.1f} MB in {fleet['makespan_s']:.0f} s of downloads "
            f"(floor {fleet.get('lower_bound_s', 0):.0f} s, efficiency {fleet.get('efficiency') or 0:.2f}, "
            f"source {fleet.get('source', '?')})" + (f"; rollout span {span:.0f} s" if span else "")
        )
    outcome = report.get("outcome")
    if outcome and outcome.get("summary"):  # the callback writes the sentence (module_utils/report.py)
        lines.append("Upgrade " + outcome["summary"])
    lines.append("Report files: " + ", ".join(str(report_dir / name) for name in ("rollout.json", "junit.xml", "report.html")))
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/run_summary.py reports/<run-id>", file=sys.stderr)
        return 2
    report_dir = Path(argv[0])
    if not (report_dir / "rollout.json").is_file():
        print(f"run_summary: {report_dir}/rollout.json does not exist: was the rollout_report callback enabled?", file=sys.stderr)
        return 1
    print("\n".join(summary(report_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
