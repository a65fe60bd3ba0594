"""playbooks/site.yml through `ansible-runner run`, the way AWX / AAP runs a job (issue 17).

The private data directory is laid out as AWX lays it out for a job: inventory/ (the inventory and
its group_vars), env/extravars (the survey answers), env/settings, env/envvars (here: the lab's
settings from tests/lab/ansible-lab, and the rollout_report callback enabled beside AWX's display
callback), project/ (the project checkout: our playbooks). osce.patching itself is on the
collections path, as in an execution environment. A tiny fleet: an SP3 Patch 2 server and 2 clients.

Judged from runner's own artifacts (status, rc, job_events/*.json) read as plain JSON, and the three
report files. The inventory carries a fake WinRM password; it must appear in no artifact.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "tests" / "lab"
MAKE_FLEET = LAB / "make_fleet.py"
VENV_BIN = Path(sys.executable).parent
RUNNER = VENV_BIN / "ansible-runner"
SCHEMA = json.loads((ROOT / "data" / "schemas" / "rollout-report.schema.json").read_text())
SECRET = "Fake-WinRM-Pa55-9f1c2e7d"  # never a real credential; must never be printed
BUDGET = 5_000_000  # bytes/s, the survey's osce_bandwidth_budget_bps
TERMINAL = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}

pytestmark = pytest.mark.skipif(not (MAKE_FLEET.exists() and RUNNER.exists()),
                                reason="needs the lab (tests/lab) and ansible-runner (requirements-test.txt)")


def lab_envvars(reports: Path, fleet: Path) -> dict[str, str]:
    """tests/lab/ansible-lab's settings, as env/envvars (AWX: the job's environment)."""
    tmp = ROOT / ".build" / "ansible-tmp"
    return {
        "ANSIBLE_COLLECTIONS_PATH": f"{LAB / 'collections'}:{ROOT / '.build' / 'collections'}",
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "OSCE_LAB_LIB": str(LAB),
        "OSCE_LAB_PYTHON": str(VENV_BIN / "python"),
        "ANSIBLE_CALLBACK_PLUGINS": str(LAB / "callback_plugins"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_INTERPRETER_PYTHON_FALLBACK": str(VENV_BIN / "python"),
        "ANSIBLE_FORKS": "10",
        "ANSIBLE_LOCAL_TEMP": str(tmp),
        "ANSIBLE_REMOTE_TMP": str(tmp),
        "ANSIBLE_NOCOLOR": "1",
        # the report beside AWX's stdout callback: a notification callback, enabled, never the stdout one
        "ANSIBLE_CALLBACKS_ENABLED": "osce.patching.rollout_report",
        "OSCE_REPORT_DIR": str(reports),
        "OSCE_REPORT_RUN_ID": "awx-job-1",
        "OSCE_REPORT_LEDGER": str(fleet),
    }


def private_data_dir(tmp_path: Path, fleet: Path, reports: Path) -> Path:
    pdd = tmp_path / "pdd"
    (pdd / "env").mkdir(parents=True)
    inventory = pdd / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    shutil.copy(fleet / "inventory.yml", inventory / "hosts.yml")
    # the lab's state stays in the fleet directory (the inventory's default is its own directory)
    (inventory / "group_vars" / "all" / "lab.yml").write_text(yaml.safe_dump({"lab_state_dir": str(fleet)}))
    # a Machine credential's password as the example inventory wires it (vault var -> ansible_password)
    (inventory / "group_vars" / "all" / "winrm.yml").write_text(yaml.safe_dump(
        {"ansible_password": "{{ vault_osce_winrm_password }}", "vault_osce_winrm_password": SECRET}))
    shutil.copytree(ROOT / "playbooks", pdd / "project" / "playbooks")
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({"osce_bandwidth_budget_bps": BUDGET}))
    (pdd / "env" / "settings").write_text(yaml.safe_dump(
        {"idle_timeout": 0, "job_timeout": 900, "pexpect_timeout": 5, "suppress_ansible_output": False,
         "suppress_output_file": False}))
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(lab_envvars(reports, fleet)))
    return pdd


def test_site_yml_through_ansible_runner(tmp_path):
    fleet = tmp_path / "fleet"
    subprocess.run([sys.executable, str(MAKE_FLEET), "--out", str(fleet), "--server-level", "sp3_patch2",
                    "--web", "apache", "--clients", "2", "--x86-share", "0.5", "--conventional-share", "0",
                    "--mode", "instant", "--settle", "0.05"], check=True, cwd=ROOT, capture_output=True, text=True)
    link = ROOT / ".build" / "collections" / "ansible_collections" / "osce" / "patching"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    reports = tmp_path / "reports"
    pdd = private_data_dir(tmp_path, fleet, reports)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OSCE_"))}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    proc = subprocess.run([str(RUNNER), "run", str(pdd), "-p", "playbooks/site.yml", "--ident", "job1"],
                          capture_output=True, text=True, env=env, timeout=900, check=False)
    artifacts = pdd / "artifacts" / "job1"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else proc.stdout
    assert proc.returncode == 0, stdout[-4000:] + proc.stderr[-2000:]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"

    # ---- job events: AWX's display callback made them; one result per task and host ----------------
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    kinds = Counter(e["event"] for e in events)
    assert kinds["playbook_on_start"] == 1 and kinds["playbook_on_stats"] == 1, kinds
    starts = Counter((e["event_data"]["task_uuid"], e["event_data"]["host"])
                     for e in events if e["event"] == "runner_on_start")
    results = Counter((e["event_data"]["task_uuid"], e["event_data"]["host"]) for e in events if e["event"] in TERMINAL)
    assert starts and set(starts.values()) == {1}, [k for k, n in starts.items() if n != 1]
    assert set(results.values()) == {1}, [k for k, n in results.items() if n != 1]
    assert set(starts) <= set(results), set(starts) - set(results)
    # Ansible sends no runner_on_start for a meta task, only its result
    actions = {e["event_data"]["task_uuid"]: e["event_data"].get("task_action") for e in events if e["event"] in TERMINAL}
    assert {actions[task] for task, _host in set(results) - set(starts)} <= {"ansible.builtin.meta", "meta"}
    hosts = {h for _task, h in results}
    # the fleet's server, clients, standalone SPS and Control Manager (read over HTTPS, never logged
    # into); no play runs on the implicit localhost (the --limit contract covers inventory hosts only)
    assert hosts == {"osce-srv", "pc0001", "pc0002", "sps01", "tmcm01"}, hosts
    assert kinds["runner_on_failed"] == 0 and kinds["runner_on_unreachable"] == 0, kinds
    stats = next(e for e in events if e["event"] == "playbook_on_stats")["event_data"]
    assert not stats["failures"] and not stats["dark"] and set(stats["ok"]) <= hosts
    managed = {"osce-srv", "pc0001", "pc0002"}
    assert managed <= set(stats["ok"])
    # the stdout callback stays AWX's (awx_display): every event carries its stdout lines
    assert all("stdout" in e and "uuid" in e and "counter" in e for e in events)

    # ---- no secret anywhere runner or the report wrote -----------------------------------------------
    written = [p for d in (artifacts, reports) for p in d.rglob("*") if p.is_file() and "callback" not in p.parts]
    leaks = [str(p) for p in written if SECRET in p.read_text(errors="replace")]
    assert not leaks
    assert SECRET not in proc.stdout + proc.stderr

    # ---- the rollout_report callback ran beside awx_display --------------------------------------------
    out = reports / "awx-job-1"
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html", "rollout.json"]
    report = json.loads((out / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["budget_bps"] == BUDGET  # the survey answer (extravars) reached the planner
    by_name = {h["name"]: h for h in report["hosts"]}
    assert set(by_name) == hosts and by_name["osce-srv"]["level_after"] == "cp5712r1"
    for name in ("pc0001", "pc0002"):
        assert by_name[name]["verdict"] == "up_to_date" and not by_name[name]["failed"], by_name[name]
    assert report["fleet"]["source"] == "lab-ledger" and report["fleet"]["failed"] == 0 and report["fleet"]["clients"] == 2
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert {c.get("name") for c in suite.findall("testcase")} == hosts
    assert all(c.find("failure") is None and c.find("error") is None for c in suite.findall("testcase"))
    assert "<svg" in (out / "report.html").read_text()
