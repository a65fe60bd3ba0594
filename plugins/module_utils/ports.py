"""Integrated Smart Protection Server (iSPS) ports after CP 5712r1 (FAQ Q8).

Roles: ``frs_http`` (File Reputation HTTP), ``frs_https`` (File Reputation HTTPS), ``wrs_http``
(Web Reputation HTTP). ``plan_ports`` keeps what works, sets what is missing, and moves a port
another process holds by one rule (docs/core.md, "Ports").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError

WEB_KINDS: tuple[str, ...] = ("apache", "iis-virtual", "iis-default")
ROLES: tuple[str, ...] = ("frs_http", "frs_https", "wrs_http")
ROLE_NAMES: Mapping[str, str] = {"frs_http": "File Reputation HTTP",
                                 "frs_https": "File Reputation HTTPS",
                                 "wrs_http": "Web Reputation HTTP"}

_REQUIRED: Mapping[str, Mapping[str, int]] = {
    "apache": {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274},
    "iis-virtual": {"frs_http": 8082, "frs_https": 4345, "wrs_http": 5274},
    "iis-default": {"frs_http": 80, "frs_https": 443, "wrs_http": 80},
}

#: Ports never chosen when moving: the web console (4343) and the server's trusted port (8080).
RESERVED_PORTS: tuple[int, ...] = (4343, 8080)

#: Process names (lower case, without ".exe") that are the web server itself.
OWN_PROCESSES: Mapping[str, frozenset[str]] = {
    "apache": frozenset({"httpd", "apache", "apache2"}),
    "iis-virtual": frozenset({"system", "w3wp", "http.sys", "http", "inetinfo"}),
    "iis-default": frozenset({"system", "w3wp", "http.sys", "http", "inetinfo"}),
}

ACTIONS = ("keep", "set", "move")


def _check_kind(web_kind: str) -> None:
    if web_kind not in WEB_KINDS:
        raise OsceError("web_kind", "is not a known web server kind", web_kind,
                        "use one of: " + ", ".join(WEB_KINDS))


def required_ports(web_kind: str) -> dict[str, int]:
    """FAQ Q8: the ports per role for ``apache`` / ``iis-virtual`` (8082/4345/5274) and
    ``iis-default`` (80/443/80)."""
    _check_kind(web_kind)
    return dict(_REQUIRED[web_kind])


@dataclass(frozen=True)
class PortDecision:
    role: str
    port: int
    action: str  # keep | set | move
    previous: int | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "port": self.port, "action": self.action,
                "previous": self.previous, "reason": self.reason}


@dataclass(frozen=True)
class PortPlan:
    web_kind: str
    decisions: Mapping[str, PortDecision]
    changed: bool
    warnings: tuple[str, ...] = ()

    @property
    def ports(self) -> dict[str, int]:
        return {role: d.port for role, d in self.decisions.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"web_kind": self.web_kind, "changed": self.changed, "ports": self.ports,
                "decisions": {r: d.as_dict() for r, d in self.decisions.items()},
                "warnings": list(self.warnings)}


def _process(name: Any) -> str:
    text = str(name or "").strip().lower()
    return text[:-4] if text.endswith(".exe") else text


def _port(value: Any, where: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise OsceError(where, "must be a TCP port number", value, "give an integer 1-65535") from None
    if not 1 <= port <= 65535:
        raise OsceError(where, "must be a TCP port number", value, "give an integer 1-65535")
    return port


def plan_ports(web_kind: str, current: Mapping[str, Any] | None,
               held: Mapping[Any, str] | None) -> PortPlan:
    """Decide the iSPS port per role.

    ``current``: role -> port now configured (``None`` or a missing role = not configured).
    ``held``: port -> name of the process listening on it.

    Rule: a configured port that no other process holds is kept (an earlier move is respected);
    a missing one is set to the FAQ default. A port held by another process (not the web server
    itself), reserved (4343 console, 8080 trusted port) or already chosen for another role moves
    to the first port above the FAQ default that no process holds, no other role uses and is not
    reserved. On the IIS default web site, 80/443 belong to the site by design and are never moved
    (a foreign holder is reported as a warning).
    """
    _check_kind(web_kind)
    defaults = _REQUIRED[web_kind]
    current = dict(current or {})
    for role in current:
        if role not in ROLES:
            raise OsceError(f"current.{role}", "is not an iSPS port role", role,
                            "use one of: " + ", ".join(ROLES))
    holders = {_port(p, f"held.{p}"): _process(n) for p, n in (held or {}).items()}
    own = OWN_PROCESSES[web_kind]
    shared = web_kind == "iis-default"
    chosen: dict[str, int] = {}
    decisions: dict[str, PortDecision] = {}
    warnings: list[str] = []

    def foreign(port: int) -> str | None:
        name = holders.get(port)
        return name if name is not None and name not in own else None

    for role in ROLES:
        default = defaults[role]
        previous = _port(current[role], f"current.{role}") if current.get(role) is not None else None
        candidate = previous if previous is not None else default
        label = ROLE_NAMES[role]
        if shared:
            holder = foreign(candidate)
            if holder:
                warnings.append(f"{label} port {candidate} is held by {holder}; on the IIS default web "
                                "site iSPS shares the site's ports (FAQ Q8): free the port by hand")
            action = "keep" if previous == candidate else "set"
            why = ("IIS default web site: iSPS uses the site's existing ports (FAQ Q8)")
            decisions[role] = PortDecision(role, candidate, action, previous, why)
            chosen[role] = candidate
            continue
        problem = None
        holder = foreign(candidate)
        if holder:
            problem = f"port {candidate} is held by {holder}"
        elif candidate in RESERVED_PORTS:
            problem = f"port {candidate} is reserved for the OSCE console/trusted port"
        elif candidate in chosen.values():
            problem = f"port {candidate} is already used for another iSPS role"
        if problem is None:
            if previous is None:
                decisions[role] = PortDecision(role, candidate, "set", None,
                                               f"not configured; {label} default {default} (FAQ Q8)")
            else:
                why = (f"{label} default (FAQ Q8), free" if candidate == default
                       else f"configured {candidate} is free (kept; an earlier move is respected)")
                decisions[role] = PortDecision(role, candidate, "keep", previous, why)
            chosen[role] = candidate
            continue
        port = default + 1
        while (port in holders or port in RESERVED_PORTS or port in chosen.values()
               or port == candidate):
            port += 1
        if port > 65535:
            raise OsceError(f"ports.{role}", "no free port above the default", default,
                            "free a port by hand and set it in the current configuration")
        decisions[role] = PortDecision(role, port, "move", previous,
                                       f"{problem}; moved to {port}, the first free port above the "
                                       f"{label} default {default}")
        chosen[role] = port
    changed = any(d.action != "keep" for d in decisions.values())
    return PortPlan(web_kind, MappingProxyType(decisions), changed, tuple(warnings))
