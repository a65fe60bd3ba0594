# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.upgrade_privilege: set the client upgrade privilege, with a crash-safe marker."""
from __future__ import annotations

import typing as t

from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils import _privilege as priv
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import Change, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._server import ServerReader


def before_marker_key(ctx: Context) -> str:
    return ctx.notes["store"].marker_key()


class ActionModule(OsceAction):
    MODULE = "upgrade_privilege"
    VERB = "set the upgrade privilege"
    #: the privilege store of the current run (diff_view has no context)
    _store: t.Any = None

    def check_input(self, ctx: Context) -> None:
        scope, targets = ctx.args["scope"], ctx.args["targets"]
        if scope != "root" and not targets:
            raise OsceError("targets", f"is required with scope {scope}", targets, f"list the {scope} names")
        if scope == "root" and targets:
            raise OsceError("targets", "is only used with scope domain or client", targets,
                            "remove targets or set scope")
        if ctx.args["state"] != "restored":
            priv.require_known(ctx.profile, scope)

    def _targets(self, ctx: Context, marker: dict[str, str]) -> list[str]:
        if ctx.args["state"] == "restored":
            return sorted(marker)
        scope = ctx.args["scope"]
        return [priv.target_id(scope)] if scope == "root" else [priv.target_id(scope, n) for n in ctx.args["targets"]]

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        server = ServerReader(ctx)
        server.install_path()  # the path only: from build_facts' read when the run has one
        store = priv.PrivilegeStore(server.locator)
        ctx.notes["store"] = store
        self._store = store
        marker = store.read_marker()
        predicted = self.prediction(ctx)
        if "marker" in predicted:
            # check mode: an earlier task of this run predicted the marker (it wrote nothing)
            marker = dict(predicted["marker"])
            store.marker_exists = bool(predicted.get("marker_exists", store.marker_exists))
        targets = self._targets(ctx, marker)
        for target in targets:
            priv.require_known(ctx.profile, priv.split_target(target)[0])
        values = {target: store.read(target) for target in targets}
        state, _exists = prediction_core.privilege({"privilege": values, "marker": marker}, predicted)
        return state

    def plan(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        changes: list[Change] = []
        marker = before["marker"]
        if ctx.args["state"] == "restored":
            for target, original in sorted(marker.items()):
                value = None if original == priv.ABSENT else original
                if before["privilege"].get(target) != value:
                    changes.append(Change("restore", target, {"value": value}))
                changes.append(Change("clear_marker", target))
            if ctx.notes["store"].marker_exists:
                # the whole key goes, so "a marker is open" (collection_state) is simply "the key exists"
                changes.append(Change("remove_marker_key", before_marker_key(ctx)))
            return changes
        store: priv.PrivilegeStore = ctx.notes["store"]
        for target, current in before["privilege"].items():
            wanted = store.wanted(target, ctx.args["state"])
            if current is not None and current.lower() == wanted.lower():
                continue
            if target not in marker:
                changes.append(Change("record_marker", target, {"original": current}))
            changes.append(Change("set", target, {"value": wanted}))
        return changes

    def predict(self, ctx, before, changes):
        after = {"privilege": dict(before["privilege"]), "marker": dict(before["marker"])}
        for c in changes:
            if c.kind in ("set", "restore"):
                after["privilege"][c.target] = c.data["value"]
            elif c.kind == "record_marker":
                after["marker"][c.target] = priv.ABSENT if c.data["original"] is None else c.data["original"]
            elif c.kind == "clear_marker":
                after["marker"].pop(c.target, None)
        if ctx.check_mode:
            # carried to the next task of this --check run: step 2 sees the privilege step 1 left
            store: priv.PrivilegeStore = ctx.notes["store"]
            exists = bool(after["marker"]) or (store.marker_exists
                                               and not any(c.kind == "remove_marker_key" for c in changes))
            self.keep_prediction(ctx, prediction_core.privilege_after(self.prediction(ctx), after, exists,
                                                                      self.run_id(ctx)))
        return after

    def apply(self, ctx, before, changes):
        store: priv.PrivilegeStore = ctx.notes["store"]
        # markers first: the original is on the server before anything else changes
        for c in sorted(changes, key=lambda c: c.kind != "record_marker"):
            if c.kind == "record_marker":
                store.write_marker(c.target, c.data["original"])
            elif c.kind in ("set", "restore"):
                store.write(c.target, c.data["value"])
            elif c.kind == "clear_marker" and not any(x.kind == "remove_marker_key" for x in changes):
                store.clear_marker(c.target)
            elif c.kind == "remove_marker_key":
                store.remove_marker_key()
        return {}

    def verify(self, ctx, before, changes, outcome):
        store: priv.PrivilegeStore = ctx.notes["store"]
        store.forget()
        after = {"privilege": {t: store.read(t) for t in before["privilege"]}, "marker": store.read_marker()}
        expected = self.predict(ctx, before, changes)
        if after["privilege"] != expected["privilege"]:
            raise OsceError("privilege", "did not take the value written", after["privilege"],
                            "check the calibrated profile entry; the marker still holds the original for state=restored")
        return after

    def diff_view(self, state):
        store: priv.PrivilegeStore = self._store
        return {"privilege": {t: store.show(t, v) for t, v in state["privilege"].items()}, "marker": state["marker"]}

    def report(self, ctx, before, after, changes, outcome):
        store: priv.PrivilegeStore = ctx.notes["store"]
        targets = list(after["privilege"])
        return {"privilege": {t: store.show(t, v) for t, v in after["privilege"].items()},
                "marker": after["marker"],
                "location": store.location(targets[0]) if targets else {}}
