# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.client_upgrade: run AutoPcc on a client that is behind, wait for the new build.

An offline client comes back UNREACHABLE (not failed) through the action base. While waiting for
the new build, a read that finds the client unreachable is retried every ``poll_interval`` until
``timeout``: a program update can briefly disconnect the client (firewall driver, OSCE-FACTS.md).
Still unreachable at the deadline, the client dropped during its own upgrade: the task FAILS with
``dropped: true`` (``changed: true`` when this task ran AutoPcc) so it counts against its batch.

Stall (``stall_timeout``): whether AutoPcc upgrades a client while the root privilege "clients can
update components but not upgrade the client program" is on is unknown. When AutoPcc returned
success and the client answers but its build has not moved for ``stall_timeout`` seconds, the task
fails at once with ``stalled: true`` and a diagnosis naming that unknown, instead of waiting out
``timeout``.

``reboot_required`` is based on the documented fact that a client program update needs a restart
to load the new TDI driver (OSCE-FACTS.md, "Moving a client to the server's build"): it is true
when this task moved the program build (predicted in check mode), false when the client was
already current. AutoPcc's exit code carries no reboot information and the win_command result has
no reboot flag, so neither is used.

``phase`` splits the work for plays that throttle the network part only: ``start`` returns once
AutoPcc exits (it copies the program files: the download), ``finish`` runs nothing and waits for the
build. A slot of ``throttle`` on the ``start`` task is then free while the client installs.
"""
from __future__ import annotations

import time
import typing as t

from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Change, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._gateway import HostUnreachable
from ansible_collections.osce.patching.plugins.plugin_utils._client import ClientReader, server_expectations


#: What ``reboot_required`` rests on (returned as ``reboot_required_source``).
REBOOT_BASIS = "program build changed: a client program update needs a restart to load the new TDI driver (doc)"
UNKNOWN_BUILD = ("prediction: the client build the server offers is not known before its step is installed "
                 "(give osce_installers.<step>.client_build), so only that AutoPcc would run is predicted")
REBOOT_BASIS_STARTED = ("AutoPcc started a program update: a client program update needs a restart to load the "
                        "new TDI driver (doc)")


class ActionModule(OsceAction):
    MODULE = "client_upgrade"
    VERB = "upgrade the client"
    NEEDS_CATALOG = True

    #: seam for tests: how the plugin waits between polls
    sleep = staticmethod(time.sleep)
    clock = staticmethod(time.monotonic)

    def check_input(self, ctx: Context) -> None:
        expected = server_expectations(ctx.args["server_facts"])["client_build"]
        if expected is None and ctx.check_mode and ctx.args["phase"] != "finish":
            # a --check run whose server step is predicted: the build it gives is not known before it is installed
            ctx.notes["expected"] = None
            return
        if not isinstance(expected, int):
            raise OsceError("server_facts.client_program.build", "is not a build number", expected,
                            "run osce.patching.build_facts with gather_subset client_program on the server first")
        ctx.notes["expected"] = expected

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        reader = ClientReader(ctx)
        ctx.notes["reader"] = reader
        waiting = ctx.args["phase"] == "finish" and not ctx.check_mode
        try:
            program = reader.program()
        except HostUnreachable:
            if not waiting:
                raise
            # finish runs right after start: the client may be installing (disconnected) this very moment
            ctx.notes["disconnects"] = 1
            program = {"program_build": None, "arch": None}
        state = {"build": program["program_build"], "arch": program["arch"]}
        if waiting and not self._current(ctx, state["build"]):
            ctx.notes["build_seen"] = state["build"]
            # just read and behind: poll first, an immediate re-read would be a wasted round trip
            state["build"], ctx.notes["waited"] = self._wait_for_build(ctx, state["build"], read_now=False)
            if state["arch"] is None:
                state["arch"] = ctx.notes["reader_arch"]
        return state

    @staticmethod
    def _current(ctx: Context, build: int | None) -> bool:
        expected = ctx.notes["expected"]
        return build is not None and expected is not None and build >= expected

    def plan(self, ctx, before):
        if ctx.args["phase"] == "finish" or self._current(ctx, before["build"]):
            return []
        loc = ctx.notes["reader"].locator
        loc.placeholders["server"] = ctx.args["server"]
        return [Change("autopcc", loc.path("client_autopcc"), {"arguments": list(ctx.args["arguments"])})]

    def predict(self, ctx, before, changes):
        if not ctx.check_mode:
            return {**before, "build": ctx.notes["expected"]}
        if ctx.notes["expected"] is None:
            return {**before, "build": None, "prediction": UNKNOWN_BUILD}
        return {**before, "build": ctx.notes["expected"], "prediction": prediction_core.CLIENT_ASSUMPTION}

    def apply(self, ctx, before, changes):
        change = changes[0]
        res = ctx.gateway.command(argv=[change.target, *change.data["arguments"]])
        if res.get("rc") != 0:
            cause = (res.get("stderr") or res.get("msg") or "").strip().splitlines()
            raise ActionFailure(f"{change.target} exited {res.get('rc')} ({cause[0] if cause else 'no output'})",
                                "check that the client reaches the server share; over WinRM use become (runas) or a "
                                "delegating transport (CredSSP, Kerberos delegation) to avoid the double hop",
                                field=ctx.host, extra={"module_result": res})
        return {"stdout": res.get("stdout", "")}

    def verify(self, ctx, before, changes, outcome):
        if ctx.args["phase"] == "start":
            # AutoPcc exited; the finish task (or the next run) sees the new build. The diff shows the target.
            outcome["unverified"] = True
            return self.predict(ctx, before, changes)
        build, outcome["waited"] = self._wait_for_build(ctx, before["build"])
        return {**before, "build": build}

    def _wait_for_build(self, ctx: Context, build: int | None, read_now: bool = True) -> tuple[int | None, float]:
        """Re-read the program build until it reaches the server's; returns it and the seconds waited.
        ``read_now=False``: wait one poll interval before the first read."""
        reader: ClientReader = ctx.notes["reader"]
        start = self.clock()
        deadline = start + ctx.args["timeout"]
        stall = ctx.args["stall_timeout"]
        seen, last_move = build, start
        if not read_now:
            self.sleep(ctx.args["poll_interval"])
        while True:
            reader.forget()
            try:
                program = reader.program()
            except HostUnreachable:
                # the program update can drop the client's connection for a while: keep polling
                ctx.notes["disconnects"] = ctx.notes.get("disconnects", 0) + 1
                last_move = self.clock()   # a client that drops is busy, not stalled
                if last_move >= deadline:
                    raise self._dropped(ctx, seen)
                self.sleep(ctx.args["poll_interval"])
                continue
            build = program["program_build"]
            ctx.notes["reader_arch"] = program["arch"]
            if self._current(ctx, build):
                return build, round(self.clock() - start, 1)
            now = self.clock()
            if build != seen:
                seen, last_move = build, now
            if 0 < stall < ctx.args["timeout"] and now - last_move >= stall:
                raise self._stalled(ctx, build)
            if self.clock() >= deadline:
                raise ActionFailure(f"the program build is still {build} after {ctx.args['timeout']} s, not "
                                    f"{ctx.notes['expected']}", "check the client's upgrade log (profile entry "
                                    "client_upgrade_log) or raise timeout", field=ctx.host,
                                    extra={"build": build, "expected_build": ctx.notes["expected"],
                                           "dropped": False, "stalled": False})
            self.sleep(ctx.args["poll_interval"])

    @staticmethod
    def _dropped(ctx: Context, build: int | None) -> ActionFailure:
        return ActionFailure(
            f"the client stopped answering during its upgrade (build {build} before, {ctx.notes['expected']} "
            f"expected) and did not answer again within timeout ({ctx.args['timeout']} s)",
            "check the client at its console (upgrade log: profile entry client_upgrade_log); a client that drops "
            "during its own upgrade counts as a failure of its batch", field=ctx.host,
            extra={"dropped": True, "stalled": False, "build": build, "expected_build": ctx.notes["expected"],
                   "disconnects": ctx.notes.get("disconnects", 0)})

    @staticmethod
    def _stalled(ctx: Context, build: int | None) -> ActionFailure:
        return ActionFailure(
            f"the program build stayed at {build} for stall_timeout ({ctx.args['stall_timeout']} s) after AutoPcc "
            "returned success, the client answering: whether AutoPcc upgrades a client while the privilege "
            "'clients can update components but not upgrade the client program' is on is unknown (Trend Micro "
            "documents nothing), and here it seems not to",
            "see 'AutoPcc and the upgrade privilege' in docs/user-guide.md - turn the privilege off for the "
            "clients of the batch (osce.patching.upgrade_privilege scope client or domain, once calibrated) or roll "
            "clients out with the privilege off; raise stall_timeout if installs are only slow", field=ctx.host,
            extra={"dropped": False, "stalled": True, "build": build, "expected_build": ctx.notes["expected"]})

    def diff_view(self, state):
        view = {"build": state["build"]}
        if state.get("prediction"):
            view["prediction"] = state["prediction"]
        return view

    def _bytes(self, ctx: Context, arch: str) -> int | None:
        level = server_expectations(ctx.args["server_facts"])["level"]
        for step in ctx.catalog.steps:
            if step.resulting_level == level:
                return step.package_bytes(arch)
        return None

    def report(self, ctx, before, after, changes, outcome):
        phase = ctx.args["phase"]
        if phase == "finish":
            seen = ctx.notes.get("build_seen", before["build"])
            upgraded = seen != after["build"]
            basis = REBOOT_BASIS if upgraded else "program build unchanged while this task waited (see the start task)"
            waited = ctx.notes.get("waited", 0.0)
        else:
            # phase start: ``after`` is the predicted build (verify does not wait), hence its own basis
            upgraded = bool(changes) and after["build"] != before["build"]
            started_only = outcome.get("unverified", False)
            basis = (REBOOT_BASIS_STARTED if started_only else REBOOT_BASIS) if upgraded else "program build unchanged"
            waited = outcome.get("waited", 0.0)
        downloads = bool(changes) and phase != "finish"
        build = before["build"] if outcome.get("unverified") else after["build"]
        extra = {"prediction": after["prediction"]} if after.get("prediction") else {}
        return {**extra, "build_before": ctx.notes.get("build_seen", before["build"]), "build": build,
                "expected_build": ctx.notes["expected"], "arch": before["arch"], "phase": phase,
                "pending": not self._current(ctx, build),
                "bytes_expected": self._bytes(ctx, before["arch"]) if downloads else 0,
                "waited": waited, "reboot_required": upgraded, "reboot_required_source": basis,
                "dropped": False, "stalled": False, "disconnects": ctx.notes.get("disconnects", 0),
                **self._reads(ctx, build)}

    @staticmethod
    def _reads(ctx, build) -> dict[str, t.Any]:
        """The last program read of this task when it shows the server's build (what verify may reuse)."""
        reader = ctx.notes.get("reader")
        program = getattr(reader, "last_program", None)
        if ctx.check_mode or not program or program.get("program_build") != build or build != ctx.notes["expected"]:
            return {}
        return {"reads": {"program": dict(program), "expected_build": ctx.notes["expected"]}}
