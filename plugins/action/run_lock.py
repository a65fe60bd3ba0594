# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.run_lock: one run at a time per estate, recorded on the OSCE server.

The lock is the ``RunLock`` value of the collection's own key (``CollectionState``, profile entry
``collection_state``). Who "we" are: ``run_id`` (the task option), the controller's host name, the
user, and the pid of the ``ansible-playbook`` process. An action plugin runs in a
``WorkerProcess`` that ansible-core forks from the ``ansible-playbook`` process for each task
(``ansible.utils.multiprocessing`` uses the ``fork`` context; the strategy starts the workers in the
main process), so ``os.getppid()`` in the action plugin is that process: it lives exactly as long as
the run. The lab test reads ``/proc/<pid>/cmdline`` to prove it.
"""
from __future__ import annotations

import datetime
import getpass
import os
import socket
import time
import typing as t

from ansible_collections.osce.patching.plugins.module_utils import collection_state as cs
from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Change, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._locations import Locator
from ansible_collections.osce.patching.plugins.plugin_utils._state import CollectionState

UNLOCK_FIX = "wait for that run to end; if it is dead, run playbooks/unlock.yml -e osce_break_lock={run_id}"


def pid_alive(pid: t.Any) -> bool:
    """Whether process ``pid`` exists on this machine (a pid we may not signal is alive)."""
    try:
        number = int(pid)
    except (TypeError, ValueError):
        return True  # not a pid we can judge: never call it stale
    if number <= 0:
        return True
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(lock: t.Mapping[str, t.Any]) -> str:
    """``run ID from CONTROLLER by USER (pid N) holds it since STARTED``."""
    return (f"run {lock.get('run_id', '?')} from {lock.get('controller', '?')} by {lock.get('user', '?')} "
            f"(pid {lock.get('pid', '?')}) holds it since {lock.get('started', '?')}")


class ActionModule(OsceAction):
    MODULE = "run_lock"
    VERB = "take the run lock"
    REQUIRED_IF = [["state", "present", ["run_id"]], ["state", "absent", ["run_id"]]]
    VERBS = {"present": "take the run lock", "absent": "release the run lock", "query": "read the run lock"}

    # seams (unit tests replace them)
    sleep = staticmethod(time.sleep)
    pid_alive = staticmethod(pid_alive)
    controller = staticmethod(socket.gethostname)
    user = staticmethod(current_user)
    now = staticmethod(utc_now)
    #: the ansible-playbook process (the worker's parent, see the module docstring)
    run_pid = staticmethod(os.getppid)

    def check_input(self, ctx: Context) -> None:
        self.VERB = self.VERBS[ctx.args["state"]]
        ctx.notes["warnings"] = []
        ctx.notes["stale"] = False
        if ctx.args["settle"] < 0:
            raise OsceError("settle", "must not be negative", ctx.args["settle"], "give the seconds to wait, 0 or more")

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        state = ctx.notes.get("state")
        if state is None:
            state = ctx.notes["state"] = CollectionState(Locator(ctx.profile, ctx.gateway))
        record = state.read()
        if cs.RUN_LOCK in record["unreadable"]:
            ctx.notes["unreadable"] = True
        # a --check run: the lock as an earlier task of this run predicted it (it took nothing)
        return {"lock": prediction_core.lock(record["run_lock"], self.prediction(ctx))}

    # -------------------------------------------------------------------------------- decide --
    def _mine(self, ctx: Context) -> dict[str, t.Any]:
        return {"run_id": ctx.args["run_id"], "controller": self.controller(), "user": self.user(),
                "pid": self.run_pid(), "started": self.now()}

    def _break(self, ctx: Context, holder: dict[str, t.Any], reason: str) -> Change:
        return Change("break", cs.LOCK_BROKEN, {"broken": {"run_id": holder.get("run_id"), "by_run": ctx.args["run_id"],
                                                           "at": self.now(), "reason": reason}})

    def _is_stale(self, holder: dict[str, t.Any] | None) -> bool:
        """The holder ran on this controller and its ansible-playbook process is gone."""
        return bool(holder) and holder.get("controller") == self.controller() and not self.pid_alive(holder.get("pid"))

    def plan(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        state, holder, run_id = ctx.args["state"], before["lock"], ctx.args["run_id"]
        warnings: list[str] = ctx.notes["warnings"]
        ctx.notes["stale"] = stale = self._is_stale(holder) and holder.get("run_id") != run_id
        on_purpose = bool(holder) and bool(ctx.args["break_lock"]) and ctx.args["break_lock"] == holder.get("run_id")
        if state == "query":
            return []
        if ctx.notes.get("unreadable"):
            raise ActionFailure(f"the value {cs.RUN_LOCK} under {ctx.notes['state'].key} is not a JSON object",
                                "remove that value on the server (it is this collection's own record), then run again",
                                field=cs.RUN_LOCK)
        if state == "present":
            if holder is None:
                return [Change("take", cs.RUN_LOCK, {"lock": self._mine(ctx)})]
            if holder.get("run_id") == run_id:
                return []
            if stale:
                reason = f"holder process {holder.get('pid')} on {holder.get('controller')} is gone"
                verb = "would take over" if ctx.check_mode else "took over"
                warnings.append(f"{verb} a stale run lock: {describe(holder)}, but {reason}")
                return [self._break(ctx, holder, reason), Change("take", cs.RUN_LOCK, {"lock": self._mine(ctx)})]
            if on_purpose:
                return [self._break(ctx, holder, f"broken on purpose by {self.user()}"),
                        Change("take", cs.RUN_LOCK, {"lock": self._mine(ctx)})]
            if ctx.check_mode:
                warnings.append(f"the run lock on {ctx.host} is held: {describe(holder)}; a real run would fail here")
                return []
            raise ActionFailure(describe(holder), UNLOCK_FIX.format(run_id=holder.get("run_id")), field=cs.RUN_LOCK)
        # absent
        if holder is None:
            return []
        if on_purpose:  # before "our own lock": unlock.yml gives the dead run's id as both run_id and break_lock
            return [self._break(ctx, holder, f"broken on purpose by {self.user()}"), Change("release", cs.RUN_LOCK)]
        if holder.get("run_id") == run_id:
            return [Change("release", cs.RUN_LOCK)]
        warnings.append(f"left the run lock on {ctx.host} alone: {describe(holder)} (not {run_id})")
        return []

    # ---------------------------------------------------------------------------------- act --
    def predict(self, ctx, before, changes):
        after = dict(before)
        for c in changes:
            if c.kind == "take":
                after["lock"] = c.data["lock"]
            elif c.kind == "release":
                after["lock"] = None
        # carried to the next task of this --check run: finish releases the lock this run would take
        self.keep_prediction(ctx, prediction_core.updated(self.prediction(ctx), self.run_id(ctx) or ctx.args["run_id"],
                                                          lock=after["lock"]))
        return after

    def apply(self, ctx, before, changes):
        state: CollectionState = ctx.notes["state"]
        for c in changes:  # LockBroken first: the record of the break is on the server before the lock moves
            if c.kind == "break":
                state.put(cs.LOCK_BROKEN, c.data["broken"])
            elif c.kind == "take":
                state.put(cs.RUN_LOCK, c.data["lock"])
            elif c.kind == "release":
                state.remove(cs.RUN_LOCK)
        return {}

    def verify(self, ctx, before, changes, outcome):
        state: CollectionState = ctx.notes["state"]
        take = next((c for c in changes if c.kind == "take"), None)
        if take is not None and ctx.args["settle"] > 0:
            self.sleep(ctx.args["settle"])
        state.forget()
        after = self.gather(ctx)
        holder = after["lock"]
        if take is not None and holder != take.data["lock"]:
            held = describe(holder) if holder else "nobody holds it"
            raise ActionFailure(f"another run took the lock at the same time: {held}",
                                "let that run finish; run this playbook again later", field=cs.RUN_LOCK,
                                extra={"lock": holder, "held_by_us": False})
        return after

    def diff_view(self, state):
        return {"lock": state["lock"]}

    def report(self, ctx, before, after, changes, outcome):
        lock = after["lock"]
        broken = next((c.data["broken"] for c in changes if c.kind == "break"), None)
        result: dict[str, t.Any] = {
            "run_id": ctx.args["run_id"],
            "lock": lock,
            "held_by_us": bool(lock and ctx.args["run_id"] and lock.get("run_id") == ctx.args["run_id"]),
            "stale": bool(ctx.notes["stale"]),
            "broken": broken,
        }
        if ctx.notes["warnings"]:
            result["warnings"] = list(ctx.notes["warnings"])
        return result
