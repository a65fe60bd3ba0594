# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report's files: junit.xml and report.html from the rollout.json document.

Controller-only (writes files). Input is the document ``module_utils/report.py`` builds; nothing
here computes a figure the document does not hold.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import html
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.report import PASSING_VERDICTS as PASSING
from ansible_collections.osce.patching.plugins.module_utils.verdicts import VERDICTS


# --------------------------------------------------------------------------- JUnit


def junit_xml(report: Mapping[str, Any]) -> str:
    """One ``testcase`` per host; failure for failed hosts and online clients not verified."""
    suite = ET.Element("testsuite", name=f"osce.patching.rollout {report['run_id']}",
                       timestamp=str(report.get("started_at", "")))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for h in report["hosts"]:
        t = h.get("timings", {})
        duration = max(0.0, (t.get("end_s") or 0.0) - (t.get("start_s") or 0.0)) + (t.get("verify_s") or 0.0)
        total_time += duration
        case = ET.SubElement(suite, "testcase", classname=f"osce.patching.rollout.{h.get('role', 'host')}",
                             name=h["name"], time=f"{duration:.3f}")
        totals["tests"] += 1
        detail = (f"level {h['level_before']} -> {h['level_after']}; verdict {h['verdict']}; "
                  f"bytes {h['bytes']}; reboot_required {h['reboot_required']}; batch {h['batch']}")
        unverified = (h.get("role") == "client" and h["online"] and h["verdict"] not in PASSING)
        if h.get("failed") or h["errors"]:
            fail = ET.SubElement(case, "failure", type="failed",
                                 message=(h["errors"][0] if h["errors"] else "failed"))
            fail.text = "\n".join(h["errors"] + [detail])
            totals["failures"] += 1
        elif h.get("role") == "client" and not h["online"]:
            ET.SubElement(case, "skipped", message="offline: not reached in this run; a rerun picks it up")
            totals["skipped"] += 1
        elif unverified and report.get("check_mode"):
            ET.SubElement(case, "skipped", message=f"check mode: verdict {h['verdict']} is a prediction")
            totals["skipped"] += 1
        elif unverified:
            fail = ET.SubElement(case, "failure", type="unverified",
                                 message=f"verdict {h['verdict']} (expected up_to_date)")
            fail.text = detail
            totals["failures"] += 1
        out = ET.SubElement(case, "system-out")
        out.text = detail
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.set("time", f"{total_time:.3f}")
    root = ET.Element("testsuites", name="osce.patching rollout", time=f"{total_time:.3f}",
                      **{k: str(v) for k, v in totals.items() if k != "skipped"})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- HTML

VERDICT_COLORS = {"up_to_date": "#2e7d32", "conventional_scan": "#6d8f3a", "program_behind": "#c62828",
                  "crcz_missing": "#d84315", "bf_in_use": "#ef6c00", "agent_pattern_behind": "#f9a825",
                  "unknown": "#757575", "offline": "#9e9e9e"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#57606a;margin:0 0 16px}
.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:120px}
.tile b{display:block;font-size:20px} .tile span{color:#57606a;font-size:12px}
.good b{color:#2e7d32} .bad b{color:#c62828} .warn b{color:#ef6c00}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0} td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.chip{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px}
.err{color:#c62828} .note{color:#57606a;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#1f2328} svg .ax{stroke:#8c959f;stroke-width:1}
svg .grid{stroke:#eaeef2;stroke-width:1}
"""


def _fmt_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 3600:
        return f"{s / 3600:.2f} h"
    if s >= 120:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def _mbit(bps: float | None) -> str:
    return "-" if bps is None else f"{bps * 8 / 1e6:.1f} Mbit/s"


def _axis_unit(span: float) -> tuple[float, str]:
    """One unit for every label of a time axis."""
    if span >= 3 * 3600:
        return 3600.0, "h"
    if span >= 300:
        return 60.0, "min"
    return 1.0, "s"


def _ticks(maximum: float, count: int = 5) -> list[float]:
    if maximum <= 0:
        return [0.0]
    raw = maximum / count
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(maximum / step) + 1)]


def _svg_timeline(report: Mapping[str, Any], width: int = 960) -> str:
    batches = report["batches"]
    if not batches:
        return '<p class="note">No client batches ran in this run.</p>'
    left, right, row, top = 230, 20, 22, 10
    span = max((b["end_s"] for b in batches), default=0.0) or 1.0
    plot = width - left - right
    height = top + row * len(batches) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Batch timeline">']
    unit, name = _axis_unit(span)
    for tick in _ticks(span / unit, 8):
        x = left + plot * tick * unit / span
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}"/>'
                     f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{tick:g} {name}</text>')
    for i, b in enumerate(batches):
        y = top + i * row
        x0 = left + plot * b["start_s"] / span
        w = max(2.0, plot * (b["end_s"] - b["start_s"]) / span)
        color = "#c62828" if b["failures"] else "#1f6feb"
        label = f"{b.get('step') or b.get('play', '')} {b.get('batch_in_play', i + 1)}/{b.get('batches_in_play', '?')}"
        title = (f"batch {i}: {len(b['hosts'])} host(s), {_fmt_bytes(b['bytes'])}, {_fmt_s(b['start_s'])} - "
                 f"{_fmt_s(b['end_s'])}, {b['failures']} failed")
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)} '
                     f'({len(b["hosts"])})</text>'
                     f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" rx="3" fill="{color}">'
                     f'<title>{html.escape(title)}</title></rect>')
        if b["failures"]:
            parts.append(f'<text x="{x0 + w + 4:.1f}" y="{y + 15}" class="err">{b["failures"]} failed</text>')
    parts.append(f'<line class="ax" x1="{left}" y1="{height - 24}" x2="{width - right}" y2="{height - 24}"/></svg>')
    return "".join(parts)


def _svg_bandwidth(report: Mapping[str, Any], width: int = 960, height: int = 260) -> str:
    series = report.get("bandwidth") or []
    budget = report.get("fleet", {}).get("budget_bps") or report.get("budget_bps")
    if not series:
        return '<p class="note">No downloads were recorded in this run.</p>'
    left, right, top, bottom = 70, 20, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max([t for t, _r in series] + [b["end_s"] for b in report.get("batches", [])]) or 1.0  # same axis as the timeline
    peak = max(r for _t, r in series)
    ymax = max(peak, budget or 0.0) * 1.12 or 1.0

    def xy(t: float, r: float) -> str:
        return f"{left + plot_w * t / span:.1f},{top + plot_h * (1 - r / ymax):.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Bandwidth over time">']
    for tick in _ticks(ymax * 8 / 1e6, 5):
        y = top + plot_h * (1 - tick * 1e6 / 8 / ymax)
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    unit, name = _axis_unit(span)
    for tick in _ticks(span / unit, 8):
        x = left + plot_w * tick * unit / span
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{tick:g} {name}</text>')
    points = []
    prev_r = 0.0
    for t, r in series:
        points.append(xy(t, prev_r))
        points.append(xy(t, r))
        prev_r = r
    area = f"{xy(series[0][0], 0)} " + " ".join(points) + f" {xy(series[-1][0], 0)}"
    parts.append(f'<polygon points="{area}" fill="#1f6feb" fill-opacity="0.18" stroke="none"/>'
                 f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>')
    if budget:
        y = top + plot_h * (1 - budget / ymax)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#c62828" '
                     f'stroke-width="1.5" stroke-dasharray="6 4"/><text x="{width - right - 4}" y="{y - 5:.1f}" '
                     f'text-anchor="end" fill="#c62828">budget {html.escape(_mbit(budget))}</text>')
    parts.append(f'<line class="ax" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>'
                 f'<line class="ax" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>'
                 f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
                 f'text-anchor="middle">Mbit/s</text></svg>')
    return "".join(parts)


def _svg_verdicts(counts: Mapping[str, int], offline: int, width: int = 560) -> str:
    rows = [(v, counts.get(v, 0)) for v in VERDICTS if counts.get(v)] + ([("offline", offline)] if offline else [])
    if not rows:
        return '<p class="note">No client verdicts in this run.</p>'
    left, row = 170, 24
    top = max(n for _v, n in rows) or 1
    plot = width - left - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(rows) + 6}" role="img" '
             f'aria-label="Clients per verdict">']
    for i, (verdict, n) in enumerate(rows):
        y = i * row + 3
        w = max(2.0, plot * n / top)
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{html.escape(verdict)}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 6}" rx="3" '
                     f'fill="{VERDICT_COLORS.get(verdict, "#757575")}"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 14}">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def outcome_line(outcome: Mapping[str, Any] | None) -> str:
    """One line on the upgrade privilege (the server fact osce_run_outcome), or ''."""
    if not outcome:
        return ""
    privilege = outcome.get("privilege")
    held = outcome.get("held_clients") or []
    text = f"privilege {privilege}" if privilege else "privilege unknown"
    if privilege == "held":
        text += f" for {len(held)} client(s)"
    if outcome.get("message"):
        text += f": {outcome['message']}"
    stopped = outcome.get("stopped")
    if stopped:
        text += f"; stopped: {stopped.get('reason', '')}. Fix: {stopped.get('fix', '')}"
    return text


def outcome_tiles(outcome: Mapping[str, Any] | None, tile) -> list[str]:
    if not outcome:
        return []
    privilege = outcome.get("privilege") or "-"
    held = outcome.get("held_clients") or []
    label = "upgrade privilege" + (f" ({len(held)} client(s) held)" if privilege == "held" else "")
    out = [tile(privilege, label, {"released": "good", "held": "warn"}.get(privilege, ""))]
    if outcome.get("stopped"):
        out.append(tile("stopped", outcome["stopped"].get("reason", ""), "bad"))
    return out


def report_html(report: Mapping[str, Any]) -> str:
    """A self-contained page (inline CSS and SVG, no external assets)."""
    fleet = report["fleet"]
    e = html.escape
    eff = fleet.get("efficiency")
    budget = fleet.get("budget_bps")
    peak = fleet.get("peak_bps")
    clients = [h for h in report["hosts"] if h.get("role") == "client"]
    good = sum(1 for h in clients if h["online"] and h["verdict"] in PASSING)
    online = sum(1 for h in clients if h["online"])
    source = ("lab transfer ledger (virtual time, measured bytes)" if fleet["source"] == "lab-ledger"
              else "Ansible task timings and the package sizes the modules report")

    def tile(value: str, label: str, cls: str = "") -> str:
        return f'<div class="tile {cls}"><b>{e(value)}</b><span>{e(label)}</span></div>'

    tiles = [
        tile(f"{good}/{online}", "online clients verified", "good" if good == online else "bad"),
        tile(str(fleet.get("failed", 0)), "hosts failed", "bad" if fleet.get("failed") else "good"),
        tile(str(fleet.get("offline", 0)), "clients offline", "warn" if fleet.get("offline") else ""),
        tile(str(len(report["batches"])), "client batches"),
        tile(_fmt_bytes(fleet.get("bytes")), "downloaded"),
        tile(_fmt_s(fleet.get("downloads_span_s", fleet["makespan_s"])), "downloads span (sum of the steps' client rollouts)"),
        tile(_fmt_s(fleet.get("rollout_span_s")), "rollout span (the timeline: first download to last batch end)"),
        tile(_fmt_s(fleet["lower_bound_s"]) if budget else "-", "physical floor"),
        tile("-" if eff is None else f"{eff:.0%}", "efficiency (floor / downloads span)",
             "" if eff is None else ("good" if 0.85 <= eff <= 1.0 else "warn")),
        tile(_mbit(peak), "peak bandwidth" + (f" (budget {_mbit(budget)})" if budget else ""),
             "bad" if budget and peak and peak > budget * 1.001 else ""),
    ]
    tiles += outcome_tiles(report.get("outcome"), tile)
    rows = []
    for h in report["hosts"]:
        t = h.get("timings", {})
        verdict = h["verdict"] if h["online"] or h.get("role") != "client" else "offline"
        steps = ", ".join(f"{s['id']} ({s['status']})" for s in h["steps"]) or "-"
        errors = "<br>".join(e(x) for x in h["errors"])
        rows.append(
            f"<tr><td>{e(h['name'])}</td><td>{e(h.get('role', ''))}</td><td>{e(str(h.get('arch') or '-'))}</td>"
            f"<td class=n>{'-' if h['batch'] is None else h['batch']}</td>"
            f"<td>{e(str(h['level_before'] or '-'))} &rarr; {e(str(h['level_after'] or '-'))}</td>"
            f"<td>{e(steps)}</td>"
            f"<td><span class=chip style=\"background:{VERDICT_COLORS.get(verdict, '#757575')}\">{e(verdict)}</span></td>"
            f"<td class=n>{e(_fmt_bytes(h['bytes']))}</td><td class=n>{e(_fmt_s(t.get('start_s')))}</td>"
            f"<td class=n>{e(_fmt_s(t.get('end_s')))}</td>"
            f"<td>{'yes' if h['reboot_required'] else ('no' if h['reboot_required'] is False else '-')}</td>"
            f"<td class=err>{errors}</td></tr>")
    batch_rows = []
    for b in report["batches"]:
        batch_rows.append(
            f"<tr><td class=n>{b['index']}</td><td>{e(str(b.get('step') or '-'))}</td>"
            f"<td class=n>{b.get('batch_in_play', '')}/{b.get('batches_in_play', '')}</td>"
            f"<td class=n>{len(b['hosts'])}</td><td class=n>{e(_fmt_bytes(b['bytes']))}</td>"
            f"<td class=n>{e(_fmt_s(b['start_s']))}</td><td class=n>{e(_fmt_s(b['end_s']))}</td>"
            f"<td class=n>{e(_fmt_s(b['end_s'] - b['start_s']))}</td><td class=n>{e(_mbit(b.get('peak_bps')))}</td>"
            f"<td class='n{' err' if b['failures'] else ''}'>{b['failures']}</td></tr>")
    plan = report.get("plan") or {}
    plan_note = ""
    if plan:
        plan_note = (f"<p class=note>Planner (prediction, not a source of the figures above): serial "
                     f"{e(str(plan.get('serial', '-')))}, throttle {e(str(plan.get('throttle', '-')))}, predicted "
                     f"{e(_fmt_s(plan.get('predicted_makespan_s')))} against a floor of "
                     f"{e(_fmt_s(plan.get('lower_bound_s')))}.</p>")
    check = " &middot; <b>check mode</b> (nothing was changed; steps read would_apply)" if report.get("check_mode") else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>OSCE rollout {e(report['run_id'])}</title>
<style>{CSS}</style></head><body>
<h1>OfficeScan rollout report &mdash; {e(report['run_id'])}</h1>
<p class=sub>{e(report.get('started_at', ''))} &rarr; {e(report.get('finished_at', ''))} &middot; target
{e(str(report.get('target_level', '')))} &middot; numbers from the {e(source)}{check}</p>
<div class=tiles>{''.join(tiles)}</div>
<h2>Client batches</h2>{_svg_timeline(report)}
<h2>Bandwidth over time</h2>{_svg_bandwidth(report)}
<p class=note>Blue: bandwidth used by client downloads{' (measured by the lab network)' if fleet['source'] == 'lab-ledger'
    else ' (each download at its average rate over its client_upgrade task)'}; red dashes: the budget.</p>
<h2>Clients per verdict</h2>{_svg_verdicts(fleet.get('counts', {}), fleet.get('offline', 0))}
{plan_note}
<h2>Batches</h2><table><thead><tr><th>#</th><th>step</th><th>in play</th><th>hosts</th><th>bytes</th><th>start</th>
<th>end</th><th>duration</th><th>peak</th><th>failed</th></tr></thead><tbody>{''.join(batch_rows)}</tbody></table>
<h2>Hosts</h2><table><thead><tr><th>host</th><th>role</th><th>arch</th><th>batch</th><th>level</th><th>steps</th>
<th>verdict</th><th>bytes</th><th>start</th><th>end</th><th>reboot</th><th>errors</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<p class=note>Written by the osce.patching.rollout_report callback; rollout.json holds the same data.</p>
</body></html>
"""


def write_report(report: Mapping[str, Any], directory: str) -> list[str]:
    """Write rollout.json, junit.xml and report.html into ``directory``; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    files = {"rollout.json": json.dumps(report, indent=1, sort_keys=False) + "\n",
             "junit.xml": junit_xml(report), "report.html": report_html(report)}
    paths = []
    for name, text in files.items():
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        paths.append(path)
    return paths

