# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.patch_chain: pre-check and install the FAQ's steps, verify each new build.

Nothing lost (issue 13):

- every installer problem is collected before any change and reported together (``problems``);
- the installer is hashed again right before it runs, in the same task: ``win_package`` gets the digest
  (``checksum``) and hashes it in the call that starts it; a ``win_command`` installer gets a ``win_stat``
  sha256 the round trip before;
- reboots are facts of the host: Windows' own reboot-pending signals and our ``RebootDebt`` are read
  before every install (``reboot_pending``); exit 3010 writes ``RebootDebt`` with the server's
  last-shutdown mark (``ShutdownTime``), and a later run that reads a different mark knows the server
  rebooted and clears the debt; exit 1641 (the installer restarted the server) is waited out;
- a verified install writes ``Applied.<step>`` (step, sha256, installed, run_id).
"""
from __future__ import annotations

import datetime
import ntpath
import shlex
import time
import typing as t

from ansible_collections.osce.patching.plugins.module_utils import collection_state as cs
from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.chain import plan_chain
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError, format_value
from ansible_collections.osce.patching.plugins.module_utils.levels import DISPLAY_NAMES, R1_STEP, detect_level, level_index
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import (
    ActionFailure, Change, Context, OsceAction,
)
from ansible_collections.osce.patching.plugins.plugin_utils._gateway import HostUnreachable
from ansible_collections.osce.patching.plugins.plugin_utils._server import ServerReader, r1_statement, reboot_signals, shutdown_mark
from ansible_collections.osce.patching.plugins.plugin_utils._state import CollectionState

REBOOT_CODES = (3010, 1641)
REBOOT_FIX = "reboot the server, or set osce_server_reboot: true"
TAMPER_FIX = "download the package again from the vendor; never run a tampered installer"


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ActionModule(OsceAction):
    MODULE = "patch_chain"
    VERB = "apply the patch chain"
    NEEDS_CATALOG = True

    #: seams for tests: how the plugin waits between polls and what time it is
    sleep = staticmethod(time.sleep)
    clock = staticmethod(time.monotonic)
    utc_now = staticmethod(_utc_now)

    def _detect(self, ctx: Context, server: ServerReader, recorded: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        facts = server.fact() if ctx.check_mode else None
        if facts is not None and isinstance(facts.get("patch_history"), list):
            # check mode (preflight): build_facts read the key and the history in this run (the same values,
            # detected the same way below); before an install the server is always read afresh (the level
            # decides which installer runs)
            server.install_path()
            basics = {"version": facts.get("version"), "sp_build": facts.get("sp_build"),
                      "install_path": facts["install_path"]}
            history = facts["patch_history"]
        else:
            basics = server.basics()
            history = server.patch_history()
        # this collection's own record of CP 5712r1 (or its confirmed intent) tells r1 from the original 5712
        r1 = cs.applied_or_confirmed(recorded, R1_STEP, basics["sp_build"])
        detection = detect_level({"server_version": basics["version"], "sp_build": basics["sp_build"],
                                  "patch_history": history, "applied_record": r1,
                                  "cp5712r1_installed": r1_statement(ctx)}, ctx.catalog.levels)
        return {"level": detection.level, "build": basics["sp_build"], "version": basics["version"],
                "install_path": basics["install_path"]}

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        server = ServerReader(ctx)
        ctx.notes["server"] = server
        record = CollectionState(server.locator)
        ctx.notes["record"] = record
        shared = (server.fact() or {}).get("collection_state") if ctx.check_mode else None
        recorded = shared if isinstance(shared, dict) and "reboot_debt" in shared else record.read()
        ctx.notes["installing"] = dict(recorded.get("installing") or {})
        ctx.notes["check_failed"] = dict(recorded.get("check_failed") or {})
        state = self._detect(ctx, server, recorded)
        predicted = (self.prediction(ctx).get("server") or {}) if ctx.args["predict"] else {}
        if predicted.get("level"):
            # check mode: the steps before this one were predicted, not installed; go on from there
            state = {**state, "level": predicted["level"], "build": predicted.get("sp_build", state["build"]),
                     "predicted": "the level earlier steps of this --check run predicted (nothing was installed)"}
        debt = recorded.get("reboot_debt")
        if debt is not None:
            # paid when Windows wrote a new last-shutdown time since the debt was recorded
            loc = server.locator
            now = shutdown_mark(loc.registry_value("last_shutdown_time")) if loc.known("last_shutdown_time") else None
            recorded = debt.get("shutdown_time")
            paid = recorded is not None and now is not None and now != recorded
            if not paid and ctx.args["rebooted"]:
                # the task before rebooted the server (in --check: is predicted to): that reboot pays it
                debt, paid = dict(debt, paid_by="the reboot of the task before"), True
            ctx.notes["debt"] = dict(debt, paid=paid)
        return state

    def _run_id(self, ctx: Context) -> str:
        if ctx.args.get("run_id") is not None:
            return str(ctx.args["run_id"])
        value = ctx.task_vars.get("osce_run_id")
        if isinstance(value, str) and "{{" in value:
            value = self._templar.template(value)
        return "" if value is None else str(value)

    # -- decide -----------------------------------------------------------------------------------
    def _selected(self, ctx: Context, level: str) -> tuple[list[t.Any], list[str]]:
        args = ctx.args
        plan = plan_chain(level, ctx.catalog, include_patch2=args["include_patch2"],
                          sps_versions=args["sps_versions"] or {}, tmcm_version=args.get("tmcm_version"))
        if plan.blockers:
            raise OsceError("chain", f"cannot patch {DISPLAY_NAMES[level]}: " + "; ".join(plan.blockers), level,
                            "resolve the blocker, then run again")
        ctx.notes["warnings"] = list(plan.warnings)
        steps = list(plan.steps)
        choice = args["step"]
        if choice == "next":
            steps = steps[:1]
        elif choice != "all":
            catalog_step = ctx.catalog.step(choice)
            wanted = [s for s in steps if s.step_id == choice and s.from_level == level]
            if not wanted:
                if level != "pre_10_6" and level_index(level) >= level_index(catalog_step.resulting_level) \
                        and not (level == "cp5712" and choice == "cp5712r1"):
                    return [], [s.step_id for s in plan.steps]
                raise OsceError("step", f"{choice} does not apply on {DISPLAY_NAMES[level]} (prerequisites: "
                                + ", ".join(catalog_step.prerequisites) + ")", choice,
                                "apply the earlier steps first (step: next) or choose a step of the plan: "
                                + (", ".join(s.step_id for s in plan.steps) or "none"))
            steps = wanted
        return steps, [s.step_id for s in plan.steps]

    def plan(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        steps, planned = self._selected(ctx, before["level"])
        ctx.notes["planned"] = planned
        changes: list[Change] = []
        debt = ctx.notes.get("debt")
        if debt is not None and debt["paid"]:
            changes.append(Change("clear_reboot_debt", cs.REBOOT_DEBT, {"debt": {k: v for k, v in debt.items()
                                                                                 if k != "paid"}}))
        for step_id, started in sorted(ctx.notes["installing"].items()):
            # an install whose connection was lost before it was recorded: the build proves it (cs.installed_by_us)
            if cs.installed_by_us(started, before["build"]):
                changes.append(Change("confirm_install", cs.applied_name(step_id), {"record": cs.confirmed(started)}))
        if not steps:
            return changes
        # every problem before any change: installers given, present, untouched; disk; pending reboot
        problems: list[OsceError] = []
        missing = [f for s in steps for f in ctx.catalog.missing_for(s.step_id)
                   if f == f"osce_installers.{s.step_id}" or f.startswith("osce_build_map")]
        for field in dict.fromkeys(missing):
            problems.append(OsceError(field, "is required to apply " + ", ".join(s.step_id for s in steps),
                                      fix="give the installer path and sha256 (osce_installers) and the build from "
                                      "the readme (osce_build_map)"))
        gw = ctx.gateway
        for s in steps:
            inst = s.step.installer
            if inst is None or f"osce_installers.{s.step_id}" in missing:
                continue
            stat = gw.stat(inst.path, checksum_algorithm="sha256")
            problem = self._installer_problem(ctx, s.step_id, inst.path, inst.sha256, stat)
            failed = ctx.notes["check_failed"].get(s.step_id)
            if problem is None and cs.given_up(failed, inst.sha256):
                problem = OsceError(f"osce_installers.{s.step_id}", f"this installer already ran {failed['attempts']} "
                                    f"times (runs {', '.join(failed.get('runs') or [])}) and each time the server stayed "
                                    f"on {failed.get('level_read')} (build {failed.get('build_read')}) instead of reaching "
                                    f"{failed.get('expected_level')}: it is not run a third time",
                                    fix=self._check_failed_fix(ctx, s.step_id))
            if problem is not None:
                problems.append(problem)
                continue
            changes.append(Change("install", s.step_id, {
                "name": s.name, "from_level": s.from_level, "to_level": s.to_level,
                "build": ctx.catalog.server_build_after(s.step_id),
                "installer": {"path": inst.path, "sha256": inst.sha256, "arguments": inst.arguments,
                              "method": inst.method, "success_codes": list(inst.success_codes)},
                "size": stat.get("size"),
            }))
        disk = self._check_disk(ctx, before)
        if disk is not None:
            problems.append(disk)
        reboot = self._reboot_pending(ctx)
        if reboot["pending"]:
            problem = self._reboot_problem(ctx, reboot)
            if ctx.args["fail_on_reboot_pending"]:
                problems.append(problem)
            else:
                ctx.notes.setdefault("warnings", []).append(problem.line())
        if problems:
            raise self._problems(problems, reboot)
        return changes

    @staticmethod
    def _check_failed_fix(ctx: Context, step_id: str) -> str:
        fix = (f"read the installer log ({step_id}); if the server's build is right and the map is wrong, correct "
               f"osce_build_map; a different installer (another sha256) is tried again, and deleting the value "
               f"Applied.{step_id} under HKLM:\\SOFTWARE\\osce.patching on {ctx.host} lets this one run again")
        if step_id == R1_STEP:
            fix += (". CP 5712r1 keeps build 5712: if the server has r1, state it with osce_cp5712r1_installed: true")
        return fix

    def _refuse_if_changed(self, ctx: Context, step_id: str, inst: dict[str, t.Any],
                           steps: list[dict[str, t.Any]]) -> None:
        """Hash the installer now; gone or different from the pre-check, the step is refused."""
        stat = ctx.gateway.stat(inst["path"], checksum_algorithm="sha256")
        problem = self._installer_problem(ctx, step_id, inst["path"], inst["sha256"], stat)
        if problem is not None:
            raise ActionFailure(f"installer of {step_id} changed after the pre-check, not run: {problem.problem}",
                                TAMPER_FIX, field=problem.field, extra={"steps": steps})

    @staticmethod
    def _installer_problem(ctx: Context, step_id: str, path: str, sha256: str,
                           stat: dict[str, t.Any]) -> OsceError | None:
        if not stat.get("exists"):
            return OsceError(f"osce_installers.{step_id}.path", f"installer not found on {ctx.host}", path,
                             "copy the vendor package to that path on the server or correct the path")
        digest = str(stat.get("checksum") or "").lower()
        if digest != str(sha256).lower():
            return OsceError(f"osce_installers.{step_id}.sha256", f"does not match the installer on {ctx.host} "
                             f"({path} has sha256 {digest})", sha256, TAMPER_FIX)
        return None

    @staticmethod
    def _problems(problems: list[OsceError], reboot: dict[str, t.Any] | None) -> ActionFailure:
        extra: dict[str, t.Any] = {"problems": [p.as_dict() for p in problems]}
        if reboot is not None:
            extra["reboot_pending"] = reboot
        first = problems[0]
        if len(problems) == 1:
            got = f" (got {format_value(first.value)})" if first.has_value else ""
            return ActionFailure(f"{first.field}: {first.problem}{got}", first.fix, field=first.field, extra=extra)
        items = []
        for i, p in enumerate(problems, 1):
            got = f" (got {format_value(p.value)})" if p.has_value else ""
            items.append(f"({i}) {p.field}: {p.problem}{got}, fix: {p.fix.rstrip('.')}")
        return ActionFailure(f"{len(problems)} problems, nothing was changed: " + "; ".join(items),
                             "correct every problem listed, then run the task again", field=first.field, extra=extra)

    def _check_disk(self, ctx: Context, before: dict[str, t.Any]) -> OsceError | None:
        drive = ntpath.splitdrive(before["install_path"])[0].rstrip(":").upper()
        need = ctx.args["min_free_mb"] * 2**20
        for vol in ctx.gateway.disk_volumes():
            letter = str(vol.get("drive_letter") or "").rstrip(":").upper()
            if letter == drive:
                free = int(vol.get("size_remaining") or 0)
                if free < need:
                    return OsceError("min_free_mb", f"drive {drive}: on {ctx.host} has {free // 2**20} MiB free",
                                     ctx.args["min_free_mb"], "free disk space on the server before patching")
                return None
        ctx.notes.setdefault("warnings", []).append(f"free space of drive {drive}: not found; disk not checked")
        return None

    # -- reboots ----------------------------------------------------------------------------------
    def _reboot_pending(self, ctx: Context, fresh: bool = False) -> dict[str, t.Any]:
        """Windows' signals plus an unpaid RebootDebt; remembers the last-shutdown mark for a new debt."""
        server: ServerReader = ctx.notes["server"]
        read = reboot_signals(server.locator, fresh=fresh)
        ctx.notes["shutdown_time"] = read["shutdown_time"]
        signals = list(read["signals"])
        debt = ctx.notes.get("debt")
        if debt is not None and not debt["paid"]:
            signals.append({"name": f"RebootDebt: {debt.get('step')} exited {debt.get('exit_code')} "
                                    f"at {debt.get('since')}", "entry": "collection_state", "confidence": "ours"})
        out = {"pending": bool(signals), "signals": signals}
        ctx.notes["reboot_pending"] = out
        return out

    @staticmethod
    def _reboot_problem(ctx: Context, reboot: dict[str, t.Any]) -> OsceError:
        names = "; ".join(s["name"] for s in reboot["signals"])
        fix = REBOOT_FIX
        debt = ctx.notes.get("debt")
        if debt is not None and not debt["paid"] and debt.get("shutdown_time") is None:
            fix += (" (the debt holds no shutdown time, so a reboot cannot be told from evidence: once the server "
                    "has rebooted, delete the value RebootDebt under HKLM:\\SOFTWARE\\osce.patching; "
                    "osce_server_reboot: true reboots the server and clears it)")
        return OsceError("reboot_pending", f"the server {ctx.host} has a reboot pending ({names}); no installer is "
                         "run before it", fix=fix)

    def _wait_back(self, ctx: Context, step_id: str, mark: str | None, why: str) -> float:
        """Poll until the server answers again (and, when a last-shutdown mark was read before, until it
        changed: proof that the restart happened); ``reboot_timeout`` bounds the wait."""
        server: ServerReader = ctx.notes["server"]
        loc = server.locator
        start = self.clock()
        deadline = start + ctx.args["reboot_timeout"]
        while True:
            self.sleep(ctx.args["reboot_poll_interval"])
            try:
                if loc.known("last_shutdown_time"):
                    loc.forget_key("last_shutdown_time")
                    now = shutdown_mark(loc.registry_value("last_shutdown_time"))
                    if mark is None or now != mark:
                        return round(self.clock() - start, 1)
                elif ctx.gateway.ping():
                    return round(self.clock() - start, 1)
            except HostUnreachable:
                self._reset_connection()
            if self.clock() >= deadline:
                raise ActionFailure(f"the server did not come back within reboot_timeout ({ctx.args['reboot_timeout']} "
                                    f"s) after {step_id} ({why})", "check the server's console; run the task again "
                                    "once it answers (the installed step is verified by its build)",
                                    field=ctx.host, unreachable=True)

    def _reset_connection(self) -> None:
        """Drop the connection's session after a restart (as the win_reboot action plugin does)."""
        reset = getattr(self._connection, "reset", None)
        if callable(reset):
            try:
                reset()
            except Exception:  # pylint: disable=broad-except  # no reset support: the next call reconnects or fails
                pass

    # -- act --------------------------------------------------------------------------------------
    def predict(self, ctx, before, changes):
        installs = [c for c in changes if c.kind == "install"]
        if not installs:
            return before
        last = installs[-1]
        level = last.data["to_level"]
        if ctx.args["predict"]:
            # carried to the next task of this --check run: the next step starts from this level
            self.keep_prediction(ctx, prediction_core.installed(
                self.prediction(ctx), level=level, level_name=DISPLAY_NAMES.get(level), sp_build=last.data["build"],
                client_build=ctx.catalog.step(last.target).client_build, step=last.target, run_id=self.run_id(ctx)))
        return {**before, "level": level, "build": last.data["build"], "prediction": prediction_core.INSTALL_ASSUMPTION}

    def apply(self, ctx: Context, before: dict[str, t.Any], changes: list[Change]) -> dict[str, t.Any]:
        server: ServerReader = ctx.notes["server"]
        record: CollectionState = ctx.notes["record"]
        gw = ctx.gateway
        run_id = self._run_id(ctx)
        done: list[dict[str, t.Any]] = []
        outcome: dict[str, t.Any] = {"steps": done, "state": dict(before), "reboot_debt_cleared": False,
                                     "records": []}
        first = True
        for change in changes:
            if change.kind == "clear_reboot_debt":
                record.remove(cs.REBOOT_DEBT)
                ctx.notes.pop("debt", None)
                outcome["reboot_debt_cleared"] = True
                continue
            if change.kind == "confirm_install":
                record.put(change.target, change.data["record"])
                outcome["records"].append(change.target)
                continue
            inst = change.data["installer"]
            log_path = self._log_path(ctx, server, change.target)
            entry = {"id": change.target, "name": change.data["name"], "installer": inst, "rc": None,
                     "reboot_required": False}
            if not first:
                reboot = self._reboot_pending(ctx, fresh=True)
                if reboot["pending"] and ctx.args["fail_on_reboot_pending"]:
                    problem = self._reboot_problem(ctx, reboot)
                    raise ActionFailure(f"{problem.field}: {problem.problem}", problem.fix, field=problem.field,
                                        extra={"steps": list(done), "reboot_pending": reboot})
            first = False
            mark = ctx.notes.get("shutdown_time")
            # the intent first: if the server or the controller is lost during the install, the next run
            # confirms it from the build instead of leaving the step without a record (a refused installer
            # leaves the intent; the step's next try rewrites it)
            started = cs.intent(change.target, inst["sha256"], run_id, self.utc_now(), outcome["state"].get("build"),
                                change.data["build"])
            record.put(cs.applied_name(change.target), started)
            # the installer is hashed again right before it runs (the pre-check may be minutes old): win_package
            # hashes it itself in the call that starts it (its checksum option), so only a win_command installer
            # needs a win_stat the round trip before
            if inst["method"] == "command":
                self._refuse_if_changed(ctx, change.target, inst, done + [dict(entry, status="refused")])
            try:
                if inst["method"] == "command":
                    res = gw.command(argv=[inst["path"], *shlex.split(inst["arguments"] or "", posix=False)])
                else:
                    res = gw.call("win_package", {"path": inst["path"], "arguments": inst["arguments"] or None,
                                                  "expected_return_code": list(inst["success_codes"]),
                                                  "log_path": log_path, "checksum": inst["sha256"],
                                                  "checksum_algorithm": "sha256"}, allow_failure=True)
            except HostUnreachable:
                # the connection dropped while the installer ran (a restart?): wait, then judge by the build
                entry["connection_lost"] = True
                entry["waited"] = self._wait_back(ctx, change.target, mark, "the connection dropped while its "
                                                  "installer ran")
                res = {"rc": None}
            rc = res.get("rc")
            entry["rc"] = rc
            msg = str(res.get("msg") or "")
            if res.get("failed") and "checksum" in msg.lower():
                raise ActionFailure(f"installer of {change.target} changed after the pre-check, not run: "
                                    f"{msg.splitlines()[0]}", TAMPER_FIX, field=f"osce_installers.{change.target}.sha256",
                                    extra={"steps": done + [dict(entry, status="refused")], "module_result": res})
            if res.get("failed") and rc is None and not entry.get("connection_lost"):
                # it never started: one win_stat, on this path only, tells a file gone since the pre-check
                self._refuse_if_changed(ctx, change.target, inst, done + [dict(entry, status="refused")])
            if not entry.get("connection_lost") and (rc not in inst["success_codes"] or rc is None):
                what = "fatal error during installation" if rc == 1603 else (msg or "installer failed")
                raise ActionFailure(
                    f"installer of {change.target} ({inst['path']}) exited {rc} ({what.splitlines()[0]}); "
                    f"log: {log_path}", "read the installer log, fix the cause and run the task again",
                    field=f"osce_installers.{change.target}",
                    extra={"rc": rc, "log_path": log_path, "steps": done + [dict(entry, status="failed")],
                           "module_result": res})
            if rc == 1641:
                # the installer restarted the server itself: wait for it, never ask for another reboot
                entry["rebooted"] = True
                entry["waited"] = self._wait_back(ctx, change.target, mark, "it exited 1641: the installer "
                                                  "restarted the server")
            # re-read the build: the step must have moved the server to its level
            server.locator.forget_key("server_version")
            server.locator.forget_file("server_hotfix_history")
            # the success exit of the installer hashed above is all a step that keeps the build has (r1 over an
            # early CP 5712: without it a server whose history cannot be read would reinstall r1 on every run);
            # a lost connection leaves only the intent, which the build confirms when it moved
            evidence = ({"installing": {change.target: started}} if entry.get("connection_lost")
                        else {"applied": {change.target: cs.confirmed(started)}})
            state = self._detect(ctx, server, evidence)
            outcome["state"] = state
            if state["level"] != change.data["to_level"]:
                # kept on the server: the same installer failing this check twice is not run a third time
                failed = cs.check_failed(started, ctx.notes["check_failed"].get(change.target), self.utc_now(), rc,
                                         state["level"], state["build"], change.data["to_level"])
                record.put(cs.applied_name(change.target), failed)
                again = (f"; this installer failed the check {failed['attempts']} times, so it will not be run again"
                         if cs.given_up(failed, inst["sha256"]) else "")
                raise ActionFailure(
                    f"{change.target} exited {rc} but the server is on {state['level']} (build {state['build']}), "
                    f"not {change.data['to_level']} (build {change.data['build']}){again}",
                    self._check_failed_fix(ctx, change.target) if again else
                    "check the installer log and the build map (osce_build_map) for this step",
                    field=f"osce_installers.{change.target}",
                    extra={"rc": rc, "log_path": log_path, "steps": done + [dict(entry, status="failed")],
                           "check_failed": failed})
            now = self.utc_now()
            record.put(cs.applied_name(change.target), cs.applied(change.target, inst["sha256"], now, run_id))
            outcome["records"].append(cs.applied_name(change.target))
            entry["reboot_required"] = rc == 3010
            entry["status"] = "pending_reboot" if entry["reboot_required"] else "applied"
            done.append(entry)
            if entry["reboot_required"]:
                record.put(cs.REBOOT_DEBT, {"step": change.target, "exit_code": rc, "since": now, "run_id": run_id,
                                            "shutdown_time": mark})
                outcome["records"].append(cs.REBOOT_DEBT)
                break
        return outcome

    def _log_path(self, ctx: Context, server: ServerReader, step_id: str) -> str:
        inst = ctx.catalog.step(step_id).installer
        if inst.log_path:
            return inst.log_path
        return server.locator.path("server_patch_log")

    def verify(self, ctx, before, changes, outcome):
        return outcome["state"]

    def diff_view(self, state):
        view = {"level": state["level"], "build": state["build"]}
        for key in ("predicted", "prediction"):
            if state.get(key):
                view[key] = state[key]
        return view

    def report(self, ctx, before, after, changes, outcome):
        installs = [c for c in changes if c.kind == "install"]
        if ctx.check_mode or not changes:
            steps = [{"id": c.target, "name": c.data["name"], "installer": c.data["installer"],
                      "status": "would_apply", "rc": None, "reboot_required": False} for c in installs]
        else:
            steps = outcome["steps"]
        applied = {s["id"] for s in steps}
        planned = ctx.notes.get("planned", [])
        remaining = [sid for sid in planned if sid not in applied]
        cleared = any(c.kind == "clear_reboot_debt" for c in changes)
        result = {"level_before": before["level"], "level": after["level"], "build": after["build"],
                  "steps": steps, "reboot_required": any(s["reboot_required"] for s in steps),
                  "remaining": remaining, "reboot_debt_cleared": cleared,
                  "run_id": self._run_id(ctx)}
        if ctx.notes.get("reboot_pending") is not None:
            result["reboot_pending"] = ctx.notes["reboot_pending"]
        if ctx.notes.get("warnings"):
            result["warnings"] = ctx.notes["warnings"]
        if ctx.check_mode and installs:
            result["prediction"] = prediction_core.INSTALL_ASSUMPTION
        return result
