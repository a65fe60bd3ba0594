# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and write the upgrade privilege where the (calibrated) profile says it lives, and its marker.

Targets are ``root``, ``domain:<name>`` and ``client:<name>``; each maps to the profile entry
``upgrade_privilege_<scope>`` whose INI key / registry value name may hold ``{domain}`` / ``{client}``.
What is stored for on and off comes from the entry's ``on_value`` / ``off_value`` (default ``1`` /
``0``, unverified); an integer ``on_value`` on a registry entry writes a DWORD.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import re
import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ini import parse_ini
from ansible_collections.osce.patching.plugins.plugin_utils._locations import Locator
from ansible_collections.osce.patching.plugins.plugin_utils._server import PRIVILEGE_ENTRIES

ABSENT = "__absent__"


def target_id(scope: str, name: str | None = None) -> str:
    return "root" if scope == "root" else f"{scope}:{name}"


def split_target(target: str) -> tuple[str, str | None]:
    scope, _sep, name = target.partition(":")
    return (scope, name or None)


def require_known(profile: t.Any, scope: str) -> None:
    """Fail (before any round trip) when the privilege location for ``scope`` is unknown."""
    name = PRIVILEGE_ENTRIES[scope]
    entry = profile.entry(name)
    if not entry.known:
        raise OsceError(f"profile.{name}", "the location of the upgrade privilege is unknown (no public source)",
                        entry.kind,
                        "run osce.patching.calibrate mode=snapshot, flip the privilege once in the OSCE console, "
                        "run mode=compare and paste the printed entry into osce_profile_overrides")


class PrivilegeStore:
    def __init__(self, locator: Locator) -> None:
        self.loc = locator

    def _where(self, target: str) -> tuple[t.Any, str]:
        scope, name = split_target(target)
        entry = self.loc.entry(PRIVILEGE_ENTRIES[scope])
        fill = {"client": name or "", "domain": name or ""}
        key = entry.key if entry.kind == "ini" else entry.value
        return entry, re.sub(r"\{(client|domain)\}", lambda m: fill[m.group(1)], key or "")

    def location(self, target: str) -> dict[str, str]:
        entry, key = self._where(target)
        where = f"{entry.file} [{entry.section}] {key}" if entry.kind == "ini" else f"{entry.keys[0]}\\{key}"
        on_value, off_value = entry.switch_values
        return {"location": where, "confidence": entry.confidence, "on_value": on_value, "off_value": off_value}

    def switch(self, target: str) -> tuple[str, str]:
        """(on, off) stored values for the target's scope (profile ``on_value`` / ``off_value``)."""
        return self.loc.profile.entry(PRIVILEGE_ENTRIES[split_target(target)[0]]).switch_values

    def wanted(self, target: str, state: str) -> str:
        """The stored value for ``state`` (``on`` / ``off``) at ``target``."""
        on_value, off_value = self.switch(target)
        return on_value if state == "on" else off_value

    def show(self, target: str, value: str | None) -> str:
        """``on`` / ``off`` / ``absent``, or ``raw:<value>`` for anything else."""
        if value is None:
            return "absent"
        on_value, off_value = self.switch(target)
        if value.lower() == on_value.lower():
            return "on"
        if value.lower() == off_value.lower():
            return "off"
        return f"raw:{value}"

    # -- reads ----------------------------------------------------------------------------------
    def read(self, target: str) -> str | None:
        entry, key = self._where(target)
        if entry.kind == "ini":
            text = self.loc.file_text(PRIVILEGE_ENTRIES[split_target(target)[0]], missing_ok=False) or ""
            value = parse_ini(text).get(entry.section or "", key)
        elif entry.kind == "registry":
            _k, values = self.loc.registry_key(PRIVILEGE_ENTRIES[split_target(target)[0]])
            value = None
            for vname, v in (values or {}).items():
                if vname.lower() == key.lower():
                    value = v
        else:
            raise OsceError(f"profile.{entry.name}.kind", "must be ini or registry for the privilege", entry.kind,
                            "calibrate the entry as an INI key or a registry value")
        return None if value is None else str(value).strip()

    def marker_key(self) -> str:
        return self.loc.entry("privilege_marker").keys[0]

    def read_marker(self) -> dict[str, str]:
        values = self.loc.gateway.reg_key(self.marker_key())
        self.marker_exists = values is not None
        return {k: str(v) for k, v in (values or {}).items() if k != "__sub_keys__"}

    #: whether the marker key exists (set by :meth:`read_marker`); an empty key is still "open" for readers
    #: of the collection state, so a full restore removes the key itself
    marker_exists: bool = False

    def remove_marker_key(self) -> None:
        self.loc.gateway.reg_delete(self.marker_key())

    # -- writes ---------------------------------------------------------------------------------
    def write_marker(self, target: str, original: str | None) -> None:
        self.loc.gateway.reg_set(self.marker_key(), target, ABSENT if original is None else original)

    def clear_marker(self, target: str) -> None:
        self.loc.gateway.reg_delete(self.marker_key(), target)

    def write(self, target: str, value: str | None) -> None:
        """Store ``value`` (``None`` removes the key / value)."""
        entry, key = self._where(target)
        gw = self.loc.gateway
        if entry.kind == "registry":
            path = entry.keys[0]
            if value is None:
                gw.reg_delete(path, key)
            elif isinstance(entry.on_value, int) and value.lstrip("-").isdigit():
                gw.reg_set(path, key, int(value), type="dword")
            else:
                gw.reg_set(path, key, value)
            return
        path = entry.file
        section = entry.section or ""
        text = self.loc.file_text(PRIVILEGE_ENTRIES[split_target(target)[0]], missing_ok=False) or ""
        doc = parse_ini(text)
        holders = [s for s in doc.section_names() if any(k.lower() == key.lower() for k, _v in doc.items(s))]
        if any(s.lower() != section.lower() for s in holders):
            raise OsceError(f"profile.{entry.name}.key", f"also appears outside [{section}] in {path}, so a line edit "
                            "is not safe", key, "calibrate a key name that is unique in the file")
        key_re = rf"^\s*{re.escape(key)}\s*="
        if value is None:
            gw.lineinfile(path, key_re, None, state="absent")
            return
        if not doc.has_section(section):
            gw.lineinfile(path, rf"^\s*\[{re.escape(section)}\]\s*$", f"[{section}]")
        gw.lineinfile(path, key_re, f"{key}={value}", insertafter=rf"^\s*\[{re.escape(section)}\]\s*$")

    def forget(self) -> None:
        for name in PRIVILEGE_ENTRIES.values():
            entry = self.loc.profile.entry(name)
            if entry.kind == "ini":
                self.loc.forget_file(name)
            elif entry.kind == "registry":
                self.loc.forget_key(name)
