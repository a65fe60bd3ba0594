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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def transfer_window(t: Mapping[str, Any]) -> tuple[float, float] | None:
    """(start, end of the download) of one transfer, or ``None`` when it has no usable times."""
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
