# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Profile entries turned into gateway reads, with a per-run cache.

A :class:`Locator` reads what a profile entry names (registry value, INI key, file, file version)
through the gateway.  It never holds a location of its own: every path comes from the profile
(``data/profile.yml`` + ``osce_profile_overrides``), placeholders filled with the values read.

Round trips are shared: all values of one registry key come back from one ``win_reg_stat``, and
an INI file is read once per run however many keys are used from it.  For a registry entry with
several candidate keys (``Wow6432Node`` first), the first key that exists wins; once one view of
the registry (``Wow6432Node`` or not) is found on the host, later entries start with that view.
A caller that already knows the host's view (:meth:`Locator.prefer_view`, e.g. a 32-bit client
named ``osce_client_arch: x86`` or read so earlier in the run) starts there: a 32-bit host does
not pay a round trip for the ``Wow6432Node`` key it lacks.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ini import IniDocument, parse_ini
from ansible_collections.osce.patching.plugins.module_utils.profile import Profile, ProfileEntry, expand
from ansible_collections.osce.patching.plugins.plugin_utils._gateway import Gateway

UNKNOWN = "unknown"
_WOW = "\\wow6432node\\"


class Locator:
    """Read profile entries on one host through one gateway."""

    def __init__(self, profile: Profile, gateway: Gateway, **placeholders: t.Any) -> None:
        self.profile = profile
        self.gateway = gateway
        self.placeholders: dict[str, t.Any] = dict(placeholders)
        self._keys: dict[str, dict[str, t.Any] | None] = {}
        self._files: dict[str, str | None] = {}
        self._wow: bool | None = None
        self.used: dict[str, str] = {}

    # -- entries --------------------------------------------------------------------------------
    def entry(self, name: str) -> ProfileEntry:
        """The entry with placeholders filled; records it (with confidence) in :attr:`used`."""
        raw = self.profile.entry(name)
        self.used[name] = raw.confidence
        return expand(raw, **self.placeholders) if raw.placeholders else raw

    def known(self, name: str) -> bool:
        return name in self.profile and self.profile.entry(name).known

    def confidence(self, name: str) -> str:
        return self.profile.entry(name).confidence if name in self.profile else UNKNOWN

    def used_entries(self) -> dict[str, str]:
        """Entry name -> confidence of every entry this run touched."""
        return dict(sorted(self.used.items()))

    # -- registry -------------------------------------------------------------------------------
    def prefer_view(self, wow: bool | None) -> None:
        """Start multi-candidate registry entries with the ``Wow6432Node`` view (True) or the native
        one (False); ``None`` keeps the profile's order. Only the order changes: a wrong hint costs
        the round trip it would have saved, never a wrong answer."""
        if self._wow is None:
            self._wow = wow

    def _ordered(self, keys: t.Sequence[str]) -> list[str]:
        if self._wow is None or len(keys) < 2:
            return list(keys)
        return sorted(keys, key=lambda k: (_WOW in k.lower()) != self._wow)

    def registry_key(self, name: str) -> tuple[str | None, dict[str, t.Any] | None]:
        """(key path, all values) of the first candidate key of a registry entry that exists."""
        entry = self.entry(name)
        if entry.kind != "registry":
            raise OsceError(f"profile.{name}.kind", "must be registry here", entry.kind,
                            "restore the shipped entry or calibrate it as a registry value")
        for key in self._ordered(entry.keys):
            if key.lower() not in self._keys:
                self._keys[key.lower()] = self.gateway.reg_key(key)
            values = self._keys[key.lower()]
            if values is not None:
                if len(entry.keys) > 1:
                    self._wow = _WOW in key.lower()
                return key, values
        return None, None

    def require_key(self, name: str, host: str, product: str) -> str:
        """The key path of a registry entry that must exist on this host (the OSCE server or client key)."""
        key, _values = self.registry_key(name)
        if key is None:
            raise OsceError(name, f"no OfficeScan {product} registry key on {host}", self.profile.entry(name).location(),
                            f"run this against an OSCE {product}, or calibrate the profile entry {name}")
        return key

    def registry_value(self, name: str) -> t.Any:
        """The value of a registry entry; ``None`` when the key or value is missing."""
        _key, values = self.registry_key(name)
        if values is None:
            return None
        wanted = (self.profile.entry(name).value or "").lower()
        for value_name, value in values.items():
            if value_name.lower() == wanted:
                return value
        return None

    def forget_key(self, name: str) -> None:
        """Drop cached reads of an entry's keys (to re-read after a write)."""
        for key in self.entry(name).keys:
            self._keys.pop(key.lower(), None)

    # -- files ----------------------------------------------------------------------------------
    def file_text(self, name: str, *, missing_ok: bool = True) -> str | None:
        """Text of the file a ``file`` / ``ini`` entry names (read once per run)."""
        entry = self.entry(name)
        path = entry.file if entry.kind == "ini" else entry.path
        if not path:
            raise OsceError(f"profile.{name}", "names no file", entry.kind, "calibrate the entry")
        if path.lower() not in self._files:
            self._files[path.lower()] = self.gateway.slurp(path, missing_ok=missing_ok)
        return self._files[path.lower()]

    def ini(self, name: str) -> IniDocument | None:
        text = self.file_text(name)
        return None if text is None else parse_ini(text)

    def ini_value(self, name: str) -> t.Any:
        """Value of an ``ini`` entry; :data:`UNKNOWN` when the profile does not know where it lives."""
        if not self.known(name):
            self.used[name] = UNKNOWN
            return UNKNOWN
        entry = self.entry(name)
        if entry.kind == "registry":
            return self.registry_value(name)
        doc = self.ini(name)
        return None if doc is None else doc.get(entry.section or "", entry.key or "")

    def forget_file(self, name: str) -> None:
        entry = self.entry(name)
        path = entry.file if entry.kind == "ini" else entry.path
        self._files.pop((path or "").lower(), None)

    def path(self, name: str) -> str:
        """The expanded path of a ``file`` / ``file_version`` entry."""
        entry = self.entry(name)
        if not entry.path:
            raise OsceError(f"profile.{name}", "names no path", entry.kind, "calibrate the entry")
        return entry.path
