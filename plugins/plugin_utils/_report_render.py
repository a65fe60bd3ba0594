# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report's files: rollout.json, junit.xml and report.html from the report document.

Controller-only (writes files). Input is the document ``module_utils/report.py`` builds; nothing
here computes a figure the document does not hold, except the per-site and per-batch summaries of
the HTML page, which are sums of its host entries.

Estate scale (bench/report.py: 50,000 clients): the JSON is written one host per line with the C
encoder, the JUnit text is assembled directly, and the HTML page draws at most ``TIMELINE_ROWS``
timeline rows and ``TABLE_ROWS`` host rows (failed, held and offline clients first); its small inline
script filters every host from an embedded JSON array. No network resource, ever.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from ansible_collections.osce.patching.plugins.module_utils.report import PASSING_VERDICTS as PASSING
from ansible_collections.osce.patching.plugins.module_utils.verdicts import VERDICTS

#: Timeline rows drawn at the most; more batches are drawn in groups of consecutive batches.
TIMELINE_ROWS = 60
#: Host rows in the page's table (the filter box searches all hosts).
TABLE_ROWS = 500
#: Batch rows in the batch table.
BATCH_ROWS = 1000

# --------------------------------------------------------------------------- JUnit

_XML_ATTR = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _attr(value: Any) -> str:
    return '"' + _xml_escape(str(value), _XML_ATTR) + '"'


def junit_xml(report: Mapping[str, Any]) -> str:
    """One ``testcase`` per host; failure for failed hosts and online clients not verified.

    Offline clients, and unverified clients of a ``--check`` run, are ``skipped``.
    """
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    cases = []
    check_mode = bool(report.get("check_mode"))
    for h in report["hosts"]:
        t = h.get("timings", {})
        duration = max(0.0, (t.get("end_s") or 0.0) - (t.get("start_s") or 0.0)) + (t.get("verify_s") or 0.0)
        total_time += duration
        totals["tests"] += 1
        detail = _xml_escape(f"level {h['level_before']} -> {h['level_after']}; verdict {h['verdict']}; "
                             f"bytes {h['bytes']}; reboot_required {h['reboot_required']}; batch {h['batch']}")
        client = h.get("role") == "client"
        unverified = client and h["online"] and h["verdict"] not in PASSING
        if h.get("failed") or h["errors"]:
            body = (f'<failure type="failed" message={_attr(h["errors"][0] if h["errors"] else "failed")}>'
                    + "".join(_xml_escape(e) + "\n" for e in h["errors"]) + detail + "</failure>")
            totals["failures"] += 1
        elif client and not h["online"]:
            body = '<skipped message="offline: not reached in this run; a rerun picks it up"/>'
            totals["skipped"] += 1
        elif unverified and check_mode:
            body = f'<skipped message={_attr("check mode: verdict " + str(h["verdict"]) + " is a prediction")}/>'
            totals["skipped"] += 1
        elif unverified:
            message = _attr(f"verdict {h['verdict']} (expected up_to_date)")
            body = f'<failure type="unverified" message={message}>{detail}</failure>'

            totals["failures"] += 1
        else:
            body = ""
        classname = _attr("osce.patching.rollout." + str(h.get("role", "host")))
        body = f"{body}\n      " if body else ""
        cases.append(f'    <testcase classname={classname} name={_attr(h["name"])} time="{duration:.3f}">\n'
                     f"      {body}<system-out>{detail}</system-out>\n    </testcase>\n")
    counts = " ".join(f'{k}="{v}"' for k, v in totals.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="osce.patching rollout" time="{total_time:.3f}" tests="{totals["tests"]}" '
            f'failures="{totals["failures"]}" errors="0">\n'
            f'  <testsuite name={_attr("osce.patching.rollout " + str(report["run_id"]))} '
            f'timestamp={_attr(report.get("started_at", ""))} {counts} time="{total_time:.3f}">\n'
            + "".join(cases) + "  </testsuite>\n</testsuites>\n")


# --------------------------------------------------------------------------- JSON


_ENCODE = json.JSONEncoder(separators=(", ", ": ")).encode  # one encoder: json.dumps(..., separators=) builds one per call


def report_json(report: Mapping[str, Any]) -> str:
    """rollout.json: one host (and one batch) per line, so the file reads and diffs line by line."""
    parts = []
    for key, value in report.items():
        if key in ("hosts", "batches", "bandwidth") and value:
            items = ",\n  ".join(map(_ENCODE, value))
            parts.append(f'"{key}": [\n  {items}\n ]')
        else:
            parts.append(f"{_ENCODE(key)}: {_ENCODE(value)}")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


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
.filter{margin:8px 0;display:flex;gap:12px;align-items:center} .filter input{font:inherit;padding:4px 8px;width:28em}
.rank0 td:first-child{border-left:3px solid #c62828} .rank1 td:first-child{border-left:3px solid #ef6c00}
.rank2 td:first-child{border-left:3px solid #9e9e9e} .rank3 td:first-child{border-left:3px solid #f9a825}
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


def _groups(batches: Sequence[Mapping[str, Any]], rows: int) -> list[dict[str, Any]]:
    """At most about ``rows`` timeline rows: consecutive batches of one step drawn as one bar."""
    size = max(1, math.ceil(len(batches) / rows))
    out: list[dict[str, Any]] = []
    for b in batches:
        last = out[-1] if out else None
        if last is None or last["n"] >= size or last["step"] != (b.get("step") or b.get("play", "")):
            last = {"step": b.get("step") or b.get("play", ""), "first": b, "n": 0, "hosts": 0, "bytes": 0,
                    "failures": 0, "start_s": b["start_s"], "end_s": b["end_s"]}
            out.append(last)
        last["n"] += 1
        last["last"] = b
        last["hosts"] += len(b["hosts"])
        last["bytes"] += b["bytes"]
        last["failures"] += b["failures"]
        last["start_s"] = min(last["start_s"], b["start_s"])
        last["end_s"] = max(last["end_s"], b["end_s"])
    return out


def _svg_timeline(report: Mapping[str, Any], width: int = 960) -> str:
    batches = report["batches"]
    if not batches:
        return '<p class="note">No client batches ran in this run.</p>'
    groups = _groups(batches, TIMELINE_ROWS)
    left, right, row, top = 230, 20, 22, 10
    span = max(max((b["end_s"] for b in batches), default=0.0), report["fleet"].get("rollout_span_s") or 0.0) or 1.0
    plot = width - left - right
    height = top + row * len(groups) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Batch timeline" data-rows="{len(groups)}">']
    unit, name = _axis_unit(span)
    for tick in _ticks(span / unit, 8):
        x = left + plot * tick * unit / span
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}"/>'
                     f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{tick:g} {name}</text>')
    for i, g in enumerate(groups):
        y = top + i * row
        x0 = left + plot * g["start_s"] / span
        w = max(2.0, plot * (g["end_s"] - g["start_s"]) / span)
        color = "#c62828" if g["failures"] else "#1f6feb"
        first, last = g["first"], g["last"]
        numbers = (f"{first.get('batch_in_play', '')}" if g["n"] == 1
                   else f"{first.get('batch_in_play', '')}-{last.get('batch_in_play', '')}")
        label = f"{g['step']} {numbers}/{first.get('batches_in_play', '?')}"
        what = f"batch {first['index']}" if g["n"] == 1 else f"batches {first['index']}-{last['index']}"
        title = (f"{what}: {g['hosts']} host(s), {_fmt_bytes(g['bytes'])}, {_fmt_s(g['start_s'])} - "
                 f"{_fmt_s(g['end_s'])}, {g['failures']} failed")
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)} '
                     f'({g["hosts"]})</text>'
                     f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" rx="3" fill="{color}">'
                     f'<title>{html.escape(title)}</title></rect>')
        if g["failures"]:
            parts.append(f'<text x="{x0 + w + 4:.1f}" y="{y + 15}" class="err">{g["failures"]} failed</text>')
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


def outcome_tiles(outcome: Mapping[str, Any] | None, tile) -> list[str]:
    if not outcome:
        return []
    privilege = outcome.get("privilege") or "-"
    held = outcome.get("held_clients") or []
    label = "upgrade privilege" + (f" ({len(held)} client(s) held)" if privilege == "held" else "")
    out = [tile(privilege, label, {"released": "good", "held": "warn"}.get(privilege, ""), "privilege")]
    if outcome.get("stopped"):
        out.append(tile("stopped", outcome["stopped"].get("reason", ""), "bad", "stopped"))
    return out


#: Host order in the page: failed, held, offline, unverified, the rest.
RANKS = ("failed", "held", "offline", "unverified", "ok")


def host_rank(h: Mapping[str, Any], held: set[str]) -> int:
    if h.get("failed") or h["errors"]:
        return 0
    if h["name"] in held:
        return 1
    if h.get("role") == "client" and not h["online"]:
        return 2
    if h.get("role") == "client" and h["verdict"] not in PASSING:
        return 3
    return 4


def _verdict_shown(h: Mapping[str, Any]) -> str:
    return h["verdict"] if h["online"] or h.get("role") != "client" else "offline"


def host_rows(report: Mapping[str, Any]) -> list[list[Any]]:
    """One compact row per host, in page order: [rank, name, role, site, batch, level before, level after,
    verdict shown, bytes, start_s, end_s, reboot, errors]. The table and its filter use the same rows."""
    held = set((report.get("outcome") or {}).get("held_clients") or ())
    rows = []
    for h in report["hosts"]:
        t = h.get("timings", {})
        rows.append([host_rank(h, held), h["name"], h.get("role", ""), h.get("site") or "",
                     h["batch"], h["level_before"] or "", h["level_after"] or "", _verdict_shown(h), h["bytes"],
                     t.get("start_s"), t.get("end_s"),
                     "yes" if h["reboot_required"] else ("no" if h["reboot_required"] is False else "-"),
                     " | ".join(h["errors"])])
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def _row_html(r: Sequence[Any]) -> str:
    e = html.escape
    return (f'<tr class="rank{r[0]}"><td>{e(r[1])}</td><td>{RANKS[r[0]]}</td><td>{e(r[2])}</td><td>{e(r[3])}</td>'
            f"<td class=n>{'-' if r[4] is None else r[4]}</td><td>{e(r[5] or '-')} &rarr; {e(r[6] or '-')}</td>"
            f'<td><span class=chip style="background:{VERDICT_COLORS.get(r[7], "#757575")}">{e(r[7])}</span></td>'
            f"<td class=n>{_fmt_bytes(r[8])}</td><td class=n>{_fmt_s(r[9])}</td><td class=n>{_fmt_s(r[10])}</td>"
            f"<td>{r[11]}</td><td class=err>{e(r[12])}</td></tr>")


def site_summary(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per site (clients only; no site = "-"): clients, verified, failed, held, offline, unverified, bytes."""
    held = set((report.get("outcome") or {}).get("held_clients") or ())
    sites: dict[str, dict[str, Any]] = {}
    for h in report["hosts"]:
        if h.get("role") != "client":
            continue
        s = sites.setdefault(h.get("site") or "-", {"site": h.get("site") or "-", "clients": 0, "verified": 0,
                                                    "failed": 0, "held": 0, "offline": 0, "unverified": 0,
                                                    "bytes": 0})
        s["clients"] += 1
        s["bytes"] += h["bytes"]
        rank = host_rank(h, held)
        if rank < 4:
            s[RANKS[rank]] += 1
        if h["online"] and h["verdict"] in PASSING:
            s["verified"] += 1
    return sorted(sites.values(), key=lambda s: (-(s["failed"] + s["held"] + s["offline"] + s["unverified"]),
                                                 s["site"]))


SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('hosts-data').textContent);
  var box = document.getElementById('filter'), body = document.getElementById('hosts-body');
  var shown = document.getElementById('shown'), limit = %(limit)d;
  var ranks = %(ranks)s, colors = %(colors)s;
  function fmtS(s) {
    if (s === null || s === undefined) return '-';
    if (s >= 3600) return (s / 3600).toFixed(2) + ' h';
    if (s >= 120) return (s / 60).toFixed(1) + ' min';
    return s.toFixed(1) + ' s';
  }
  function fmtB(n) {
    var u = [['GB', 1e9], ['MB', 1e6], ['kB', 1e3]];
    for (var i = 0; i < u.length; i++) if (Math.abs(n) >= u[i][1]) return (n / u[i][1]).toFixed(1) + ' ' + u[i][0];
    return n + ' B';
  }
  function cell(tr, text, cls) {
    var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td);
    return td;
  }
  function row(r) {
    var tr = document.createElement('tr'); tr.className = 'rank' + r[0];
    cell(tr, r[1]); cell(tr, ranks[r[0]]); cell(tr, r[2]); cell(tr, r[3]);
    cell(tr, r[4] === null ? '-' : String(r[4]), 'n');
    cell(tr, (r[5] || '-') + ' \\u2192 ' + (r[6] || '-'));
    var chip = document.createElement('span'); chip.className = 'chip'; chip.textContent = r[7];
    chip.style.background = colors[r[7]] || '#757575'; cell(tr, '').appendChild(chip);
    cell(tr, fmtB(r[8]), 'n'); cell(tr, fmtS(r[9]), 'n'); cell(tr, fmtS(r[10]), 'n'); cell(tr, r[11]);
    cell(tr, r[12], 'err');
    return tr;
  }
  function text(r) {
    if (r.text === undefined) r.text = [r[1], ranks[r[0]], r[2], r[3], r[5], r[6], r[7], r[12]].join(' ').toLowerCase();
    return r.text;
  }
  function render() {
    var q = box.value.trim().toLowerCase().split(/\\s+/).filter(Boolean), n = 0, frag = document.createDocumentFragment();
    for (var i = 0; i < data.length; i++) {
      var r = data[i], t = text(r), ok = true;
      for (var j = 0; j < q.length && ok; j++) ok = t.indexOf(q[j]) >= 0;
      if (!ok) continue;
      n++;
      if (n <= limit) frag.appendChild(row(r));
    }
    body.replaceChildren(frag);
    shown.textContent = Math.min(n, limit) + ' of ' + n + ' matching host(s) shown (' + data.length + ' in the run)';
  }
  box.addEventListener('input', render);
  var m = /[#&]filter=([^&]*)/.exec(window.location.hash);  // report.html#filter=site07%%20offline
  if (m) box.value = decodeURIComponent(m[1]);
  render();
  document.getElementById('hosts').setAttribute('data-filter', 'ready');
})();
"""


def report_html(report: Mapping[str, Any]) -> str:
    """A self-contained page: inline CSS, SVG and one small script (the host filter); no external asset."""
    fleet = report["fleet"]
    e = html.escape
    eff = fleet.get("efficiency")
    budget = fleet.get("budget_bps")
    peak = fleet.get("peak_bps")
    outcome = report.get("outcome") or {}
    clients = [h for h in report["hosts"] if h.get("role") == "client"]
    good = sum(1 for h in clients if h["online"] and h["verdict"] in PASSING)
    online = sum(1 for h in clients if h["online"])
    source = ("lab transfer ledger (virtual time, measured bytes)" if fleet["source"] == "lab-ledger"
              else "Ansible task timings and the package sizes the modules report")

    def tile(value: str, label: str, cls: str = "", key: str = "") -> str:
        return f'<div class="tile {cls}" data-key="{key}"><b>{e(value)}</b><span>{e(label)}</span></div>'

    tiles = [
        tile(f"{good}/{online}", "online clients verified", "good" if good == online else "bad", "verified"),
        tile(str(fleet.get("failed", 0)), "hosts failed", "bad" if fleet.get("failed") else "good", "failed"),
        tile(str(fleet.get("offline", 0)), "clients offline", "warn" if fleet.get("offline") else "", "offline"),
        tile(str(len(report["batches"])), "client batches", "", "batches"),
        tile(_fmt_bytes(fleet.get("bytes")), "downloaded", "", "bytes"),
        tile(_fmt_s(fleet.get("downloads_span_s", fleet["makespan_s"])),
             "downloads span (sum of the steps' client rollouts)", "", "downloads_span"),
        tile(_fmt_s(fleet.get("rollout_span_s")), "rollout span (the timeline: first download to last batch end)", "",
             "rollout_span"),
        tile(_fmt_s(fleet["lower_bound_s"]) if budget else "-", "physical floor", "", "floor"),
        tile("-" if eff is None else f"{eff:.0%}", "efficiency (floor / downloads span)",
             "" if eff is None else ("good" if 0.85 <= eff <= 1.0 else "warn"), "efficiency"),
        tile(_mbit(peak), "peak bandwidth" + (f" (budget {_mbit(budget)})" if budget else ""),
             "bad" if budget and peak and peak > budget * 1.001 else "", "peak"),
    ] + outcome_tiles(outcome, tile)

    rows = host_rows(report)
    batch_rows = []
    for b in report["batches"][:BATCH_ROWS]:
        batch_rows.append(
            f"<tr><td class=n>{b['index']}</td><td>{e(str(b.get('step') or '-'))}</td>"
            f"<td class=n>{b.get('batch_in_play', '')}/{b.get('batches_in_play', '')}</td>"
            f"<td class=n>{len(b['hosts'])}</td><td class=n>{e(_fmt_bytes(b['bytes']))}</td>"
            f"<td class=n>{e(_fmt_s(b['start_s']))}</td><td class=n>{e(_fmt_s(b['end_s']))}</td>"
            f"<td class=n>{e(_fmt_s(b['end_s'] - b['start_s']))}</td><td class=n>{e(_mbit(b.get('peak_bps')))}</td>"
            f"<td class='n{' err' if b['failures'] else ''}'>{b['failures']}</td></tr>")
    more_batches = (f"<p class=note>The first {BATCH_ROWS} of {len(report['batches'])} batches; rollout.json "
                    "holds them all.</p>" if len(report["batches"]) > BATCH_ROWS else "")
    site_rows = "".join(
        f"<tr><td>{e(s['site'])}</td><td class=n>{s['clients']}</td><td class=n>{s['verified']}</td>"
        f"<td class='n{' err' if s['failed'] else ''}'>{s['failed']}</td><td class=n>{s['held']}</td>"
        f"<td class=n>{s['offline']}</td><td class=n>{s['unverified']}</td><td class=n>{_fmt_bytes(s['bytes'])}</td></tr>"
        for s in site_summary(report))
    plan = report.get("plan") or {}
    plan_note = ""
    if plan:
        plan_note = (f"<p class=note>Planner (prediction, not a source of the figures above): serial "
                     f"{e(str(plan.get('serial', '-'))[:80])}, throttle {e(str(plan.get('throttle', '-')))}, predicted "
                     f"{e(_fmt_s(plan.get('predicted_makespan_s')))} against a floor of "
                     f"{e(_fmt_s(plan.get('lower_bound_s')))}.</p>")
    check = " &middot; <b>check mode</b> (nothing was changed; steps read would_apply)" if report.get("check_mode") else ""
    outcome_p = f'<p class=sub id=outcome>Upgrade {e(outcome.get("summary", ""))}</p>' if outcome else ""
    data = json.dumps(rows, separators=(",", ":")).replace("</", "<\\/")
    script = SCRIPT % {"limit": TABLE_ROWS, "ranks": json.dumps(list(RANKS)), "colors": json.dumps(VERDICT_COLORS)}
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>OSCE rollout {e(report['run_id'])}</title>
<style>{CSS}</style></head><body>
<h1>OfficeScan rollout report &mdash; {e(report['run_id'])}</h1>
<p class=sub>{e(report.get('started_at', ''))} &rarr; {e(report.get('finished_at', ''))} &middot; target
{e(str(report.get('target_level', '')))} &middot; numbers from the {e(source)}{check}</p>
{outcome_p}
<div class=tiles id=tiles>{''.join(tiles)}</div>
<h2>Hosts that need attention first</h2>
<div class=filter><input id=filter type=search placeholder="filter: name, site, verdict, error (all words)"
 aria-label="Filter hosts"><span id=shown class=note>{min(len(rows), TABLE_ROWS)} of {len(rows)} host(s) shown</span></div>
<table id=hosts><thead><tr><th>host</th><th>state</th><th>role</th><th>site</th><th>batch</th><th>level</th>
<th>verdict</th><th>bytes</th><th>start</th><th>end</th><th>reboot</th><th>errors</th></tr></thead>
<tbody id=hosts-body>{''.join(_row_html(r) for r in rows[:TABLE_ROWS])}</tbody></table>
<p class=note>Failed hosts first, then clients whose upgrade privilege is held, offline clients, clients not
verified, the rest; the first {TABLE_ROWS} rows of a filter are shown. rollout.json holds every host.</p>
<h2>Client batches</h2>{_svg_timeline(report)}
<h2>Bandwidth over time</h2>{_svg_bandwidth(report)}
<p class=note>Blue: bandwidth used by client downloads{' (measured by the lab network)' if fleet['source'] == 'lab-ledger'
    else ' (each download at its average rate over its client_upgrade task)'}; red dashes: the budget.</p>
<h2>Clients per verdict</h2>{_svg_verdicts(fleet.get('counts', {}), fleet.get('offline', 0))}
{plan_note}
<h2>Sites</h2><table id=sites><thead><tr><th>site</th><th>clients</th><th>verified</th><th>failed</th><th>held</th>
<th>offline</th><th>unverified</th><th>bytes</th></tr></thead><tbody>{site_rows}</tbody></table>
<h2>Batches</h2><table id=batches><thead><tr><th>#</th><th>step</th><th>in play</th><th>hosts</th><th>bytes</th><th>start</th>
<th>end</th><th>duration</th><th>peak</th><th>failed</th></tr></thead><tbody>{''.join(batch_rows)}</tbody></table>{more_batches}
<p class=note>Written by the osce.patching.rollout_report callback; rollout.json holds the same data.</p>
<script type="application/json" id="hosts-data">{data}</script>
<script>{script}</script>
</body></html>
"""


def write_report(report: Mapping[str, Any], directory: str) -> list[str]:
    """Write rollout.json, junit.xml and report.html into ``directory``; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    files = {"rollout.json": report_json(report), "junit.xml": junit_xml(report), "report.html": report_html(report)}
    paths = []
    for name, text in files.items():
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        paths.append(path)
    return paths
