# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own record on the OSCE server, as plain data (pure: no I/O).

One registry key (profile entry ``collection_state``, ``HKLM:\\SOFTWARE\\osce.patching``) holds a
REG_SZ value per fact, each a JSON object, so one ``win_reg_stat`` reads them all:

- ``RunLock``: the run that holds the estate: ``run_id``, ``controller``, ``user``, ``pid``, ``started``.
- ``LockBroken``: the last lock broken on purpose: ``run_id`` (the broken holder), ``by_run``, ``at``, ``reason``.
- ``RebootDebt``: a reboot an installer asked for and nobody has done yet: ``step``, ``exit_code``,
  ``since``, ``run_id``.
- ``Applied.<step id>``: a step this collection installed: ``step``, ``sha256``, ``installed``, ``run_id``.
  Written first, right before the installer runs, with ``status: installing``, ``started``, ``from_build``
  and ``to_build`` (the intent); replaced by the record above once the new build is read. A run that loses
  the server in between (a restart, a dropped connection, a killed controller) leaves the intent, and the
  next run confirms it when the server is on ``to_build`` coming from another build: the only installer
  that moves the build there is the one this collection hashed and started. An install whose installer
  succeeded but whose server did not reach the step's level is recorded with ``status: check_failed``,
  ``attempts``, ``rc``, ``level_read``, ``build_read`` and ``expected_level``: the second such failure of
  the same installer (same sha256) stops the step from being run a third time.

- ``RunShare.<run id>``: a site batch job's lease of part of the budget (``osce_budget_share``): ``run_id``,
  ``controller``, ``user``, ``pid``, ``started``, ``share`` and ``sites``. Held instead of ``RunLock`` while
  the job rolls out its sites' client batches; the run lock and the leases exclude each other.
Times are ISO 8601 UTC (``2026-12-02T18:40:00Z``). The privilege marker keeps its own subkey
(profile entry ``privilege_marker``); its presence shows in the key's sub keys.
"""
from __future__ import annotations

import json
import typing as t

RUN_LOCK = "RunLock"
LOCK_BROKEN = "LockBroken"
REBOOT_DEBT = "RebootDebt"
APPLIED_PREFIX = "Applied."
RUN_SHARE_PREFIX = "RunShare."
INSTALLING = "installing"   # status of an Applied.<step> intent: its installer was started, not confirmed
CHECK_FAILED = "check_failed"   # status of an install whose server did not reach the step's level
MAX_CHECK_FAILURES = 2          # the same installer is not run a third time
MARKER_SUBKEY = "PrivilegeMarker"


def encode(payload: t.Mapping[str, t.Any]) -> str:
    """The REG_SZ text stored for one fact."""
    return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))


def share_name(run_id: str) -> str:
    return f"{RUN_SHARE_PREFIX}{run_id}"


def applied_name(step_id: str) -> str:
    return f"{APPLIED_PREFIX}{step_id}"


def intent(step_id: str, sha256: str, run_id: str, started: str, from_build: t.Any, to_build: t.Any) -> dict[str, t.Any]:
    """The ``Applied.<step>`` value written right before the step's installer runs."""
    return {"step": step_id, "sha256": str(sha256).lower(), "run_id": run_id, "status": INSTALLING,
            "started": started, "from_build": from_build, "to_build": to_build}


def applied(step_id: str, sha256: str, installed: str, run_id: str) -> dict[str, t.Any]:
    """The ``Applied.<step>`` value of a verified install."""
    return {"step": step_id, "sha256": str(sha256).lower(), "installed": installed, "run_id": run_id}


def installed_by_us(started: t.Mapping[str, t.Any] | None, sp_build: t.Any) -> bool:
    """True when an intent's installer is what put the server on its build: the server is on ``to_build``
    and the intent came from another build (re-applying a step over the same build proves nothing)."""
    if not started or started.get("to_build") is None or sp_build is None:
        return False
    return str(sp_build) == str(started["to_build"]) and str(started.get("from_build")) != str(started["to_build"])


def check_failed(started: t.Mapping[str, t.Any], previous: t.Mapping[str, t.Any] | None, at: str, rc: t.Any,
                 level_read: str, build_read: t.Any, expected_level: str) -> dict[str, t.Any]:
    """The ``Applied.<step>`` value after an install whose server did not reach ``expected_level``; the
    attempts count on from ``previous`` when it was the same installer (same sha256)."""
    prior = previous if _same_installer(previous, started.get("sha256")) else {}
    runs = list(prior.get("runs") or []) + [str(started.get("run_id") or "")]
    return {"step": started.get("step"), "sha256": started.get("sha256"), "status": CHECK_FAILED,
            "attempts": int(prior.get("attempts") or 0) + 1, "runs": runs[-MAX_CHECK_FAILURES:], "at": at, "rc": rc,
            "level_read": level_read, "build_read": build_read, "expected_level": expected_level}


def _same_installer(failed: t.Mapping[str, t.Any] | None, sha256: t.Any) -> bool:
    return failed is not None and str(failed.get("sha256")).lower() == str(sha256).lower()


def given_up(failed: t.Mapping[str, t.Any] | None, sha256: str) -> bool:
    """True when this installer (``sha256``) already failed the post-install check ``MAX_CHECK_FAILURES`` times."""
    return _same_installer(failed, sha256) and int((failed or {}).get("attempts") or 0) >= MAX_CHECK_FAILURES


def confirmed(started: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The ``Applied.<step>`` record an intent becomes once confirmed (installed when it was started)."""
    return applied(str(started.get("step")), str(started.get("sha256") or ""), str(started.get("started") or ""),
                   str(started.get("run_id") or ""))


def applied_or_confirmed(recorded: t.Mapping[str, t.Any], step_id: str, sp_build: t.Any) -> dict[str, t.Any] | None:
    """A step's ``Applied.<step>`` record from ``parse_values``' result, or the record its intent becomes when the
    build proves it (``installed_by_us``); ``None`` when neither."""
    record = (recorded.get("applied") or {}).get(step_id)
    started = (recorded.get("installing") or {}).get(step_id)
    if record is None and installed_by_us(started, sp_build):
        return confirmed(started)
    return record


def _decode(name: str, raw: t.Any, unreadable: list[str]) -> dict[str, t.Any] | None:
    try:
        value = json.loads(str(raw))
    except ValueError:
        value = None
    if not isinstance(value, dict):
        unreadable.append(name)
        return None
    return value


def parse_values(values: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """The record from the key's values (``None``: the key does not exist yet).

    Returns ``run_lock``, ``lock_broken``, ``reboot_debt`` (each a dict or ``None``), ``run_shares`` (run id ->
    a site batch job's lease), ``applied``
    (step id -> dict), ``installing`` (step id -> intent not yet confirmed), ``check_failed`` (step id -> an
    install whose server did not reach the step's level), ``privilege_marker_present`` and ``unreadable``
    (value names that are not a JSON object: reported, never trusted).
    """
    out: dict[str, t.Any] = {"exists": values is not None, "run_lock": None, "lock_broken": None,
                             "reboot_debt": None, "run_shares": {}, "applied": {}, "installing": {}, "check_failed": {},
                             "privilege_marker_present": False, "unreadable": []}
    if values is None:
        return out
    unreadable: list[str] = out["unreadable"]
    by_lower = {str(k).lower(): k for k in values}
    for field, name in (("run_lock", RUN_LOCK), ("lock_broken", LOCK_BROKEN), ("reboot_debt", REBOOT_DEBT)):
        real = by_lower.get(name.lower())
        if real is not None:
            out[field] = _decode(real, values[real], unreadable)
    for name, raw in values.items():
        if str(name).lower().startswith(APPLIED_PREFIX.lower()):
            decoded = _decode(str(name), raw, unreadable)
            if decoded is not None:
                status = decoded.get("status")
                kind = status if status in (INSTALLING, CHECK_FAILED) else "applied"
                out[kind][str(name)[len(APPLIED_PREFIX):]] = decoded
        elif str(name).lower().startswith(RUN_SHARE_PREFIX.lower()):
            decoded = _decode(str(name), raw, unreadable)
            if decoded is not None:
                out["run_shares"][str(name)[len(RUN_SHARE_PREFIX):]] = decoded
    subkeys = [str(s).lower() for s in values.get("__sub_keys__") or []]
    out["privilege_marker_present"] = MARKER_SUBKEY.lower() in subkeys
    return out
