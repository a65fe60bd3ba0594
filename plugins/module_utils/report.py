# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollout report arithmetic: makespan, physical floor, efficiency and bandwidth over time.

Pure core (no I/O, no Ansible objects). The callback ``osce.patching.rollout_report`` feeds it
transfers (from the lab's transfer ledger or from task timings), and the lab's own tools may reuse
it. A *transfer* is a mapping with ``start`` and ``end`` (seconds), ``bytes`` and optionally
``transfer_end`` (when the download finished, before the install) and ``install_s``; ``phase``
groups transfers that belong to one rollout (one FAQ step's client batches).

Definitions (docs/report.md):

- makespan of a phase = last ``end`` - first ``start`` of its transfers; the fleet makespan is the
  sum over phases (the server's own install between two steps is not client rollout time);
- physical floor of a phase = its bytes / budget + its shortest single-client install (the last
  download still has to install); the fleet floor (``lower_bound_s``) is the sum over phases;
- efficiency = lower_bound_s / makespan_s (``None`` when the makespan is 0 or the budget unknown);
- bandwidth over time: a step series ``[(t, bytes_per_s), ...]``; each point holds until the next.
  From intervals a download is assumed to move at its average rate between ``start`` and
  ``transfer_end``; the lab's ``bandwidth.jsonl`` segments give the exact series.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Series = list  # list[tuple[float, float]]: (time, rate from this time on)


def _f(value: Any) -> float | None:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


def transfer_window(t: Mapping[str, Any]) -> tuple[float, float] | None:
    """(start, end of the download) of one transfer, or ``None`` when it has no usable times.

    ``build_report`` keeps the answer in the transfer (``_window``), so a transfer is read once.
    """
    cached = t.get("_window", False)
    if cached is not False:
        return cached
    start = _f(t.get("start"))
    end = _f(t.get("transfer_end"))
    if end is None:
        end = _f(t.get("end"))
    if start is None or end is None or end < start:
        return None
    return start, end


def bandwidth_series(transfers: Iterable[Mapping[str, Any]]) -> Series:
    """Aggregate rate over time from transfers, each at its average rate over its download window.

    A zero-length download with bytes is an instant burst; it is left out of the rate (it has no
    duration) but still counts in the byte totals elsewhere. The series ends with a point at rate 0.
    """
    events: dict[float, float] = {}
    for t in transfers:
        window = transfer_window(t)
        nbytes = _f(t.get("bytes")) or 0.0
        if window is None or nbytes <= 0 or window[1] <= window[0]:
            continue
        rate = nbytes / (window[1] - window[0])
        events[window[0]] = events.get(window[0], 0.0) + rate
        events[window[1]] = events.get(window[1], 0.0) - rate
    series: Series = []
    level = 0.0
    for time in sorted(events):
        level += events[time]
        if abs(level) < 1e-6:
            level = 0.0
        if series and series[-1][1] == level:
            continue
        series.append((time, level))
    return series


def segments_series(segments: Iterable[Mapping[str, Any]]) -> Series:
    """Step series from measured segments ``{t0, t1, bps}`` (the lab's ``bandwidth.jsonl``)."""
    rows = []
    for s in segments:
        t0, t1, bps = _f(s.get("t0")), _f(s.get("t1")), _f(s.get("bps"))
        if t0 is None or t1 is None or bps is None or t1 <= t0:
            continue
        rows.append((t0, t1, bps))
    rows.sort()
    series: Series = []
    for t0, t1, bps in rows:
        if series and series[-1][0] == t0:
            series[-1] = (t0, bps)
        elif not series or series[-1][1] != bps:
            series.append((t0, bps))
        series.append((t1, 0.0))
    cleaned: Series = []
    for point in series:  # a segment starting where the last ended replaces its closing 0
        if cleaned and cleaned[-1][0] == point[0]:
            cleaned[-1] = point
        elif not cleaned or cleaned[-1][1] != point[1]:
            cleaned.append(point)
    return cleaned


def series_peak(series: Sequence[tuple[float, float]]) -> float:
    """Largest rate of a step series (0 for an empty series)."""
    return max((rate for _time, rate in series), default=0.0)


def shift_series(series: Sequence[tuple[float, float]], origin: float) -> Series:
    """The same series with times measured from ``origin`` (points before it are clipped to 0)."""
    out: Series = []
    for time, rate in series:
        t = max(0.0, time - origin)
        if out and out[-1][0] == t:
            out[-1] = (t, rate)
        else:
            out.append((t, rate))
    return out


def downsample(series: Sequence[tuple[float, float]], max_points: int) -> Series:
    """At most about ``max_points`` points, keeping each bucket's peak (so the chart shows peaks)."""
    if max_points < 2 or len(series) <= max_points:
        return list(series)
    t_first, t_last = series[0][0], series[-1][0]
    width = (t_last - t_first) / (max_points - 1) or 1.0
    out: Series = []
    bucket = -1
    for time, rate in series:
        b = int((time - t_first) / width)
        if b != bucket:
            out.append((t_first + b * width, rate))
            bucket = b
        elif rate > out[-1][1]:
            out[-1] = (out[-1][0], rate)
    out.append((t_last, series[-1][1]))
    return out


def phase_figures(transfers: Sequence[Mapping[str, Any]], budget_bps: float | None) -> dict[str, Any]:
    """Bytes, window, makespan and floor of one phase's transfers."""
    timed = [(t, w) for t in transfers if (w := transfer_window(t)) is not None]
    nbytes = sum(int(_f(t.get("bytes")) or 0) for t in transfers)
    if not timed:
        return {"bytes": nbytes, "start_s": None, "end_s": None, "makespan_s": 0.0, "lower_bound_s": None,
                "min_install_s": None}
    start = min(w[0] for _t, w in timed)
    end = max(max(w[1], _f(t.get("end")) or w[1]) for t, w in timed)
    installs = [v for t, _w in timed if (v := _f(t.get("install_s"))) is not None and v >= 0]
    min_install = min(installs) if installs else 0.0
    floor = None
    if budget_bps and budget_bps > 0:
        floor = nbytes / budget_bps + (min_install if nbytes > 0 else 0.0)
    return {"bytes": nbytes, "start_s": start, "end_s": end, "makespan_s": end - start,
            "lower_bound_s": floor, "min_install_s": min_install}


def fleet_figures(transfers: Sequence[Mapping[str, Any]], budget_bps: float | None,
                  series: Sequence[tuple[float, float]] | None = None) -> dict[str, Any]:
    """Fleet figures over every phase: bytes, makespan_s, lower_bound_s, efficiency, peak_bps.

    ``series`` (optional) is the measured bandwidth series; without it the peak comes from the
    interval series (average rate per download). ``lower_bound_s`` is 0 and ``efficiency`` ``None``
    when the budget is unknown.
    """
    phases: dict[Any, list[Mapping[str, Any]]] = {}
    for t in transfers:
        phases.setdefault(t.get("phase"), []).append(t)
    per_phase = {key: phase_figures(items, budget_bps) for key, items in phases.items()}
    makespan = sum(p["makespan_s"] for p in per_phase.values())
    known_budget = bool(budget_bps and budget_bps > 0)
    floor = sum(p["lower_bound_s"] or 0.0 for p in per_phase.values()) if known_budget else 0.0
    if series is None:
        series = bandwidth_series(transfers)
    peak = series_peak(series)
    return {
        "bytes": sum(p["bytes"] for p in per_phase.values()),
        "makespan_s": makespan,
        "lower_bound_s": floor,
        "efficiency": efficiency(floor, makespan) if known_budget else None,
        "peak_bps": peak,
        "peak_over_budget": (peak / budget_bps) if known_budget else None,
        "phases": per_phase,
    }


def efficiency(lower_bound_s: float, makespan_s: float) -> float | None:
    """lower bound / makespan; ``None`` when nothing took time."""
    if not makespan_s or makespan_s <= 0:
        return None
    return lower_bound_s / makespan_s


def _pct_to_int(value: Any, num_items: int) -> int:
    """ansible.utils.helpers.pct_to_int: "10%" of ``num_items`` (at least 1), or an int."""
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip().replace("%", "")
        return int((float(value) / 100.0) * num_items) or 1
    return int(value)


def serial_batch_sizes(serial: Sequence[Any] | Any, num_hosts: int) -> list[int]:
    """The batch sizes a play with ``serial`` makes over ``num_hosts`` hosts, as ansible-core does
    (the last value repeats; 0 or empty means one batch of all hosts)."""
    if num_hosts <= 0:
        return []
    values = list(serial) if isinstance(serial, (list, tuple)) else ([serial] if serial not in (None, "") else [])
    if not values:
        return [num_hosts]
    sizes: list[int] = []
    left = num_hosts
    i = 0
    while left > 0:
        size = _pct_to_int(values[i], num_hosts)
        if size <= 0:
            sizes.append(left)
            break
        size = min(size, left)
        sizes.append(size)
        left -= size
        i = min(i + 1, len(values) - 1)
    return sizes


# --------------------------------------------------------------------------- the report document
#
# ``build_report(run, source)`` turns what the recorder (plugins/plugin_utils/_report_recorder.py)
# collected into the rollout.json document. ``run`` is plain data (see ``Run`` below); ``source``
# says where transfer times come from: ``TaskTimings`` (the controller's clock around each
# client_upgrade task, a real estate) or ``LabLedger`` (the lab's transfer ledger, virtual time).

#: The statuses a step has in the report (docs/report.md).
STEP_STATUSES: tuple[str, ...] = ("applied", "already_applied", "would_apply", "pending_reboot", "skipped", "failed")
#: A client verdict that passes (the FAQ lets conventional-scan clients wait).
PASSING_VERDICTS: tuple[str, ...] = ("up_to_date", "conventional_scan")
#: The client step before the chain: clients take the server's current build (roles/client_rollout).
CATCH_UP = "catch_up"
ROLE_ORDER = {"server": 0, "sps": 1, "tmcm": 2, "client": 3, "other": 4}
SCHEMA_VERSION = 1


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return int(value)
    return None


class TaskTimings:
    """Transfers timed by the controller's clock around each ``client_upgrade`` task (a real estate).

    Bytes are the ``bytes_expected`` the module returns; a download moves at its average rate over
    its task. A batch spans its serial batch on the controller's clock.
    """

    name = "task-timings"
    host_task_times = True   # a host's start/end fall back to its client_upgrade tasks
    step_times = True        # steps carry start_s/end_s from their tasks

    def transfers(self, run: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for host in run["hosts"].values():
            for up in host.get("upgrades", ()):
                if not up["bytes"]:
                    continue
                install = up.get("install_s")
                tend = up["end"] - install if install is not None else None
                if up.get("download_s") is not None:
                    tend = up["start"] + up["download_s"]
                out.append({"host": host["name"], "start": up["start"], "transfer_end": tend, "end": up["end"],
                            "bytes": up["bytes"], "install_s": install, "phase": up["phase"], "batch": up["batch"]})
        return out

    def origin(self, run: Mapping[str, Any], transfers: Sequence[Mapping[str, Any]]) -> float:
        return float(run["started"])

    def series(self, run: Mapping[str, Any], transfers: Sequence[Mapping[str, Any]], origin: float) -> Series:
        return bandwidth_series(transfers)

    def batch_span(self, batch: Mapping[str, Any], fig: Mapping[str, Any], prev_end: float | None) -> tuple[float, float]:
        return batch["start"], batch["end"]

    def batch_peak(self, mine: Sequence[Mapping[str, Any]], series: Series, start: float, end: float) -> float:
        return series_peak(bandwidth_series(mine))


class LabLedger:
    """Transfers from the lab's transfer ledger: bytes the lab's network moved, on its virtual clock.

    ``run["ledger_rows"]`` are the ledger records this run added, each tagged with the batch that
    was open when it was read (``_batch``) and that batch's play (``_phase``); ``run["bw_rows"]``
    the measured bandwidth segments.
    """

    name = "lab-ledger"
    host_task_times = False  # the ledger's virtual clock only
    step_times = False

    def transfers(self, run: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for row in run.get("ledger_rows", ()):
            if row.get("kind") == "timer":
                continue
            out.append({"host": row.get("host"), "start": row.get("start"), "transfer_end": row.get("transfer_end"),
                        "end": row.get("end"), "bytes": _int(row.get("bytes")) or 0,
                        "install_s": _f(row.get("install_seconds")), "phase": row.get("_phase"),
                        "batch": row.get("_batch")})
        return out

    def origin(self, run: Mapping[str, Any], transfers: Sequence[Mapping[str, Any]]) -> float:
        return min((w[0] for t in transfers if (w := transfer_window(t)) is not None), default=0.0)

    def series(self, run: Mapping[str, Any], transfers: Sequence[Mapping[str, Any]], origin: float) -> Series:
        if run.get("bw_rows"):
            series = segments_series(run["bw_rows"])
            return [(t, r) for t, r in series if t >= origin - 1e-9] or series
        return bandwidth_series(transfers)

    def batch_span(self, batch: Mapping[str, Any], fig: Mapping[str, Any], prev_end: float | None) -> tuple[float, float]:
        if fig["start_s"] is None:  # nothing downloaded in the batch: a point where the last one ended
            return prev_end, prev_end
        return fig["start_s"], fig["end_s"]

    def batch_peak(self, mine: Sequence[Mapping[str, Any]], series: Series, start: float, end: float) -> float:
        return series_peak([(t, r) for t, r in series if start <= t < end])


def budget_of(run: Mapping[str, Any]) -> float | None:
    """The budget option, else the last budget the planner was given in the run."""
    if run.get("budget_opt") and run["budget_opt"] > 0:
        return float(run["budget_opt"])
    for plan in reversed(run.get("plans", ())):
        value = _f(plan.get("budget_bps"))
        if value and value > 0:
            return value
    return None


def build_levels(levels: Sequence[str], table: Mapping[str, Sequence[int]], seen: Mapping[int, str]) -> dict[int, str]:
    """Build -> level: ``table`` (osce_build_map with the public CP builds, levels.normalize_build_map)
    in level order, so a build two levels share (5712) goes to the later one; then what the server
    said during the run (``seen``) wins."""
    out: dict[int, str] = {}
    for level in levels:
        for build in table.get(level, ()):
            out[build] = level
    out.update(seen)
    return out


def _plan(plans: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    plans = [p for p in plans if p.get("serial") is not None]
    if not plans:
        return None
    last: dict[str, Any] = {}
    for item in plans:  # the planner's output, then the role's pinned copy (osce_rollout) of it
        last.update({k: v for k, v in item.items() if v is not None})
    plan: dict[str, Any] = {}
    serial = last.get("serial")
    if isinstance(serial, list) and serial and all(_int(v) for v in serial):
        plan["serial"] = [_int(v) for v in serial]
    for key in ("throttle", "recommended_forks"):
        if _int(last.get(key)):
            plan[key] = _int(last.get(key))
    for key in ("lower_bound_s", "predicted_makespan_s"):
        value = _f(last.get(key))
        if value is not None and value >= 0:
            plan[key] = value
    if last.get("step"):
        plan["step"] = str(last["step"])
    return plan


def outcome_of(value: Any) -> dict[str, Any] | None:
    """The server fact ``osce_run_outcome`` as the report shows it, or ``None``."""
    if not isinstance(value, Mapping):
        return None
    out: dict[str, Any] = {}
    if value.get("privilege") in ("released", "held", "unchanged"):
        out["privilege"] = value["privilege"]
    held = value.get("held_clients")
    if isinstance(held, (list, tuple)):
        out["held_clients"] = [str(h) for h in held]
    if isinstance(value.get("message"), str) and value["message"]:
        out["message"] = value["message"]
    stopped = value.get("stopped")
    if isinstance(stopped, Mapping):
        out["stopped"] = {"reason": str(stopped.get("reason") or ""), "fix": str(stopped.get("fix") or "")}
    elif "stopped" in value:
        out["stopped"] = None
    if out:
        out["summary"] = outcome_summary(out)
    return out or None


def outcome_summary(outcome: Mapping[str, Any]) -> str:
    """One line: ``privilege held for 2 client(s) (pc7, pc9): <message>; stopped: <reason>. Fix: <fix>``."""
    privilege = outcome.get("privilege")
    held = outcome.get("held_clients") or []
    text = f"privilege {privilege}" if privilege else "privilege unknown"
    if privilege == "held":
        text += f" for {len(held)} client(s)"
        if held:
            text += " (" + ", ".join(held[:5]) + (", ..." if len(held) > 5 else "") + ")"
    if outcome.get("message"):
        text += f": {outcome['message']}"
    stopped = outcome.get("stopped")
    if stopped:
        text += f"; stopped: {stopped.get('reason', '')}. Fix: {stopped.get('fix', '')}"
    return text


def build_report(run: Mapping[str, Any], source: Any, *, levels: Sequence[str], verdicts: Sequence[str],
                 done_levels: Sequence[str]) -> dict[str, Any]:
    """The rollout.json document (data/schemas/rollout-report.schema.json) from a recorded run.

    ``run`` keys: ``run_id``, ``started``, ``finished`` (epoch seconds), ``started_at``/``finished_at``
    (ISO text), ``check_mode``, ``budget_opt``, ``plans``, ``build_levels`` (build -> level),
    ``hosts`` (name -> host record), ``batches`` (the rollout batches, in order, each with a ``key``),
    ``outcome``, and for ``LabLedger`` ``ledger_rows`` / ``bw_rows``.
    """
    budget = budget_of(run)
    rollout = list(run["batches"])
    index = {b["key"]: i for i, b in enumerate(rollout)}
    transfers = source.transfers(run)
    for t in transfers:
        t["_window"] = transfer_window(t)
    origin = source.origin(run, transfers)

    def rel(value: float | None) -> float | None:
        return None if value is None else max(0.0, round(value - origin, 3))

    series = source.series(run, transfers, origin)
    fleet_fig = fleet_figures(transfers, budget, series)
    by_host: dict[str, list[dict[str, Any]]] = {}
    by_batch: dict[Any, list[dict[str, Any]]] = {}
    for t in transfers:
        by_host.setdefault(t["host"], []).append(t)
        by_batch.setdefault(t["batch"], []).append(t)

    batches_out: list[dict[str, Any]] = []
    for i, b in enumerate(rollout):
        members = set(b["hosts"])
        mine = [t for t in by_batch.get(b["key"], ()) if t["host"] in members]
        fig = phase_figures(mine, budget)
        prev_end = batches_out[-1]["_end"] if batches_out else origin
        start, end = source.batch_span(b, fig, prev_end)
        end = max(end, start)
        out = {"index": i, "hosts": list(b["hosts"]), "bytes": int(fig["bytes"]), "start_s": rel(start),
               "end_s": rel(end), "failures": len(b["failed"]), "failed_hosts": list(b["failed"]),
               "peak_bps": float(source.batch_peak(mine, series, start, end)), "play": b["play"],
               "batch_in_play": b["number"], "batches_in_play": b["of"], "_end": end}
        if b.get("step"):
            out["step"] = b["step"]
        batches_out.append(out)
    for out in batches_out:
        del out["_end"]

    table = run.get("build_levels") or {}
    hosts_out = []
    for name in sorted(run["hosts"], key=lambda n: (ROLE_ORDER.get(run["hosts"][n]["role"], 9), n)):
        hosts_out.append(_host_entry(run["hosts"][name], by_host.get(name, []), source, rel, table, index,
                                     verdicts, done_levels))

    clients = [h for h in hosts_out if h["role"] == "client"]
    counts: dict[str, int] = {}
    for h in clients:
        if h["online"]:
            counts[h["verdict"]] = counts.get(h["verdict"], 0) + 1
    # rollout span: from the origin to the last batch's (or download's) end, what the timeline spans;
    # makespan_s (= downloads_span_s) sums each step's downloads and leaves out the time between steps
    rollout_span = max([b["end_s"] for b in batches_out]
                       + [rel(max(_f(t.get("end")) or w[1], w[1])) for t in transfers if (w := t["_window"])],
                       default=0.0)
    fleet = {"hosts": len(hosts_out), "clients": len(clients),
             "offline": sum(1 for h in clients if not h["online"]),
             "failed": sum(1 for h in hosts_out if h["failed"]), "counts": counts,
             "bytes": int(fleet_fig["bytes"]), "lower_bound_s": round(fleet_fig["lower_bound_s"], 3),
             "makespan_s": round(fleet_fig["makespan_s"], 3),
             "downloads_span_s": round(fleet_fig["makespan_s"], 3),
             "rollout_span_s": round(rollout_span, 3),
             "efficiency": None if fleet_fig["efficiency"] is None else round(fleet_fig["efficiency"], 4),
             "peak_bps": float(fleet_fig["peak_bps"]), "source": source.name}
    if budget:
        fleet["budget_bps"] = budget
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "run_id": run["run_id"], "started_at": run["started_at"],
        "finished_at": run["finished_at"], "check_mode": bool(run.get("check_mode")),
        "hosts": hosts_out, "batches": batches_out, "fleet": fleet,
        "bandwidth": [[round(t, 3), round(r, 3)] for t, r in downsample(shift_series(series, origin), 2000)],
    }
    if budget:
        report["budget_bps"] = budget
    server_after = [h["level_after"] for h in hosts_out if h["role"] == "server" and h["level_after"]]
    report["target_level"] = done_levels[-1] if server_after and server_after[0] == done_levels[-1] else done_levels[0]
    plan = _plan(run.get("plans", ()))
    if plan:
        report["plan"] = plan
    outcome = outcome_of(run.get("outcome"))
    if outcome:
        report["outcome"] = outcome
    return report


def _host_entry(h: Mapping[str, Any], mine: Sequence[Mapping[str, Any]], source: Any, rel: Any,
                table: Mapping[int, str], index: Mapping[Any, int], verdicts: Sequence[str],
                done_levels: Sequence[str]) -> dict[str, Any]:
    if h["role"] == "client" or h["builds"]:
        before = table.get(h["builds"][0]) if h["builds"] else None
        after = table.get(h["builds"][-1]) if h["builds"] else None
    else:
        before = h["levels"][0] if h["levels"] else None
        after = h["levels"][-1] if h["levels"] else None
    verdict = h["verdict"]
    if h["role"] == "server" and verdict is None and after is not None:
        verdict = "up_to_date" if after in done_levels else "program_behind"
    if verdict not in verdicts:
        verdict = "unknown"
    timings: dict[str, float] = {}
    nbytes = 0
    if mine:
        # one pass over the host's transfers (one or two per client): 50,000 hosts make this the report's hot loop
        first = last = None
        download = 0.0
        installs = []
        for t in mine:
            nbytes += t["bytes"]
            if t.get("install_s") is not None:
                installs.append(t["install_s"])
            w = t["_window"]  # build_report read them
            if w is None:
                continue
            end = _f(t.get("end")) or w[1]
            first = w[0] if first is None or w[0] < first else first
            last = end if last is None or end > last else last
            download += w[1] - w[0]
        if first is not None:
            timings["start_s"] = rel(first)
            timings["download_s"] = round(download, 3)
            timings["end_s"] = rel(last)
            if installs:
                timings["install_s"] = round(max(installs), 3)
    if not timings and h.get("upgrades") and source.host_task_times:
        timings["start_s"] = rel(min(u["start"] for u in h["upgrades"]))
        timings["end_s"] = rel(max(u["end"] for u in h["upgrades"]))
    if h.get("verify"):
        timings["verify_s"] = round(max(0.0, h["verify"]["end"] - h["verify"]["start"]), 3)
    steps = []
    for s in h["steps"]:
        step = {"id": s["id"], "status": s["status"]}
        if s.get("build") is not None:
            step["build"] = s["build"]
        if "batch" in s:
            # a client step: its bytes are what its batch's transfers moved to this host
            step["bytes"] = sum(t["bytes"] for t in mine if t["batch"] == s["batch"])
        if source.step_times:
            step["start_s"], step["end_s"] = rel(s["start"]), rel(s["end"])
        steps.append(step)
    batches = [index[b] for b in h["batches"] if b in index]
    entry = {"name": h["name"], "role": h["role"], "arch": h["arch"], "site": h["site"], "online": bool(h["online"]),
             "batch": batches[-1] if batches else None, "batches": batches,
             "level_before": before, "level_after": after, "steps": steps, "verdict": verdict,
             "bytes": int(nbytes), "timings": timings, "reboot_required": h["reboot_required"],
             "errors": list(dict.fromkeys(h["errors"])), "failed": bool(h["failed"])}
    if h["builds"]:
        entry["build_before"], entry["build_after"] = h["builds"][0], h["builds"][-1]
    return entry
