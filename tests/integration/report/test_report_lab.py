"""The rollout_report callback on a real ansible-playbook run in the lab (issue 7, item 2).

A generated lab fleet, tests/integration/report/rollout.yml (build_facts, then client_upgrade in
play-level serial batches, then pattern_verify) run through tests/lab/ansible-lab with the callback
enabled. The files are judged with independent readers: jsonschema, xml.etree, and the lab's
ledger read here as plain JSON lines.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[3]
WRAPPER = ROOT / "tests" / "lab" / "ansible-lab"
MAKE_FLEET = ROOT / "tests" / "lab" / "make_fleet.py"
PLAYBOOK = ROOT / "tests" / "integration" / "report" / "rollout.yml"
SCHEMA = json.loads((ROOT / "data" / "schemas" / "rollout-report.schema.json").read_text())
BUDGET = 2_500_000.0  # bytes/s: one lab client's downlink (20 Mbit/s)

pytestmark = pytest.mark.skipif(not (WRAPPER.exists() and MAKE_FLEET.exists()), reason="the lab is not present")


def make_fleet(path: Path) -> Path:
    subprocess.run([sys.executable, str(MAKE_FLEET), "--out", str(path), "--server-level", "cp5712r1",
                    "--web", "apache", "--clients", "5", "--behind", "5", "--fault", "pc0003:offline",
                    "--mode", "instant", "--settle", "0.05"], check=True, cwd=ROOT, capture_output=True, text=True)
    return path


def run(fleet: Path, reports: Path, ledger: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_CALLBACKS_ENABLED="osce.patching.rollout_report",
               OSCE_REPORT_DIR=str(reports), OSCE_REPORT_RUN_ID="it-1", OSCE_REPORT_BUDGET_BPS=str(BUDGET))
    env.pop("OSCE_REPORT_LEDGER", None)
    if ledger:
        env["OSCE_REPORT_LEDGER"] = str(fleet)
    return subprocess.run([str(WRAPPER), "ansible-playbook", "-i", str(fleet / "inventory.yml"), str(PLAYBOOK)],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600, check=False)


def check_common(out: Path, proc: subprocess.CompletedProcess) -> dict:
    assert (out / "rollout.json").exists(), proc.stdout + proc.stderr
    report = json.loads((out / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    names = [h["name"] for h in report["hosts"]]
    assert names == ["osce-srv", "pc0001", "pc0002", "pc0003", "pc0004", "pc0005"]

    # three serial batches ([1, 2] over 5 clients: 1, 2, 2), one progress line each
    assert [b["hosts"] for b in report["batches"]] == [["pc0001"], ["pc0002", "pc0003"], ["pc0004", "pc0005"]]
    lines = re.findall(r"rollout_report: Report test \| clients: batch (\d)/(\d) done, (\d) host\(s\), (\d) failed "
                       r"\((\d) failed so far\)", proc.stdout)
    # pc0003 is offline: UNREACHABLE, reported apart, never a failure of its batch (a rerun picks it up)
    assert lines == [("1", "3", "1", "0", "0"), ("2", "3", "2", "0", "0"), ("3", "3", "2", "0", "0")]
    assert all(b["failed_hosts"] == [] for b in report["batches"])

    hosts = {h["name"]: h for h in report["hosts"]}
    for name in ("pc0001", "pc0002", "pc0004", "pc0005"):
        h = hosts[name]
        assert (h["level_before"], h["level_after"]) == ("sp3_patch2", "cp5712r1"), h
        assert h["verdict"] in ("up_to_date", "conventional_scan") and h["bytes"] > 0 and not h["errors"]
        assert h["steps"] == [dict(h["steps"][0], id="catch_up", status="applied")]
    assert hosts["pc0003"]["online"] is False and not hosts["pc0003"]["failed"] and hosts["pc0003"]["bytes"] == 0
    assert hosts["osce-srv"]["level_after"] == "cp5712r1"
    assert report["fleet"]["failed"] == 0 and report["fleet"]["offline"] == 1
    assert sum(report["fleet"]["counts"].values()) == 4

    # JUnit: one test case per host, the offline client is skipped, the rest pass
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == sorted(names) and suite.get("tests") == str(len(names))
    assert cases["pc0003"].find("skipped") is not None
    assert all(cases[n].find("failure") is None for n in names)

    # HTML: self-contained, charts as inline SVG
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 3 and "<script src" not in page and "src=" not in page and "href=" not in page
    return report


def test_report_from_the_lab_ledger(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    proc = run(fleet, tmp_path / "reports", ledger=True)
    report = check_common(tmp_path / "reports" / "it-1", proc)
    fleet_fig = report["fleet"]
    assert fleet_fig["source"] == "lab-ledger"

    # independent reading of the ledger: every record of this run is a client download
    records = [json.loads(line) for line in (fleet / "lab" / "ledger.jsonl").read_text().splitlines() if line.strip()]
    assert records
    total = sum(r["bytes"] for r in records)
    start, end = min(r["start"] for r in records), max(r["end"] for r in records)
    floor = total / BUDGET + min(r["install_seconds"] for r in records)
    assert fleet_fig["bytes"] == total
    assert fleet_fig["makespan_s"] == pytest.approx(end - start, abs=1e-3)
    assert fleet_fig["lower_bound_s"] == pytest.approx(floor, abs=1e-3)
    assert fleet_fig["efficiency"] == pytest.approx(floor / (end - start), abs=1e-3)
    per_host = {}
    for r in records:
        per_host[r["host"]] = per_host.get(r["host"], 0) + r["bytes"]
    assert {h["name"]: h["bytes"] for h in report["hosts"] if h["bytes"]} == per_host
    assert sum(b["bytes"] for b in report["batches"]) == total
    # the batches follow each other on the ledger's clock
    spans = [(b["start_s"], b["end_s"]) for b in report["batches"]]
    assert spans[0][0] == 0.0 and all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:]))
    assert spans[-1][1] == pytest.approx(end - start, abs=1e-3)


def test_report_from_task_timings(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    proc = run(fleet, tmp_path / "reports", ledger=False)
    report = check_common(tmp_path / "reports" / "it-1", proc)
    fleet_fig = report["fleet"]
    assert fleet_fig["source"] == "task-timings"
    # bytes are the ones client_upgrade expects (the catalog sizes), 44.2 MB x64 / 37.2 MB x86
    sizes = {h["bytes"] for h in report["hosts"] if h["bytes"]}
    assert sizes <= {44_200_000, 37_200_000}
    assert fleet_fig["bytes"] == sum(h["bytes"] for h in report["hosts"])
    assert fleet_fig["makespan_s"] > 0 and fleet_fig["efficiency"] is not None


def test_site_yml_writes_the_report_from_the_ledger(tmp_path):
    """playbooks/site.yml (the roles, the planner's batches, the start/finish split) with the callback:
    the three files, JUnit that parses, rollout.json valid against the schema, fleet figures from the
    ledger with the budget the planner was given."""
    fleet = tmp_path / "site"
    subprocess.run([sys.executable, str(MAKE_FLEET), "--out", str(fleet), "--server-level", "sp3_patch2",
                    "--web", "apache", "--clients", "5", "--x86-share", "0.4", "--conventional-share", "0",
                    "--fault", "pc0005:offline", "--install-seconds", "30", "--budget-mbps", "40", "--mode", "instant",
                    "--settle", "0.05"],
                   check=True, cwd=ROOT, capture_output=True, text=True)
    reports = tmp_path / "reports"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_CALLBACKS_ENABLED="osce.patching.rollout_report", OSCE_REPORT_DIR=str(reports),
               OSCE_REPORT_RUN_ID="site-1", OSCE_REPORT_LEDGER=str(fleet))
    env.pop("OSCE_REPORT_BUDGET_BPS", None)
    proc = subprocess.run([str(WRAPPER), "ansible-playbook", "-i", str(fleet / "inventory.yml"), "playbooks/site.yml"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = reports / "site-1"
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "rollout.json"]

    report = json.loads((out / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    inventory = (fleet / "inventory.yml").read_text()
    budget = float(re.search(r"^\s*osce_bandwidth_budget_bps: (\d+)$", inventory, re.M).group(1))
    assert report["budget_bps"] == budget  # the planner's input, not an option of the callback

    clients = [f"pc{i:04d}" for i in range(1, 6)]
    hosts = {h["name"]: h for h in report["hosts"]}
    for name in clients[:4]:
        h = hosts[name]
        assert (h["build_before"], h["build_after"], h["level_after"]) == (5600, 5712, "cp5712r1"), h
        assert h["verdict"] == "up_to_date" and not h["failed"]
        # one upgrade made of the start (download) and finish (install) tasks, timed by the ledger
        assert h["timings"]["download_s"] > 0 and h["timings"]["install_s"] == pytest.approx(30.0), h["timings"]
    assert hosts["pc0005"]["online"] is False and not hosts["pc0005"]["failed"]

    records = [json.loads(line) for line in (fleet / "lab" / "ledger.jsonl").read_text().splitlines() if line.strip()]
    assert sorted(r["host"] for r in records) == clients[:4]
    total = sum(r["bytes"] for r in records)
    start, end = min(r["start"] for r in records), max(r["end"] for r in records)
    floor = total / budget + min(r["install_seconds"] for r in records)
    fig = report["fleet"]
    assert fig["source"] == "lab-ledger" and fig["bytes"] == total
    assert fig["makespan_s"] == pytest.approx(end - start, abs=1e-3)
    assert fig["efficiency"] == pytest.approx(floor / (end - start), abs=1e-3)
    assert [h for b in report["batches"] for h in b["hosts"]] and all(not b["failed_hosts"] for b in report["batches"])

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(clients) <= set(cases) and cases["pc0005"].find("skipped") is not None
    assert all(c.find("failure") is None and c.find("error") is None for c in cases.values())
    assert "<svg" in (out / "report.html").read_text()


def test_build_map_in_group_vars_all(tmp_path):
    """osce_build_map kept in group_vars/all/osce.yml beside the inventory (as inventories/example/ keeps
    it), not in the inventory file: the callback takes it the way Ansible resolves variables, so the
    clients' 5600 still reads as sp3_patch2."""
    import yaml

    fleet = make_fleet(tmp_path / "fleet")
    inventory = yaml.safe_load((fleet / "inventory.yml").read_text())
    build_map = inventory["all"]["vars"].pop("osce_build_map")
    (fleet / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (fleet / "group_vars" / "all").mkdir(parents=True)
    (fleet / "group_vars" / "all" / "osce.yml").write_text(yaml.safe_dump({"osce_build_map": build_map}))
    proc = run(fleet, tmp_path / "reports", ledger=False)
    report = check_common(tmp_path / "reports" / "it-1", proc)
    levels = {h["name"]: (h["level_before"], h["level_after"]) for h in report["hosts"] if h["role"] == "client"}
    assert levels == {"pc0001": ("sp3_patch2", "cp5712r1"), "pc0002": ("sp3_patch2", "cp5712r1"),
                      "pc0003": (None, None), "pc0004": ("sp3_patch2", "cp5712r1"),
                      "pc0005": ("sp3_patch2", "cp5712r1")}
