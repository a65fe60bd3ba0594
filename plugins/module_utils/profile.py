"""The profile: every registry, INI, file and service location the collection reads or writes.

``load_profile`` validates the shipped ``data/profile.yml`` and deep-merges the user variable
``osce_profile_overrides``; ``expand`` fills the ``{local_path}`` / ``{app_path}`` placeholders.
An entry of kind ``unknown`` has no location: callers report "unknown" and never guess.
Reference: docs/profile.md.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.errors import (
    OsceError, raise_all, schema_errors, validate_or_raise,
)

KINDS: tuple[str, ...] = ("registry", "ini", "file", "file_version", "service", "iis_site", "unknown")
CONFIDENCES: tuple[str, ...] = ("doc", "3p", "inf", "unknown", "faq", "ours", "calibrated")
#: Confidences that mean "not verified": docs and reports must flag them.
UNVERIFIED: frozenset[str] = frozenset({"inf", "unknown", "faq"})
LOCATION_FIELDS: tuple[str, ...] = ("keys", "value", "file", "section", "key", "path", "glob",
                                    "names", "site")
#: Stored values of an on/off setting (the upgrade privilege) when the entry gives none: UNVERIFIED.
DEFAULT_ON_VALUE, DEFAULT_OFF_VALUE = "1", "0"
#: One entry per iSPS role (where OSCE records each port); replaces the single ``isps_ports`` entry.
ISPS_PORT_ENTRIES: Mapping[str, str] = MappingProxyType({
    "frs_http": "isps_port_frs_http", "frs_https": "isps_port_frs_https", "wrs_http": "isps_port_wrs_http"})
#: Former entry accepted in ``osce_profile_overrides`` only (translated by ``legacy_isps_ports``).
LEGACY_ISPS_PORTS = "isps_ports"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class ProfileEntry:
    name: str
    kind: str
    confidence: str
    source: str
    description: str
    side: str | None = None
    writes: bool = False
    keys: tuple[str, ...] = ()
    value: str | None = None
    file: str | None = None
    section: str | None = None
    key: str | None = None
    path: str | None = None
    glob: bool = False
    names: tuple[str, ...] = ()
    site: str | None = None
    notes: str | None = None
    on_value: str | int | None = None
    off_value: str | int | None = None

    @property
    def switch_values(self) -> tuple[str, str]:
        """(on, off) as stored text for an on/off setting; ``1`` / ``0`` unless the entry says otherwise."""
        on = DEFAULT_ON_VALUE if self.on_value is None else str(self.on_value)
        off = DEFAULT_OFF_VALUE if self.off_value is None else str(self.off_value)
        return on, off

    @property
    def known(self) -> bool:
        """False for ``kind: unknown``: there is no location to read."""
        return self.kind != "unknown"

    @property
    def verified(self) -> bool:
        return self.confidence not in UNVERIFIED

    @property
    def placeholders(self) -> tuple[str, ...]:
        found: list[str] = []
        for text in (*self.keys, self.file or "", self.path or ""):
            found.extend(_PLACEHOLDER.findall(text))
        return tuple(dict.fromkeys(found))

    def location(self) -> str:
        """Human-readable location (``unknown`` when there is none)."""
        if self.kind == "registry":
            return " or ".join(f"{k}\\{self.value}" if self.value else k for k in self.keys)
        if self.kind == "ini":
            return f"{self.file} [{self.section}] {self.key}"
        if self.kind in ("file", "file_version"):
            return self.path or ""
        if self.kind == "service":
            return ", ".join(self.names)
        if self.kind == "iis_site":
            return f"IIS site {self.site}"
        return "unknown"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "confidence": self.confidence,
                               "source": self.source, "description": self.description,
                               "location": self.location()}
        for f in ("side", "value", "file", "section", "key", "path", "site", "notes", "on_value", "off_value"):
            if getattr(self, f) is not None:
                out[f] = getattr(self, f)
        if self.keys:
            out["keys"] = list(self.keys)
        if self.names:
            out["names"] = list(self.names)
        if self.glob:
            out["glob"] = True
        if self.writes:
            out["writes"] = True
        return out


@dataclass(frozen=True)
class Profile:
    entries: Mapping[str, ProfileEntry]

    def entry(self, name: str) -> ProfileEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise OsceError("profile", "has no entry of that name", name,
                            "use one of the entries listed in docs/profile.md") from None

    def __getitem__(self, name: str) -> ProfileEntry:
        return self.entry(name)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def unverified(self) -> tuple[ProfileEntry, ...]:
        return tuple(e for e in self.entries.values() if not e.verified)


def _entry(name: str, doc: Mapping[str, Any]) -> ProfileEntry:
    return ProfileEntry(
        name=name, kind=doc["kind"], confidence=doc["confidence"], source=doc["source"],
        description=doc["description"], side=doc.get("side"), writes=bool(doc.get("writes", False)),
        keys=tuple(doc.get("keys") or ()), value=doc.get("value"), file=doc.get("file"),
        section=doc.get("section"), key=doc.get("key"), path=doc.get("path"),
        glob=bool(doc.get("glob", False)), names=tuple(doc.get("names") or ()), site=doc.get("site"),
        notes=doc.get("notes"), on_value=doc.get("on_value"), off_value=doc.get("off_value"),
    )


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def legacy_isps_ports(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Translate a former ``isps_ports`` override into the per-role entries (backward compatibility).

    ``isps_ports`` was one INI entry whose ``key`` named the FRS HTTP port; the FRS HTTPS and WRS
    HTTP keys were derived from its spelling (``FRS_HTTP_Port`` -> ``FRS_HTTPS_Port``,
    ``WRS_HTTP_Port``). That derivation now happens here, once, and only for such an override;
    per-role entries given in the same overrides win. New inventories override
    ``isps_port_frs_http``, ``isps_port_frs_https`` and ``isps_port_wrs_http`` directly.
    """
    out = {k: v for k, v in overrides.items() if k != LEGACY_ISPS_PORTS}
    over = overrides[LEGACY_ISPS_PORTS]
    where = f"osce_profile_overrides.{LEGACY_ISPS_PORTS}"
    fix = ("override isps_port_frs_http, isps_port_frs_https and isps_port_wrs_http instead "
           "(one entry per role, see docs/profile.md)")
    if not isinstance(over, Mapping):
        raise OsceError(where, "must be a mapping of fields", over, fix)
    key = over.get("key")
    if over.get("kind") != "ini" or not isinstance(key, str) or not re.search("frs_http", key, re.IGNORECASE):
        raise OsceError(where, "is only accepted as an INI entry whose key names the FRS HTTP port (e.g. FRS_HTTP_Port)",
                        dict(over), fix)
    keys = {"frs_http": key,
            "frs_https": re.sub("(?i)frs_http", lambda m: m.group(0) + ("S" if m.group(0).isupper() else "s"), key),
            "wrs_http": re.sub("(?i)frs(?=_http)", lambda m: "WRS" if m.group(0).isupper() else "wrs", key)}
    for role, name in ISPS_PORT_ENTRIES.items():
        if name not in out:
            out[name] = {**over, "key": keys[role]}
    return out


def merge_overrides(doc: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Deep-merge ``osce_profile_overrides`` into a profile document; returns (doc, overridden names).

    An override that changes ``kind`` replaces the entry's location fields; one that sets any
    location field without its own ``confidence`` marks the entry ``calibrated`` and its source
    ``osce_profile_overrides``.
    """
    merged = copy.deepcopy(dict(doc))
    if not overrides:
        return merged, []
    if not isinstance(overrides, Mapping):
        raise OsceError("osce_profile_overrides", "must be a mapping of entry name to fields", overrides,
                        "write e.g. `osce_profile_overrides: {client_crcz_ptn: {path: '{app_path}Pattern\\CRCz.ptn'}}`")
    entries = merged.setdefault("entries", {})
    if LEGACY_ISPS_PORTS in overrides and LEGACY_ISPS_PORTS not in entries:
        overrides = legacy_isps_ports(overrides)
    problems: list[OsceError] = []
    for name, over in overrides.items():
        if name not in entries:
            problems.append(OsceError(f"osce_profile_overrides.{name}", "is not a profile entry", name,
                                      "use an entry name from docs/profile.md (new entries are not accepted)"))
            continue
        if not isinstance(over, Mapping):
            problems.append(OsceError(f"osce_profile_overrides.{name}", "must be a mapping of fields", over,
                                      "give the fields to change, e.g. {path: ...}"))
            continue
        base = dict(entries[name])
        if base.get("kind") == "unknown" and "kind" not in over and any(f in over for f in LOCATION_FIELDS):
            problems.append(OsceError(f"osce_profile_overrides.{name}.kind",
                                      "is required when giving a location to an entry of kind unknown",
                                      dict(over), "add `kind` (registry, ini, file, file_version, "
                                      "service or iis_site) next to the location fields"))
            continue
        if "kind" in over and over["kind"] != base.get("kind"):
            for f in LOCATION_FIELDS:
                base.pop(f, None)
        new = _deep_merge(base, over)
        if any(f in over for f in LOCATION_FIELDS + ("kind",)):
            if "confidence" not in over:
                new["confidence"] = "calibrated"
            if "source" not in over:
                new["source"] = "osce_profile_overrides"
        entries[name] = new
    raise_all(problems)
    return merged, [n for n in overrides if n in entries]


def load_profile(doc: Any, schema: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                 *, document_checked: bool = False) -> Profile:
    """Validate the shipped profile, merge ``osce_profile_overrides``, validate again, build a Profile.

    Shipped-document problems name ``profile.entries.<name>.<field>``; override problems name
    ``osce_profile_overrides.<name>.<field>``. ``document_checked``: the caller already validated
    this very ``doc`` against ``schema`` (the controller checks the shipped file once per process).
    """
    if not document_checked:
        validate_or_raise(doc, schema, "profile")
    merged, names = merge_overrides(doc, overrides)
    entry_schema = {"$schema": schema.get("$schema"), "$defs": schema["$defs"], "$ref": "#/$defs/entry"}
    problems = []
    for name in names:
        problems.extend(schema_errors(merged["entries"][name], entry_schema, f"osce_profile_overrides.{name}"))
    raise_all(problems)
    return Profile(MappingProxyType({n: _entry(n, e) for n, e in merged["entries"].items()}))


def expand(entry: ProfileEntry, **placeholders: Any) -> ProfileEntry:
    """Fill ``{local_path}``, ``{app_path}``, ... in the entry's keys, file and path.

    Folder placeholders (names ending in ``_path``) get a trailing backslash if they lack one.
    A placeholder the entry needs but the caller did not give raises ``OsceError``.
    """
    values: dict[str, str] = {}
    for name, value in placeholders.items():
        if value is None:
            continue
        text = str(value)
        if name.endswith("_path") and text and not text.endswith(("\\", "/")):
            text += "\\"
        values[name] = text

    def fill(text: str | None) -> str | None:
        if text is None:
            return None

        def sub(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in values:
                raise OsceError(f"profile.{entry.name}", f"needs the placeholder {{{key}}}", text,
                                f"read {key} first (e.g. server_local_path / client_app_path) and pass it")
            return values[key]

        return _PLACEHOLDER.sub(sub, text)

    return replace(entry, keys=tuple(fill(k) or "" for k in entry.keys), file=fill(entry.file),
                   path=fill(entry.path))
