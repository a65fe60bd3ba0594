"""Several sites at once (issue 17, docs/awx.md "Several sites at once"): a server job, then two site batch
jobs run concurrently through `ansible-runner`, the way two AWX jobs on two execution nodes would run.

A 4-client fleet in two sites on SP3 Patch 2 (one step: CP 5712r1). The server job installs the step once
under the run lock and holds the privilege; each site job gets half of the budget (`osce_budget_share`)
and a lease on the server instead of the lock; a last whole-estate run finds every client current and
puts the privilege back. The lab ledger judges the budget: the two jobs' downloads together never go
above it, and every download belongs to a batch.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "roles"))

from labfleet import ledger, make_fleet, osce_values, run_playbook  # noqa: E402
from test_runner_lab import RUNNER, VENV_BIN, private_data_dir  # noqa: E402

BUDGET = 2_500_000   # bytes/s: two clients' downloads at 10 Mbit/s each
SERVER_JOB = "osce_server:osce_sps:osce_tmcm"


def site_job(tmp_path: Path, fleet, name: str, clients: list[str]) -> tuple[subprocess.Popen, Path]:
    """Start one site batch job (ansible-runner, in the background) for ``clients``."""
    pdd = private_data_dir(tmp_path / name, fleet.inventory.parent, tmp_path / name / "reports")
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(
        {"osce_bandwidth_budget_bps": BUDGET, "osce_budget_share": 0.5, "osce_run_id": f"{name}-job",
         "osce_run_lock_settle": 0.5}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OSCE_"))}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    limit = ":".join([SERVER_JOB, *clients])
    proc = subprocess.Popen([str(RUNNER), "run", str(pdd), "-p", "playbooks/site.yml", "--ident", name,
                             "--limit", limit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return proc, pdd / "artifacts" / name


@pytest.mark.skipif(not RUNNER.exists(), reason="needs ansible-runner (requirements-test.txt)")
def test_two_site_jobs_run_at_once_inside_the_budget(tmp_path):
    # realtime clock: a job's download stays in flight while the other job works, so the two overlap
    fleet = make_fleet(tmp_path, "sp3_patch2", "apache", 4, "--sites", "2", "--downlink-mbps", "10",
                       "--budget-mbps", str(BUDGET * 8 / 1e6), "--mode", "realtime", "--settle", "0.5")
    sites = {name: fleet.host(name)["osce"]["site"] for name in fleet.clients()}
    by_site = {site: sorted(n for n, s in sites.items() if s == site) for site in sorted(set(sites.values()))}
    assert list(by_site) == ["site1", "site2"] and all(len(v) == 2 for v in by_site.values())

    # a site job while the server step is due is refused before any change, naming the server job
    before = fleet.snapshot()
    early = run_playbook(fleet, "playbooks/site.yml", "--limit", ":".join([SERVER_JOB, *by_site["site1"]]),
                         "-e", "osce_budget_share=0.5")
    assert early.rc != 0 and "run the server job first" in early.out and fleet.snapshot() == before, early.out[-3000:]

    # the server job: the step once, under the run lock; no client in it, so the privilege is held
    server = run_playbook(fleet, "playbooks/site.yml", "--limit", SERVER_JOB)
    assert server.rc == 0, server.out[-4000:]
    assert fleet.server_build()[1] == 5712 and fleet.privilege_root() == "1"
    assert all(fleet.client(n)["build"] != 5712 for n in fleet.clients())

    # two site jobs at once, half the budget each; each holds a lease, not the lock
    jobs = {site: site_job(tmp_path, fleet, site, clients) for site, clients in by_site.items()}
    spans = {}
    for site, (proc, artifacts) in jobs.items():
        out = proc.communicate(timeout=900)[0]
        assert proc.returncode == 0, f"{site}: {out[-4000:]}"
        assert (artifacts / "status").read_text() == "successful"
        stdout = (artifacts / "stdout").read_text()
        assert "a site batch job (osce_budget_share) never puts it back" in stdout
        report = json.loads((tmp_path / site / "reports" / "awx-job-1" / "rollout.json").read_text())
        assert report["budget_bps"] == BUDGET / 2, report["budget_bps"]    # each job planned on its share
        created = sorted(json.loads(p.read_text())["created"] for p in (artifacts / "job_events").glob("*.json"))
        spans[site] = (created[0], created[-1])
    (start_a, end_a), (start_b, end_b) = spans["site1"], spans["site2"]
    assert start_a < end_b and start_b < end_a, spans    # the two jobs ran at the same time, each under its lease
    assert all(fleet.client(n)["build"] == 5712 for n in fleet.clients())
    values = osce_values(fleet)
    assert not [v for v in values if v.lower().startswith(("runshare.", "runlock"))], values
    assert fleet.privilege_root() == "1"          # held: only the server job puts it back

    # the transfers of both jobs together: every one in a batch, the combined rate within the budget
    lab = ledger(fleet)
    packages = [r for r in lab["records"] if r["kind"] == "package"]
    assert len(packages) == 4 and {r["trigger"] for r in packages} == {"autopcc"}, packages
    assert lab["peak_bps"] <= BUDGET * 1.001, lab["peak_bps"]
    # each job alone downloads one client at a time (half the budget); whether the two downloads overlap on
    # the lab's clock depends on process timing, and together they never exceed two at once
    assert 1 <= lab["peak_concurrency"] <= 2, lab

    # the last whole-estate run finds every client current and releases the privilege
    last = run_playbook(fleet, "playbooks/site.yml")
    assert last.rc == 0 and fleet.privilege_root() == "0", last.out[-4000:]
    assert json.loads(json.dumps(ledger(fleet)["by_trigger"])) == lab["by_trigger"]   # nothing downloaded since
