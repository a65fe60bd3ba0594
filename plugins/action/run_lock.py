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


def _holder(lock: t.Mapping[str, t.Any]) -> str:
    """``from CONTROLLER by USER (pid N) holds it since STARTED``: who holds a lock or a lease."""
    return (f"from {lock.get('controller', '?')} by {lock.get('user', '?')} (pid {lock.get('pid', '?')}) "
            f"holds it since {lock.get('started', '?')}")


def describe(lock: t.Mapping[str, t.Any]) -> str:
    """``run ID from CONTROLLER by USER (pid N) holds it since STARTED``."""
    return f"run {lock.get('run_id', '?')} {_holder(lock)}"


def describe_lease(lease: t.Mapping[str, t.Any]) -> str:
    """``site batch job ID (share 0.5, sites site1): from CONTROLLER ... since STARTED``."""
    sites = ", ".join(str(s) or "(no site)" for s in lease.get("sites") or []) or "none"
    return f"site batch job {lease.get('run_id', '?')} (share {lease.get('share', '?')}, sites {sites}): {_holder(lease)}"


def gone(holder: t.Mapping[str, t.Any]) -> str:
    """Why a lock or lease of this controller is stale."""
    return f"holder process {holder.get('pid')} on {holder.get('controller')} is gone"


def over_capacity(leases: t.Mapping[str, t.Mapping[str, t.Any]]) -> dict[str, str]:
    """The leases that do not fit, first come first served (by ``started``, then run id): those that would
    take the sum of shares above 1, or claim a site an earlier lease holds. Run id -> why."""
    total, claimed, out = 0.0, {}, {}
    for run_id, lease in sorted(leases.items(), key=lambda item: (str(item[1].get("started")), item[0])):
        share = float(lease.get("share") or 0)
        overlap = sorted(s for s in lease.get("sites") or [] if s in claimed)
        if overlap:
            out[run_id] = f"site {overlap[0] or '(no site)'} is in the lease of run {claimed[overlap[0]]}"
        elif total + share > 1.0 + 1e-9:
            out[run_id] = f"the shares would add up to {total + share:g} of the budget (at most 1)"
        else:
            total += share
            claimed.update({site: run_id for site in lease.get("sites") or []})
    return out


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
        if not 0 <= ctx.args["share"] <= 1:
            raise OsceError("share", "must be from 0 to 1", ctx.args["share"],
                            "0 for the run lock, or a site batch job's part of the budget (e.g. 0.5)")

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        state = ctx.notes.get("state")
        if state is None:
            state = ctx.notes["state"] = CollectionState(Locator(ctx.profile, ctx.gateway))
        record = state.read()
        if cs.RUN_LOCK in record["unreadable"]:
            ctx.notes["unreadable"] = True
        # a --check run: the lock as an earlier task of this run predicted it (it took nothing)
        prediction = self.prediction(ctx)
        return {"lock": prediction_core.lock(record["run_lock"], prediction),
                "shares": prediction_core.shares(record["run_shares"], prediction)}

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

    def _lease(self, ctx: Context) -> dict[str, t.Any]:
        return {**self._mine(ctx), "share": ctx.args["share"], "sites": sorted(set(ctx.args["sites"]))}

    def _stale_leases(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        """Leases of dead runs on this controller: removed (with a warning), as a stale lock is taken over."""
        changes = []
        for other, lease in sorted(before["shares"].items()):
            if other != ctx.args["run_id"] and self._is_stale(lease):
                ctx.notes["warnings"].append(f"{'would remove' if ctx.check_mode else 'removed'} a stale lease: "
                                             f"{describe_lease(lease)}, but {gone(lease)}")
                changes.append(Change("drop_share", cs.share_name(other), {"run_id": other}))
        return changes

    def _refuse(self, ctx: Context, cause: str, fix: str) -> list[Change]:
        """A real run fails; a --check run (and plan.yml) reports it and goes on."""
        if ctx.check_mode:
            ctx.notes["warnings"].append(f"{cause}; a real run would fail here")
            return []
        raise ActionFailure(cause, fix, field=cs.RUN_LOCK)

    def _plan_share(self, ctx: Context, before: dict[str, t.Any], stale_lock: bool) -> list[Change]:
        """A site batch job: take or release its lease (see the module documentation)."""
        run_id, holder = ctx.args["run_id"], before["lock"]
        if ctx.args["state"] == "absent":
            return [Change("drop_share", cs.share_name(run_id), {"run_id": run_id})] if run_id in before["shares"] else []
        changes = self._stale_leases(ctx, before)
        if holder is not None:
            if not stale_lock:
                return self._refuse(ctx, f"a server step holds the estate: {describe(holder)}",
                                    "site batch jobs run between server steps: wait for that run to end; if it is "
                                    f"dead, run playbooks/unlock.yml -e osce_break_lock={holder.get('run_id')}")
            ctx.notes["warnings"].append(f"{'would remove' if ctx.check_mode else 'removed'} a stale run lock: "
                                         f"{describe(holder)}, but {gone(holder)}")
            changes += [self._break(ctx, holder, gone(holder)), Change("release", cs.RUN_LOCK)]
        if run_id in before["shares"]:
            return changes
        dropped = {c.data["run_id"] for c in changes if c.kind == "drop_share"}
        leases = {k: v for k, v in before["shares"].items() if k not in dropped}
        mine = self._lease(ctx)
        why = over_capacity({**leases, run_id: {**mine, "started": "~"}}).get(run_id)   # "~": after every earlier one
        if why:
            held = "; ".join(describe_lease(v) for v in leases.values())
            return self._refuse(ctx, f"no lease for this site batch job: {why} ({held})",
                                "lower osce_budget_share, or run this site after those jobs end")
        return changes + [Change("take_share", cs.share_name(run_id), {"lease": mine})]

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
        lease = before["shares"].get(ctx.args["break_lock"]) if ctx.args["break_lock"] else None
        if state == "absent" and lease is not None:   # unlock.yml breaking a dead site job's lease
            return [self._break(ctx, lease, f"broken on purpose by {self.user()}"),
                    Change("drop_share", cs.share_name(ctx.args["break_lock"]), {"run_id": ctx.args["break_lock"]})]
        if ctx.args["share"] > 0:
            return self._plan_share(ctx, before, stale)
        if state == "present":
            leases = self._stale_leases(ctx, before)
            live = [v for k, v in before["shares"].items() if cs.share_name(k) not in {c.target for c in leases}]
            if live:
                return self._refuse(ctx, "site batch jobs hold leases: " + "; ".join(describe_lease(v) for v in live),
                                    "a server step waits for the site jobs' client batches: run it after they end; "
                                    "if one is dead, run playbooks/unlock.yml -e osce_break_lock=RUN_ID")
            if holder is None:
                return leases + [Change("take", cs.RUN_LOCK, {"lock": self._mine(ctx)})]
            if holder.get("run_id") == run_id:
                return leases
            if stale:
                reason = gone(holder)
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
        after["shares"] = shares = dict(before["shares"])
        for c in changes:
            if c.kind == "take":
                after["lock"] = c.data["lock"]
            elif c.kind == "release":
                after["lock"] = None
            elif c.kind == "take_share":
                shares[ctx.args["run_id"]] = c.data["lease"]
            elif c.kind == "drop_share":
                shares.pop(c.data["run_id"], None)
        # carried to the next task of this --check run: finish releases the lock (or lease) this run would take
        self.keep_prediction(ctx, prediction_core.updated(self.prediction(ctx), self.run_id(ctx) or ctx.args["run_id"],
                                                          lock=after["lock"], shares=shares))
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
            elif c.kind == "take_share":
                state.put(c.target, c.data["lease"])
            elif c.kind == "drop_share":
                state.remove(c.target)
        return {}

    def verify(self, ctx, before, changes, outcome):
        state: CollectionState = ctx.notes["state"]
        take = next((c for c in changes if c.kind in ("take", "take_share")), None)
        if take is not None and ctx.args["settle"] > 0:
            self.sleep(ctx.args["settle"])
        state.forget()
        after = self.gather(ctx)
        holder, run_id = after["lock"], ctx.args["run_id"]
        if take is not None and take.kind == "take":
            clash = (describe(holder) if holder else "nobody holds it") if holder != take.data["lock"] else None
            if clash is None and after["shares"]:
                clash = "; ".join(describe_lease(v) for v in after["shares"].values())
                state.remove(cs.RUN_LOCK)   # a site job wrote its lease in between: it may already be rolling out
            if clash is not None:
                raise ActionFailure(f"another run took the lock at the same time: {clash}",
                                    "let that run finish; run this playbook again later", field=cs.RUN_LOCK,
                                    extra={"lock": holder if holder != take.data["lock"] else None,
                                           "held_by_us": False})
        if take is not None and take.kind == "take_share":
            why = f"a server step took the lock at the same time: {describe(holder)}" if holder else \
                over_capacity(after["shares"]).get(run_id)
            if why:
                state.remove(take.target)   # first come, first served: the later lease gives way
                raise ActionFailure(f"another run wrote at the same time, and this site batch job gives way: {why}",
                                    "run this site job again once the others end", field=cs.RUN_LOCK,
                                    extra={"shares": after["shares"], "held_by_us": False})
        return after

    def diff_view(self, state):
        # the leases only when there are any: a plain run's diff stays the lock alone
        return {"lock": state["lock"], **({"shares": state["shares"]} if state.get("shares") else {})}

    def report(self, ctx, before, after, changes, outcome):
        lock = after["lock"]
        broken = next((c.data["broken"] for c in changes if c.kind == "break"), None)
        result: dict[str, t.Any] = {
            "run_id": ctx.args["run_id"],
            "lock": lock,
            "shares": after["shares"],
            "held_by_us": bool(ctx.args["run_id"] in after["shares"]) if ctx.args["share"] > 0
            else bool(lock and ctx.args["run_id"] and lock.get("run_id") == ctx.args["run_id"]),
            "stale": bool(ctx.notes["stale"]),
            "broken": broken,
        }
        if ctx.notes["warnings"]:
            result["warnings"] = list(ctx.notes["warnings"])
        return result
