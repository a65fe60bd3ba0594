# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.patch_chain: pre-check and install the FAQ's steps, verify each new build."""
from __future__ import annotations

import ntpath
import shlex
import typing as t

from ansible_collections.osce.patching.plugins.module_utils.chain import plan_chain
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.levels import DISPLAY_NAMES, detect_level, level_index
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import (
    ActionFailure, Change, Context, OsceAction,
)
from ansible_collections.osce.patching.plugins.plugin_utils._server import ServerReader

REBOOT_CODES = (3010, 1641)


class ActionModule(OsceAction):
    MODULE = "patch_chain"
    VERB = "apply the patch chain"
    NEEDS_CATALOG = True

    def _detect(self, ctx: Context, server: ServerReader) -> dict[str, t.Any]:
        basics = server.basics()
        history = server.patch_history()
        detection = detect_level({"server_version": basics["version"], "sp_build": basics["sp_build"],
                                  "patch_history": history}, ctx.catalog.levels)
        return {"level": detection.level, "build": basics["sp_build"], "version": basics["version"],
                "install_path": basics["install_path"]}

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        server = ServerReader(ctx)
        ctx.notes["server"] = server
        return self._detect(ctx, server)

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
        if not steps:
            return []
        missing = [f for s in steps for f in ctx.catalog.missing_for(s.step_id)
                   if f == f"osce_installers.{s.step_id}" or f.startswith("osce_build_map")]
        if missing:
            raise OsceError(missing[0], "is required to apply " + ", ".join(s.step_id for s in steps),
                            fix="give the installer path and sha256 (osce_installers) and the build from the readme "
                            "(osce_build_map)")
        gw = ctx.gateway
        changes = []
        for s in steps:
            inst = s.step.installer
            stat = gw.stat(inst.path, checksum_algorithm="sha256")
            if not stat.get("exists"):
                raise OsceError(f"osce_installers.{s.step_id}.path", f"installer not found on {ctx.host}", inst.path,
                                "copy the vendor package to that path on the server or correct the path")
            digest = str(stat.get("checksum") or "").lower()
            if digest != inst.sha256.lower():
                raise OsceError(f"osce_installers.{s.step_id}.sha256", f"does not match the installer on {ctx.host} "
                                f"({inst.path} has sha256 {digest})", inst.sha256,
                                "download the package again from the vendor; never run a tampered installer")
            changes.append(Change("install", s.step_id, {
                "name": s.name, "from_level": s.from_level, "to_level": s.to_level,
                "build": ctx.catalog.server_build_after(s.step_id),
                "installer": {"path": inst.path, "sha256": inst.sha256, "arguments": inst.arguments,
                              "method": inst.method, "success_codes": list(inst.success_codes)},
                "size": stat.get("size"),
            }))
        self._check_disk(ctx, before)
        return changes

    def _check_disk(self, ctx: Context, before: dict[str, t.Any]) -> None:
        drive = ntpath.splitdrive(before["install_path"])[0].rstrip(":").upper()
        need = ctx.args["min_free_mb"] * 2**20
        for vol in ctx.gateway.disk_volumes():
            letter = str(vol.get("drive_letter") or "").rstrip(":").upper()
            if letter == drive:
                free = int(vol.get("size_remaining") or 0)
                if free < need:
                    raise OsceError("min_free_mb", f"drive {drive}: on {ctx.host} has {free // 2**20} MiB free",
                                    ctx.args["min_free_mb"], "free disk space on the server before patching")
                return
        ctx.notes.setdefault("warnings", []).append(f"free space of drive {drive}: not found; disk not checked")

    # -- act --------------------------------------------------------------------------------------
    def predict(self, ctx, before, changes):
        last = changes[-1].data
        return {**before, "level": last["to_level"], "build": last["build"]}

    def apply(self, ctx: Context, before: dict[str, t.Any], changes: list[Change]) -> dict[str, t.Any]:
        server: ServerReader = ctx.notes["server"]
        gw = ctx.gateway
        done: list[dict[str, t.Any]] = []
        state = dict(before)
        for change in changes:
            inst = change.data["installer"]
            log_path = self._log_path(ctx, server, change.target)
            if inst["method"] == "command":
                res = gw.command(argv=[inst["path"], *shlex.split(inst["arguments"] or "", posix=False)])
            else:
                res = gw.package(inst["path"], inst["arguments"] or None, inst["success_codes"], log_path)
            rc = res.get("rc")
            entry = {"id": change.target, "name": change.data["name"], "installer": inst, "rc": rc,
                     "reboot_required": rc in REBOOT_CODES}
            if rc not in inst["success_codes"] or rc is None:
                what = "fatal error during installation" if rc == 1603 else (res.get("msg") or "installer failed")
                raise ActionFailure(
                    f"installer of {change.target} ({inst['path']}) exited {rc} ({str(what).splitlines()[0]}); "
                    f"log: {log_path}", "read the installer log, fix the cause and run the task again",
                    field=f"osce_installers.{change.target}",
                    extra={"rc": rc, "log_path": log_path, "steps": done + [dict(entry, status="failed")],
                           "module_result": res})
            # re-read the build: the step must have moved the server to its level
            server.locator.forget_key("server_version")
            server.locator.forget_file("server_hotfix_history")
            state = self._detect(ctx, server)
            if state["level"] != change.data["to_level"]:
                raise ActionFailure(
                    f"{change.target} exited {rc} but the server is on {state['level']} (build {state['build']}), "
                    f"not {change.data['to_level']} (build {change.data['build']})",
                    "check the installer log and the build map (osce_build_map) for this step",
                    field=f"osce_installers.{change.target}",
                    extra={"rc": rc, "log_path": log_path, "steps": done + [dict(entry, status="failed")]})
            entry["status"] = "pending_reboot" if entry["reboot_required"] else "applied"
            done.append(entry)
            if entry["reboot_required"]:
                break
        return {"steps": done, "state": state}

    def _log_path(self, ctx: Context, server: ServerReader, step_id: str) -> str:
        inst = ctx.catalog.step(step_id).installer
        if inst.log_path:
            return inst.log_path
        return server.locator.path("server_patch_log")

    def verify(self, ctx, before, changes, outcome):
        return outcome["state"]

    def diff_view(self, state):
        return {"level": state["level"], "build": state["build"]}

    def report(self, ctx, before, after, changes, outcome):
        if ctx.check_mode or not changes:
            steps = [{"id": c.target, "name": c.data["name"], "installer": c.data["installer"],
                      "status": "would_apply", "rc": None, "reboot_required": False} for c in changes]
        else:
            steps = outcome["steps"]
        applied = {s["id"] for s in steps}
        planned = ctx.notes.get("planned", [])
        remaining = [sid for sid in planned if sid not in applied]
        result = {"level_before": before["level"], "level": after["level"], "build": after["build"],
                  "steps": steps, "reboot_required": any(s["reboot_required"] for s in steps),
                  "remaining": remaining}
        if ctx.notes.get("warnings"):
            result["warnings"] = ctx.notes["warnings"]
        return result
