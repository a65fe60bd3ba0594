# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a ``--check`` run predicts, carried from one task to the next (pure: no I/O).

Check mode writes nothing, so a module that reads the server later in the same run would see the
state from before the run: step 2 would find the server still on the level step 1 was predicted to
leave behind, the privilege still off after step 1 turned it on, the run lock never taken. The
modules that change the OSCE server (``patch_chain``, ``upgrade_privilege``, ``run_lock``) therefore
keep what they predicted in one host fact on the server, ``osce_prediction``, and in check mode every
module that reads that state (those three, ``rollout_step``, ``build_facts``) lays the prediction
over what it read. The same decisions then run on the predicted state, so a ``--check`` run reports
the changes of the real run that follows.

The fact (only ever set in check mode)::

    run_id:        the run that made it (a prediction of another run is ignored)
    server:        {level, level_name, sp_build, client_program, cp_installed} after the installs
                   predicted so far
    privilege:     {target: stored value or None}; marker: {target: original value};
                   marker_exists: whether the marker key would exist
    lock:          the run lock as it would be (None: released); present once predicted
    shares:        the site batch jobs' leases as they would be (run id -> lease); present once predicted
    notes:         what this run could not predict, one line each (``prediction: ...``)
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.chain import DONE_LEVELS

FACT = "osce_prediction"

#: The server facts a predicted install replaces (everything else in ``osce_server`` is read).
SERVER_KEYS = ("level", "level_name", "sp_build", "client_program", "cp_installed")

#: What a check run assumes of every install and client upgrade (said in the diff, never hidden).
INSTALL_ASSUMPTION = ("prediction: assumes the installer exits 0 and asks for no reboot; a failure, an exit 3010 "
                      "(which stops the chain at the next step) or 1641 cannot be known before it runs")
CLIENT_ASSUMPTION = ("prediction: assumes AutoPcc succeeds and the client reaches the server's build; a client "
                     "that fails, stalls or drops (and the health gate it would trip) cannot be known before it runs")

RELEASE_ASSUMPTION = ("prediction: judged on the builds this --check run predicts for the clients of its batches "
                      "(every one assumed to reach the server's build)")


def current(value: Any, run_id: str | None = None) -> dict[str, Any]:
    """The prediction of this run (a copy), or an empty one.

    A prediction made by another run (``run_id`` differs) is ignored: it may have been kept by a
    fact cache and says nothing about this run."""
    if not isinstance(value, Mapping) or not value:
        return {}
    made_by = value.get("run_id")
    if run_id and made_by and str(made_by) != str(run_id):
        return {}
    return copy.deepcopy(dict(value))


def updated(prediction: Mapping[str, Any], run_id: str | None = None, **parts: Any) -> dict[str, Any]:
    """The prediction with ``parts`` replaced (``server`` is merged key by key)."""
    out = copy.deepcopy(dict(prediction))
    out["run_id"] = str(run_id or out.get("run_id") or "")
    for key, value in parts.items():
        if key == "server":
            out["server"] = {**dict(out.get("server") or {}), **dict(value)}
        else:
            out[key] = copy.deepcopy(value)
    out.setdefault("notes", [])
    return out


def with_note(prediction: Mapping[str, Any], note: str, run_id: str | None = None) -> dict[str, Any]:
    """The prediction with ``note`` (what cannot be predicted) added once."""
    out = updated(prediction, run_id)
    if note and note not in out["notes"]:
        out["notes"] = [*out["notes"], note]
    return out


def server_facts(facts: Mapping[str, Any], prediction: Mapping[str, Any]) -> dict[str, Any]:
    """``osce_server`` with the predicted installs over it, marked ``predicted`` when any applies."""
    server = prediction.get("server") or {}
    out = dict(facts)
    applied = [key for key in SERVER_KEYS if key in server]
    for key in applied:
        out[key] = copy.deepcopy(server[key])
    if applied:
        out["predicted"] = sorted(applied)
    return out


def installed(prediction: Mapping[str, Any], *, level: str, level_name: str | None, sp_build: int | None,
              client_build: int | None, step: str, run_id: str | None = None) -> dict[str, Any]:
    """The prediction after the install of ``step`` left the server on ``level``."""
    source = "predicted (check mode)"
    server = {"level": level, "sp_build": sp_build, "cp_installed": level in DONE_LEVELS,
              "client_program": {"build": client_build, "source": source}}
    if level_name:
        server["level_name"] = level_name
    out = updated(prediction, run_id, server=server)
    if client_build is None:
        out = with_note(out, f"prediction: the client build the server offers after {step} is unknown before it is "
                             f"installed (set osce_installers.{step}.client_build to predict the client batches)")
    return out


def privilege(before: Mapping[str, Any], prediction: Mapping[str, Any]) -> tuple[dict[str, Any], bool | None]:
    """The privilege state read (``{privilege, marker}``) with the predicted one over it, and whether
    the marker key would exist (``None``: not predicted, keep what was read)."""
    values = dict(before.get("privilege") or {})
    predicted = prediction.get("privilege") or {}
    for target in values:
        if target in predicted:
            values[target] = predicted[target]
    marker = dict(prediction["marker"]) if "marker" in prediction else dict(before.get("marker") or {})
    exists = prediction.get("marker_exists") if "marker_exists" in prediction else None
    return {"privilege": values, "marker": marker}, exists


def privilege_after(prediction: Mapping[str, Any], after: Mapping[str, Any], marker_exists: bool,
                    run_id: str | None = None) -> dict[str, Any]:
    """The prediction once a check-mode privilege change predicted ``after`` (``{privilege, marker}``)."""
    values = {**dict(prediction.get("privilege") or {}), **dict(after.get("privilege") or {})}
    return updated(prediction, run_id, privilege=values, marker=dict(after.get("marker") or {}),
                   marker_exists=bool(marker_exists))


def lock(read: Any, prediction: Mapping[str, Any]) -> Any:
    """The run lock as read, or as predicted once a check-mode ``run_lock`` predicted it."""
    return copy.deepcopy(prediction["lock"]) if "lock" in prediction else read


def shares(read: Any, prediction: Mapping[str, Any]) -> dict[str, Any]:
    """The site batch jobs' leases as read, or as predicted once a check-mode ``run_lock`` predicted them."""
    return copy.deepcopy(dict(prediction["shares"] if "shares" in prediction else read or {}))


def collection_state(state: Mapping[str, Any], prediction: Mapping[str, Any]) -> dict[str, Any]:
    """``osce_server.collection_state`` with the predicted run lock and privilege marker over it."""
    out = dict(state)
    predicted = []
    if "lock" in prediction:
        out["run_lock"] = copy.deepcopy(prediction["lock"])
        predicted.append("run_lock")
    if "marker_exists" in prediction:
        out["privilege_marker_present"] = bool(prediction["marker_exists"])
        predicted.append("privilege_marker_present")
    if predicted:
        out["predicted"] = predicted
    return out
