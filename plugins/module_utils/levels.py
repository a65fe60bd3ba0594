"""OSCE server build levels and level detection from raw evidence.

The level ids and their order are the shared vocabulary of the collection (docs/development.md).
``detect_level`` maps what the server reports (``Server_Version``, ``ServicePack_Build``, patch
history, CP 5712 install date) to one level, or raises an ``OsceError`` that shows the evidence and
says which build to add to ``osce_build_map``. Rules and the ambiguities they resolve: docs/core.md.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError

Level = Literal["pre_10_6", "gm", "sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1", "cp5495",
                "sp3_patch2", "cp5712", "cp5712r1", "osce11"]

LEVELS: tuple[str, ...] = (
    "pre_10_6", "gm", "sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1", "cp5495",
    "sp3_patch2", "cp5712", "cp5712r1", "osce11",
)

DISPLAY_NAMES: Mapping[str, str] = {
    "pre_10_6": "OSCE older than 10.6 (unsupported)",
    "gm": "OSCE 10.6 GM",
    "sp1": "OSCE 10.6 SP1",
    "sp2": "OSCE 10.6 SP2",
    "sp3": "OSCE 10.6 SP3",
    "sp3_patch1": "OSCE 10.6 SP3 Patch 1",
    "sp3_patch1_1": "OSCE 10.6 SP3 Patch 1.1",
    "cp5495": "OSCE 10.6 SP3 Critical Patch 5495",
    "sp3_patch2": "OSCE 10.6 SP3 Patch 2",
    "cp5712": "OSCE 10.6 SP3 Critical Patch 5712 (before the r1 repack)",
    "cp5712r1": "OSCE 10.6 SP3 Critical Patch 5712r1",
    "osce11": "OSCE 11 or later",
}

#: Levels of OSCE 10.6 that a build number can identify (everything but pre_10_6 / osce11).
BUILD_LEVELS: tuple[str, ...] = LEVELS[1:-1]

#: Builds that are public because critical patches are named by their build (OSCE-FACTS.md).
PUBLIC_BUILDS: Mapping[str, tuple[int, ...]] = {
    "cp5495": (5495,), "cp5712": (5712,), "cp5712r1": (5712,),
}

#: FAQ Q13: CP 5712 installed before this day must be re-applied as the 5712r1 repack.
R1_CUTOFF = date(2015, 1, 23)

#: Levels whose own patches ("SP1 Patch x") carry builds between theirs and the next level's.
PATCHED_LEVELS: tuple[str, ...] = ("sp1", "sp2")


def check_level(level: str, field: str = "level") -> str:
    """Return ``level`` if it is a known id, else raise a one-line ``OsceError``."""
    if level not in LEVELS:
        raise OsceError(field, "is not a known level", level, "use one of: " + ", ".join(LEVELS))
    return level


def level_index(level: str) -> int:
    """Position of ``level`` in ``LEVELS`` (raises ``OsceError`` for an unknown id)."""
    return LEVELS.index(check_level(level))


def is_at_least(level: str, other: str) -> bool:
    """True when ``level`` is ``other`` or later."""
    return level_index(level) >= level_index(other)


def display_name(level: str) -> str:
    return DISPLAY_NAMES[check_level(level)]


@dataclass(frozen=True)
class Detection:
    """Result of ``detect_level``: the level, the build it was read from, why, and caveats."""

    level: str
    build: int | None
    reasons: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return DISPLAY_NAMES[self.level]

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "name": self.display_name, "build": self.build,
                "reasons": list(self.reasons), "warnings": list(self.warnings)}


# ---------------------------------------------------------------- parsing helpers

def parse_version(value: Any) -> tuple[int, int] | None:
    """``"10.6"`` -> ``(10, 6)``; ``"11.0.1234"`` -> ``(11, 0)``; ``"12"`` -> ``(12, 0)``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, 0)
    if isinstance(value, float):
        value = repr(value)
    match = re.match(r"^\s*v?(\d+)(?:\.(\d+))?", str(value))
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2) or 0))


def parse_int(value: Any) -> int | None:
    """An int from an int or a decimal string; ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"\d+", text) else None


def parse_date(value: Any) -> date | None:
    """A date from ``date`` / ``datetime`` / ISO text (``2015-01-22``, ``2015-01-22 10:00:00``,
    ``2015-01-22T10:00:00Z``) or US ``01/22/2015``; ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if match:
        y, m, d = (int(g) for g in match.groups())
    else:
        match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if not match:
            return None
        m, d, y = (int(g) for g in match.groups())
    try:
        return date(y, m, d)
    except ValueError:
        return None


def normalize_build_map(build_map: Mapping[str, Any] | None) -> dict[str, tuple[int, ...]]:
    """Level id -> tuple of builds (possibly empty), with the public CP builds filled in."""
    out: dict[str, tuple[int, ...]] = {lvl: PUBLIC_BUILDS.get(lvl, ()) for lvl in BUILD_LEVELS}
    for level, raw in (build_map or {}).items():
        check_level(level, f"osce_build_map.{level}")
        if raw is None:
            continue
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        builds = []
        for i, item in enumerate(items):
            build = parse_int(item)
            if build is None:
                raise OsceError(f"osce_build_map.{level}" + (f"[{i}]" if isinstance(raw, (list, tuple)) else ""),
                                "must be a build number", item,
                                "give the integer build from the patch readme, e.g. 4506")
            builds.append(build)
        out[level] = tuple(dict.fromkeys(builds))
    return out


def _entry(item: Any) -> tuple[str, int | None, date | None]:
    if isinstance(item, Mapping):
        return (str(item.get("name") or ""), parse_int(item.get("build")),
                parse_date(item.get("installed_on")))
    return (str(getattr(item, "name", "") or ""), parse_int(getattr(item, "build", None)),
            parse_date(getattr(item, "installed_on", None)))


def _evidence_text(version: Any, build: Any, history: Sequence[Any]) -> dict[str, Any]:
    return {"server_version": version, "sp_build": build,
            "patch_history": [f"{n or '?'}={b}" for n, b, _date in (_entry(h) for h in history)][:6]}


# ---------------------------------------------------------------- detection

def detect_level(evidence: Mapping[str, Any], build_map: Mapping[str, Any] | None = None) -> Detection:
    """Decide the server's level from raw evidence.

    ``evidence`` keys: ``server_version`` (``"10.6"``), ``sp_build`` (``ServicePack_Build``, int or
    str or None), ``patch_history`` (entries with ``name``, ``build``, ``installed_on``),
    ``cp5712_installed_on`` (date / ISO text / None). ``build_map``: level id -> build or list of
    builds (catalog ``levels`` merged with ``osce_build_map``; ``None`` = not public).
    Raises ``OsceError`` when the evidence does not identify a level.
    """
    raw_version = evidence.get("server_version")
    raw_build = evidence.get("sp_build")
    history: Sequence[Any] = list(evidence.get("patch_history") or [])
    version = parse_version(raw_version)
    if version is None:
        raise OsceError("server_version", "could not be read from the server", raw_version,
                        "check the profile entry `server_version` (Server_Version under the "
                        "OfficeScan service\\Information key) or calibrate it")
    if version < (10, 6):
        return Detection("pre_10_6", parse_int(raw_build),
                         (f"Server_Version {raw_version} is older than 10.6; the FAQ covers 10.6 only",))
    if version >= (11, 0):
        return Detection("osce11", parse_int(raw_build),
                         (f"Server_Version {raw_version} is 11 or later, which already includes the "
                          "Smart Scan enhancement (FAQ Q2)",))

    builds = normalize_build_map(build_map)
    build = parse_int(raw_build)
    reasons: list[str] = [f"Server_Version {raw_version} is OSCE 10.6"]
    warnings: list[str] = []
    if build is None:
        raise OsceError("sp_build", "ServicePack_Build could not be read, so the 10.6 level is unknown",
                        _evidence_text(raw_version, raw_build, history),
                        "check the profile entry `server_sp_build` (ServicePack_Build) or calibrate it")
    reasons.append(f"ServicePack_Build is {build}")

    # CP 5712 and its r1 repack share a build: tell them apart by install date (FAQ Q13).
    shared = set(builds["cp5712"]) & set(builds["cp5712r1"])
    if build in shared:
        installed = parse_date(evidence.get("cp5712_installed_on"))
        source = "cp5712_installed_on"
        if installed is None:
            dated = [d for _name, b, d in (_entry(h) for h in history) if b == build and d is not None]
            if dated:
                installed = max(dated)
                source = "the patch history entry with build %d" % build
        if installed is None:
            warnings.append(
                f"build {build} is CP 5712 but its install date is unknown; reading it as the original "
                "CP 5712, so CP 5712r1 is re-applied (FAQ Q13: re-applying the repack is the safe reading)")
            reasons.append("install date of CP 5712 unknown -> cp5712")
            return Detection("cp5712", build, tuple(reasons), tuple(warnings))
        if installed < R1_CUTOFF:
            reasons.append(f"CP 5712 installed on {installed.isoformat()} ({source}), before "
                           f"{R1_CUTOFF.isoformat()}: the original CP, re-apply 5712r1 (FAQ Q13)")
            return Detection("cp5712", build, tuple(reasons), tuple(warnings))
        reasons.append(f"CP 5712 installed on {installed.isoformat()} ({source}), on or after "
                       f"{R1_CUTOFF.isoformat()}: the r1 repack")
        return Detection("cp5712r1", build, tuple(reasons), tuple(warnings))

    exact = [lvl for lvl in BUILD_LEVELS if build in builds[lvl]]
    if exact:
        level = exact[-1]
        if len(exact) > 1:
            warnings.append(f"build {build} is mapped to several levels ({', '.join(exact)}); "
                            f"using the latest, {level}")
        reasons.append(f"build {build} is the build of {level} in the build map")
        return Detection(level, build, tuple(reasons), tuple(warnings))

    # "SP1 or higher (i.e. SP1 Patch x)": a build strictly between SP1 (SP2) and the next level.
    for level in PATCHED_LEVELS:
        nxt = LEVELS[level_index(level) + 1]
        if builds[level] and builds[nxt] and min(builds[level]) < build < min(builds[nxt]):
            reasons.append(f"build {build} lies between {level} ({min(builds[level])}) and {nxt} "
                           f"({min(builds[nxt])}): {level} with patches (FAQ Q4)")
            return Detection(level, build, tuple(reasons), tuple(warnings))

    raise OsceError("sp_build", f"build {build} of OSCE 10.6 matches no level in the build map",
                    _evidence_text(raw_version, raw_build, history),
                    "add the build from the patch readme to `osce_build_map`, e.g. "
                    f"`osce_build_map: {{{_suggest_level(build, builds)}: {build}}}`")


def _suggest_level(build: int, builds: Mapping[str, tuple[int, ...]]) -> str:
    """The first level with no known build that the ordering allows for ``build``."""
    below = [lvl for lvl in BUILD_LEVELS if builds[lvl] and min(builds[lvl]) < build]
    above = [lvl for lvl in BUILD_LEVELS if builds[lvl] and min(builds[lvl]) > build]
    lo = level_index(below[-1]) if below else 0
    hi = level_index(above[0]) if above else len(LEVELS) - 1
    candidates = [lvl for lvl in LEVELS[lo + 1:hi] if lvl in BUILD_LEVELS and not builds[lvl]]
    if "sp3_patch1_1" in candidates:
        return "sp3_patch1_1"
    return candidates[-1] if candidates else "sp3_patch1_1"


def levels_between(start: str, end: str) -> tuple[str, ...]:
    """Levels after ``start`` up to and including ``end``."""
    return LEVELS[level_index(start) + 1: level_index(end) + 1]


def history_entries(items: Iterable[Any]) -> list[tuple[str, int | None, date | None]]:
    """Normalize patch-history entries (mappings or objects) to (name, build, date)."""
    return [_entry(i) for i in items]
