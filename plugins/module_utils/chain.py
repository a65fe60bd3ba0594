"""The FAQ's patch chain from a detected level to CP 5712r1, with its gates.

``plan_chain`` walks the catalog steps in order: a step is taken when the current level is one of
its prerequisites; optional steps (SP3 Patch 2) only with ``include_patch2``. Gates (FAQ Q4 step a,
Q10): standalone SPS 2.x blocks, unknown SPS versions warn, an old TMCM blocks. Rules and the
ambiguities they resolve: docs/core.md.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.catalog import Catalog, Step
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.levels import (
    DISPLAY_NAMES, check_level, is_at_least, level_index,
)

TARGET_LEVEL = "cp5712r1"
DONE_LEVELS = ("cp5712r1", "osce11")


@dataclass(frozen=True)
class ChainStep:
    """One step of a plan: the catalog step, the level it starts from and the level it ends on."""

    step_id: str
    name: str
    from_level: str
    to_level: str
    optional: bool
    reason: str
    faq: str
    step: Step = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.step_id, "name": self.name, "from_level": self.from_level,
                "to_level": self.to_level, "optional": self.optional, "reason": self.reason,
                "faq": self.faq}


@dataclass(frozen=True)
class ChainPlan:
    """Steps in FAQ order; blockers stop the plan, warnings do not."""

    level: str
    steps: tuple[ChainStep, ...]
    blockers: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    nothing_to_do: bool = False
    notes: tuple[str, ...] = ()

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.step_id for s in self.steps)

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "steps": [s.as_dict() for s in self.steps],
                "blockers": list(self.blockers), "warnings": list(self.warnings),
                "nothing_to_do": self.nothing_to_do, "notes": list(self.notes)}


# ---------------------------------------------------------------- version parsing

def parse_sps_major(version: Any) -> int | None:
    """Major version of a standalone SPS (``"2.6"``, ``"3.0 Patch 1"``, ``"3.3.1181"``)."""
    if version is None:
        return None
    match = re.match(r"^\s*v?(\d+)", str(version))
    return int(match.group(1)) if match else None


#: ``tmcm_version`` value meaning "a Control Manager manages this server, its version is not known".
TMCM_UNKNOWN = "unknown"

#: The variable the administrator states the Control Manager version with (preflight reads it).
TMCM_VARIABLE = "osce_tmcm_version"


def parse_tmcm_version(version: Any) -> tuple[int, int, int | None, int | None] | None:
    """The Control Manager version as (major, minor, service pack, patch).

    Text forms as the console shows them: ``"6.0"`` -> ``(6, 0, 0, 0)``; ``"6.0 SP1"`` and
    ``"6.0 Service Pack 1"`` -> ``(6, 0, 1, 0)``; ``"6.0 SP1 Patch 2"`` -> ``(6, 0, 1, 2)``;
    ``"5.5 Service Pack 1 Patch 5"`` -> ``(5, 5, 1, 5)``; a leading ``TMCM`` / ``Control Manager``
    is ignored. A build form (``"6.0.0.1234"``, ``"5.5.1234"``) names no service pack or patch:
    ``(6, 0, None, None)`` (the builds of TMCM service packs are not public). ``None`` when
    unreadable.
    """
    if version is None or isinstance(version, bool):
        return None
    text = str(version).strip()
    match = re.match(r"^(?:(?:trend\s+micro\s+)?(?:tmcm|control\s+manager)\s*)?v?(\d+)(?:\.(\d+))?((?:\.\d+)+)?(.*)$",
                     text, re.IGNORECASE)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    rest = match.group(4) or ""
    sp = re.search(r"\b(?:SP|Service\s*Pack)\s*(\d+)", rest, re.IGNORECASE)
    patch = re.search(r"\b(?:Patch|P)\s*(\d+)", rest, re.IGNORECASE)
    if match.group(3) and not sp and not patch:
        return (major, minor, None, None)
    leftover = re.sub(r"\b(?:SP|Service\s*Pack|Patch|P)\s*\d+|\(?\bbuild\s*\d+\)?|[\s,]", "", rest,
                      flags=re.IGNORECASE)
    if leftover:
        return None
    return (major, minor, int(sp.group(1)) if sp else 0, int(patch.group(1)) if patch else 0)


def tmcm_compatible(version: tuple[int, int, int | None, int | None]) -> bool | None:
    """FAQ Q10: TMCM 5.5 SP1 Patch 5 and above, or 6.0 SP1 and above. ``None`` when the version
    has no service pack / patch (a build form) and they would decide."""
    major, minor, sp, patch = version
    if (major, minor) > (6, 0):
        return True
    if (major, minor) < (5, 5):
        return False
    if sp is None or patch is None:
        return None
    if (major, minor, sp, patch) >= (6, 0, 1, 0):
        return True
    return (5, 5, 1, 5) <= (major, minor, sp, patch) < (6, 0, 0, 0)


def _sps_items(sps_versions: Any) -> list[tuple[str, Any]]:
    if not sps_versions:
        return []
    if isinstance(sps_versions, Mapping):
        return [(str(k), v) for k, v in sps_versions.items()]
    out: list[tuple[str, Any]] = []
    for i, item in enumerate(sps_versions):
        if isinstance(item, (tuple, list)) and len(item) == 2:
            out.append((str(item[0]), item[1]))
        else:
            out.append((f"sps[{i}]", item))
    return out


def _gates(steps: tuple[ChainStep, ...], sps_versions: Any,
           tmcm_version: Any) -> tuple[list[str], list[str]]:
    blockers: list[str] = []
    warnings: list[str] = []
    for host, version in _sps_items(sps_versions):
        major = parse_sps_major(version)
        if version is None:
            warnings.append(f"standalone SPS {host}: version unknown (no /sysinfo answer), possibly "
                            "2.x; confirm it runs 3.0 or later before patching (FAQ Q4 step a)")
        elif major is None:
            warnings.append(f"standalone SPS {host}: version {version!r} could not be read; confirm "
                            "it runs 3.0 or later (FAQ Q4 step a)")
        elif major < 3:
            blockers.append(f"standalone SPS {host} runs {version}: upgrade it to SPS 3.0 first "
                            "(FAQ Q4 step a; SPS 3.0 serves 10.5, 10.6 and 11 clients, Q9)")
    if tmcm_version is not None and any(s.step_id == TARGET_LEVEL for s in steps):
        need = "CP 5712r1 needs TMCM 5.5 SP1 Patch 5 or later, or 6.0 SP1 or later (FAQ Q10)"
        fix = (f"state the version the Control Manager console shows (About) with `{TMCM_VARIABLE}` on the "
               "osce_tmcm host, for example `6.0 SP1`, or remove the host from osce_tmcm if no Control "
               "Manager manages this server")
        parsed = None if str(tmcm_version).strip().lower() in ("", TMCM_UNKNOWN) else parse_tmcm_version(tmcm_version)
        verdict = tmcm_compatible(parsed) if parsed is not None else None
        if parsed is None and str(tmcm_version).strip().lower() in ("", TMCM_UNKNOWN):
            blockers.append(f"Control Manager version unknown (a Control Manager is in osce_tmcm but its version "
                            f"could not be read); {need}. Fix: {fix}")
        elif parsed is None:
            blockers.append(f"Control Manager version {tmcm_version!r} could not be read; {need}. Fix: {fix}")
        elif verdict is None:
            blockers.append(f"Control Manager version {tmcm_version!r} names no service pack or patch (a build "
                            f"number; the builds of TMCM service packs are not public); {need}. Fix: {fix}")
        elif not verdict:
            blockers.append(f"Control Manager {tmcm_version} is not compatible with CP 5712r1: upgrade "
                            "TMCM to 5.5 SP1 Patch 5 or later, or 6.0 SP1 or later, first (FAQ Q10)")
    return blockers, warnings


# ---------------------------------------------------------------- planning

def plan_notes(level: str, *, patch2_installed: bool | None = None) -> tuple[str, ...]:
    """What the FAQ says besides the chain: the hotfix prerequisite (Q11, Q12) and the Patch 2
    offer for a server that reached CP 5712 without SP3 Patch 2 (Q4 step d)."""
    check_level(level)
    notes: list[str] = []
    if is_at_least(level, "sp3") and not is_at_least(level, "cp5712r1"):
        notes.append("OSCE hotfixes: on 10.6 SP3 and later the Critical Patch is a prerequisite of any OSCE hotfix "
                     "(FAQ Q11, Q12) - apply the chain to CP 5712r1 before installing a hotfix Trend Micro sends; "
                     "conventional-scan-only servers may delay the CP, but not when they need a hotfix")
    elif level in ("gm", "sp1", "sp2"):
        notes.append("OSCE hotfixes: once on SP3, the Critical Patch is a prerequisite of any OSCE hotfix (FAQ Q12)")
    if level in ("cp5712", "cp5712r1") and patch2_installed is not True:
        seen = ("is not in the patch history" if patch2_installed is False
                else "may be missing (the patch history was not read or does not say)")
        notes.append(f"OSCE 10.6 SP3 Patch 2 {seen}: the FAQ recommends it to keep OSCE up to date (Q4 step d, "
                     "'optional, but recommended'); it exists for this server's line but the FAQ orders it before "
                     "CP 5712 and does not say whether it installs over CP 5712 - check its readme or ask Trend "
                     "Micro support before applying it")
    return tuple(notes)


def plan_chain(level: str, catalog: Catalog, *, include_patch2: bool = True,
               sps_versions: Mapping[str, str | None] | Iterable[Any] = (),
               tmcm_version: str | None = None, patch2_installed: bool | None = None) -> ChainPlan:
    """Plan the steps from ``level`` to CP 5712r1.

    ``sps_versions``: standalone SPS host -> version string, ``None`` meaning unknown.
    ``tmcm_version``: the TMCM version string, ``None`` meaning no TMCM, ``"unknown"`` (or ``""``)
    a TMCM whose version could not be read (a blocker when the chain holds the CP).
    ``patch2_installed``: whether SP3 Patch 2 is in the patch history (``None`` = not known), for
    the notes (``plan_notes``).
    """
    check_level(level)
    notes = plan_notes(level, patch2_installed=patch2_installed)
    if level == "pre_10_6":
        return ChainPlan(level, (), ("OSCE older than 10.6 is not supported: the FAQ's chain starts at "
                                     "10.6 GM; upgrade the server to 10.6 (or to OSCE 11) first",))
    if level in DONE_LEVELS:
        why = ("CP 5712r1 is already installed" if level == "cp5712r1"
               else "OSCE 11 already includes the Smart Scan enhancement (FAQ Q2)")
        return ChainPlan(level, (), (), (why,), nothing_to_do=True, notes=notes)

    current = level
    chosen: list[ChainStep] = []
    warnings: list[str] = []
    for step in catalog.steps:
        # The first later step whose prerequisites hold the current level is taken; steps in between
        # are skipped (SP3 Patch 1 goes straight to CP 5495, FAQ Q4).
        if step.optional and not include_patch2:
            continue
        if current not in step.prerequisites:
            continue
        reason = step.reason
        if current == "cp5712" and step.id == "cp5712r1":
            reason = ("CP 5712 was installed before the 2015-01-23 r1 repack (or its date is unknown): "
                      "re-apply CP 5712r1 (FAQ Q13, Q14). " + step.reason)
        chosen.append(ChainStep(step.id, step.name, current, step.resulting_level, step.optional,
                                reason, step.faq, step))
        current = step.resulting_level
    if current != TARGET_LEVEL:
        raise OsceError("catalog.steps", f"do not lead from {level} to {TARGET_LEVEL}",
                        [s.step_id for s in chosen], "restore the shipped data/catalog.yml")
    if not include_patch2 and level_index(level) < level_index("sp3_patch2"):
        warnings.append("SP3 Patch 2 skipped (include_patch2=false); the FAQ recommends it (Q4 step d)")
    steps = tuple(chosen)
    blockers, gate_warnings = _gates(steps, sps_versions, tmcm_version)
    return ChainPlan(level, steps, tuple(blockers), tuple(warnings + gate_warnings), notes=notes)


def next_step(level: str, catalog: Catalog, **kwargs: Any) -> ChainStep | None:
    """The first step of ``plan_chain(level, catalog, **kwargs)``; ``None`` when nothing is left.

    Raises ``OsceError`` (field ``chain``) listing the blockers when the plan is blocked.
    """
    plan = plan_chain(level, catalog, **kwargs)
    if plan.blockers:
        raise OsceError("chain", f"cannot patch {DISPLAY_NAMES[level]}: " + "; ".join(plan.blockers),
                        level, "resolve the blockers above, then run again")
    return plan.steps[0] if plan.steps else None
