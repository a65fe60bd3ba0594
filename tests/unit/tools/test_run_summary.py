"""tools/run_summary.py: the summary `make demo` prints comes from rollout.json, nothing else."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SPEC = importlib.util.spec_from_file_location("run_summary", Path(__file__).resolve().parents[3] / "tools" / "run_summary.py")
run_summary = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_summary)


def write_report(tmp_path: Path, outcome=None, **fleet) -> Path:
    report = {
        "hosts": [
            {"name": "srv", "role": "server", "level_before": "sp3_patch2", "level_after": "cp5712r1",
             "steps": [{"id": "cp5712r1", "status": "applied"}]},
            {"name": "pc1", "role": "client", "steps": [{"id": "cp5712r1", "status": "applied"}]},
        ],
        "fleet": {"counts": {"up_to_date": 5, "conventional_scan": 2}, "offline": 1, "failed": 0,
                  "bytes": 300_000_000, "lower_bound_s": 90.0, "makespan_s": 100.0, "efficiency": 0.9,
                  "source": "lab-ledger", **fleet},
    }
    if outcome is not None:
        report["outcome"] = outcome
    (tmp_path / "rollout.json").write_text(json.dumps(report), encoding="utf-8")
    return tmp_path


def test_summary_names_the_chain_the_verdicts_and_the_files(tmp_path):
    lines = run_summary.summary(write_report(tmp_path))
    assert lines[0] == "Server srv: sp3_patch2 -> cp5712r1; steps applied: cp5712r1"
    assert lines[1] == "Clients: 2 conventional_scan, 5 up_to_date; offline 1; failed 0"
    assert "300.0 MB in 100 s of downloads (floor 90 s, efficiency 0.90, source lab-ledger)" in lines[2]
    assert lines[3].endswith("report.html") and "junit.xml" in lines[3]


def test_no_client_transfer_means_no_rollout_line(tmp_path):
    lines = run_summary.summary(write_report(tmp_path, makespan_s=0))
    assert not any(line.startswith("Client rollout") for line in lines)


def test_missing_report_is_a_clear_error(tmp_path, capsys):
    assert run_summary.main([str(tmp_path)]) == 1
    assert "rollout_report callback" in capsys.readouterr().err


def test_the_run_outcome_says_whether_the_privilege_is_held(tmp_path):
    outcome = {"privilege": "held", "held_clients": ["pc7", "pc9"], "message": "2 clients still behind",
               "stopped": {"reason": "pc7 failed", "fix": "fix pc7, then rerun site.yml"},
               "summary": "privilege held for 2 client(s) (pc7, pc9): 2 clients still behind; "
                          "stopped: pc7 failed. Fix: fix pc7, then rerun site.yml"}
    lines = run_summary.summary(write_report(tmp_path, outcome=outcome, rollout_span_s=250.0))
    assert "; rollout span 250 s" in lines[2]
    assert lines[3] == ("Upgrade privilege held for 2 client(s) (pc7, pc9): 2 clients still behind; "
                        "stopped: pc7 failed. Fix: fix pc7, then rerun site.yml")
