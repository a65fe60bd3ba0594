"""OSCE server build levels and level detection from raw evidence.

The level ids and their order are the shared vocabulary of the collection (docs/development.md).
``detect_level`` maps what the server reports (``Server_Version``, ``ServicePack_Build``, patch
history, CP 5712 install date) to one level, or raises an ``OsceError`` that shows the evidence and
says which build to add to ``osce_build_map``. Rules and the ambiguities they resolve: docs/core.md.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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


def date_readings(value: Any) -> tuple[date, ...]:
    """Every calendar date ``value`` can mean: one for ISO text (``2015-01-22``, ``2015-01-22
    10:00:00``, ``2015-01-22T10:00:00Z``), ``date`` / ``datetime`` and unambiguous slash dates
    (``01/22/2015``, ``22/01/2015``, ``10/10/2015``); two for a slash date whose day and month are both
    12 or less (``10/01/2015``: 1 October or 10 January); none when absent or unreadable."""
    if value is None or value == "":
        return ()
    if isinstance(value, datetime):
        return (value.date(),)
    if isinstance(value, date):
        return (value,)
    text = str(value).strip()
    match = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if match:
        y, m, d = (int(g) for g in match.groups())
        candidates = [(y, m, d)]
    else:
        match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if not match:
            return ()
        first, second, y = (int(g) for g in match.groups())
        candidates = [(y, first, second), (y, second, first)]  # month/day (US), day/month
    out: list[date] = []
    for y, m, d in candidates:
        try:
            found = date(y, m, d)
        except ValueError:
            continue
        if found not in out:
            out.append(found)
    return tuple(out)


def parse_date(value: Any) -> date | None:
    """The date ``value`` means (see ``date_readings``); ``None`` when absent, unreadable or
    ambiguous (``10/01/2015``) - an ambiguous date is never guessed."""
    readings = date_readings(value)
    return readings[0] if len(readings) == 1 else None


def parse_statement(value: Any, field: str) -> bool | None:
    """The administrator's yes / no statement (``true`` / ``false`` / ``''`` = not stated)."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "none", "null", "unknown"):
        return None
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise OsceError(field, "must be true, false or empty", value,
                    "write true when CP 5712r1 (the repack) is installed, false when only the original "
                    "CP 5712 is, or leave it empty to let the collection decide from its evidence")


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


def _entry(item: Any) -> tuple[str, int | None, Any]:
    """(name, build, raw install date) of a patch-history entry (mapping or object)."""
    if isinstance(item, Mapping):
        return (str(item.get("name") or ""), parse_int(item.get("build")), item.get("installed_on"))
    return (str(getattr(item, "name", "") or ""), parse_int(getattr(item, "build", None)),
            getattr(item, "installed_on", None))


def _evidence_text(version: Any, build: Any, history: Sequence[Any]) -> dict[str, Any]:
    return {"server_version": version, "sp_build": build,
            "patch_history": [f"{n or '?'}={b}" for n, b, _date in (_entry(h) for h in history)][:6]}


# ---------------------------------------------------------------- detection

#: The variable the administrator states the CP 5712 / 5712r1 fact with (build_facts option
#: ``cp5712r1_installed``).
R1_VARIABLE = "osce_cp5712r1_installed"

#: The step whose record (``Applied.cp5712r1``, written by patch_chain after a verified install)
#: proves the repack is on the server.
R1_STEP = "cp5712r1"


def _applied_text(record: Mapping[str, Any]) -> str:
    parts = [f"installed {record['installed']}" if record.get("installed") else "",
             f"run {record['run_id']}" if record.get("run_id") else "",
             f"sha256 {str(record['sha256'])[:12]}..." if record.get("sha256") else ""]
    return ", ".join(p for p in parts if p)


def _decide_cp5712(build: int, evidence: Mapping[str, Any], history: Sequence[Any],
                   reasons: list[str], warnings: list[str]) -> str:
    """CP 5712 or its r1 repack (same build): the evidence in order of trust (docs/core.md)."""
    stated = parse_statement(evidence.get("cp5712r1_installed"), R1_VARIABLE)
    record = evidence.get("applied_record")
    record = record if isinstance(record, Mapping) else None
    if stated is False and record is not None:
        # "false" says what the CP was; a verified install of r1 by this collection is a later fact (else the
        # statement would re-apply r1 on every run): the record below decides
        warnings.append(f"{R1_VARIABLE} is false but this collection installed and verified CP 5712r1 since "
                        f"(record Applied.{R1_STEP}: {_applied_text(record)}); the record wins: remove the statement")
    elif stated is not None:
        reasons.append(f"{R1_VARIABLE}: {str(stated).lower()} (stated by the administrator) decides: "
                       + ("CP 5712r1" if stated else "the original CP 5712, re-apply 5712r1 (FAQ Q13)"))
        return "cp5712r1" if stated else "cp5712"
    if record is not None:
        reasons.append(f"this collection's record Applied.{R1_STEP} ({_applied_text(record)}) decides: "
                       "CP 5712r1 was installed and verified by osce.patching")
        return "cp5712r1"

    source, readings = "cp5712_installed_on", date_readings(evidence.get("cp5712_installed_on"))
    raw = evidence.get("cp5712_installed_on")
    if not readings:
        dated = [(d, r) for _name, b, r in (_entry(h) for h in history) if b == build
                 for d in [date_readings(r)] if d]
        if dated:
            # The latest entry decides (a re-applied r1 wins over the original). With an ambiguous
            # entry, "latest" is taken for every reading: the earliest and the latest possible.
            low = max(min(d) for d, _raw in dated)
            high = max(max(d) for d, _raw in dated)
            readings = (low,) if low == high else (low, high)
            raw = ", ".join(str(r) for d, r in dated if len(d) > 1) or str(max(dated)[1])
            source = f"the patch history entry with build {build}"
    if not readings:
        warnings.append(
            f"build {build} is CP 5712 but whether it is the r1 repack is unknown (no record of this "
            f"collection, no install date); reading it as the original CP 5712, so CP 5712r1 is re-applied "
            f"(FAQ Q13: re-applying the repack is the safe reading). State it with {R1_VARIABLE}: true|false")
        reasons.append("no record, no statement, install date of CP 5712 unknown -> cp5712")
        return "cp5712"
    sides = {d < R1_CUTOFF for d in readings}
    if len(sides) > 1:
        raise OsceError(source, f"the install date of CP 5712 is ambiguous: day and month are both 12 or less, "
                        f"and one reading is before, the other on or after the r1 cut-off {R1_CUTOFF.isoformat()}",
                        raw, f"state the fact with `{R1_VARIABLE}: true` (CP 5712r1 installed) or "
                        f"`{R1_VARIABLE}: false` (the original CP 5712, re-apply 5712r1)")
    installed = readings[-1]
    shown = installed.isoformat() if len(readings) == 1 else f"{raw} (either reading)"
    if installed < R1_CUTOFF:
        reasons.append(f"CP 5712 installed on {shown} ({source}), before "
                       f"{R1_CUTOFF.isoformat()}: the original CP, re-apply 5712r1 (FAQ Q13)")
        return "cp5712"
    reasons.append(f"CP 5712 installed on {shown} ({source}), on or after {R1_CUTOFF.isoformat()}: the r1 repack")
    return "cp5712r1"


def detect_level(evidence: Mapping[str, Any], build_map: Mapping[str, Any] | None = None) -> Detection:
    """Decide the server's level from raw evidence.

    ``evidence`` keys: ``server_version`` (``"10.6"``), ``sp_build`` (``ServicePack_Build``, int or
    str or None), ``patch_history`` (entries with ``name``, ``build``, ``installed_on`` - raw text
    or date), ``cp5712_installed_on`` (date / text / None), ``cp5712r1_installed`` (the
    administrator's statement: true / false / None), ``applied_record`` (this collection's
    ``Applied.cp5712r1`` record, a mapping, or None). ``build_map``: level id -> build or list of
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

    # CP 5712 and its r1 repack share a build: our record, the admin's word or the date (FAQ Q13).
    shared = set(builds["cp5712"]) & set(builds["cp5712r1"])
    if build in shared:
        level = _decide_cp5712(build, evidence, history, reasons, warnings)
        return Detection(level, build, tuple(reasons), tuple(warnings))
    if parse_statement(evidence.get("cp5712r1_installed"), R1_VARIABLE) is not None:
        warnings.append(f"{R1_VARIABLE} is set but the server's build is {build}, not CP 5712's "
                        f"({', '.join(map(str, sorted(shared))) or 'unknown'}); the statement is ignored")

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
                    _evidence_text(raw_version, raw_build, history), unmapped_build_fix(build, builds))


def nearest_level_below(build: int, build_map: Mapping[str, Any] | None) -> str | None:
    """The latest level whose (lowest) known build is below ``build``; ``None`` when none is.
    Of CP 5712 and its repack, which share a build, the repack (a hotfix build above 5712 needs
    the CP first, FAQ Q12)."""
    builds = normalize_build_map(build_map)
    below = [lvl for lvl in BUILD_LEVELS if builds.get(lvl) and min(builds[lvl]) < build]
    return below[-1] if below else None


def unmapped_build_fix(build: int, build_map: Mapping[str, Any] | None) -> str:
    """The Fix for a 10.6 build that matches no level: the nearest level below (what a hotfix on
    it would be assumed to be, and how to say so) and the unmapped levels the ordering allows."""
    builds = normalize_build_map(build_map)
    below = nearest_level_below(build, builds)
    above = [lvl for lvl in BUILD_LEVELS if builds.get(lvl) and min(builds[lvl]) > build]
    lo = level_index(below) if below else 0
    hi = level_index(above[0]) if above else len(LEVELS) - 1
    unmapped = [lvl for lvl in LEVELS[lo + 1:hi] if lvl in BUILD_LEVELS and not builds.get(lvl)]
    parts: list[str] = []
    if unmapped:
        if len(unmapped) == 1:
            parts.append(f"if it is {DISPLAY_NAMES[unmapped[0]]} (its build is not in the map; the build order allows "
                         f"only it), add the build from its readme: `osce_build_map: {{{unmapped[0]}: {build}}}`")
        else:
            # no guess among them: naming a later level than the server's would skip installs it needs
            allowed = ", ".join(f"{lvl} ({DISPLAY_NAMES[lvl]})" for lvl in unmapped)
            parts.append(f"if the server is on a level whose build is not in the map (by the build order one of "
                         f"{allowed}), find which from Server_Version and the patch readmes and add the build under "
                         f"it: `osce_build_map: {{LEVEL: {build}}}` - the chain is then planned from LEVEL, so a "
                         f"level later than the server's would skip installs it needs")
    if below:
        known = ", ".join(str(b) for b in builds[below])
        parts.append(f"{'or ' if parts else ''}if it is {DISPLAY_NAMES[below]} (build {known}, the nearest level "
                     f"below in the build map) with a hotfix, add it to that level - the chain is then planned "
                     f"from {below}: `osce_build_map: {{{below}: [{known}, {build}]}}`")
    else:
        parts.append("no level in the build map is below it: check Server_Version and ServicePack_Build, "
                     "and add the builds of your levels from the patch readmes to `osce_build_map`")
    return "; ".join(parts)
