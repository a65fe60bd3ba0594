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
from ansible_collections.osce.patching.plugins.module_utils.levels import parse_int
from ansible_collections.osce.patching.plugins.module_utils.verdicts import parse_build
from ansible_collections.osce.patching.plugins.plugin_utils._locations import UNKNOWN, Locator

_ON = {"1", "true", "on", "yes", "enabled"}
_OFF = {"0", "false", "off", "no", "disabled"}

PRIVILEGE_ENTRIES = {"root": "upgrade_privilege_root", "domain": "upgrade_privilege_domain",
                     "client": "upgrade_privilege_client"}


def privilege_state(value: t.Any) -> str:
    """``on`` / ``off`` from a raw stored value; ``unknown`` when it cannot be read that way."""
    if value is None:
        return UNKNOWN
    text = str(value).strip().lower()
    if text in _ON:
        return "on"
    if text in _OFF:
        return "off"
    return UNKNOWN


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

    # -- round trip 1 --------------------------------------------------------------------------
    def basics(self) -> dict[str, t.Any]:
        """Version, build and install path from the Information key (one round trip)."""
        loc = self.locator
        key, _values = loc.registry_key("server_version")
        if key is None:
            raise OsceError("server_version", f"no OfficeScan server registry key on {self.ctx.host}",
                            loc.profile.entry("server_version").location(),
                            "run this against the OSCE server, or calibrate the profile entry server_version")
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
        return {"state": privilege_state(value), "value": value, "confidence": entry.confidence,
                "location": entry.location()}

    def isps_record(self) -> t.Any:
        """iSPS ports per role from the calibrated record (an INI section), or ``unknown``."""
        loc = self.locator
        if not loc.known("isps_ports"):
            loc.used["isps_ports"] = UNKNOWN
            return UNKNOWN
        entry = loc.entry("isps_ports")
        if entry.kind != "ini":
            return {"record": loc.ini_value("isps_ports")}
        doc = loc.ini("isps_ports")
        keys = role_keys(entry.key or "")
        out: dict[str, t.Any] = {}
        for role, key in keys.items():
            value = None if doc is None else doc.get(entry.section or "", key)
            out[role] = int(value) if value is not None and str(value).strip().isdigit() else None
        return out

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


def role_keys(key: str) -> dict[str, str]:
    """INI key per iSPS role, following the calibrated key of frs_http (FRS_HTTP_Port -> FRS_HTTPS_Port ...)."""
    if not re.search("frs_http", key, re.IGNORECASE):
        raise OsceError("profile.isps_ports.key", "must name the File Reputation HTTP key (containing FRS_HTTP)", key,
                        "calibrate the entry with the FRS HTTP port key; the other roles follow its spelling")
    return {"frs_http": key,
            "frs_https": re.sub("(?i)frs_http", lambda m: m.group(0) + ("S" if m.group(0).isupper() else "s"), key),
            "wrs_http": re.sub("(?i)frs(?=_http)", lambda m: "WRS" if m.group(0).isupper() else "wrs", key)}


def parse_listen_ports(conf_text: str | None) -> list[int]:
    """Ports of ``Listen`` directives in an Apache configuration."""
    ports = []
    for line in (conf_text or "").splitlines():
        match = re.match(r"^\s*Listen\s+(?:[\w.:\[\]]+:)?(\d+)\s*(?:\w+)?\s*$", line, re.IGNORECASE)
        if match:
            ports.append(int(match.group(1)))
    return ports
