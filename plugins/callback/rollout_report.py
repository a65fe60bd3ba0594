# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback ``osce.patching.rollout_report``: rollout.json, junit.xml and report.html per run."""
from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_report
type: notification
short_description: Write the OfficeScan rollout report (JSON, JUnit, HTML) and show progress per batch
version_added: 0.1.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - Records what a run of the osce.patching playbooks did and writes C(<report_dir>/<run_id>/) with
    C(rollout.json) (validates against C(data/schemas/rollout-report.schema.json) in the collection),
    C(junit.xml) (one test case per host, for CI systems) and C(report.html) (self-contained, with a batch
    timeline, bandwidth over time against the budget, verdict counts, per-host table).
  - Per host - level before and after, the steps applied, the client verdict, bytes downloaded,
    timings, reboot need and errors. Per client batch (each C(serial) batch of a play in which a
    client ran M(osce.patching.client_upgrade)) - hosts, bytes, start and end, failures. For the fleet -
    counts per verdict, the physical floor C(lower_bound_s), C(makespan_s) and C(efficiency).
  - While the run goes, prints one line when a client batch ends - batch n/N of the play, hosts,
    failures in the batch and so far.
  - With O(ledger) (the lab's transfer ledger), times and bytes come from the ledger and the report
    says C(source=lab-ledger); otherwise from the task timings and the sizes the modules report (the
    catalog's package sizes), C(source=task-timings).
  - Enable it with C(callbacks_enabled = osce.patching.rollout_report) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=osce.patching.rollout_report). See C(docs/report.md) in the collection.
requirements:
  - enabled in the configuration (C(callbacks_enabled))
options:
  report_dir:
    description:
      - Directory that receives one sub-directory per run. Relative paths are relative to the
        directory C(ansible-playbook) runs in.
    type: path
    default: reports
    env:
      - name: OSCE_REPORT_DIR
    ini:
      - section: osce_rollout_report
        key: report_dir
  run_id:
    description:
      - Name of this run's sub-directory (letters, digits, C(.), C(_), C(-)). Default - the UTC start
        time, for example C(20151120T090000Z).
    type: str
    env:
      - name: OSCE_REPORT_RUN_ID
    ini:
      - section: osce_rollout_report
        key: run_id
  ledger:
    description:
      - The lab's transfer ledger - the C(ledger.jsonl) file, or a lab fleet directory holding
        C(lab/ledger.jsonl) (or C(.state/lab/ledger.jsonl)). Only the records this run adds are
        read. A C(bandwidth.jsonl) next to it gives the measured bandwidth series.
      - Leave it unset on a real estate.
    type: path
    env:
      - name: OSCE_REPORT_LEDGER
    ini:
      - section: osce_rollout_report
        key: ledger
  budget_bps:
    description:
      - Bandwidth budget in bytes per second for the report's floor and budget line. Default - the
        budget the rollout planner was given in this run (C(osce_bandwidth_budget_bps)).
    type: float
    env:
      - name: OSCE_REPORT_BUDGET_BPS
    ini:
      - section: osce_rollout_report
        key: budget_bps
  progress:
    description: Print one line per finished client batch.
    type: bool
    default: true
    env:
      - name: OSCE_REPORT_PROGRESS
    ini:
      - section: osce_rollout_report
        key: progress
"""

import datetime as _dt
import html
import json
import math
import os
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.osce.patching.plugins.module_utils import report as rmath
from ansible_collections.osce.patching.plugins.module_utils.levels import normalize_build_map

CLIENT_UPGRADE = "client_upgrade"
PATCH_CHAIN = "patch_chain"
PATTERN_VERIFY = "pattern_verify"
BUILD_FACTS = "build_facts"
STEP_IDS = ("catch_up", "sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1")
LEVELS = ("pre_10_6", "gm", "sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1", "cp5495", "sp3_patch2",
          "cp5712", "cp5712r1", "osce11")
TARGET_LEVELS = ("cp5712r1", "osce11")
VERDICTS = ("up_to_date", "program_behind", "crcz_missing", "bf_in_use", "agent_pattern_behind",
            "conventional_scan", "unknown")
PASSING = ("up_to_date", "conventional_scan")
STEP_STATUSES = ("applied", "already_applied", "would_apply", "pending_reboot", "skipped", "failed")
ROLE_GROUPS = (("osce_server", "server"), ("osce_clients", "client"), ("osce_sps", "sps"), ("osce_tmcm", "tmcm"))
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")


# --------------------------------------------------------------------------- small helpers


def _plain(value: Any, depth: int = 0) -> Any:
    """Plain JSON data from Ansible's (possibly tagged or lazy) result values."""
    if depth > 20:
        return None
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if not isinstance(value, float) or not math.isnan(value) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


def _first(data: Mapping[str, Any] | None, *paths: str) -> Any:
    """The first present, non-None value among dotted ``paths`` of ``data``."""
    if not isinstance(data, Mapping):
        return None
    for path in paths:
        cur: Any = data
        for key in path.split("."):
            if not isinstance(cur, Mapping) or key not in cur:
                cur = None
                break
            cur = cur[key]
        if cur is not None:
            return cur
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and not math.isnan(value):
        return int(value)
    if isinstance(value, str):
        digits = re.findall(r"\d+", value)
        return int(digits[-1]) if digits else None
    return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and not math.isnan(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _one_line(text: Any, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _short_action(task: Any) -> str:
    action = getattr(task, "resolved_action", None) or getattr(task, "action", "") or ""
    return str(action).rsplit(".", 1)[-1]


def _is_ours(task: Any, name: str) -> bool:
    action = str(getattr(task, "resolved_action", None) or getattr(task, "action", "") or "")
    return action == name or action.endswith("osce.patching." + name)


def _res_host(result: Any) -> Any:
    return getattr(result, "host", None) or getattr(result, "_host")


def _res_task(result: Any) -> Any:
    return getattr(result, "task", None) or getattr(result, "_task")


def _res_data(result: Any) -> Mapping[str, Any]:
    data = getattr(result, "result", None)
    if data is None or callable(data):
        data = getattr(result, "_result", {})
    return data if isinstance(data, Mapping) else {}


def _rescued(task: Any) -> bool:
    """Whether a failure of ``task`` is caught by the ``rescue`` of an enclosing block."""
    try:
        child, parent = task, getattr(task, "_parent", None)
        for _depth in range(50):
            if parent is None:
                return False
            rescue = getattr(parent, "rescue", None)
            body = getattr(parent, "block", None)
            if rescue and body and any(getattr(t, "_uuid", None) == getattr(child, "_uuid", object()) for t in body):
                return True
            child, parent = parent, getattr(parent, "_parent", None)
    except Exception:  # pylint: disable=broad-except  # never break a run for the report
        return False
    return False


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def find_ledger(path: str | None) -> str | None:
    """The ledger file for ``path`` (a file, or a fleet directory), or ``None``."""
    if not path:
        return None
    if os.path.isdir(path):
        for sub in (("lab", "ledger.jsonl"), (".state", "lab", "ledger.jsonl"), ("ledger.jsonl",)):
            candidate = os.path.join(path, *sub)
            if os.path.isdir(os.path.dirname(candidate)):
                return candidate
        return os.path.join(path, "lab", "ledger.jsonl")
    return path


def read_jsonl(path: str | None, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines of ``path`` from byte ``offset``; returns them and the next offset."""
    if not path or not os.path.exists(path):
        return [], offset
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    end = data.rfind(b"\n") + 1  # a line still being written waits for the next read
    rows = []
    for line in data[:end].splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows, offset + end


def _size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


# --------------------------------------------------------------------------- the recorder


class Recorder:
    """Everything the report needs, fed by the callback events (no Ansible objects kept)."""

    def __init__(self, *, run_id: str, ledger: str | None = None, budget_bps: float | None = None,
                 clock=time.time, display=None) -> None:
        self.run_id = run_id
        self.clock = clock
        self.display = display
        self.started = clock()
        self.finished: float | None = None
        self.check_mode = False
        self.budget_opt = budget_bps
        self.hosts: dict[str, dict[str, Any]] = {}
        self.batches: list[dict[str, Any]] = []  # every serial batch; rollout ones are reported
        self.open: dict[str, Any] | None = None
        self.play_uuid: Any = None
        self.play_no = 0
        self.task_start: dict[tuple[str, Any], float] = {}
        self.plans: list[dict[str, Any]] = []
        self.build_levels: dict[int, str] = {}
        self.build_map: Any = None
        self.failed_so_far: set[str] = set()
        self.ledger = ledger
        self.bw_path = os.path.join(os.path.dirname(ledger), "bandwidth.jsonl") if ledger else None
        self.ledger_offset = _size(ledger)
        self.bw_offset = _size(self.bw_path)
        self.ledger_rows: list[dict[str, Any]] = []
        self.bw_rows: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ hosts
    def host(self, name: str, groups: list[str] | None = None, hostvars: Mapping[str, Any] | None = None,
             build_map: Any = None) -> dict:
        rec = self.hosts.get(name)
        if rec is None:
            rec = {"name": name, "role": "other", "arch": None, "site": None, "online": True,
                   "levels": [], "builds": [], "steps": [], "verdict": None, "bytes": None,
                   "tasks": {}, "upgrade": None, "verify": None, "reboot_required": None,
                   "errors": [], "batches": [], "failed": False}
            self.hosts[name] = rec
        if groups:
            for group, role in ROLE_GROUPS:
                if group in groups:
                    rec["role"] = role
                    break
        if build_map is not None and self.build_map is None:
            self.build_map = _plain(build_map)
        if hostvars:
            arch = hostvars.get("osce_client_arch")
            if isinstance(arch, str) and arch in ("x86", "x64"):
                rec["arch"] = arch
            site = hostvars.get("osce_site")
            if site is not None:
                rec["site"] = str(site)
        return rec

    # ------------------------------------------------------------------ batches
    def play_start(self, *, uuid: Any, name: str, step: str | None, hosts: list[str], serial: Any,
                   all_hosts: int | None, check_mode: bool = False) -> None:
        self.close_batch()
        if check_mode:
            self.check_mode = True
        if uuid != self.play_uuid:
            self.play_uuid = uuid
            self.play_no = 0
        self.play_no += 1
        sizes = rmath.serial_batch_sizes(serial, all_hosts) if all_hosts else []
        self.read_ledger()
        self.open = {"play": name, "play_uuid": uuid, "step": step, "hosts": list(hosts), "number": self.play_no,
                     "of": max(len(sizes), self.play_no), "start": self.clock(), "end": None,
                     "rollout": False, "failed": [], "ledger": [], "seen": []}
        self.batches.append(self.open)

    def close_batch(self) -> None:
        batch = self.open
        if batch is None:
            return
        self.open = None
        batch["end"] = self.clock()
        self.read_ledger(batch)
        if not batch["hosts"]:
            batch["hosts"] = list(batch["seen"])
        if batch["rollout"]:
            for name in batch["hosts"]:
                if self.hosts.get(name, {}).get("failed_in") == id(batch):
                    batch["failed"].append(name)
            self.failed_so_far.update(batch["failed"])
            if self.display is not None:
                self.display(f"rollout_report: {batch['play']}: batch {batch['number']}/{batch['of']} done, "
                             f"{len(batch['hosts'])} host(s), {len(batch['failed'])} failed "
                             f"({len(self.failed_so_far)} failed so far)")

    def read_ledger(self, batch: dict | None = None) -> None:
        if not self.ledger:
            return
        rows, self.ledger_offset = read_jsonl(self.ledger, self.ledger_offset)
        bw, self.bw_offset = read_jsonl(self.bw_path, self.bw_offset)
        self.bw_rows.extend(bw)
        target = batch if batch is not None else (self.batches[-1] if self.batches else None)
        for row in rows:
            row["_batch"] = id(target) if target is not None else None
            row["_play"] = target["play_uuid"] if target is not None else None
            self.ledger_rows.append(row)
            if target is not None:
                target["ledger"].append(row)

    # ------------------------------------------------------------------ tasks
    def task_started(self, host: str, task_uuid: Any) -> None:
        self.task_start[(host, task_uuid)] = self.clock()

    def task_done(self, host: str, *, task_uuid: Any, action: str, status: str, data: Mapping[str, Any],
                  rescued: bool = False, ignored: bool = False, ignore_unreachable: bool = False,
                  groups: list[str] | None = None, hostvars: Mapping[str, Any] | None = None,
                  check_mode: bool = False, build_map: Any = None) -> None:
        """status: ok, changed, failed, skipped, unreachable."""
        now = self.clock()
        start = self.task_start.pop((host, task_uuid), now)
        rec = self.host(host, groups, hostvars, build_map)
        batch = self.open
        if batch is not None and host not in batch["seen"]:
            batch["seen"].append(host)
        self._facts(rec, data.get("ansible_facts"))
        if status == "unreachable":
            rec["online"] = False
            if not ignore_unreachable:
                rec["errors"].append(_one_line(f"unreachable: {data.get('msg', '')}"))
                self._fail(rec, batch)
            return
        if status == "failed" and not rescued and not ignored:
            rec["errors"].append(_one_line(data.get("msg") or "failed"))
            self._fail(rec, batch)
        timing = {"start": start, "end": now}
        if check_mode and not self.check_mode and action in (CLIENT_UPGRADE, PATCH_CHAIN):
            return  # a task-level check_mode preview (preflight's plan) in a real run changes nothing
        if action == CLIENT_UPGRADE and status != "skipped":
            self._client_upgrade(rec, batch, status, data, timing)
        elif action == PATCH_CHAIN and status != "skipped":
            self._patch_chain(rec, batch, status, data, timing)
        elif action == PATTERN_VERIFY and status != "skipped":
            self._pattern_verify(rec, status, data, timing)

    def _fail(self, rec: dict, batch: dict | None) -> None:
        rec["failed"] = True
        if batch is not None:
            rec["failed_in"] = id(batch)

    def _facts(self, rec: dict, facts: Any) -> None:
        if not isinstance(facts, Mapping):
            return
        server = facts.get("osce_server")
        if isinstance(server, Mapping):
            level = server.get("level")
            if level in LEVELS and (not rec["levels"] or rec["levels"][-1] != level):
                rec["levels"].append(level)
            for build in (_int(_first(server, "client_program.build")), _int(server.get("sp_build"))):
                if build is not None and level in LEVELS:
                    self.build_levels.setdefault(build, level)
        state = facts.get("osce_client_state")
        if isinstance(state, Mapping):
            self._build(rec, state.get("build"))
            if state.get("online") is False:
                rec["online"] = False
            if state.get("arch") in ("x86", "x64") and rec["arch"] is None:
                rec["arch"] = state["arch"]
            if state.get("reboot_required") is True:
                rec["reboot_required"] = True
            elif state.get("reboot_required") is False and rec["reboot_required"] is None:
                rec["reboot_required"] = False
        for value in facts.values():
            if isinstance(value, Mapping) and "serial" in value and "predicted_makespan_s" in value:
                self.plans.append(_plain({k: value.get(k) for k in (
                    "step", "serial", "throttle", "recommended_forks", "lower_bound_s", "predicted_makespan_s",
                    "budget_bps", "total_bytes")}))
        budget = _num(facts.get("osce_bandwidth_budget_bps"))
        if budget and budget > 0:
            self.plans.append({"budget_bps": budget})

    def _build(self, rec: dict, build: Any) -> None:
        build = _int(build)
        if build is not None and (not rec["builds"] or rec["builds"][-1] != build):
            rec["builds"].append(build)

    def _step_status(self, status: str, check_mode: bool) -> str:
        if status == "failed":
            return "failed"
        if status == "changed":
            return "would_apply" if check_mode or self.check_mode else "applied"
        return "already_applied"

    def _client_upgrade(self, rec: dict, batch: dict | None, status: str, data: Mapping[str, Any], timing: dict) -> None:
        self._build(rec, _first(data, "build_before", "previous_build", "before.build", "diff.before.build"))
        self._build(rec, _first(data, "build", "build_after", "after.build"))
        started = rec.get("upgrades") or []
        if data.get("phase") == "finish" and started and started[-1]["bytes"]:
            # the wait for the install of the upgrade the start task began: the download ended with
            # the start task, the client's upgrade ends here
            up = started[-1]
            up["download_s"] = up["download_s"] if up["download_s"] is not None else up["end"] - up["start"]
            up["install_s"] = max(0.0, timing["end"] - up["end"])
            if rec["steps"] and rec["steps"][-1].get("_start") == up["start"]:
                rec["steps"][-1]["_end"] = timing["end"]
            up["end"] = timing["end"]
            if status == "failed":
                up["status"] = status
            return
        if data.get("arch") in ("x86", "x64"):
            rec["arch"] = data["arch"]
        nbytes = _int(_first(data, "bytes", "bytes_downloaded", "bytes_expected", "expected_bytes", "download_bytes"))
        reboot = data.get("reboot_required")
        if isinstance(reboot, bool):
            rec["reboot_required"] = bool(rec["reboot_required"]) or reboot
        step = batch["step"] if batch is not None else None
        step = step or data.get("step")
        moved = status in ("changed", "failed") or bool(nbytes)
        if step in STEP_IDS and status != "ok":
            rec["steps"].append({"id": step, "status": self._step_status(status, False),
                                 "bytes": max(nbytes or 0, 0), "_start": timing["start"], "_end": timing["end"],
                                 "build": _int(_first(data, "build", "build_after"))})
        upgrade = {"start": timing["start"], "end": timing["end"], "bytes": nbytes if moved else 0,
                   "download_s": _num(_first(data, "download_s", "timings.download_s")),
                   "install_s": _num(_first(data, "install_s", "timings.install_s")), "status": status,
                   "phase": batch["play_uuid"] if batch is not None else None}
        rec.setdefault("upgrades", []).append(upgrade)
        if batch is not None:
            batch["rollout"] = True
            if id(batch) not in rec["batches"]:
                rec["batches"].append(id(batch))

    def _patch_chain(self, rec: dict, batch: dict | None, status: str, data: Mapping[str, Any], timing: dict) -> None:
        for key in ("level_before", "level"):
            level = data.get(key)
            if level in LEVELS and (not rec["levels"] or rec["levels"][-1] != level):
                rec["levels"].append(level)
        reboot = data.get("reboot_required")
        if isinstance(reboot, bool):
            rec["reboot_required"] = bool(rec["reboot_required"]) or reboot
        steps = data.get("steps")
        if isinstance(steps, list) and steps:
            for item in steps:
                if not isinstance(item, Mapping) or item.get("id") not in STEP_IDS:
                    continue
                state = item.get("status")
                if status == "failed" and state not in ("applied", "already_applied"):
                    state = "failed"
                elif state not in STEP_STATUSES:
                    state = self._step_status(status, False)
                rec["steps"].append({"id": item["id"], "status": state, "build": _plain(item.get("build")),
                                     "_start": timing["start"], "_end": timing["end"]})
            return
        step = _first(data, "step", "invocation.module_args.step") or (batch["step"] if batch else None)
        if step not in STEP_IDS or step == "catch_up":
            return
        rec["steps"].append({"id": step, "status": self._step_status(status, False),
                             "build": _plain(data.get("build")), "_start": timing["start"], "_end": timing["end"]})

    def _pattern_verify(self, rec: dict, status: str, data: Mapping[str, Any], timing: dict) -> None:
        self._build(rec, _first(data, "evidence.program_build", "program_build"))
        arch = _first(data, "evidence.arch")
        if arch in ("x86", "x64") and rec["arch"] is None:
            rec["arch"] = arch
        verdict = data.get("verdict")
        if status == "failed" and verdict is None:
            verdict = "unknown"
        if isinstance(verdict, str):
            rec["verdict"] = verdict
        rec["verify"] = {"start": timing["start"], "end": timing["end"], "verdict": verdict,
                         "evidence": _plain(data.get("evidence"))}

    # ------------------------------------------------------------------ the report
    def finish(self) -> dict[str, Any]:
        self.close_batch()
        self.read_ledger()
        self.finished = self.clock()
        return build_report(self)


# --------------------------------------------------------------------------- report assembly


def _budget(rec: Recorder) -> float | None:
    if rec.budget_opt and rec.budget_opt > 0:
        return float(rec.budget_opt)
    for plan in reversed(rec.plans):
        value = _num(plan.get("budget_bps"))
        if value and value > 0:
            return value
    return None


def _build_levels(rec: Recorder) -> dict[int, str]:
    """Build -> level: what the server said during the run first, then osce_build_map and the public
    CP builds (a build two levels share, 5712, goes to the later one)."""
    out: dict[int, str] = {}
    try:
        table = normalize_build_map(rec.build_map if isinstance(rec.build_map, Mapping) else None)
    except Exception:  # pylint: disable=broad-except  # a bad map is the preflight's to report
        table = normalize_build_map(None)
    for level in LEVELS:
        for build in table.get(level, ()):
            out[build] = level
    out.update(rec.build_levels)
    return out


def build_report(rec: Recorder) -> dict[str, Any]:
    budget = _budget(rec)
    rollout = [b for b in rec.batches if b["rollout"]]
    index = {id(b): i for i, b in enumerate(rollout)}
    lab = rec.ledger is not None

    # ---- transfers: from the ledger (lab) or from the client_upgrade tasks (real estate)
    transfers: list[dict[str, Any]] = []
    if lab:
        for row in rec.ledger_rows:
            if row.get("kind") == "timer":
                continue
            transfers.append({"host": row.get("host"), "start": row.get("start"), "transfer_end": row.get("transfer_end"),
                              "end": row.get("end"), "bytes": _int(row.get("bytes")) or 0,
                              "install_s": _num(row.get("install_seconds")),
                              "phase": row.get("_play"), "batch": row.get("_batch")})
    else:
        for host in rec.hosts.values():
            for up in host.get("upgrades", []):
                if not up["bytes"]:
                    continue
                install = up["install_s"]
                tend = up["end"] - install if install is not None else None
                if up["download_s"] is not None:
                    tend = up["start"] + up["download_s"]
                transfers.append({"host": host["name"], "start": up["start"], "transfer_end": tend, "end": up["end"],
                                  "bytes": up["bytes"], "install_s": install, "phase": up["phase"], "batch": None})
    timed = [w for t in transfers if (w := rmath.transfer_window(t)) is not None]
    if lab:
        origin = min((w[0] for w in timed), default=0.0)
    else:
        origin = rec.started

    def rel(value: float | None) -> float | None:
        return None if value is None else max(0.0, round(value - origin, 3))

    if lab and rec.bw_rows:
        series = rmath.segments_series(rec.bw_rows)
        series = [(t, r) for t, r in series if t >= origin - 1e-9] or series
    else:
        series = rmath.bandwidth_series(transfers)
    fleet_fig = rmath.fleet_figures(transfers, budget, series)
    series_rel = rmath.shift_series(series, origin)

    by_host: dict[str, list[dict[str, Any]]] = {}
    for t in transfers:
        by_host.setdefault(t["host"], []).append(t)

    # ---- batches
    batches_out = []
    for i, b in enumerate(rollout):
        if lab:
            mine = [t for t in transfers if t["batch"] == id(b) and t["host"] in b["hosts"]]
            fig = rmath.phase_figures(mine, budget)
            start, end = fig["start_s"], fig["end_s"]
            if start is None:
                prev = batches_out[-1]["end_s"] if batches_out else 0.0
                start_s = end_s = prev
            else:
                start_s, end_s = rel(start), rel(end)
            peak = rmath.series_peak([(t, r) for t, r in series if start is not None and start <= t < end])
        else:
            mine = [t for t in transfers if t["phase"] == b["play_uuid"] and t["host"] in b["hosts"]
                    and b["start"] - 1e-6 <= t["start"] <= b["end"] + 1e-6]
            fig = rmath.phase_figures(mine, budget)
            start_s, end_s = rel(b["start"]), rel(b["end"])
            peak = rmath.series_peak(rmath.bandwidth_series(mine))
        out = {"index": i, "hosts": list(b["hosts"]), "bytes": int(fig["bytes"]), "start_s": start_s,
               "end_s": max(end_s, start_s), "failures": len(b["failed"]), "failed_hosts": list(b["failed"]),
               "peak_bps": float(peak), "play": b["play"], "batch_in_play": b["number"], "batches_in_play": b["of"]}
        if b["step"]:
            out["step"] = b["step"]
        batches_out.append(out)

    # ---- hosts
    build_levels = _build_levels(rec)
    hosts_out = []
    for name in sorted(rec.hosts, key=lambda n: (ROLE_ORDER.get(rec.hosts[n]["role"], 9), n)):
        h = rec.hosts[name]
        mine = by_host.get(name, [])
        if h["role"] == "client" or h["builds"]:
            before = build_levels.get(h["builds"][0]) if h["builds"] else None
            after = build_levels.get(h["builds"][-1]) if h["builds"] else None
        else:
            before = h["levels"][0] if h["levels"] else None
            after = h["levels"][-1] if h["levels"] else None
        verdict = h["verdict"]
        if h["role"] == "server" and verdict is None and after is not None:
            verdict = "up_to_date" if after in TARGET_LEVELS else "program_behind"
        if verdict not in VERDICTS:
            verdict = "unknown"
        timings: dict[str, float] = {}
        windows = [w for t in mine if (w := rmath.transfer_window(t)) is not None]
        if windows:
            timings["start_s"] = rel(min(w[0] for w in windows))
            timings["download_s"] = round(sum(w[1] - w[0] for w in windows), 3)
            ends = [_num(t.get("end")) or w[1] for t, w in zip(mine, windows)]
            timings["end_s"] = rel(max(ends))
            installs = [t["install_s"] for t in mine if t.get("install_s") is not None]
            if installs:
                timings["install_s"] = round(max(installs), 3)
        elif h.get("upgrades") and not lab:  # lab: the ledger's virtual clock only
            ups = h["upgrades"]
            timings["start_s"] = rel(min(u["start"] for u in ups))
            timings["end_s"] = rel(max(u["end"] for u in ups))
        if h["verify"]:
            timings["verify_s"] = round(max(0.0, h["verify"]["end"] - h["verify"]["start"]), 3)
        steps = []
        for s in h["steps"]:
            step = {"id": s["id"], "status": s["status"]}
            if s.get("build") is not None:
                step["build"] = s["build"]
            if "bytes" in s:
                step["bytes"] = int(s["bytes"])
            if not lab:
                step["start_s"], step["end_s"] = rel(s["_start"]), rel(s["_end"])
            steps.append(step)
        if lab and steps:  # bytes per step from the ledger, when the batch is known
            for s, b_id in zip([s for s in steps if "bytes" in s], h["batches"]):
                s["bytes"] = sum(t["bytes"] for t in mine if t["batch"] == b_id)
        nbytes = sum(t["bytes"] for t in mine) if (mine or lab) else sum(s.get("bytes", 0) for s in steps)
        batches = [index[b] for b in h["batches"] if b in index]
        entry = {"name": name, "role": h["role"], "arch": h["arch"], "site": h["site"], "online": bool(h["online"]),
                 "batch": batches[-1] if batches else None, "batches": batches,
                 "level_before": before, "level_after": after, "steps": steps, "verdict": verdict,
                 "bytes": int(nbytes), "timings": timings, "reboot_required": h["reboot_required"],
                 "errors": list(dict.fromkeys(h["errors"])), "failed": bool(h["failed"])}
        if h["builds"]:
            entry["build_before"], entry["build_after"] = h["builds"][0], h["builds"][-1]
        hosts_out.append(entry)

    clients = [h for h in hosts_out if h["role"] == "client"]
    counts: dict[str, int] = {}
    for h in clients:
        if h["online"]:
            counts[h["verdict"]] = counts.get(h["verdict"], 0) + 1
    fleet = {"hosts": len(hosts_out), "clients": len(clients),
             "offline": sum(1 for h in clients if not h["online"]),
             "failed": sum(1 for h in hosts_out if h["failed"]), "counts": counts,
             "bytes": int(fleet_fig["bytes"]), "lower_bound_s": round(fleet_fig["lower_bound_s"], 3),
             "makespan_s": round(fleet_fig["makespan_s"], 3),
             "efficiency": None if fleet_fig["efficiency"] is None else round(fleet_fig["efficiency"], 4),
             "peak_bps": float(fleet_fig["peak_bps"]), "source": "lab-ledger" if lab else "task-timings"}
    if budget:
        fleet["budget_bps"] = budget
    report: dict[str, Any] = {
        "schema_version": 1, "run_id": rec.run_id, "started_at": _iso(rec.started),
        "finished_at": _iso(rec.finished or rec.clock()), "check_mode": bool(rec.check_mode),
        "hosts": hosts_out, "batches": batches_out, "fleet": fleet,
        "bandwidth": [[round(t, 3), round(r, 3)] for t, r in rmath.downsample(series_rel, 2000)],
    }
    if budget:
        report["budget_bps"] = budget
    server_after = [h["level_after"] for h in hosts_out if h["role"] == "server" and h["level_after"]]
    report["target_level"] = "cp5712r1"
    if server_after and server_after[0] == "osce11":
        report["target_level"] = "osce11"
    plans = [p for p in rec.plans if p.get("serial") is not None]
    if plans:
        last: dict[str, Any] = {}
        for item in plans:  # the planner's output, then the role's pinned copy (osce_rollout) of it
            last.update({k: v for k, v in item.items() if v is not None})
        plan: dict[str, Any] = {}
        for key in ("serial", "throttle", "recommended_forks"):
            if key == "serial" and isinstance(last.get(key), list) and all(_int(v) for v in last[key]):
                plan[key] = [_int(v) for v in last[key]]
            elif key != "serial" and _int(last.get(key)):
                plan[key] = _int(last.get(key))
        for key in ("lower_bound_s", "predicted_makespan_s"):
            if _num(last.get(key)) is not None and _num(last.get(key)) >= 0:
                plan[key] = _num(last.get(key))
        if last.get("step"):
            plan["step"] = last["step"]
        report["plan"] = plan
    return report


ROLE_ORDER = {"server": 0, "sps": 1, "tmcm": 2, "client": 3, "other": 4}


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
        tile(_fmt_s(fleet["makespan_s"]), "makespan"),
        tile(_fmt_s(fleet["lower_bound_s"]) if budget else "-", "physical floor"),
        tile("-" if eff is None else f"{eff:.0%}", "efficiency (floor / makespan)",
             "" if eff is None else ("good" if 0.85 <= eff <= 1.0 else "warn")),
        tile(_mbit(peak), "peak bandwidth" + (f" (budget {_mbit(budget)})" if budget else ""),
             "bad" if budget and peak and peak > budget * 1.001 else ""),
    ]
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


# --------------------------------------------------------------------------- the plugin


class CallbackModule(CallbackBase):
    """Records the run and writes the rollout report at the end of each playbook."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "osce.patching.rollout_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._rec: Recorder | None = None
        self._disabled = False

    def _recorder(self) -> Recorder:
        if self._rec is None:
            run_id = self.get_option("run_id") or _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            if not RUN_ID_RE.match(str(run_id)):
                self._display.warning(f"osce.patching.rollout_report: run_id {run_id!r} may only hold letters, digits, "
                                      "'.', '_' and '-'; using a timestamp")
                run_id = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            budget = self.get_option("budget_bps")
            progress = self.get_option("progress")
            self._rec = Recorder(run_id=str(run_id), ledger=find_ledger(self.get_option("ledger")),
                                 budget_bps=float(budget) if budget else None,
                                 display=self._display.display if progress else None)
            self._rec.check_mode = bool((context.CLIARGS or {}).get("check", False))
        return self._rec

    def _guard(self, fn, *args, **kwargs) -> None:
        if self._disabled:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # the report never breaks a rollout
            self._disabled = True
            self._display.warning(f"osce.patching.rollout_report: stopped recording ({type(exc).__name__}: {exc}); "
                                  "the run goes on without a report")

    # ------------------------------------------------------------------ playbook and plays
    def v2_playbook_on_start(self, playbook):
        self._guard(self._recorder)

    def v2_playbook_on_play_start(self, play):
        self._guard(self._play_start, play)

    def _play_start(self, play) -> None:
        rec = self._recorder()
        inventory = getattr(getattr(play, "_variable_manager", None), "_inventory", None)
        hosts: list[str] = []
        all_hosts = None
        if inventory is not None:
            order = getattr(play, "order", None)
            hosts = [h.name for h in inventory.get_hosts(play.hosts, order=order)]
            all_hosts = len(inventory.get_hosts(play.hosts, ignore_restrictions=True, order=order))
        step = (getattr(play, "vars", None) or {}).get("osce_step")
        if not isinstance(step, str) or "{{" in step:
            step = None
        rec.play_start(uuid=getattr(play, "_uuid", id(play)), name=play.get_name().strip(), step=step,
                       hosts=hosts, serial=getattr(play, "serial", None), all_hosts=all_hosts,
                       check_mode=bool(getattr(play, "check_mode", False)))

    # ------------------------------------------------------------------ tasks
    def v2_runner_on_start(self, host, task):
        self._guard(lambda: self._recorder().task_started(host.get_name(), getattr(task, "_uuid", id(task))))

    def _result(self, result, status: str, ignore_errors: bool = False) -> None:
        host = _res_host(result)
        task = _res_task(result)
        data = _res_data(result)
        if status == "ok" and data.get("changed"):
            status = "changed"
        action = next((n for n in (CLIENT_UPGRADE, PATCH_CHAIN, PATTERN_VERIFY, BUILD_FACTS) if _is_ours(task, n)),
                      _short_action(task))
        group_objs = host.get_groups() if hasattr(host, "get_groups") else []
        groups = [g.name for g in group_objs]
        build_map = (getattr(host, "vars", None) or {}).get("osce_build_map")
        for group in group_objs:
            if build_map is None:
                build_map = (getattr(group, "vars", None) or {}).get("osce_build_map")
        self._recorder().task_done(
            host.get_name(), task_uuid=getattr(task, "_uuid", id(task)), action=action, status=status,
            data=data, rescued=status == "failed" and _rescued(task), ignored=ignore_errors,
            ignore_unreachable=bool(getattr(task, "ignore_unreachable", False)), groups=groups,
            hostvars=getattr(host, "vars", None), build_map=build_map, check_mode=bool(getattr(task, "check_mode", False)) and action in (
                CLIENT_UPGRADE, PATCH_CHAIN))

    def v2_runner_on_ok(self, result):
        self._guard(self._result, result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._guard(self._result, result, "failed", ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._guard(self._result, result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._guard(self._result, result, "unreachable")

    # ------------------------------------------------------------------ the end
    def v2_playbook_on_stats(self, stats):
        self._guard(self._write)

    def _write(self) -> None:
        rec = self._recorder()
        report = rec.finish()
        directory = os.path.join(self.get_option("report_dir") or "reports", rec.run_id)
        write_report(report, directory)
        self._display.display(f"rollout_report: {directory}/ (rollout.json, junit.xml, report.html): "
                              f"{report['fleet']['hosts']} host(s), {len(report['batches'])} client batch(es), "
                              f"source {report['fleet']['source']}")
        self._rec = None
