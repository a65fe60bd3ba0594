"""Unit tests for the callback osce.patching.rollout_report (recorder, adapters, files).

The callback is fed synthetic events (fake hosts, tasks and results shaped like ansible-core's), so
these tests need no playbook run; tests/integration/report/ runs the real thing in the lab.
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

from ansible_collections.osce.patching.plugins.callback import rollout_report as cbmod
from ansible_collections.osce.patching.plugins.plugin_utils import _report_recorder as recorder
from ansible_collections.osce.patching.plugins.plugin_utils import _report_render as render

ROOT = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((ROOT / "data" / "schemas" / "rollout-report.schema.json").read_text())
BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------- synthetic events


class Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now


class Group:
    def __init__(self, name):
        self.name = name


class Host:
    def __init__(self, name, group, **hostvars):
        self.name = name
        self._groups = [Group(group)]
        self.vars = hostvars

    def get_name(self):
        return self.name

    def get_groups(self):
        return self._groups


class Block:
    def __init__(self, body=(), rescue=()):
        self.block = list(body)
        self.rescue = list(rescue)
        self._parent = None
        self._uuid = object()


class Task:
    def __init__(self, action, parent=None, ignore_unreachable=False):
        self.action = action
        self.resolved_action = action
        self._uuid = object()
        self._parent = parent
        self.ignore_unreachable = ignore_unreachable
        self.check_mode = False


class Result:
    def __init__(self, host, task, data):
        self.host = host
        self.task = task
        self.result = data


class Inventory:
    def __init__(self, hosts):
        self.hosts = hosts
        self.batch = None

    def get_hosts(self, pattern, ignore_restrictions=False, order=None):
        return list(self.hosts) if ignore_restrictions or self.batch is None else list(self.batch)


class VM:
    """The play's variable manager: host variables over the variables of its groups."""

    def __init__(self, inventory, group_vars=None):
        self._inventory = inventory
        self.group_vars = group_vars or {}
        self.calls = 0

    def get_vars(self, play=None, host=None, include_hostvars=True):
        self.calls += 1
        out = {}
        for group in ["all"] + [g.name for g in host.get_groups()]:
            out.update(self.group_vars.get(group, {}))
        out.update(host.vars)
        return out


class Play:
    def __init__(self, name, hosts, serial, inventory, step=None):
        self.name = name
        self.hosts = hosts
        self.serial = serial
        self._uuid = object()
        self._variable_manager = VM(inventory)
        self.vars = {"osce_step": step} if step else {}
        self.check_mode = False
        self.order = None

    def get_name(self):
        return self.name


class Display:
    def __init__(self):
        self.lines = []
        self.warnings = []

    def display(self, msg, **_kwargs):
        self.lines.append(msg)

    def warning(self, msg, **_kwargs):
        self.warnings.append(msg)


def make_callback(tmp_path, clock, **options):
    cb = cbmod.CallbackModule()
    cb._display = Display()
    cb._plugin_options = {"report_dir": str(tmp_path / "reports"), "run_id": "t1", "ledger": None,
                          "budget_bps": None, "progress": True, **options}
    real = cb._recorder

    def recorder():
        fresh = cb._rec is None
        rec = real()
        if fresh:
            rec.clock = clock
            rec.started = clock()
        return rec
    cb._recorder = recorder
    return cb


def run(cb, clock, host, task, status, data, dt=1.0):
    cb.v2_runner_on_start(host, task)
    clock.now += dt
    result = Result(host, task, data)
    if status == "failed":
        cb.v2_runner_on_failed(result)
    elif status == "skipped":
        cb.v2_runner_on_skipped(result)
    elif status == "unreachable":
        cb.v2_runner_on_unreachable(result)
    else:
        cb.v2_runner_on_ok(result)


SERVER_FACTS = {
    "before": {"level": "sp3_patch2", "sp_build": 5600, "client_program": {"build": 5600}},
    "after": {"level": "cp5712r1", "sp_build": 5712, "client_program": {"build": 5712}},
}


def scenario(tmp_path, ledger=None, budget=None, check=False):
    """A server step (sp3_patch2 -> cp5712r1) and a client play with serial [1, 2] over 3 clients:
    pc1 upgrades, pc2 fails (not rescued), pc3 is offline (ignore_unreachable)."""
    clock = Clock()
    cb = make_callback(tmp_path, clock, ledger=ledger, budget_bps=budget)
    cb._recorder().check_mode = check
    srv = Host("osce-srv", "osce_server")
    pcs = [Host("pc1", "osce_clients", osce_client_arch="x64", osce_site="site1"),
           Host("pc2", "osce_clients", osce_client_arch="x86"), Host("pc3", "osce_clients", osce_client_arch="x64")]
    inv = Inventory([srv])
    cb.v2_playbook_on_start(None)
    cb.v2_playbook_on_play_start(Play("OSCE step cp5712r1 | server", "osce_server", [], inv, step="cp5712r1"))
    run(cb, clock, srv, Task("osce.patching.build_facts"), "ok", {"ansible_facts": {"osce_server": SERVER_FACTS["before"]}})
    preview = Task("osce.patching.patch_chain")
    preview.check_mode = True  # preflight's plan: a check-mode patch_chain inside a real run
    run(cb, clock, srv, preview, "ok", {"changed": True, "level": "cp5712r1", "steps": [{"id": "cp5712r1", "status": "would_apply"}]})
    run(cb, clock, srv, Task("osce.patching.patch_chain"), "ok", {
        "changed": True, "level_before": "sp3_patch2", "level": "cp5712r1", "build": 5712, "reboot_required": False,
        "steps": [{"id": "cp5712r1", "status": "would_apply" if check else "applied", "rc": 0}]}, dt=30)
    run(cb, clock, srv, Task("osce.patching.build_facts"), "ok", {"ansible_facts": {"osce_server": SERVER_FACTS["after"]}})
    run(cb, clock, srv, Task("ansible.builtin.set_fact"), "ok", {"ansible_facts": {
        "server_chain_planned": {"serial": [1, 2], "throttle": 2, "recommended_forks": 3, "budget_bps": 100.0,
                                 "lower_bound_s": 5.0, "predicted_makespan_s": 6.0, "hosts": ["pc1", "pc2", "pc3"]},
        "osce_rollout": {"step": "cp5712r1", "serial": [1, 2], "throttle": 2, "predicted_makespan_s": 6.0,
                         "lower_bound_s": 5.0, "hosts": ["pc1", "pc2", "pc3"]}}})
    inv.hosts = pcs
    play = Play("OSCE step cp5712r1 | clients", "pc1,pc2,pc3", [1, 2], inv, step="cp5712r1")
    block = Block()
    upgrade = Task("osce.patching.client_upgrade", parent=block, ignore_unreachable=True)
    block.block.append(upgrade)
    # batch 1: pc1
    inv.batch = pcs[:1]
    cb.v2_playbook_on_play_start(play)
    run(cb, clock, pcs[0], upgrade, "ok", {"changed": True, "build_before": 5600, "build": 5712, "arch": "x64",
                                           "bytes_expected": 400}, dt=4)
    run(cb, clock, pcs[0], Task("ansible.builtin.set_fact"), "ok", {"ansible_facts": {"osce_client_state": {
        "online": True, "build": 5712, "reboot_required": False}}})
    # batch 2: pc2 fails, pc3 unreachable
    inv.batch = pcs[1:]
    cb.v2_playbook_on_play_start(play)
    run(cb, clock, pcs[1], upgrade, "failed", {"msg": "pc2: did not reach build 5712 in 1800 s", "bytes_expected": 300},
        dt=3)
    run(cb, clock, pcs[2], upgrade, "unreachable", {"msg": "lab: host unreachable", "unreachable": True})
    # verify
    inv.batch = None
    cb.v2_playbook_on_play_start(Play("OSCE verify | clients", "osce_clients", [], inv))
    verify = Task("osce.patching.pattern_verify", ignore_unreachable=True)
    run(cb, clock, pcs[0], verify, "ok", {"verdict": "up_to_date", "evidence": {"program_build": 5712, "arch": "x64"}})
    run(cb, clock, pcs[1], verify, "ok", {"verdict": "program_behind", "evidence": {"program_build": 5600}})
    run(cb, clock, pcs[2], verify, "unreachable", {"msg": "unreachable", "unreachable": True})
    cb.v2_playbook_on_stats(None)
    out = tmp_path / "reports" / "t1"
    return cb, json.loads((out / "rollout.json").read_text()), out


def test_report_from_task_timings(tmp_path):
    cb, report, out = scenario(tmp_path)
    assert not cb._display.warnings
    jsonschema.validate(report, SCHEMA)
    hosts = {h["name"]: h for h in report["hosts"]}
    assert [h["name"] for h in report["hosts"]][0] == "osce-srv"
    srv = hosts["osce-srv"]
    assert (srv["level_before"], srv["level_after"]) == ("sp3_patch2", "cp5712r1")
    assert srv["steps"] == [{"id": "cp5712r1", "status": "applied", "start_s": srv["steps"][0]["start_s"],
                             "end_s": srv["steps"][0]["end_s"]}]
    assert srv["verdict"] == "up_to_date" and srv["reboot_required"] is False
    pc1, pc2, pc3 = hosts["pc1"], hosts["pc2"], hosts["pc3"]
    assert (pc1["level_before"], pc1["level_after"], pc1["verdict"]) == ("sp3_patch2", "cp5712r1", "up_to_date")
    assert pc1["bytes"] == 400 and pc1["batch"] == 0 and pc1["arch"] == "x64" and pc1["site"] == "site1"
    assert pc1["timings"]["end_s"] - pc1["timings"]["start_s"] == 4.0 and "verify_s" in pc1["timings"]
    assert pc2["failed"] and pc2["errors"] == ["pc2: did not reach build 5712 in 1800 s"] and pc2["batch"] == 1
    assert pc3["online"] is False and not pc3["failed"] and pc3["errors"] == []
    # batches: only the client play's serial batches, 1/2 and 2/2
    assert [b["hosts"] for b in report["batches"]] == [["pc1"], ["pc2", "pc3"]]
    assert [(b["batch_in_play"], b["batches_in_play"]) for b in report["batches"]] == [(1, 2), (2, 2)]
    assert [b["failures"] for b in report["batches"]] == [0, 1] and report["batches"][1]["failed_hosts"] == ["pc2"]
    assert report["batches"][0]["bytes"] == 400 and report["batches"][1]["bytes"] == 300
    fleet = report["fleet"]
    assert fleet["source"] == "task-timings" and fleet["budget_bps"] == 100.0
    assert fleet["counts"] == {"up_to_date": 1, "program_behind": 1} and fleet["offline"] == 1 and fleet["failed"] == 1
    assert fleet["bytes"] == 700 and fleet["lower_bound_s"] == 7.0  # 700 B / 100 B/s, installs unknown
    assert fleet["makespan_s"] == 7.0 + 1.0  # pc1 4 s, then 1 s of set_fact, then pc2 3 s
    assert fleet["efficiency"] == pytest.approx(7.0 / 8.0, abs=1e-4)
    assert report["plan"]["serial"] == [1, 2] and report["plan"]["recommended_forks"] == 3
    # one progress line per client batch, none for the server and verify plays
    progress = [line for line in cb._display.lines if "batch " in line and "done" in line]
    assert progress == [
        "rollout_report: OSCE step cp5712r1 | clients: batch 1/2 done, 1 host(s), 0 failed (0 failed so far)",
        "rollout_report: OSCE step cp5712r1 | clients: batch 2/2 done, 2 host(s), 1 failed (1 failed so far)"]
    assert any(str(out) in line for line in cb._display.lines)


def test_junit_one_case_per_host(tmp_path):
    _cb, report, out = scenario(tmp_path)
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == [h["name"] for h in report["hosts"]]
    assert all(c.get("classname", "").startswith("osce.patching.rollout.") and float(c.get("time")) >= 0 for c in cases)
    by = {c.get("name"): c for c in cases}
    assert by["osce-srv"].find("failure") is None and by["pc1"].find("failure") is None
    assert by["pc2"].find("failure").get("message").startswith("pc2: did not reach")
    assert by["pc3"].find("skipped") is not None
    assert suites[0].get("tests") == "4" and suites[0].get("failures") == "1" and suites[0].get("skipped") == "1"


def test_unverified_client_fails_in_junit_unless_check_mode():
    host = {"name": "pc9", "role": "client", "online": True, "verdict": "crcz_missing", "errors": [], "failed": False,
            "level_before": None, "level_after": None, "bytes": 0, "reboot_required": None, "batch": None, "timings": {}}
    report = {"run_id": "x", "hosts": [host], "check_mode": False}
    case = ET.fromstring(render.junit_xml(report).split("\n", 1)[1]).find("testsuite/testcase")
    assert case.find("failure").get("type") == "unverified"
    report["check_mode"] = True
    case = ET.fromstring(render.junit_xml(report).split("\n", 1)[1]).find("testsuite/testcase")
    assert case.find("failure") is None and case.find("skipped") is not None


def test_html_is_self_contained(tmp_path):
    _cb, _report, out = scenario(tmp_path, budget=50.0)
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count("<svg") == 3 and "budget 0.0 Mbit/s" in page  # 50 B/s
    for marker in ("Client batches", "Bandwidth over time", "Clients per verdict", "pc2: did not reach"):
        assert marker in page
    lowered = page.lower()
    # one inline script (the host filter) and its data; nothing loaded from anywhere
    assert lowered.count("<script") == 2 and "src=" not in lowered and "href=" not in lowered and "@import" not in lowered
    assert "http" not in lowered.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "fetch(" not in page and "XMLHttpRequest" not in page and "url(" not in lowered
    # failed first, then offline, then the rest
    body = page.split('<tbody id=hosts-body>', 1)[1].split("</tbody>", 1)[0]
    names = re.findall(r'<tr class="rank\d"><td>([^<]+)</td>', body)
    assert names == ["pc2", "pc3", "osce-srv", "pc1"]


def test_budget_option_overrides_the_plan(tmp_path):
    _cb, report, _out = scenario(tmp_path, budget=50.0)
    assert report["fleet"]["budget_bps"] == 50.0 and report["fleet"]["lower_bound_s"] == 14.0


def test_check_mode_steps_would_apply(tmp_path):
    _cb, report, _out = scenario(tmp_path, check=True)
    srv = next(h for h in report["hosts"] if h["name"] == "osce-srv")
    assert srv["steps"][0]["status"] == "would_apply"


def ledger_rows(path, rows):
    with open(path, "a", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def test_report_from_the_lab_ledger(tmp_path):
    """Ledger mode: times and bytes from the ledger, not the tasks; old records are left out."""
    lab = tmp_path / "fleet" / "lab"
    lab.mkdir(parents=True)
    old = {"seq": 1, "host": "pc9", "kind": "package", "name": "program 5600", "bytes": 999, "trigger": "x",
           "site": None, "start": 0.0, "transfer_end": 1.0, "install_seconds": 0.0, "end": 1.0}
    ledger_rows(lab / "ledger.jsonl", [old])
    ledger_rows(lab / "bandwidth.jsonl", [{"t0": 0.0, "t1": 1.0, "bps": 999.0, "transfers": 1}])

    clock = Clock()
    cb = make_callback(tmp_path, clock, ledger=str(tmp_path / "fleet"), budget_bps=100.0)
    pcs = [Host("pc1", "osce_clients", osce_client_arch="x64"), Host("pc2", "osce_clients", osce_client_arch="x86")]
    inv = Inventory(pcs)
    play = Play("OSCE step cp5712r1 | clients", "pc1,pc2", [1], inv, step="cp5712r1")
    upgrade = Task("osce.patching.client_upgrade")
    cb.v2_playbook_on_start(None)
    inv.batch = pcs[:1]
    cb.v2_playbook_on_play_start(play)
    run(cb, clock, pcs[0], upgrade, "ok", {"changed": True, "build_before": 5600, "build": 5712, "bytes_expected": 1})
    ledger_rows(lab / "ledger.jsonl", [
        {"seq": 2, "host": "pc1", "kind": "package", "name": "program 5712", "bytes": 400, "trigger": "client_upgrade",
         "site": None, "start": 100.0, "transfer_end": 104.0, "install_seconds": 2.0, "end": 106.0},
        {"seq": 3, "host": "pc1", "kind": "pattern", "name": "CRCz.ptn", "bytes": 100, "trigger": "client_upgrade",
         "site": None, "start": 100.0, "transfer_end": 101.0, "install_seconds": 0.0, "end": 101.0}])
    ledger_rows(lab / "bandwidth.jsonl", [{"t0": 100.0, "t1": 101.0, "bps": 200.0, "transfers": 2},
                                          {"t0": 101.0, "t1": 104.0, "bps": 100.0, "transfers": 1}])
    inv.batch = pcs[1:]
    cb.v2_playbook_on_play_start(play)
    run(cb, clock, pcs[1], upgrade, "ok", {"changed": True, "build_before": 5600, "build": 5712, "bytes_expected": 1})
    ledger_rows(lab / "ledger.jsonl", [
        {"seq": 4, "host": "pc2", "kind": "package", "name": "program 5712", "bytes": 300, "trigger": "client_upgrade",
         "site": None, "start": 106.0, "transfer_end": 109.0, "install_seconds": 3.0, "end": 112.0}])
    ledger_rows(lab / "bandwidth.jsonl", [{"t0": 106.0, "t1": 109.0, "bps": 100.0, "transfers": 1}])
    with open(lab / "ledger.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"seq": 5, "host": "pc2", "kind": "pack')  # a line still being written is not read
    cb.v2_playbook_on_stats(None)
    report = json.loads((tmp_path / "reports" / "t1" / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    fleet = report["fleet"]
    assert fleet["source"] == "lab-ledger" and fleet["bytes"] == 800
    assert fleet["makespan_s"] == 12.0  # 100 .. 112 virtual seconds
    assert fleet["lower_bound_s"] == 8.0  # 800 B / 100 B/s + shortest install 0 (the CRCz.ptn record)
    assert fleet["peak_bps"] == 200.0 and fleet["efficiency"] == pytest.approx(8 / 12, abs=1e-4)
    b0, b1 = report["batches"]
    assert (b0["start_s"], b0["end_s"], b0["bytes"]) == (0.0, 6.0, 500)
    assert (b1["start_s"], b1["end_s"], b1["bytes"]) == (6.0, 12.0, 300)
    hosts = {h["name"]: h for h in report["hosts"]}
    assert hosts["pc1"]["bytes"] == 500 and hosts["pc1"]["timings"] == {
        "start_s": 0.0, "download_s": 5.0, "end_s": 6.0, "install_s": 2.0}
    assert hosts["pc1"]["steps"][0]["bytes"] == 500
    assert report["bandwidth"][0] == [0.0, 200.0]


def test_find_ledger_accepts_a_file_or_a_fleet_dir(tmp_path):
    (tmp_path / "a" / "lab").mkdir(parents=True)
    (tmp_path / "b" / ".state" / "lab").mkdir(parents=True)
    assert recorder.find_ledger(str(tmp_path / "a")) == str(tmp_path / "a" / "lab" / "ledger.jsonl")
    assert recorder.find_ledger(str(tmp_path / "b")) == str(tmp_path / "b" / ".state" / "lab" / "ledger.jsonl")
    assert recorder.find_ledger(str(tmp_path / "x.jsonl")) == str(tmp_path / "x.jsonl")
    assert recorder.find_ledger(None) is None


def test_rescued_failure_is_not_a_host_failure(tmp_path):
    clock = Clock()
    cb = make_callback(tmp_path, clock)
    pc = Host("pc1", "osce_clients")
    inv = Inventory([pc])
    block = Block()
    inner = Task("osce.patching.client_upgrade", parent=block)
    block.block.append(inner)
    block.rescue.append(Task("ansible.builtin.set_fact", parent=block))
    cb.v2_playbook_on_start(None)
    cb.v2_playbook_on_play_start(Play("p", "all", [], inv, step="cp5712r1"))
    run(cb, clock, pc, inner, "failed", {"msg": "boom"})
    cb.v2_playbook_on_stats(None)
    report = json.loads((tmp_path / "reports" / "t1" / "rollout.json").read_text())
    host = report["hosts"][0]
    assert not host["failed"] and host["errors"] == [] and host["steps"][0]["status"] == "failed"


def test_a_broken_event_disables_the_report_not_the_run(tmp_path):
    clock = Clock()
    cb = make_callback(tmp_path, clock)
    cb.v2_playbook_on_start(None)
    cb.v2_runner_on_ok(object())  # not a task result
    assert cb._display.warnings and "stopped recording" in cb._display.warnings[0]
    cb.v2_playbook_on_stats(None)
    assert not (tmp_path / "reports" / "t1").exists()


def test_empty_run_still_writes_valid_files(tmp_path):
    clock = Clock()
    cb = make_callback(tmp_path, clock)
    cb.v2_playbook_on_start(None)
    cb.v2_playbook_on_stats(None)
    out = tmp_path / "reports" / "t1"
    report = json.loads((out / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["fleet"]["efficiency"] is None and report["batches"] == []
    ET.parse(out / "junit.xml")
    assert "No client batches" in (out / "report.html").read_text()


def test_ansible_doc_renders(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_CONFIG=str(tmp_path / "none.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(BIN / "ansible-doc"), "-t", "callback", "osce.patching.rollout_report"],
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for text in ("report_dir", "OSCE_REPORT_LEDGER", "notification", "run_id"):
        assert text in proc.stdout


def test_start_and_finish_tasks_make_one_upgrade_from_task_timings(tmp_path):
    """client_upgrade phase start (the download) then phase finish (the install): one transfer whose
    download ends with the start task and whose upgrade ends with the finish task."""
    clock = Clock()
    cb = make_callback(tmp_path, clock, budget_bps=100.0)
    pc1 = Host("pc1", "osce_clients", osce_client_arch="x64")
    inv = Inventory([pc1])
    cb.v2_playbook_on_start(None)
    cb.v2_playbook_on_play_start(Play("OSCE step cp5712r1 | clients", "pc1", [1], inv, step="cp5712r1"))
    start, finish = Task("osce.patching.client_upgrade"), Task("osce.patching.client_upgrade")
    run(cb, clock, pc1, start, "ok", {"changed": True, "phase": "start", "build_before": 5600, "build": 5600,
                                      "pending": True, "arch": "x64", "bytes_expected": 400,
                                      "reboot_required": True}, dt=4)
    run(cb, clock, pc1, finish, "ok", {"changed": False, "phase": "finish", "build_before": 5600, "build": 5712,
                                       "pending": False, "arch": "x64", "bytes_expected": 0,
                                       "reboot_required": True}, dt=6)
    cb.v2_playbook_on_stats(None)
    report = json.loads((tmp_path / "reports" / "t1" / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    host = report["hosts"][0]
    assert host["bytes"] == 400 and host["reboot_required"] is True
    assert host["timings"]["download_s"] == 4.0 and host["timings"]["install_s"] == 6.0
    assert host["timings"]["end_s"] - host["timings"]["start_s"] == 10.0
    assert report["fleet"]["makespan_s"] == 10.0 and report["fleet"]["lower_bound_s"] == 4.0 + 6.0
    assert [s["id"] for s in host["steps"]] == ["cp5712r1"]
    assert host["steps"][0]["end_s"] - host["steps"][0]["start_s"] == 10.0


def test_variables_come_from_the_variable_manager_once_per_host(tmp_path):
    """osce_build_map kept in group_vars/all (the variable manager resolves it, host.vars do not hold it)
    gives the clients' levels; each host's variables are read once, at its first play."""
    clock = Clock()
    cb = make_callback(tmp_path, clock)
    pcs = [Host("pc1", "osce_clients"), Host("pc2", "osce_clients")]
    inv = Inventory(pcs)
    play = Play("OSCE step catch_up | clients", "osce_clients", [1], inv, step="catch_up")
    play._variable_manager = VM(inv, {"all": {"osce_build_map": {"sp3_patch2": [5600]}},
                                      "osce_clients": {"osce_site": "hq", "osce_client_arch": "x86"}})
    upgrade = Task("osce.patching.client_upgrade")
    cb.v2_playbook_on_start(None)
    for pc in pcs:
        inv.batch = [pc]
        cb.v2_playbook_on_play_start(play)
        run(cb, clock, pc, upgrade, "ok", {"changed": True, "build_before": 5600, "build": 5712, "bytes_expected": 10,
                                           "previous_build": 4000, "bytes_downloaded": 99, "timings": {"install_s": 9}})
    inv.batch = None
    cb.v2_playbook_on_play_start(play)
    assert play._variable_manager.calls == 2
    cb.v2_playbook_on_stats(None)
    report = json.loads((tmp_path / "reports" / "t1" / "rollout.json").read_text())
    for h in report["hosts"]:
        assert (h["level_before"], h["level_after"], h["site"], h["arch"]) == ("sp3_patch2", "cp5712r1", "hq", "x86")
        assert h["bytes"] == 10 and h["build_before"] == 5600 and "install_s" not in h["timings"]
        assert h["steps"] == [dict(h["steps"][0], id="catch_up", status="applied", bytes=10)]


def test_run_outcome_fact_is_reported(tmp_path):
    clock = Clock()
    cb = make_callback(tmp_path, clock)
    srv = Host("osce-srv", "osce_server")
    cb.v2_playbook_on_start(None)
    cb.v2_playbook_on_play_start(Play("close", "osce_server", [], Inventory([srv])))
    run(cb, clock, srv, Task("ansible.builtin.set_fact"), "ok", {"ansible_facts": {"osce_run_outcome": {
        "privilege": "held", "held_clients": ["pc7", "pc9"], "message": "2 clients still behind", "stopped": None}}})
    cb.v2_playbook_on_stats(None)
    out = tmp_path / "reports" / "t1"
    report = json.loads((out / "rollout.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["outcome"] == {"privilege": "held", "held_clients": ["pc7", "pc9"],
                                 "message": "2 clients still behind", "stopped": None,
                                 "summary": "privilege held for 2 client(s) (pc7, pc9): 2 clients still behind"}
    page = (out / "report.html").read_text()
    assert "upgrade privilege (2 client(s) held)" in page
    assert "Upgrade privilege held for 2 client(s) (pc7, pc9): 2 clients still behind" in page


def test_step_ids_come_from_the_catalog():
    assert recorder.step_ids() == ("catch_up", "sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1")
    assert recorder.task_action(Task("osce.patching.client_upgrade")) == "client_upgrade"
    assert recorder.task_action(Task("ansible.builtin.set_fact")) == "set_fact"
