# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One decision per step of the chain, and when the upgrade privilege may be released (pure core).

Everything the roles used to compute in Jinja lives here, typed and unit-tested:

- :func:`settings_from_vars` converts and checks every rollout variable once (booleans included),
  so a bad value fails before the first change with ``<variable>: <problem> (got X). Fix: ...``;
- :func:`unknown_variables` names an ``osce_*`` variable no role knows, with the closest known name;
- :func:`decide_step` says whether a step is due, which clients take it (one definition of
  *behind*: a known build lower than the target build), the bytes each architecture downloads
  (an honest unknown when nobody gave a size), the server facts the clients upgrade to (predicted
  in check mode), and the batches (the planner, or a pinned ``osce_serial`` / ``osce_throttle``);
- :func:`gate_before_step` holds the FAQ's rule "make sure all clients are up to date before the
  next patch": reachable clients that are behind, or whose build cannot be read, block it;
  offline ones are listed, not blocking;
- :func:`batch_health` is the per-batch health gate (a client that drops during its own upgrade
  is a failure of its batch);
- :func:`release_decision` is the rule that no client upgrades outside a batch: the privilege goes
  back to its original value only when every inventory client is known to be on the build the
  server offers (offline ones per ``osce_offline_clients``); otherwise it stays on, held.

The client state every role reads and writes is one shape, :class:`ClientState`
(``osce_client_state``, docs/variables.md).
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.verdicts import INFERRED_VERDICTS
from ansible_collections.osce.patching.plugins.module_utils.rollout import ARCHES, plan_rollout

CATCH_UP = "catch_up"
OFFLINE_POLICIES = ("hold", "release")
TARGET_LEVELS = ("cp5712r1", "osce11")

_TRUE = frozenset(("true", "yes", "on", "1", "y", "t"))
_FALSE = frozenset(("false", "no", "off", "0", "n", "f"))


# --------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """The rollout variables, converted and checked (field names drop the ``osce_`` prefix)."""

    bandwidth_budget_bps: float = 6_250_000.0
    client_bps: float | None = None
    site_budgets_bps: Mapping[str, float] = field(default_factory=dict)
    maintenance_window_s: float | None = None
    rollout_canary: int = 1
    rollout_growth: float = 2.0
    client_install_s: float = 120.0
    rollout_max_batches: int | None = None
    serial: tuple[int | str, ...] = ()
    throttle: int = 0
    max_fail_percentage: float = 10.0
    package_bytes: Mapping[str, int] = field(default_factory=lambda: {"x86": 39_007_028, "x64": 46_347_060})
    client_arch: str = "x64"
    rollout_no_canary: bool = False
    require_clients_current: bool = True
    offline_clients: str = "hold"
    include_patch2: bool = True
    server_reboot: bool = False
    reboot: bool = False
    client_disk_margin_bytes: int = 104_857_600
    #: a site batch job's share of the estate's budget (None: a whole-estate run); see site_job_problems
    budget_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["serial"] = list(self.serial)
        out["site_budgets_bps"] = dict(self.site_budgets_bps)
        out["package_bytes"] = dict(self.package_bytes)
        return out


#: Every variable :func:`settings_from_vars` reads (docs/variables.md documents each).
SETTING_VARIABLES: tuple[str, ...] = tuple(f"osce_{name}" for name in Settings.__dataclass_fields__)


def to_bool(value: Any, name: str) -> bool:
    """``true``/``false`` from a boolean or the words Ansible accepts; anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise OsceError(name, "must be true or false", value, f"set {name}: true or {name}: false")


def _number(value: Any, name: str, what: str, fix: str, *, minimum: float | None = 0.0, above: bool = False,
            integer: bool = False, zero_is_none: bool = False) -> Any:
    """A number from a number or numeric text (extra vars given as key=value arrive as text)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise OsceError(name, f"must be {what}", value, fix) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise OsceError(name, f"must be {what}", value, fix)
    if integer and value != int(value):
        raise OsceError(name, f"must be {what} (a whole number)", value, fix)
    if minimum is not None and (value <= minimum if above else value < minimum):
        raise OsceError(name, f"must be {what} {'greater than' if above else 'of at least'} {minimum:g}", value, fix)
    if zero_is_none and value == 0:
        return None
    return int(value) if integer else float(value)


def _serial(value: Any) -> tuple[int | str, ...]:
    name = "osce_serial"
    fix = 'use a list of batch sizes, canary first, e.g. [1, 10, "25%", "100%"], or [] to let the planner decide'
    if isinstance(value, str) and value.strip().startswith("["):
        # an AWX survey answer arrives as text: "[1, 10, '25%']"
        import yaml  # ansible-core's own requirement; imported here to keep the module import light

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise OsceError(name, "is not a list", value, fix) from None
    if value in (None, "", []):
        return ()
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise OsceError(name, "must be a list of batch sizes", value, fix)
    out: list[int | str] = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if isinstance(item, str) and item.strip().endswith("%"):
            number = _number(item.strip()[:-1], where, "a percentage", fix, minimum=0.0, above=True)
            if number > 100:
                raise OsceError(where, "must be a percentage of at most 100%", item, fix)
            out.append(f"{number:g}%")
        else:
            out.append(_number(item, where, "a number of clients or a percentage", fix, minimum=1, integer=True))
    return tuple(out)


def _package_bytes(value: Any) -> dict[str, int]:
    name = "osce_package_bytes"
    fix = "give bytes per architecture, e.g. {x86: 39007028, x64: 46347060}"
    if not isinstance(value, Mapping):
        raise OsceError(name, "must map x86 and x64 to bytes", value, fix)
    out = {}
    for arch in ARCHES:
        if arch not in value:
            raise OsceError(f"{name}.{arch}", "is missing", fix=fix)
        out[arch] = _number(value[arch], f"{name}.{arch}", "a number of bytes", fix, minimum=0, above=True, integer=True)
    return out


def _site_budgets(value: Any) -> dict[str, float]:
    name = "osce_site_budgets_bps"
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise OsceError(name, "must map site names to bytes per second", value, "e.g. {branch-a: 1250000}")
    return {str(site): _number(bps, f"{name}.{site}", "a number of bytes per second", "set the site link's budget",
                               minimum=0, above=True) for site, bps in value.items()}


SHARE_FIX = ("give a site batch job its part of osce_bandwidth_budget_bps, e.g. 0.5 for each of two concurrent "
             "site jobs (the shares of the jobs running at once add up to 1 at most), or leave it unset for a "
             "whole-estate run")


def settings_from_vars(task_vars: Mapping[str, Any]) -> Settings:
    """Convert and check the rollout variables; ``OsceError`` names the first bad one."""
    base = Settings()

    def get(name: str) -> Any:
        value = task_vars.get(f"osce_{name}")
        return getattr(base, name) if value is None else value

    budget_fix = ("set it to the share of the OSCE server uplink the rollout may use, in bytes per second "
                  "(6250000 = 50 Mbit/s)")
    offline = str(get("offline_clients")).strip().lower()
    if offline not in OFFLINE_POLICIES:
        raise OsceError("osce_offline_clients", "must be hold or release", get("offline_clients"),
                        "hold keeps the privilege on while an offline client is behind (default); release lets "
                        "returning clients take the build by themselves")
    arch = str(get("client_arch")).strip().lower()
    if arch not in ARCHES:
        raise OsceError("osce_client_arch", "must be x86 or x64", get("client_arch"), "set osce_client_arch: x64")
    share = _number(get("budget_share") or 0, "osce_budget_share", "a share of the budget from 0 to 1",
                    SHARE_FIX, zero_is_none=True)
    if share is not None and share > 1:
        raise OsceError("osce_budget_share", "must be a share of the budget from 0 to 1", share, SHARE_FIX)
    budget = _number(get("bandwidth_budget_bps"), "osce_bandwidth_budget_bps", "a number of bytes per second",
                     budget_fix, minimum=0, above=True)
    max_fail = _number(get("max_fail_percentage"), "osce_max_fail_percentage", "a percentage from 0 to 100",
                       "use e.g. 10 (the rollout stops when more than 10% of a batch fails)")
    if max_fail > 100:
        raise OsceError("osce_max_fail_percentage", "must be a percentage from 0 to 100", max_fail, "use e.g. 10")
    return Settings(
        # a site batch job plans against its share of the server's uplink, never the whole of it
        bandwidth_budget_bps=budget * share if share is not None else budget,
        budget_share=share,
        client_bps=_number(get("client_bps") or 0, "osce_client_bps", "a number of bytes per second",
                           "set one client's download rate in bytes per second, or 0 to let the planner assume "
                           "1 Gbit/s", zero_is_none=True),
        site_budgets_bps=_site_budgets(get("site_budgets_bps")),
        maintenance_window_s=_number(get("maintenance_window_s") or 0, "osce_maintenance_window_s",
                                     "a number of seconds", "set the window length in seconds, or 0 for none",
                                     zero_is_none=True),
        rollout_canary=_number(get("rollout_canary"), "osce_rollout_canary", "a number of clients",
                               "use 1 or more (the first batch)", minimum=1, integer=True),
        rollout_growth=_number(get("rollout_growth"), "osce_rollout_growth", "a growth factor",
                               "use 1 (equal batches) or more, e.g. 2", minimum=1.0),
        client_install_s=_number(get("client_install_s"), "osce_client_install_s", "a number of seconds",
                                 "set the per-client install estimate in seconds"),
        rollout_max_batches=_number(get("rollout_max_batches") or 0, "osce_rollout_max_batches",
                                    "a number of batches", "use 1 or more, or 0 to let the planner decide",
                                    integer=True, zero_is_none=True),
        serial=_serial(get("serial")),
        throttle=_number(get("throttle"), "osce_throttle", "a number of clients",
                         "use 0 (the planner decides) or the number of clients downloading at once", integer=True),
        max_fail_percentage=max_fail,
        package_bytes=_package_bytes(get("package_bytes")),
        client_arch=arch,
        rollout_no_canary=to_bool(get("rollout_no_canary"), "osce_rollout_no_canary"),
        require_clients_current=to_bool(get("require_clients_current"), "osce_require_clients_current"),
        offline_clients=offline,
        include_patch2=to_bool(get("include_patch2"), "osce_include_patch2"),
        server_reboot=to_bool(get("server_reboot"), "osce_server_reboot"),
        reboot=to_bool(get("reboot"), "osce_reboot"),
        client_disk_margin_bytes=_number(get("client_disk_margin_bytes"), "osce_client_disk_margin_bytes",
                                         "a number of bytes", "use e.g. 104857600 (100 MiB) above the client package "
                                         "and CRCz.ptn, or 0 for none", integer=True),
    )


def unknown_variables(names: Iterable[str], known: Iterable[str]) -> list[OsceError]:
    """One error per ``osce_*`` name that no role, module or fact knows, naming the closest known one."""
    known_set = set(known)
    out = []
    for name in sorted(set(names)):
        if not name.startswith("osce_") or name in known_set:
            continue
        close = difflib.get_close_matches(name, sorted(known_set), n=1, cutoff=0.75)
        fix = (f"did you mean {close[0]}? Rename it" if close
               else "remove it, or see docs/variables.md for the variables the roles read")
        out.append(OsceError(name, "is not a variable of osce.patching, so it changes nothing", fix=fix))
    return out


# ------------------------------------------------------------------------------ client state


@dataclass(frozen=True)
class ClientState:
    """One client as the roles know it (the host fact ``osce_client_state``).

    ``read``: preflight read it in this run (false for a client outside ``--limit``).
    ``online``: it answered at its last contact; ``preflight_online``: it answered at preflight.
    ``dropped``: it became unreachable during its own upgrade (a failure of its batch).
    ``reason``: why it has its ``verdict``; ``warnings``: inferred findings that do not fail it.
    """

    name: str
    read: bool = False
    online: bool = False
    preflight_online: bool = False
    build: int | None = None
    arch: str | None = None
    site: str | None = None
    verdict: str = "unknown"
    reason: str = ""
    warnings: tuple[str, ...] = ()
    error: str = ""
    upgrade_error: str = ""
    dropped: bool = False
    reboot_required: bool = False
    steps: tuple[str, ...] = ()
    disk_problem: str = ""

    @classmethod
    def from_fact(cls, name: str, fact: Mapping[str, Any] | None, **defaults: Any) -> ClientState:
        fact = dict(fact or {})
        read = bool(fact) and "online" in fact
        build = fact.get("build")
        return cls(
            name=name, read=read, online=bool(fact.get("online", False)),
            preflight_online=bool(fact.get("preflight_online", fact.get("online", False))),
            build=build if isinstance(build, int) and not isinstance(build, bool) else None,
            arch=fact.get("arch") or defaults.get("arch"), site=fact.get("site") or defaults.get("site"),
            verdict=str(fact.get("verdict") or "unknown"), reason=str(fact.get("reason") or ""),
            warnings=tuple(str(w) for w in fact.get("warnings") or ()), error=str(fact.get("error") or ""),
            upgrade_error=str(fact.get("upgrade_error") or ""), dropped=bool(fact.get("dropped", False)),
            reboot_required=bool(fact.get("reboot_required", False)), steps=tuple(fact.get("steps") or ()),
            disk_problem=str(fact.get("disk_problem") or ""),
        )

    def as_fact(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("name")
        out["steps"] = list(self.steps)
        out["warnings"] = list(self.warnings)
        return out

    @property
    def failed(self) -> bool:
        return bool(self.upgrade_error) or self.dropped


def is_behind(build: int | None, target: int | None) -> bool:
    """The one definition of *behind*: a known build lower than a known target build."""
    return build is not None and target is not None and build < target


def _names(items: Iterable[ClientState], limit: int = 10) -> str:
    names = [c.name for c in items]
    return ", ".join(names[:limit]) + (f" ... (+{len(names) - limit})" if len(names) > limit else "")


# ------------------------------------------------------------------------------------ gates


@dataclass(frozen=True)
class Gate:
    """Clients before a step: ``blocking`` (reachable, behind or unreadable) and ``offline``."""

    target_build: int | None
    blocking: tuple[str, ...]
    offline: tuple[str, ...]
    unread: tuple[str, ...]
    message: str

    @property
    def ok(self) -> bool:
        return not self.blocking

    def as_dict(self) -> dict[str, Any]:
        return {"target_build": self.target_build, "ok": self.ok, "blocking": list(self.blocking),
                "offline": list(self.offline), "unread": list(self.unread), "message": self.message}


def gate_before_step(step_id: str, target_build: int | None, clients: Sequence[ClientState]) -> Gate:
    """FAQ: every client up to date before the next patch. Reachable clients that are behind, or
    whose build cannot be read, block; offline (unreachable) clients are listed and held."""
    blocking = [c for c in clients if c.read and c.online and (c.build is None or is_behind(c.build, target_build))]
    offline = [c for c in clients if c.read and not c.online]
    unread = [c for c in clients if not c.read]
    message = ""
    if blocking:
        message = (f"{len(blocking)} reachable client(s) are not on the server's client build {target_build} before "
                   f"{step_id} (got {_names(blocking)}). Fix: rerun playbooks/site.yml (its catch-up batches bring "
                   "them up), or set osce_require_clients_current: false")
    return Gate(target_build, tuple(c.name for c in blocking), tuple(c.name for c in offline),
                tuple(c.name for c in unread), message)


@dataclass(frozen=True)
class BatchHealth:
    failed: tuple[str, ...]
    size: int
    max_fail_percentage: float
    tripped: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"failed": list(self.failed)}


def batch_health(batch: Sequence[ClientState], max_fail_percentage: float, step_id: str = "") -> BatchHealth:
    """Ansible's ``max_fail_percentage`` rule, in Python so the run can stop cleanly: the batch trips
    when more than that share of it failed (a client that dropped during its upgrade counts)."""
    failed = [c for c in batch if c.failed]
    size = len(batch)
    tripped = bool(size) and bool(failed) and len(failed) * 100.0 / size > max_fail_percentage
    message = ""
    if tripped:
        reasons = "; ".join(f"{c.name}: {'dropped during its upgrade' if c.dropped else c.upgrade_error}"
                            for c in failed[:5])
        message = (f"the health gate stopped the rollout of {step_id}: {len(failed)} of {size} client(s) in the "
                   f"batch failed, more than {max_fail_percentage:g}% ({reasons})")
    return BatchHealth(tuple(c.name for c in failed), size, max_fail_percentage, tripped, message)


# ---------------------------------------------------------------------------------- release


@dataclass(frozen=True)
class Release:
    """Whether putting the privilege back upgrades nobody outside a batch."""

    release: bool
    server_build: int | None
    held: Mapping[str, str]
    offline_released: tuple[str, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"release": self.release, "server_build": self.server_build, "held": dict(self.held),
                "offline_released": list(self.offline_released), "message": self.message}


def release_decision(server_build: int | None, clients: Sequence[ClientState], offline_policy: str = "hold",
                     site_job: bool = False) -> Release:
    """Release only when every inventory client is known to be on ``server_build`` (OSCE would
    otherwise push the build to the others at once, outside any batch).

    A client not read in this run (outside ``--limit``), reachable with an unreadable build, behind,
    or that failed/dropped during its upgrade holds the privilege. An offline client (unreachable
    at preflight) holds it under ``hold``; under ``release`` it is listed: it takes the build by
    itself when it returns."""
    held: dict[str, str] = {}
    offline_released: list[str] = []
    for c in clients:
        current = c.build is not None and not is_behind(c.build, server_build)
        if current and not c.dropped:
            continue
        if not c.read:
            held[c.name] = "not read in this run (outside --limit?)"
        elif not c.preflight_online and not c.online:
            if offline_policy == "release":
                offline_released.append(c.name)
            else:
                held[c.name] = "offline, build unknown" if c.build is None else f"offline on build {c.build}"
        elif c.dropped:
            held[c.name] = "dropped during its upgrade"
        elif c.build is None:
            held[c.name] = "build unreadable" + (f" ({c.error})" if c.error else "")
        else:
            held[c.name] = f"on build {c.build}" + (f" ({c.upgrade_error})" if c.upgrade_error else "")
    if server_build is None and clients:
        held = {c.name: "the server's client build is unknown" for c in clients}
    release = not held
    if release:
        message = "the upgrade privilege is back to its original value"
        if offline_released:
            message += (f"; {len(offline_released)} offline client(s) take build {server_build} by themselves when "
                        f"they return (osce_offline_clients: release): {', '.join(offline_released[:10])}")
    else:
        sample = "; ".join(f"{n}: {why}" for n, why in list(held.items())[:5])
        message = (f"the upgrade privilege stays on (held): releasing it now would let {len(held)} client(s) not on "
                   f"build {server_build} upgrade at once, outside any batch ({sample}"
                   f"{' ...' if len(held) > 5 else ''}). Ways on: rerun playbooks/site.yml without --limit once "
                   "they are reachable (their batches bring them up, then the privilege is released), or release "
                   "it on purpose with playbooks/privilege.yml")
    if site_job:
        # another site's job may be between its batches: only the server job, alone on the estate, puts it back
        return Release(False, server_build, held, tuple(offline_released),
                       "the upgrade privilege stays on: a site batch job (osce_budget_share) never puts it back while "
                       "other sites' jobs may run; the server job (playbooks/site.yml without osce_budget_share) "
                       "releases it once every client is on build "
                       f"{server_build}" + (f" ({len(held)} not yet: {', '.join(list(held)[:5])})" if held else ""))
    return Release(release, server_build, held, tuple(offline_released), message)


def site_job_problems(settings: Settings, chain_ids: Sequence[str], collection_state: Mapping[str, Any] | None,
                      server: str, ports_due: bool = False, privilege_to_turn_on: bool = False) -> list[OsceError]:
    """A site batch job (``osce_budget_share``) only rolls out client batches to the server's current build,
    between server steps: the server job installs, reboots and settles the record, alone under the run lock.
    So a site job is refused while the server has work of its own."""
    if settings.budget_share is None:
        return []
    state = collection_state or {}
    fix = ("run the server job first (playbooks/site.yml without osce_budget_share, e.g. --limit "
           "'osce_server:osce_sps:osce_tmcm'), then the site jobs")
    owed = []
    if chain_ids:
        owed.append(f"the step(s) {', '.join(chain_ids)} are due")
    if state.get("reboot_debt"):
        owed.append("a reboot debt is owed")
    if state.get("installing"):
        owed.append(f"the install of {', '.join(sorted(state['installing']))} is not confirmed yet")
    if ports_due:
        owed.append("the integrated Smart Protection Server ports are to be set")
    if privilege_to_turn_on:
        # concurrent site jobs must not write ofcscan.ini and the marker: the server job holds the privilege
        owed.append("the upgrade privilege is off while clients are behind (the server job turns it on and holds it)")
    if not owed:
        return []
    return [OsceError("osce_budget_share", f"a site batch job runs no server step, but on {server} "
                      + "; ".join(owed), settings.budget_share, fix)]


def job_sites(clients: Sequence[ClientState]) -> list[str]:
    """The sites of the clients this run read (its --limit): what a site batch job claims on the server."""
    return sorted({c.site or "" for c in clients if c.read})


# ------------------------------------------------------------------------------------- step


@dataclass(frozen=True)
class StepDecision:
    step: str
    name: str
    due: bool
    reason: str
    from_level: str | None
    to_level: str | None
    target_build: int | None
    clients: tuple[str, ...]
    offline: tuple[str, ...]
    package_bytes: Mapping[str, int | None]
    package_bytes_source: Mapping[str, str]
    server_facts: Mapping[str, Any]
    plan: Mapping[str, Any] | None
    serial: tuple[int | str, ...]
    throttle: int
    max_fail_percentage: float
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("clients", "offline", "serial", "warnings"):
            out[key] = list(out[key])
        out["package_bytes"] = dict(self.package_bytes)
        out["package_bytes_source"] = dict(self.package_bytes_source)
        out["server_facts"] = dict(self.server_facts)
        out["plan"] = dict(self.plan) if self.plan is not None else None
        return out


def _step_sizes(step: Any, settings: Settings, name: str) -> tuple[dict[str, int | None], dict[str, str], list[str]]:
    """Bytes per architecture: the catalog (with the user's osce_installers) or, honestly, unknown,
    planned with ``osce_package_bytes`` and a warning that says so."""
    sizes: dict[str, int | None] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for arch in ARCHES:
        known = step.package_bytes(arch) if step is not None else None
        if known is not None:
            sizes[arch], sources[arch] = int(known), "catalog"
        else:
            sizes[arch], sources[arch] = settings.package_bytes[arch], "assumed (osce_package_bytes)"
    unknown = [a for a in ARCHES if sources[a] != "catalog"]
    if unknown and step is not None:
        warnings.append(f"client package size of {name} unknown for {', '.join(unknown)}: planned with osce_package_bytes "
                        f"({', '.join(f'{a} {sizes[a]} bytes' for a in unknown)}); set "
                        f"osce_installers.{step.id}.client_package_bytes for an exact plan")
    return sizes, sources, warnings


def _check_serial(serial: Sequence[int | str], clients: int, settings: Settings) -> None:
    """A pinned serial must start with a canary smaller than the rollout, unless opted out."""
    if not serial or clients <= 1 or settings.rollout_no_canary:
        return
    first = serial[0]
    size = math.ceil(clients * float(str(first)[:-1]) / 100) if isinstance(first, str) else int(first)
    if size >= clients:
        raise OsceError("osce_serial", f"leaves no canary: its first batch ({first}) takes all {clients} clients", list(serial),
                        "start with a small batch, e.g. [1, \"100%\"], or set osce_rollout_no_canary: true to "
                        "roll out without one on purpose")


def _plan(step_label: str, takers: Sequence[ClientState], sizes: Mapping[str, int | None], settings: Settings,
          forks: int | None) -> tuple[dict[str, Any], tuple[int | str, ...], int, list[str]]:
    rows = [{"name": c.name, "arch": c.arch or settings.client_arch, "site": c.site} for c in takers]
    try:
        plan = plan_rollout(rows, package_bytes=dict(sizes), budget_bps=settings.bandwidth_budget_bps,
                            client_bps=settings.client_bps, site_budgets=dict(settings.site_budgets_bps) or None,
                            window_s=settings.maintenance_window_s, canary=settings.rollout_canary,
                            growth=settings.rollout_growth, install_s=settings.client_install_s,
                            forks=forks, max_batches=settings.rollout_max_batches)
    except OsceError as exc:
        raise OsceError(exc.field, f"{exc.problem} (planning {step_label})", exc.value, exc.fix) from None
    serial: tuple[int | str, ...] = settings.serial or tuple(plan.serial)
    if settings.serial:  # the planner's own batches start with the canary (osce_rollout_max_batches: 1 opts out)
        _check_serial(serial, len(rows), settings)
    throttle = settings.throttle or plan.throttle
    return plan.as_dict(), serial, throttle, list(plan.warnings)


def decide_step(step_id: str, *, server: Mapping[str, Any], catalog: Any, clients: Sequence[ClientState],
                settings: Settings, check_mode: bool = False, forks: int | None = None,
                installed: bool = False) -> StepDecision:
    """Decide one step (a catalog step id, or ``catch_up``) from the server facts and the clients.

    ``installed``: the step's install has run (the server facts are read after it), so its
    takers are the clients behind the server's client build now. Before the install (and in check
    mode, where nothing is installed) the takers are predicted: every online client not already on
    the step's client build.
    """
    chain_ids = [s["id"] for s in (server.get("chain") or {}).get("steps") or []]
    current_build = ((server.get("client_program") or {}).get("build"))
    online = [c for c in clients if c.read and c.online and not c.failed]
    offline = tuple(c.name for c in clients if c.read and not c.online)
    warnings: list[str] = []
    if step_id == CATCH_UP:
        takers = [c for c in online if is_behind(c.build, current_build)]
        due = bool(takers)
        reason = (f"{len(takers)} online client(s) behind the server's client build {current_build}" if due
                  else "every online client is on the server's client build")
        step = None
        for candidate in catalog.steps:
            if candidate.resulting_level == server.get("level"):
                step = candidate
        name, from_level, to_level, target = "clients up to date", server.get("level"), server.get("level"), current_build
        server_facts = dict(server)
    else:
        step = catalog.step(step_id)
        name = step.name
        chain_step = next((s for s in (server.get("chain") or {}).get("steps") or [] if s["id"] == step_id), None)
        if installed:
            due = True
            reason = "predicted installed by this --check run (nothing was installed)" if check_mode else "installed in this run"
            from_level = (chain_step or {}).get("from_level")
        elif chain_step is None:
            due = False
            reason = ("not in the server's chain" + (f" (chain: {' -> '.join(chain_ids)})" if chain_ids else
                                                     f" (the server is on {server.get('level')})"))
            from_level = None
        else:
            due, reason, from_level = True, f"next in the chain {' -> '.join(chain_ids)}", chain_step.get("from_level")
        to_level = step.resulting_level
        if installed:
            target = current_build
            server_facts = dict(server)
        else:
            target = step.client_build
            predicted_program = {"build": target, "source": "predicted (check mode)" if check_mode else "predicted"}
            server_facts = {**dict(server), "level": to_level, "client_program": predicted_program}
            if target is None and due:
                warnings.append(f"the client build {name} gives is not known before it is installed; set "
                                f"osce_installers.{step_id}.client_build to predict it")
        if installed or target is None:
            takers = [c for c in online if c.build is None or target is None or is_behind(c.build, target)]
        else:
            takers = [c for c in online if is_behind(c.build, target) or c.build is None]
        if not step.clients_receive:
            takers = []
    sizes, sources, size_warnings = _step_sizes(step, settings, name)
    plan = None
    serial: tuple[int | str, ...] = ()
    throttle = 0
    if due:
        warnings.extend(size_warnings)
        plan, serial, throttle, plan_warnings = _plan(name, takers, sizes, settings, forks)
        warnings.extend(plan_warnings)
    return StepDecision(
        step=step_id, name=name, due=due, reason=reason, from_level=from_level, to_level=to_level,
        target_build=target, clients=tuple(plan["hosts"]) if plan else (), offline=offline,
        package_bytes=sizes, package_bytes_source=sources, server_facts=server_facts, plan=plan,
        serial=serial, throttle=throttle, max_fail_percentage=settings.max_fail_percentage,
        warnings=tuple(warnings),
    )


def check_every_step(step_ids: Sequence[str], *, server: Mapping[str, Any], catalog: Any,
                     clients: Sequence[ClientState], settings: Settings, forks: int | None = None) -> list[OsceError]:
    """Preflight: plan the batches of every step of the chain with the real variables, so a bad
    budget, serial or window fails before the first change. Returns every problem found."""
    problems: list[OsceError] = []
    for step_id in (CATCH_UP, *step_ids):
        try:
            decide_step(step_id, server=server, catalog=catalog, clients=clients, settings=settings,
                        check_mode=True, forks=forks)
        except OsceError as exc:
            if exc.line() not in [p.line() for p in problems]:
                problems.append(exc)
    return problems


def work_due(chain_ids: Sequence[str], catch_up_due: bool, collection_state: Mapping[str, Any] | None) -> bool:
    """Preflight: whether this run has anything to do on the estate (then it takes the run lock):
    a step of the chain, clients behind the server, a privilege marker left open, or a reboot debt
    an installer left (exit 3010), which the run must pay (osce_server_reboot) or report."""
    state = collection_state or {}
    return bool(chain_ids) or catch_up_due or bool(state.get("privilege_marker_present")) \
        or bool(state.get("reboot_debt"))


def reboot_stop(step: str, host: str, owed_now: bool, debt: Any, server_reboot: bool) -> dict[str, str] | None:
    """At the end of a run: a reboot the server still owes (this run's last install exited 3010, or a
    ``RebootDebt`` left before) stops the run with the Fix, unless the run may reboot it itself
    (``osce_server_reboot``: finish reboots it and clears the debt)."""
    if server_reboot or not (owed_now or debt):
        return None
    what = (f"the install of {step} exited 3010" if owed_now
            else f"{(debt or {}).get('step', 'an earlier install')} exited {(debt or {}).get('exit_code', 3010)}")
    return {"step": step, "reason": f"{host} needs a reboot to finish what was installed ({what})",
            "fix": "reboot the server, or rerun playbooks/site.yml with osce_server_reboot=true (it reboots the "
                   "server and clears the debt)"}


def estate(clients: Sequence[ClientState]) -> dict[str, Any]:
    """What preflight shows of the clients: who answered, on which builds, who was not read."""
    by_build: dict[str, int] = {}
    for c in clients:
        if c.read and c.online:
            by_build[str(c.build)] = by_build.get(str(c.build), 0) + 1
    return {"clients": len(clients), "online": sum(1 for c in clients if c.read and c.online),
            "offline": [c.name for c in clients if c.read and not c.online],
            "not_read": [c.name for c in clients if not c.read],
            "unreadable_build": [c.name for c in clients if c.read and c.online and c.build is None],
            "by_build": dict(sorted(by_build.items())),
            "conventional_scan": sum(1 for c in clients if c.read and c.verdict == "conventional_scan")}


# ------------------------------------------------------------------------ client disk space

#: CRCz.ptn, the pattern CP 5712r1 brings to smart scan clients (~20 MB, FAQ Q7), when the catalog has no size.
CRCZ_PTN_BYTES = 20_971_520


@dataclass(frozen=True)
class SpaceNeed:
    """What a client's system drive must hold free before it takes a step's package."""

    arch: str
    package_bytes: int
    crcz_bytes: int
    margin_bytes: int

    @property
    def total(self) -> int:
        return self.package_bytes + self.crcz_bytes + self.margin_bytes

    def describe(self) -> str:
        return (f"{self.arch} client package {self.package_bytes} + CRCz.ptn {self.crcz_bytes} + "
                f"osce_client_disk_margin_bytes {self.margin_bytes}")


def client_space_need(catalog: Any, arch: str | None, margin_bytes: int,
                      package_bytes: Mapping[str, int] | None = None, server: Mapping[str, Any] | None = None) -> SpaceNeed:
    """The free space one client needs: the largest client package of the server's chain for its
    architecture (catalog / ``osce_installers``; ``osce_package_bytes`` for a step whose size nobody
    gave; with no chain, the package of the server's current level, which a catch-up takes), the
    CRCz.ptn pattern and the margin. An unknown architecture counts as x64 (the larger package).
    Without server facts, every step of the catalog counts."""
    arch = arch if arch in ARCHES else "x64"
    fallback = int((package_bytes or Settings().package_bytes)[arch])
    steps = [s for s in catalog.steps if s.clients_receive]
    if server is not None:
        chain = {c.get("id") for c in (server.get("chain") or {}).get("steps") or []}
        steps = [s for s in steps if s.id in chain] or [s for s in steps if s.resulting_level == server.get("level")]
    sizes = [s.package_bytes(arch) for s in steps]
    known = [int(b) for b in sizes if b]
    package = max(known + ([fallback] if len(known) < len(sizes) or not known else []))
    crcz = max([int(s.crcz_ptn_bytes) for s in catalog.steps if s.crcz_ptn_bytes] or [CRCZ_PTN_BYTES])
    return SpaceNeed(arch=arch, package_bytes=package, crcz_bytes=crcz, margin_bytes=int(margin_bytes))


def client_space_problem(name: str, disk: Mapping[str, Any], need: SpaceNeed) -> OsceError | None:
    """A client whose system drive cannot hold ``need`` (or whose drive was not found), else None."""
    drive, free = disk.get("drive") or "C", disk.get("free_bytes")
    if free is None:
        return OsceError(name, f"free space of drive {drive}: unknown (no such drive on the system disk), so the "
                         f"{need.total} bytes its upgrade needs ({need.describe()}) are not proven", None,
                         f"check the disks of {name}: its system drive was not found")
    if int(free) >= need.total:
        return None
    return OsceError(name, f"drive {drive}: has less free space than the {need.total} bytes its upgrade needs "
                     f"({need.describe()})", int(free),
                     f"free at least {need.total - int(free)} bytes on drive {drive}: of {name} before the rollout, "
                     "or lower osce_client_disk_margin_bytes if you know the upgrade needs less")


def client_takes_package(server_facts: Mapping[str, Any] | None, build: int | None) -> bool:
    """Whether a run may download a client package to this client: a step of the server's chain is due,
    or the client is behind the build the server offers (or either build is unknown). Preflight reads a
    client's free disk space only then: a client that takes nothing needs no space."""
    facts = server_facts or {}
    if (facts.get("chain") or {}).get("steps"):
        return True
    offered = (facts.get("client_program") or {}).get("build")
    return build is None or offered is None or is_behind(build, offered)


def client_disk_problems(clients: Sequence[ClientState], takers: Iterable[str] | None = None) -> list[str]:
    """Preflight: one line per reachable client short of space that will take a package (``takers``;
    None: every client, as when the server chain is due)."""
    wanted = None if takers is None else set(takers)
    return [c.disk_problem for c in clients
            if c.read and c.online and c.disk_problem and (wanted is None or c.name in wanted)]


# ------------------------------------------------------------------- client state transitions


def _result(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _error_line(result: Mapping[str, Any]) -> str:
    """The failure of a module result, also under ``failed_when: false`` (which clears ``failed``):
    every osce.patching module failure carries ``osce_error``."""
    error = result.get("osce_error")
    if isinstance(error, Mapping) and error.get("msg"):
        return str(error["msg"])
    return str(result.get("msg") or "") if result.get("failed") else ""


def state_from_preflight(name: str, result: Any, *, arch: str | None = None, site: str | None = None) -> dict[str, Any]:
    """The state preflight records from its read of the client (osce.patching.pattern_verify)."""
    res = _result(result)
    online = not res.get("unreachable", False)
    evidence = _result(res.get("evidence"))
    build = evidence.get("program_build")
    state = ClientState(name=name, read=True, online=online, preflight_online=online,
                        build=build if isinstance(build, int) and not isinstance(build, bool) else None,
                        arch=evidence.get("arch") or arch, site=site,
                        verdict=str(res.get("verdict") or ("unknown" if online else "offline")),
                        reason=str(res.get("reason") or ""), error=_error_line(res),
                        disk_problem=str(_result(res.get("disk")).get("problem") or ""))
    return state.as_fact()


def state_after_upgrade(name: str, current: Any, step_id: str, start: Any, finish: Any = None) -> dict[str, Any]:
    """The state after one client's upgrade (client_upgrade phases start / finish). Unreachable at
    any point of its own upgrade is a drop: a failure of its batch, never "offline"."""
    base = ClientState.from_fact(name, _result(current))
    start_res, finish_res = _result(start), _result(finish)
    ran_finish = bool(finish_res) and not finish_res.get("skipped", False)
    last = finish_res if ran_finish else start_res
    dropped = bool(start_res.get("unreachable") or finish_res.get("unreachable") or last.get("dropped"))
    build = last.get("build", base.build)
    if not isinstance(build, int) or isinstance(build, bool):
        build = base.build
    error = "" if dropped else (_error_line(start_res) or (_error_line(finish_res) if ran_finish else ""))
    upgraded = bool(start_res.get("changed")) and not error and not dropped
    state = ClientState(
        name=name, read=True, online=not dropped, preflight_online=base.preflight_online, build=build,
        arch=base.arch, site=base.site, verdict=base.verdict, reason=base.reason, warnings=base.warnings,
        error=base.error, upgrade_error=error, dropped=dropped,
        reboot_required=base.reboot_required or (bool(start_res.get("reboot_required")) and upgraded),
        steps=base.steps + ((step_id,) if upgraded else ()), disk_problem=base.disk_problem)
    return state.as_fact()


def state_after_verify(name: str, current: Any, result: Any, fail_on: Iterable[str] = ()) -> dict[str, Any]:
    """The state after osce.patching.pattern_verify: the verdict, its reason, the build it read, and the
    warnings: the inferred findings of the evidence, plus the verdict itself when it is inferred and not
    in ``fail_on`` (``osce_verify_fail_on``: it is reported, not failed)."""
    base = ClientState.from_fact(name, _result(current))
    res = _result(result)
    online = not res.get("unreachable", False)
    evidence = _result(res.get("evidence"))
    build = evidence.get("program_build", base.build)
    verdict = "offline" if not online else str(res.get("verdict") or "unknown")
    reason = str(res.get("reason") or "") if online else ""
    warnings = [str(w) for w in evidence.get("warnings") or ()]
    if verdict in INFERRED_VERDICTS and verdict not in set(fail_on or ()):
        warnings.append(f"{verdict}: {reason}")
    state = ClientState(
        name=name, read=True, online=online, preflight_online=base.preflight_online if base.read else online,
        build=build if isinstance(build, int) and not isinstance(build, bool) else base.build,
        arch=base.arch, site=base.site, verdict=verdict, reason=reason, warnings=tuple(warnings),
        error=_error_line(res) if online else "", upgrade_error=base.upgrade_error, dropped=base.dropped,
        reboot_required=base.reboot_required, steps=base.steps, disk_problem=base.disk_problem)
    return state.as_fact()
