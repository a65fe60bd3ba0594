# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout report's recorder: what a run did, fed by the callback's events.

Controller-only (reads the lab ledger when asked). The callback ``osce.patching.rollout_report``
turns Ansible's objects into plain values with the adapters at the bottom of this file and calls
the ``Recorder``; ``Recorder.run_data()`` hands the pure core (``module_utils/report.py``) plain data.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils import report as core
from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS, normalize_build_map
from ansible_collections.osce.patching.plugins.plugin_utils import _data

CLIENT_UPGRADE = "client_upgrade"
PATCH_CHAIN = "patch_chain"
PATTERN_VERIFY = "pattern_verify"
BUILD_FACTS = "build_facts"
OURS = (CLIENT_UPGRADE, PATCH_CHAIN, PATTERN_VERIFY, BUILD_FACTS)
ROLE_GROUPS = (("osce_server", "server"), ("osce_clients", "client"), ("osce_sps", "sps"), ("osce_tmcm", "tmcm"))
ARCHS = ("x86", "x64")


def step_ids() -> tuple[str, ...]:
    """``catch_up`` and the catalog's step ids (data/catalog.yml), in order."""
    steps = sorted(_data.catalog_document()["steps"], key=lambda s: s.get("order", 0))
    return (core.CATCH_UP,) + tuple(s["id"] for s in steps)


# --------------------------------------------------------------------------- small helpers


def plain(value: Any, depth: int = 0) -> Any:
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
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v, depth + 1) for v in value]
    return str(value)


def first(data: Mapping[str, Any] | None, *paths: str) -> Any:
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


def as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and not math.isnan(value):
        return int(value)
    if isinstance(value, str):
        digits = re.findall(r"\d+", value)
        return int(digits[-1]) if digits else None
    return None


def as_num(value: Any) -> float | None:
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


def one_line(text: Any, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- the lab ledger (I/O)


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


class LedgerReader:
    """Reads the records the lab adds to its ledger (and bandwidth segments) during this run."""

    def __init__(self, ledger: str) -> None:
        self.ledger = ledger
        self.bw_path = os.path.join(os.path.dirname(ledger), "bandwidth.jsonl")
        self.ledger_offset = _size(ledger)
        self.bw_offset = _size(self.bw_path)

    def read(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows, self.ledger_offset = read_jsonl(self.ledger, self.ledger_offset)
        bw, self.bw_offset = read_jsonl(self.bw_path, self.bw_offset)
        return rows, bw


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
        self.steps = step_ids()
        self.hosts: dict[str, dict[str, Any]] = {}
        self.batches: list[dict[str, Any]] = []  # every serial batch; rollout ones are reported
        self.open: dict[str, Any] | None = None
        self.play_uuid: Any = None
        self.play_no = 0
        self.task_start: dict[tuple[str, Any], float] = {}
        self.plans: list[dict[str, Any]] = []
        self.build_levels: dict[int, str] = {}
        self.build_map: Any = None
        self.outcome: Any = None
        self.failed_so_far: set[str] = set()
        self.reader = LedgerReader(ledger) if ledger else None
        self.ledger_rows: list[dict[str, Any]] = []
        self.bw_rows: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ hosts
    def host(self, name: str, groups: list[str] | None = None) -> dict:
        rec = self.hosts.get(name)
        if rec is None:
            rec = {"name": name, "role": "other", "arch": None, "site": None, "online": True,
                   "levels": [], "builds": [], "steps": [], "verdict": None, "upgrades": [],
                   "verify": None, "reboot_required": None, "errors": [], "batches": [], "failed": False,
                   "failed_in": None, "vars_seen": False}
            self.hosts[name] = rec
        if groups and rec["role"] == "other":
            for group, role in ROLE_GROUPS:
                if group in groups:
                    rec["role"] = role
                    break
        return rec

    def needs_vars(self, name: str) -> bool:
        """Whether the host's variables are still to be read (once per host and run)."""
        rec = self.hosts.get(name)
        return rec is None or not rec["vars_seen"]

    def host_vars(self, name: str, groups: list[str], variables: Mapping[str, Any]) -> None:
        """The variables Ansible resolved for a host (inventory, group_vars/, host_vars/)."""
        rec = self.host(name, groups)
        rec["vars_seen"] = True
        arch = variables.get("osce_client_arch")
        if isinstance(arch, str) and arch in ARCHS:
            rec["arch"] = arch
        site = variables.get("osce_site")
        if site is not None:
            rec["site"] = str(site)
        build_map = variables.get("osce_build_map")
        if self.build_map is None and isinstance(build_map, Mapping):
            self.build_map = plain(build_map)

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
        sizes = core.serial_batch_sizes(serial, all_hosts) if all_hosts else []
        self.read_ledger()
        self.open = {"key": len(self.batches), "play": name, "play_uuid": uuid, "step": step, "hosts": list(hosts),
                     "number": self.play_no, "of": max(len(sizes), self.play_no), "start": self.clock(), "end": None,
                     "rollout": False, "failed": [], "seen": {}}
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
                if self.hosts.get(name, {}).get("failed_in") == batch["key"]:
                    batch["failed"].append(name)
            self.failed_so_far.update(batch["failed"])
            if self.display is not None:
                self.display(f"rollout_report: {batch['play']}: batch {batch['number']}/{batch['of']} done, "
                             f"{len(batch['hosts'])} host(s), {len(batch['failed'])} failed "
                             f"({len(self.failed_so_far)} failed so far)")

    def read_ledger(self, batch: dict | None = None) -> None:
        if self.reader is None:
            return
        rows, bw = self.reader.read()
        self.bw_rows.extend(bw)
        target = batch if batch is not None else (self.batches[-1] if self.batches else None)
        for row in rows:
            row["_batch"] = target["key"] if target is not None else None
            row["_phase"] = target["play_uuid"] if target is not None else None
            self.ledger_rows.append(row)

    # ------------------------------------------------------------------ tasks
    def task_started(self, host: str, task_uuid: Any) -> None:
        self.task_start[(host, task_uuid)] = self.clock()

    def task_done(self, host: str, *, task_uuid: Any, action: str, status: str, data: Mapping[str, Any],
                  rescued: bool = False, ignored: bool = False, ignore_unreachable: bool = False,
                  groups: list[str] | None = None, check_mode: bool = False) -> None:
        """status: ok, changed, failed, skipped, unreachable."""
        now = self.clock()
        start = self.task_start.pop((host, task_uuid), now)
        rec = self.host(host, groups)
        batch = self.open
        if batch is not None:
            batch["seen"][host] = True  # a dict: an ordered set
        self._facts(rec, data.get("ansible_facts"))
        if status == "unreachable":
            rec["online"] = False
            if not ignore_unreachable:
                rec["errors"].append(one_line(f"unreachable: {data.get('msg', '')}"))
                self._fail(rec, batch)
            return
        if status == "failed" and not rescued and not ignored:
            rec["errors"].append(one_line(data.get("msg") or "failed"))
            self._fail(rec, batch)
        timing = {"start": start, "end": now}
        if status == "skipped":
            return
        if check_mode and not self.check_mode and action in (CLIENT_UPGRADE, PATCH_CHAIN):
            return  # a task-level check_mode preview (preflight's plan) in a real run changes nothing
        if action == CLIENT_UPGRADE:
            self._client_upgrade(rec, batch, status, data, timing)
        elif action == PATCH_CHAIN:
            self._patch_chain(rec, batch, status, data, timing)
        elif action == PATTERN_VERIFY:
            self._pattern_verify(rec, status, data, timing)

    @staticmethod
    def _fail(rec: dict, batch: dict | None) -> None:
        rec["failed"] = True
        if batch is not None:
            rec["failed_in"] = batch["key"]

    def _facts(self, rec: dict, facts: Any) -> None:
        if not facts or not isinstance(facts, Mapping):  # most results set no facts
            return
        server = facts.get("osce_server")
        if isinstance(server, Mapping):
            level = server.get("level")
            self._level(rec, level)
            for build in (as_int(first(server, "client_program.build")), as_int(server.get("sp_build"))):
                if build is not None and level in LEVELS:
                    self.build_levels.setdefault(build, level)
        state = facts.get("osce_client_state")
        if isinstance(state, Mapping):
            self._build(rec, state.get("build"))
            if state.get("online") is False:
                rec["online"] = False
            if state.get("arch") in ARCHS and rec["arch"] is None:
                rec["arch"] = state["arch"]
            self._reboot(rec, state.get("reboot_required"), merge=False)
        outcome = facts.get("osce_run_outcome")
        if isinstance(outcome, Mapping):
            self.outcome = plain(outcome)
        for value in facts.values():  # osce_rollout and the planner's output (server_chain_planned)
            if isinstance(value, Mapping) and "serial" in value and "predicted_makespan_s" in value:
                self.plans.append(plain({k: value.get(k) for k in (
                    "step", "serial", "throttle", "recommended_forks", "lower_bound_s", "predicted_makespan_s",
                    "budget_bps", "total_bytes")}))
        budget = as_num(facts.get("osce_bandwidth_budget_bps"))
        if budget and budget > 0:
            self.plans.append({"budget_bps": budget})

    @staticmethod
    def _level(rec: dict, level: Any) -> None:
        if level in LEVELS and (not rec["levels"] or rec["levels"][-1] != level):
            rec["levels"].append(level)

    @staticmethod
    def _build(rec: dict, build: Any) -> None:
        build = as_int(build)
        if build is not None and (not rec["builds"] or rec["builds"][-1] != build):
            rec["builds"].append(build)

    @staticmethod
    def _reboot(rec: dict, reboot: Any, merge: bool = True) -> None:
        if reboot is True:
            rec["reboot_required"] = True
        elif reboot is False and (merge or rec["reboot_required"] is None):
            rec["reboot_required"] = bool(rec["reboot_required"])

    def _step_status(self, status: str) -> str:
        if status == "failed":
            return "failed"
        if status == "changed":
            return "would_apply" if self.check_mode else "applied"
        return "already_applied"

    def _client_upgrade(self, rec: dict, batch: dict | None, status: str, data: Mapping[str, Any], timing: dict) -> None:
        # RETURN of plugins/modules/client_upgrade.py: build_before, build, arch, bytes_expected, phase, reboot_required
        self._build(rec, data.get("build_before"))
        self._build(rec, data.get("build"))
        ups = rec["upgrades"]
        if data.get("phase") == "finish" and ups and ups[-1]["bytes"]:
            # the wait for the install of the upgrade the start task began: the download ended with
            # the start task, the client's upgrade ends here
            up = ups[-1]
            up["download_s"] = up["end"] - up["start"]
            up["install_s"] = max(0.0, timing["end"] - up["end"])
            if rec["steps"] and rec["steps"][-1].get("start") == up["start"]:
                rec["steps"][-1]["end"] = timing["end"]
            up["end"] = timing["end"]
            return
        if data.get("arch") in ARCHS:
            rec["arch"] = data["arch"]
        nbytes = as_int(data.get("bytes_expected"))
        self._reboot(rec, data.get("reboot_required"))
        step = batch["step"] if batch is not None else None
        moved = status in ("changed", "failed") or bool(nbytes)
        key = batch["key"] if batch is not None else None
        if step in self.steps and status != "ok":
            rec["steps"].append({"id": step, "status": self._step_status(status), "batch": key,
                                 "start": timing["start"], "end": timing["end"], "build": as_int(data.get("build"))})
        rec["upgrades"].append({"start": timing["start"], "end": timing["end"], "bytes": (nbytes or 0) if moved else 0,
                                "download_s": None, "install_s": None, "batch": key,
                                "phase": batch["play_uuid"] if batch is not None else None})
        if batch is not None:
            batch["rollout"] = True
            if key not in rec["batches"]:
                rec["batches"].append(key)

    def _patch_chain(self, rec: dict, batch: dict | None, status: str, data: Mapping[str, Any], timing: dict) -> None:
        # RETURN of plugins/modules/patch_chain.py: level_before, level, build, steps, reboot_required
        for key in ("level_before", "level"):
            self._level(rec, data.get(key))
        self._reboot(rec, data.get("reboot_required"))
        steps = data.get("steps")
        if isinstance(steps, list) and steps:
            for item in steps:
                if not isinstance(item, Mapping) or item.get("id") not in self.steps:
                    continue
                state = item.get("status")
                if status == "failed" and state not in ("applied", "already_applied"):
                    state = "failed"
                elif state not in core.STEP_STATUSES:
                    state = self._step_status(status)
                rec["steps"].append({"id": item["id"], "status": state, "build": plain(item.get("build")),
                                     "start": timing["start"], "end": timing["end"]})
            return
        step = batch["step"] if batch else None
        if step not in self.steps or step == core.CATCH_UP:
            return
        rec["steps"].append({"id": step, "status": self._step_status(status), "build": plain(data.get("build")),
                             "start": timing["start"], "end": timing["end"]})

    def _pattern_verify(self, rec: dict, status: str, data: Mapping[str, Any], timing: dict) -> None:
        # RETURN of plugins/modules/pattern_verify.py: verdict, reason, evidence
        evidence = data.get("evidence")
        evidence = evidence if isinstance(evidence, dict) else plain(evidence) if isinstance(evidence, Mapping) else {}
        self._build(rec, evidence.get("program_build"))
        arch = evidence.get("arch")
        if arch in ARCHS and rec["arch"] is None:
            rec["arch"] = arch
        verdict = data.get("verdict")
        if status == "failed" and verdict is None:
            verdict = "unknown"
        if isinstance(verdict, str):
            rec["verdict"] = verdict
        rec["verify"] = {"start": timing["start"], "end": timing["end"]}

    # ------------------------------------------------------------------ the end
    def finish(self) -> dict[str, Any]:
        """Close the run and return the plain data ``module_utils.report.build_report`` takes."""
        self.close_batch()
        self.read_ledger()
        self.finished = self.clock()
        return self.run_data()

    def run_data(self) -> dict[str, Any]:
        try:
            table = normalize_build_map(self.build_map if isinstance(self.build_map, Mapping) else None)
        except Exception:  # pylint: disable=broad-except  # a bad map is the preflight's to report
            table = normalize_build_map(None)
        finished = self.finished if self.finished is not None else self.clock()
        return {"run_id": self.run_id, "started": self.started, "finished": finished,
                "started_at": iso(self.started), "finished_at": iso(finished), "check_mode": self.check_mode,
                "budget_opt": self.budget_opt, "plans": self.plans, "outcome": self.outcome,
                "build_levels": core.build_levels(LEVELS, table, self.build_levels),
                "hosts": self.hosts, "batches": [b for b in self.batches if b["rollout"]],
                "ledger_rows": self.ledger_rows, "bw_rows": self.bw_rows}

    def source(self) -> Any:
        """Where transfer times come from in this run."""
        return core.LabLedger() if self.reader is not None else core.TaskTimings()


# --------------------------------------------------------------------------- event adapters
# Ansible objects in, plain values out; the callback calls these and nothing else touches them.


def task_action(task: Any) -> str:
    """``client_upgrade`` (and the other modules of ours) or the action's short name."""
    action = str(getattr(task, "resolved_action", None) or getattr(task, "action", "") or "")
    for name in OURS:
        if action == name or action.endswith("osce.patching." + name):
            return name
    return action.rsplit(".", maxsplit=1)[-1]


def result_parts(result: Any) -> tuple[Any, Any, Mapping[str, Any]]:
    """(host, task, result data) of a task result, across ansible-core versions."""
    host = getattr(result, "host", None) or getattr(result, "_host")
    task = getattr(result, "task", None) or getattr(result, "_task")
    data = getattr(result, "result", None)
    if data is None or callable(data):
        data = getattr(result, "_result", {})
    return host, task, data if isinstance(data, Mapping) else {}


def group_names(host: Any) -> list[str]:
    return [g.name for g in host.get_groups()] if hasattr(host, "get_groups") else []


def rescued(task: Any) -> bool:
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


def play_start(rec: Recorder, play: Any) -> None:
    """Open the play's serial batch and read the variables of hosts seen for the first time.

    Variables come from the play's variable manager (``get_vars(play=, host=)``), so
    ``group_vars/``, ``host_vars/`` and inventory variables resolve the way Ansible resolves them.
    """
    manager = getattr(play, "_variable_manager", None)
    inventory = getattr(manager, "_inventory", None)
    hosts: list[Any] = []
    all_hosts = None
    if inventory is not None:
        order = getattr(play, "order", None)
        hosts = list(inventory.get_hosts(play.hosts, order=order))
        all_hosts = len(inventory.get_hosts(play.hosts, ignore_restrictions=True, order=order))
    step = (getattr(play, "vars", None) or {}).get("osce_step")
    if not isinstance(step, str) or "{{" in step:
        step = None
    for host in hosts:
        name = host.get_name()
        if manager is not None and hasattr(manager, "get_vars") and rec.needs_vars(name):
            rec.host_vars(name, group_names(host), manager.get_vars(play=play, host=host, include_hostvars=False))
    rec.play_start(uuid=getattr(play, "_uuid", id(play)), name=play.get_name().strip(), step=step,
                   hosts=[h.get_name() for h in hosts], serial=getattr(play, "serial", None), all_hosts=all_hosts,
                   check_mode=bool(getattr(play, "check_mode", False)))


def task_result(rec: Recorder, result: Any, status: str, ignore_errors: bool = False) -> None:
    host, task, data = result_parts(result)
    if status == "ok" and data.get("changed"):
        status = "changed"
    action = task_action(task)
    rec.task_done(host.get_name(), task_uuid=getattr(task, "_uuid", id(task)), action=action, status=status,
                  data=data, rescued=status == "failed" and rescued(task), ignored=ignore_errors,
                  ignore_unreachable=bool(getattr(task, "ignore_unreachable", False)), groups=group_names(host),
                  check_mode=bool(getattr(task, "check_mode", False)))
