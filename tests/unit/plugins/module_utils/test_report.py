"""Unit tests for plugins/module_utils/report.py: the report arithmetic and the rollout.json document.

Pure: synthetic transfers and recorded runs as plain data, no Ansible objects, no files.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.osce.patching.plugins.module_utils import report as rmath
from ansible_collections.osce.patching.plugins.module_utils.chain import DONE_LEVELS
from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS, normalize_build_map
from ansible_collections.osce.patching.plugins.module_utils.verdicts import VERDICTS

ROOT = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((ROOT / "data" / "schemas" / "rollout-report.schema.json").read_text())


# --------------------------------------------------------------------------- pure arithmetic


def test_bandwidth_series_sums_overlapping_downloads():
    series = rmath.bandwidth_series([
        {"start": 0, "transfer_end": 10, "end": 15, "bytes": 100},   # 10 B/s
        {"start": 5, "transfer_end": 10, "end": 12, "bytes": 100},   # 20 B/s
    ])
    assert series == [(0.0, 10.0), (5.0, 30.0), (10.0, 0.0)]
    assert rmath.series_peak(series) == 30.0


def test_bandwidth_series_ignores_unusable_transfers():
    assert rmath.bandwidth_series([{"start": 3, "end": 3, "bytes": 5}, {"start": None, "end": 4, "bytes": 9},
                                   {"start": 4, "end": 2, "bytes": 9}, {"start": 0, "end": 1, "bytes": 0}]) == []
    assert rmath.series_peak([]) == 0.0


def test_segments_series_from_lab_bandwidth_records():
    series = rmath.segments_series([{"t0": 0, "t1": 2, "bps": 5}, {"t0": 2, "t1": 4, "bps": 7},
                                    {"t0": 6, "t1": 8, "bps": 7}, {"t0": 9, "t1": 9, "bps": 99}])
    assert series == [(0.0, 5.0), (2.0, 7.0), (4.0, 0.0), (6.0, 7.0), (8.0, 0.0)]


def test_fleet_figures_single_phase_matches_the_issue_definition():
    # 2 clients x 100 B at a 10 B/s budget: floor = 200/10 + shortest install (3) = 23 s
    transfers = [{"start": 0, "transfer_end": 10, "end": 13, "bytes": 100, "install_s": 3},
                 {"start": 10, "transfer_end": 20, "end": 25, "bytes": 100, "install_s": 5}]
    fig = rmath.fleet_figures(transfers, 10.0)
    assert fig["makespan_s"] == 25.0 and fig["lower_bound_s"] == 23.0
    assert fig["efficiency"] == pytest.approx(23 / 25)
    assert fig["peak_bps"] == 10.0 and fig["peak_over_budget"] == 1.0 and fig["bytes"] == 200


def test_fleet_figures_sum_phases_and_leave_out_the_gap_between_steps():
    transfers = [{"start": 0, "transfer_end": 10, "end": 10, "bytes": 100, "phase": "a"},
                 {"start": 1000, "transfer_end": 1010, "end": 1010, "bytes": 100, "phase": "b"}]
    fig = rmath.fleet_figures(transfers, 10.0)
    assert fig["makespan_s"] == 20.0 and fig["lower_bound_s"] == 20.0 and fig["efficiency"] == 1.0


def test_fleet_figures_without_budget_or_transfers():
    assert rmath.fleet_figures([], 10.0)["efficiency"] is None
    fig = rmath.fleet_figures([{"start": 0, "end": 4, "bytes": 8}], None)
    assert fig["lower_bound_s"] == 0.0 and fig["efficiency"] is None and fig["makespan_s"] == 4.0
    assert rmath.efficiency(5.0, 0.0) is None


def test_measured_series_wins_over_the_interval_series():
    fig = rmath.fleet_figures([{"start": 0, "end": 10, "bytes": 100}], 10.0, series=[(0.0, 40.0), (1.0, 0.0)])
    assert fig["peak_bps"] == 40.0 and fig["peak_over_budget"] == 4.0


@pytest.mark.parametrize(("serial", "hosts", "sizes"), [
    ([], 5, [5]), (0, 5, [5]), ([1, 2], 7, [1, 2, 2, 2]), ([1, "50%"], 7, [1, 3, 3]), ("10%", 3, [1, 1, 1]),
    ([2, 0], 7, [2, 5]), ([3], 0, []), (None, 4, [4]),
])
def test_serial_batch_sizes_like_ansible_core(serial, hosts, sizes):
    assert rmath.serial_batch_sizes(serial, hosts) == sizes


def test_downsample_keeps_the_peak():
    series = [(float(t), 100.0 if t == 501 else 1.0) for t in range(1000)]
    small = rmath.downsample(series, 50)
    assert len(small) <= 52 and rmath.series_peak(small) == 100.0
    assert rmath.shift_series([(10.0, 1.0), (12.0, 0.0)], 10.0) == [(0.0, 1.0), (2.0, 0.0)]


# --------------------------------------------------------------------------- the document


def host(name, role="client", **kw):
    rec = {"name": name, "role": role, "arch": "x64", "site": None, "online": True, "levels": [], "builds": [],
           "steps": [], "verdict": None, "upgrades": [], "verify": None, "reboot_required": None, "errors": [],
           "batches": [], "failed": False}
    rec.update(kw)
    return rec


def batch(key, hosts, start, end, failed=(), number=1, of=1, play="p1"):
    return {"key": key, "play": "OSCE step cp5712r1 | clients", "play_uuid": play, "step": "cp5712r1",
            "hosts": list(hosts), "number": number, "of": of, "start": start, "end": end, "failed": list(failed)}


def run_data(**kw):
    run = {"run_id": "r1", "started": 1000.0, "finished": 1100.0, "started_at": "2026-01-01T00:00:00Z",
           "finished_at": "2026-01-01T00:01:40Z", "check_mode": False, "budget_opt": None, "plans": [],
           "build_levels": rmath.build_levels(LEVELS, normalize_build_map({"sp3_patch2": [5600]}), {}),
           "hosts": {}, "batches": [], "ledger_rows": [], "bw_rows": [], "outcome": None}
    run.update(kw)
    return run


def build(run, source):
    report = rmath.build_report(run, source, levels=LEVELS, verdicts=VERDICTS, done_levels=DONE_LEVELS)
    jsonschema.validate(report, SCHEMA)
    return report


def test_task_timings_source():
    """Two batches of one step on the controller's clock; a 30 s verify play after them."""
    up1 = {"start": 1010.0, "end": 1020.0, "bytes": 400, "download_s": None, "install_s": None, "batch": 0, "phase": "p1"}
    up2 = {"start": 1021.0, "end": 1031.0, "bytes": 600, "download_s": 4.0, "install_s": 6.0, "batch": 1, "phase": "p1"}
    hosts = {
        "pc1": host("pc1", builds=[5600, 5712], upgrades=[up1], batches=[0], verdict="up_to_date",
                    steps=[{"id": "cp5712r1", "status": "applied", "batch": 0, "start": 1010.0, "end": 1020.0}]),
        "pc2": host("pc2", builds=[5600], upgrades=[up2], batches=[1], verdict="program_behind", failed=True,
                    errors=["pc2: boom"], verify={"start": 1040.0, "end": 1042.0})}
    batches = [batch(0, ["pc1"], 1010.0, 1020.5, number=1, of=2), batch(1, ["pc2"], 1020.5, 1032.0, ["pc2"], 2, 2)]
    run = run_data(budget_opt=100.0, hosts=hosts, batches=batches)
    report = build(run, rmath.TaskTimings())
    fleet = report["fleet"]
    assert fleet["source"] == "task-timings" and fleet["bytes"] == 1000 and fleet["lower_bound_s"] == 10.0 + 6.0
    assert fleet["makespan_s"] == fleet["downloads_span_s"] == 21.0  # 1010 .. 1031
    assert fleet["rollout_span_s"] == 32.0  # the timeline: up to the end of batch 2 (controller clock from start)
    assert [(b["start_s"], b["end_s"], b["bytes"]) for b in report["batches"]] == [(10.0, 20.5, 400), (20.5, 32.0, 600)]
    pc1, pc2 = report["hosts"]
    assert (pc1["level_before"], pc1["level_after"]) == ("sp3_patch2", "cp5712r1")
    assert pc1["steps"] == [{"id": "cp5712r1", "status": "applied", "bytes": 400, "start_s": 10.0, "end_s": 20.0}]
    assert pc2["timings"] == {"start_s": 21.0, "download_s": 4.0, "end_s": 31.0, "install_s": 6.0, "verify_s": 2.0}
    assert pc2["failed"] and report["batches"][1]["failed_hosts"] == ["pc2"]


def test_lab_ledger_source_spans_name_what_they_measure():
    """Two steps 1000 virtual seconds apart: downloads span sums the steps, rollout span is the timeline."""
    rows = [{"host": "pc1", "kind": "package", "bytes": 100, "start": 50.0, "transfer_end": 60.0, "install_seconds": 0.0,
             "end": 60.0, "_batch": 0, "_phase": "a"},
            {"host": "pc1", "kind": "timer", "bytes": 0, "start": 60.0, "end": 70.0, "_batch": 0, "_phase": "a"},
            {"host": "pc1", "kind": "package", "bytes": 100, "start": 1050.0, "transfer_end": 1060.0,
             "install_seconds": 0.0, "end": 1060.0, "_batch": 1, "_phase": "b"}]
    run = run_data(budget_opt=10.0, ledger_rows=rows, bw_rows=[{"t0": 50.0, "t1": 60.0, "bps": 10.0},
                                                               {"t0": 1050.0, "t1": 1060.0, "bps": 10.0}],
                   hosts={"pc1": host("pc1", batches=[0, 1], builds=[5600, 5712], upgrades=[{"start": 1, "end": 2}])},
                   batches=[batch(0, ["pc1"], 0, 0, play="a"), batch(1, ["pc1"], 0, 0, play="b"),
                            batch(2, ["pc2"], 0, 0, play="b")])
    report = build(run, rmath.LabLedger())
    fleet = report["fleet"]
    assert fleet["source"] == "lab-ledger" and fleet["bytes"] == 200
    assert fleet["downloads_span_s"] == fleet["makespan_s"] == 20.0 and fleet["efficiency"] == 1.0
    assert fleet["rollout_span_s"] == 1010.0
    assert [(b["start_s"], b["end_s"]) for b in report["batches"]] == [(0.0, 10.0), (1000.0, 1010.0), (1010.0, 1010.0)]
    pc1 = report["hosts"][0]
    assert "start_s" in pc1["timings"] and pc1["timings"]["download_s"] == 20.0
    assert report["bandwidth"][0] == [0.0, 10.0]


def test_outcome_and_plan():
    run = run_data(outcome={"privilege": "held", "held_clients": ["pc1"], "message": "1 client behind",
                            "stopped": {"reason": "a client failed", "fix": "rerun"}, "extra": 1},
                   plans=[{"serial": [1, 2], "throttle": 2, "predicted_makespan_s": 6.0, "step": "cp5712r1"},
                          {"budget_bps": 50.0}])
    report = build(run, rmath.TaskTimings())
    assert report["outcome"] == {"privilege": "held", "held_clients": ["pc1"], "message": "1 client behind",
                                 "stopped": {"reason": "a client failed", "fix": "rerun"},
                                 "summary": "privilege held for 1 client(s) (pc1): 1 client behind; "
                                            "stopped: a client failed. Fix: rerun"}
    assert report["plan"] == {"serial": [1, 2], "throttle": 2, "predicted_makespan_s": 6.0, "step": "cp5712r1"}
    assert report["budget_bps"] == 50.0
    assert rmath.outcome_of({"privilege": "released", "stopped": None}) == {
        "privilege": "released", "stopped": None, "summary": "privilege released"}
    assert rmath.outcome_of("x") is None and rmath.outcome_of({"privilege": "bogus"}) is None


def test_build_levels_prefer_what_the_server_said():
    table = normalize_build_map({"sp3_patch2": [5600]})
    levels = rmath.build_levels(LEVELS, table, {5600: "sp3_patch1_1"})
    assert levels[5712] == "cp5712r1" and levels[5495] == "cp5495" and levels[5600] == "sp3_patch1_1"


def test_empty_run():
    report = build(run_data(), rmath.TaskTimings())
    assert report["fleet"]["efficiency"] is None and report["fleet"]["rollout_span_s"] == 0.0
    assert report["target_level"] == "cp5712r1" and "outcome" not in report
