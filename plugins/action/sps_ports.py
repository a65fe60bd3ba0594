# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.sps_ports: iSPS ports per the FAQ, moved by the core's rule when held elsewhere."""
from __future__ import annotations

import hashlib
import json
import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ports import (
    OWN_PROCESSES, ROLE_NAMES, ROLES, plan_ports, required_ports,
)
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Change, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._locations import UNKNOWN
from ansible_collections.osce.patching.plugins.plugin_utils._native import plain
from ansible_collections.osce.patching.plugins.plugin_utils._server import ServerReader, parse_listen_ports

PROTOCOL = {"frs_http": "http", "frs_https": "https", "wrs_http": "http"}


def _proc(name: t.Any) -> str:
    text = str(name or "").strip().lower()
    return text[:-4] if text.endswith(".exe") else text


def _configured(default: int, opened: list[int], defaults: dict[str, int]) -> int | None:
    """Without a port record: the FAQ default when the web server opens it, else the first opened port
    within 100 above it that is no other role's default (where the port rule moves a held port)."""
    if default in opened:
        return default
    moved = sorted(p for p in opened if default < p < default + 100 and p not in defaults.values())
    return moved[0] if moved else None


def conflicts(decision: t.Any) -> list[dict[str, t.Any]]:
    """Every role whose port must move: its port now, why, and the port the rule picks."""
    out = []
    for role, d in decision.decisions.items():
        if d.action == "move":
            out.append({"role": role, "port": d.previous if d.previous is not None else required_ports(decision.web_kind)[role],
                        "to": d.port, "reason": d.reason})
    return out


def unrecorded_move_failure(host: str, found: list[dict[str, t.Any]]) -> ActionFailure:
    """Without a calibrated port record a move would leave OSCE's own record naming the old port:
    smart scan clients would query a port the web server no longer serves. Refuse, naming each conflict."""
    what = "; ".join(f"{ROLE_NAMES[c['role']]} port {c['port']}: {c['reason'].split(';', 1)[0]} (the port rule would "
                     f"move it to {c['to']})" for c in found)
    return ActionFailure(
        f"iSPS port conflict without a calibrated port record - {what}. Moving the web server's port alone would "
        "leave OSCE's own record naming the old port and break smart scan silently, so nothing is moved",
        "choose the port in the CP 5712r1 installer, which offers to change a port another application uses (FAQ Q8 "
        "note), or free the port, or calibrate the iSPS port record first (profile entries isps_port_frs_http, "
        "isps_port_frs_https, isps_port_wrs_http; playbooks/calibrate.yml) so that the record and the web server move "
        "together", field=host, extra={"conflicts": found})


def server_fact(task_vars: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
    """This host's ``osce_server`` fact (build_facts' read in this run) when it holds the install path."""
    facts = (task_vars.get("ansible_facts") or {}).get("osce_server") or task_vars.get("osce_server")
    if isinstance(facts, t.Mapping) and facts.get("install_path") and facts.get("registry_key"):
        return dict(facts)
    return None


def server_read(facts: t.Mapping[str, t.Any] | None) -> str | None:
    """A fingerprint of the ``osce_server`` fact: equal fingerprints mean the server was not re-read in between
    (no step installed, nothing released)."""
    if not facts:
        return None
    return hashlib.sha256(json.dumps(plain(dict(facts)), sort_keys=True, default=str).encode()).hexdigest()[:16]


def reusable(previous: t.Any, facts: t.Mapping[str, t.Any] | None, web_server: str) -> bool:
    """Whether an earlier check-mode result of this module (preflight's) still answers: it read the server
    in this run, found nothing to change nor any conflict, the server has not been re-read since (same
    ``osce_server`` fact, so no step ran), and it was for the same web server."""
    if not isinstance(previous, t.Mapping) or not previous.get("server_read"):
        return False
    if any(previous.get(k) for k in ("failed", "unreachable", "skipped", "would", "conflicts")):
        return False
    if not previous.get("endpoints") or previous.get("server_read") != server_read(facts):
        return False
    return web_server in ("auto", previous.get("web_server"))


def fact_web_kind(facts: t.Mapping[str, t.Any]) -> str | None:
    """The web server kind build_facts found, when it was read rather than assumed: Apache from the services,
    or IIS told apart by the iSPS port record. ``None``: read the services here (the IIS site guess warns)."""
    web = facts.get("web_server") or {}
    if not isinstance(web, t.Mapping):
        return None
    if web.get("kind") == "apache" or (web.get("kind") in ("iis-virtual", "iis-default")
                                       and "port record" in str(web.get("source") or "")):
        return str(web["kind"])
    return None


class ActionModule(OsceAction):
    MODULE = "sps_ports"
    VERB = "configure the iSPS ports"

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        server = ServerReader(ctx)
        ctx.notes["server"] = server
        facts = server_fact(ctx.task_vars)
        ctx.notes["server_read"] = server_read(facts)
        if not ctx.check_mode and reusable(ctx.args.get("preflight"), facts, ctx.args["web_server"]):
            # preflight checked these ports on this very read of the server and found nothing to do
            ctx.notes["reused"] = dict(ctx.args["preflight"])
            return {"reused": True}
        if facts is not None:
            # build_facts read the Information key, the services and ofcscan.ini in this run: share them
            # (3 round trips); only the listeners and httpd.conf are read here. After a write, verify re-reads.
            server.locator.placeholders["local_path"] = facts["install_path"]
            ctx.notes["record"] = facts.get("isps_ports", UNKNOWN)
        else:
            server.basics()
        kind = ctx.args["web_server"]
        if kind == "auto" and facts is not None and fact_web_kind(facts):
            kind = fact_web_kind(facts)
        elif kind == "auto":
            web = server.web_server()
            kind = web["kind"]
            ctx.notes["warnings"] = web.get("warnings", [])
            if kind == "unknown":
                raise OsceError("web_server", f"neither Apache nor IIS found on {ctx.host}", "auto",
                                "give web_server: apache, iis-virtual or iis-default")
            if web.get("assumed"):
                raise OsceError("web_server", f"IIS found on {ctx.host}, but whether OSCE runs on its virtual or its "
                                "default web site is not known (no calibrated iSPS port record, profile entries isps_port_*)", "auto",
                                "give web_server: iis-virtual or iis-default")
        ctx.notes["kind"] = kind
        return self._read(ctx, server, kind)

    def _read(self, ctx: Context, server: ServerReader, kind: str) -> dict[str, t.Any]:
        loc = server.locator
        listeners = ctx.gateway.listen_ports()
        held = {int(l["port"]): _proc(l.get("name") or l.get("process")) for l in listeners if l.get("port") is not None}
        own = OWN_PROCESSES[kind]
        state: dict[str, t.Any] = {"held": held, "record": None, "listen": None}
        record = ctx.notes.pop("record") if "record" in ctx.notes else server.isps_record()
        if isinstance(record, dict):
            state["record"] = {r: record.get(r) for r in ROLES}
        if kind == "apache":
            state["listen"] = parse_listen_ports(loc.file_text("apache_conf", missing_ok=False))
        defaults = required_ports(kind)
        if state["record"] is not None:
            current = dict(state["record"])
        else:
            opened = state["listen"] if kind == "apache" else [p for p, name in held.items() if name in own]
            current = {r: _configured(p, opened, defaults) for r, p in defaults.items()}
            for role, port in current.items():
                if port is not None and port != defaults[role]:
                    # served elsewhere than the FAQ's port (an earlier move?): kept, but whether OSCE's record
                    # sends the clients' queries there cannot be read without the record
                    ctx.notes.setdefault("warnings", []).append(
                        f"{ROLE_NAMES[role]} is served on {port}, not the FAQ's {defaults[role]}, and OSCE's iSPS port "
                        f"record is not calibrated: whether smart scan clients query {port} is unknown; calibrate "
                        f"the record (playbooks/calibrate.yml, profile entries isps_port_*) to check it")
        state["current"] = current
        return state

    def plan(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        if "reused" in ctx.notes:
            return []
        kind = ctx.notes["kind"]
        decision = plan_ports(kind, {r: p for r, p in before["current"].items() if p is not None}, before["held"])
        ctx.notes["decision"] = decision
        ctx.notes["conflicts"] = conflicts(decision)
        if ctx.notes["conflicts"] and before["record"] is None:
            raise unrecorded_move_failure(ctx.host, ctx.notes["conflicts"])  # check mode too: preflight names it
        for c in ctx.notes["conflicts"]:
            # said in --check and in preflight's summary, not only done: the clients' query port changes
            ctx.notes.setdefault("warnings", []).append(
                f"{ROLE_NAMES[c['role']]} port {c['port']}: {c['reason'].split(';', 1)[0]}; "
                f"{'it would move' if ctx.check_mode else 'it moves'} to {c['to']} together with OSCE's port record, "
                f"so smart scan clients query {c['to']}")
        own = OWN_PROCESSES[kind]
        changes: list[Change] = []
        ports = decision.ports
        if before["record"] is not None:
            for role in ROLES:
                if before["record"][role] != ports[role]:
                    changes.append(Change("record", role, {"port": ports[role]}))
        if kind == "apache":
            for role in ROLES:
                previous = decision.decisions[role].previous or required_ports(kind)[role]
                if previous != ports[role] and previous in before["listen"] and before["held"].get(previous) not in own \
                        and previous in before["held"]:
                    changes.append(Change("unlisten", role, {"port": previous}))
            for port in dict.fromkeys(ports.values()):
                if port not in before["listen"]:
                    changes.append(Change("listen", "apache_conf", {"port": port}))
            if any(c.kind in ("listen", "unlisten") for c in changes) and ctx.args["restart"]:
                changes.append(Change("restart", "apache", {}))
        elif kind == "iis-virtual":
            for role in ROLES:
                port = ports[role]
                if before["held"].get(port) not in own:
                    changes.append(Change("binding", role, {"port": port, "protocol": PROTOCOL[role]}))
        return changes

    def predict(self, ctx, before, changes):
        after = {**before, "current": ctx.notes["decision"].ports}
        if before["record"] is not None:
            after["record"] = dict(ctx.notes["decision"].ports)
        if before["listen"] is not None:
            removed = {c.data["port"] for c in changes if c.kind == "unlisten"}
            added = [c.data["port"] for c in changes if c.kind == "listen"]
            after["listen"] = [p for p in before["listen"] if p not in removed] + added
        return after

    def apply(self, ctx, before, changes):
        server: ServerReader = ctx.notes["server"]
        loc, gw = server.locator, ctx.gateway
        restarted: list[str] = []
        order = {"binding": 0, "unlisten": 1, "listen": 2, "record": 3, "restart": 4}
        for c in sorted(changes, key=lambda c: order[c.kind]):
            if c.kind == "record":
                server.write_isps_port(c.target, c.data["port"])
            elif c.kind == "unlisten":
                gw.lineinfile(loc.path("apache_conf"), rf"^\s*Listen\s+(?:[\d.]+:)?{c.data['port']}\s*$", None,
                              state="absent")
            elif c.kind == "listen":
                gw.lineinfile(loc.path("apache_conf"), rf"^\s*Listen\s+(?:[\d.]+:)?{c.data['port']}\s*$",
                              f"Listen {c.data['port']}")
            elif c.kind == "binding":
                gw.iis_binding(loc.entry("iis_site").site or "", c.data["port"], c.data["protocol"])
            elif c.kind == "restart":
                name = loc.entry("server_web_services").names[0]
                try:
                    gw.service_restart(name)
                except Exception as exc:
                    raise ActionFailure(f"{name} did not restart after the port change ({getattr(exc, 'message', exc)})",
                                        "free the port another process holds or set web_server explicitly, then run "
                                        "again", field=ctx.host) from None
                restarted.append(name)
        return {"restarted": restarted}

    def verify(self, ctx, before, changes, outcome):
        server: ServerReader = ctx.notes["server"]
        server.forget_isps_record()
        server.locator.forget_file("apache_conf")
        after = self._read(ctx, server, ctx.notes["kind"])
        ports = ctx.notes["decision"].ports
        own = OWN_PROCESSES[ctx.notes["kind"]]
        if before["record"] is not None:
            # the record and the listener must agree: re-read the record, compare with what the web server serves
            wrong = {r: after["record"].get(r) for r in ROLES if after["record"].get(r) != ports[r]}
            if wrong:
                raise ActionFailure(f"the iSPS port record does not hold the ports just configured after the change (record "
                                    f"{wrong}, expected {ports})",
                                    "check the calibrated profile entries isps_port_* (the record may live elsewhere); "
                                    "the web server already serves the new ports", field=ctx.host)
        if ctx.args["restart"] or ctx.notes["kind"] != "apache":
            silent = sorted({p for p in ports.values() if after["held"].get(p) not in own})
            if silent:
                raise ActionFailure(f"the web server does not listen on {', '.join(map(str, silent))} after the change",
                                    "check the web server's error log and the ports held by other processes",
                                    field=ctx.host)
            ctx.notes["agreement"] = "record, configuration and listeners agree" if before["record"] is not None \
                else "configuration and listeners agree (no calibrated record to compare)"
        else:
            ctx.notes["agreement"] = "listeners not checked (restart: false)"
        return after

    def diff_view(self, state):
        if state.get("reused"):
            return {}
        view = {"ports": {r: state["current"].get(r) for r in ROLES}}
        if state.get("record") is not None:
            view["record"] = state["record"]
        if state.get("listen") is not None:
            view["apache_listen"] = state["listen"]
        return view

    def report(self, ctx, before, after, changes, outcome):
        if "reused" in ctx.notes:
            prev = ctx.notes["reused"]
            keep = ("web_server", "ports", "decisions", "endpoints", "conflicts", "agreement", "warnings", "server_read")
            return {**{k: prev[k] for k in keep if k in prev}, "restarted": [],
                    "reused": "preflight's check of this server read (nothing to change, the server not re-read since)"}
        decision = ctx.notes["decision"]
        host = str(ctx.task_vars.get("ansible_host") or ctx.host)
        result = {"web_server": ctx.notes["kind"], "ports": decision.ports,
                  "decisions": {r: d.as_dict() for r, d in decision.decisions.items()},
                  "restarted": outcome.get("restarted", []),
                  "endpoints": [{"host": host, "port": p, "role": r} for r, p in decision.ports.items()],
                  "conflicts": ctx.notes.get("conflicts", [])}
        if ctx.notes.get("server_read"):
            result["server_read"] = ctx.notes["server_read"]
        if changes and ctx.check_mode:
            result["would"] = [c.as_dict() for c in changes]
        if ctx.notes.get("agreement"):
            result["agreement"] = ctx.notes["agreement"]
        warnings = list(ctx.notes.get("warnings", [])) + list(decision.warnings)
        if warnings:
            result["warnings"] = warnings
        return result
