# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence about the OSCE server, read through the gateway from profile entries.

Used by build_facts, upgrade_privilege, patch_chain, sps_ports and calibrate so each reads the
server the same way and shares round trips (see ``_locations.Locator``).

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import re
import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ini import parse_hotfix_history
from ansible_collections.osce.patching.plugins.module_utils.levels import R1_VARIABLE, parse_int, parse_statement
from ansible_collections.osce.patching.plugins.module_utils.profile import DEFAULT_OFF_VALUE, DEFAULT_ON_VALUE, ISPS_PORT_ENTRIES
from ansible_collections.osce.patching.plugins.module_utils.verdicts import parse_build
from ansible_collections.osce.patching.plugins.plugin_utils._locations import UNKNOWN, Locator

PRIVILEGE_ENTRIES = {"root": "upgrade_privilege_root", "domain": "upgrade_privilege_domain",
                     "client": "upgrade_privilege_client"}


def privilege_state(value: t.Any, on_value: str = DEFAULT_ON_VALUE, off_value: str = DEFAULT_OFF_VALUE) -> str:
    """``on`` / ``off`` from a raw stored value and the entry's ``on_value`` / ``off_value``
    (case-insensitive text comparison); ``unknown`` when it is neither."""
    if value is None:
        return UNKNOWN
    text = str(value).strip().lower()
    if text == str(on_value).strip().lower():
        return "on"
    if text == str(off_value).strip().lower():
        return "off"
    return UNKNOWN


def r1_statement(ctx: t.Any) -> bool | None:
    """The administrator's CP 5712r1 statement: the task's ``cp5712r1_installed`` option, else the play
    variable (``None``: not stated; anything but a boolean or empty is refused with the variable's name)."""
    stated = ctx.args.get("cp5712r1_installed")
    if stated is None:
        stated = ctx.task_vars.get(R1_VARIABLE)
    return parse_statement(stated, R1_VARIABLE)


def client_build_from_catalog(catalog: t.Any, level: str) -> dict[str, t.Any]:
    """Client program build the server offers, from the catalog step that results in ``level``."""
    for step in catalog.steps:
        if step.resulting_level == level and step.client_build is not None:
            return {"build": step.client_build, "source": f"catalog step {step.id}"}
    return {"build": None, "source": "unknown (add gather_subset client_program)"}


class ServerReader:
    """Reads the server's evidence for one task."""

    def __init__(self, ctx: t.Any) -> None:
        self.ctx = ctx
        self.locator = Locator(ctx.profile, ctx.gateway)

    # -- shared with build_facts --------------------------------------------------------------
    def fact(self) -> dict[str, t.Any] | None:
        """This host's ``osce_server`` fact (build_facts' read earlier in the run), when it holds the install path."""
        tv = getattr(self.ctx, "task_vars", None) or {}
        facts = (tv.get("ansible_facts") or {}).get("osce_server") or tv.get("osce_server")
        if isinstance(facts, t.Mapping) and facts.get("install_path") and facts.get("registry_key"):
            return dict(facts)
        return None

    def install_path(self) -> str:
        """The install path (the ``local_path`` placeholder of the profile's server paths): from this run's
        ``osce_server`` fact when there is one (the path does not move between reads: no round trip), else
        :meth:`basics` (one round trip)."""
        facts = self.fact()
        if facts is not None:
            self.locator.placeholders["local_path"] = str(facts["install_path"])
            return str(facts["install_path"])
        return self.basics()["install_path"]

    # -- round trip 1 --------------------------------------------------------------------------
    def basics(self) -> dict[str, t.Any]:
        """Version, build and install path from the Information key (one round trip)."""
        loc = self.locator
        key = loc.require_key("server_version", self.ctx.host, "server")
        local_path = loc.registry_value("server_local_path")
        if not local_path:
            raise OsceError("server_local_path", f"Local_Path is missing on {self.ctx.host}", key,
                            "check the OSCE installation or calibrate the profile entry server_local_path")
        loc.placeholders["local_path"] = local_path
        raw_build = loc.registry_value("server_sp_build")
        return {"version": str(loc.registry_value("server_version")), "sp_build": parse_int(raw_build),
                "install_path": str(local_path), "registry_key": key}

    # -- round trip 2 --------------------------------------------------------------------------
    def ofcscan(self) -> dict[str, t.Any]:
        """Patterns, trusted port, privilege (when calibrated in the INI) and iSPS record."""
        loc = self.locator
        loc.file_text("server_ofcscan_ini", missing_ok=False)
        trusted = loc.ini_value("server_trusted_port")
        return {
            "patterns": {"conventional": loc.ini_value("server_conventional_pattern_version"),
                         "agent": loc.ini_value("server_agent_pattern_version")},
            "trusted_port": parse_int(trusted) if trusted not in (None, UNKNOWN) else trusted,
            "privilege": self.privilege("root"),
            "isps_ports": self.isps_record(),
        }

    def privilege(self, scope: str = "root") -> dict[str, t.Any]:
        name = PRIVILEGE_ENTRIES[scope]
        loc = self.locator
        if not loc.known(name):
            loc.used[name] = UNKNOWN
            return {"state": UNKNOWN, "value": None, "confidence": UNKNOWN, "location": UNKNOWN}
        value = loc.ini_value(name)
        entry = loc.entry(name)
        on_value, off_value = entry.switch_values
        return {"state": privilege_state(value, on_value, off_value), "value": value, "confidence": entry.confidence,
                "location": entry.location(), "on_value": on_value, "off_value": off_value}

    def isps_record(self) -> t.Any:
        """iSPS port per role from the calibrated record (one profile entry per role), or ``unknown``.

        The record is known only when all three entries (``isps_port_frs_http``, ``isps_port_frs_https``,
        ``isps_port_wrs_http``) are calibrated; a role whose value is missing or not a number reads ``None``.
        Entries in the same INI file cost one round trip together.
        """
        loc = self.locator
        if not all(loc.known(name) for name in ISPS_PORT_ENTRIES.values()):
            for name in ISPS_PORT_ENTRIES.values():
                loc.used[name] = UNKNOWN if not loc.known(name) else loc.confidence(name)
            return UNKNOWN
        out: dict[str, t.Any] = {}
        for role, name in ISPS_PORT_ENTRIES.items():
            kind = loc.profile.entry(name).kind
            if kind not in ("ini", "registry"):
                raise OsceError(f"profile.{name}.kind", "must be ini or registry for an iSPS port", kind,
                                "calibrate the entry as an INI key or a registry value")
            value = loc.ini_value(name)
            out[role] = int(value) if value is not None and str(value).strip().isdigit() else None
        return out

    def forget_isps_record(self) -> None:
        """Drop cached reads of the port record (to re-read after a write)."""
        loc = self.locator
        for name in ISPS_PORT_ENTRIES.values():
            kind = loc.profile.entry(name).kind
            if kind == "ini":
                loc.forget_file(name)
            elif kind == "registry":
                loc.forget_key(name)

    def write_isps_port(self, role: str, port: int) -> None:
        """Store one role's port where its (calibrated) entry says: an INI line or a registry DWORD."""
        loc = self.locator
        name = ISPS_PORT_ENTRIES[role]
        entry = loc.entry(name)
        gw = self.ctx.gateway
        if entry.kind == "registry":
            found, _values = loc.registry_key(name)
            gw.reg_set(found or entry.keys[0], entry.value or "", int(port), type="dword")
            return
        key, section = entry.key or "", re.escape(entry.section or "")
        gw.lineinfile(entry.file, rf"^\s*{re.escape(key)}\s*=", f"{key}={port}", insertafter=rf"^\s*\[{section}\]\s*$")

    # -- optional round trips ------------------------------------------------------------------
    def patch_history(self) -> list[dict[str, t.Any]]:
        text = self.locator.file_text("server_hotfix_history", missing_ok=True)
        return [] if text is None else [h.as_dict() for h in parse_hotfix_history(text)]

    def web_server(self) -> dict[str, t.Any]:
        """Apache or IIS from the services the profile names (one round trip)."""
        loc = self.locator
        names = [n.lower() for n in loc.entry("server_web_services").names]
        services = self.ctx.gateway.services()
        present = {str(s.get("name", "")).lower(): s for s in services}
        present.update({str(s.get("display_name", "")).lower(): s for s in services})
        found = [n for n in names if n in present]
        if not found:
            return {"kind": UNKNOWN, "source": "services", "services": [], "warnings": [
                "no web server service of the profile entry server_web_services was found"]}
        svc = present[found[0]]
        info = {"service": svc.get("name"), "state": svc.get("state"), "source": "services", "warnings": []}
        if "apache" in found[0]:
            return {"kind": "apache", **info}
        record = self.isps_record()
        if isinstance(record, dict) and record.get("frs_http") is not None:
            kind = "iis-default" if record["frs_http"] == 80 else "iis-virtual"
            return {"kind": kind, **info, "source": "services and the iSPS port record"}
        if loc.known("iis_site"):
            site = loc.entry("iis_site").site
            info["site"] = site
            info["warnings"].append(f"IIS found; OSCE is assumed to run on the IIS site {site!r} (profile entry "
                                    "iis_site) and the kind read as iis-virtual; give web_server: iis-default to "
                                    "osce.patching.sps_ports if OSCE runs on the default web site")
            return {"kind": "iis-virtual", "assumed": True, **info}
        return {"kind": UNKNOWN, **info}

    def client_program(self) -> dict[str, t.Any]:
        path = self.locator.path("server_client_program")
        version = self.ctx.gateway.file_version(path)
        raw = version.get("file_version") or version.get("product_version")
        return {"build": parse_build(raw) if raw else None, "file_version": raw, "source": "file_version",
                "path": path}


#: Windows' own reboot-pending signals: profile entry -> how it is read (key existence or a non-empty value).
REBOOT_SIGNALS = (
    ("reboot_pending_cbs", "key", "Component Based Servicing RebootPending"),
    ("reboot_pending_wu", "key", "Windows Update Auto Update RebootRequired"),
    ("reboot_pending_file_rename", "value", "Session Manager PendingFileRenameOperations"),
)


def shutdown_mark(value: t.Any) -> str | None:
    """The last-shutdown time as an opaque, comparable text (the raw REG_BINARY as win_reg_stat returns it)."""
    if value in (None, "", []):
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def reboot_signals(locator: Locator, *, fresh: bool = False) -> dict[str, t.Any]:
    """Windows' reboot-pending signals and the last-shutdown mark (4 ``win_reg_stat``, one per key).

    Returns ``signals`` (one dict per signal that is set: ``name``, ``entry``, ``confidence``) and
    ``shutdown_time`` (see :func:`shutdown_mark`; ``None`` when unreadable). ``fresh`` drops cached reads first.
    """
    names = [name for name, _how, _label in REBOOT_SIGNALS] + ["last_shutdown_time"]
    if fresh:
        for name in names:
            locator.forget_key(name)
    signals = []
    for name, how, label in REBOOT_SIGNALS:
        if not locator.known(name):
            continue
        key, _values = locator.registry_key(name)
        if how == "key":
            set_ = key is not None
        else:
            value = locator.registry_value(name)
            set_ = bool([v for v in value if str(v).strip()] if isinstance(value, (list, tuple)) else
                        str(value or "").strip())
        if set_:
            signals.append({"name": label, "entry": name, "confidence": locator.confidence(name)})
    mark = shutdown_mark(locator.registry_value("last_shutdown_time")) if locator.known("last_shutdown_time") else None
    return {"signals": signals, "shutdown_time": mark}


def parse_listen_ports(conf_text: str | None) -> list[int]:
    """Ports of ``Listen`` directives in an Apache configuration."""
    ports = []
    for line in (conf_text or "").splitlines():
        match = re.match(r"^\s*Listen\s+(?:[\w.:\[\]]+:)?(\d+)\s*(?:\w+)?\s*$", line, re.IGNORECASE)
        if match:
            ports.append(int(match.group(1)))
    return ports
