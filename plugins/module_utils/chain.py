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
    DISPLAY_NAMES, check_level, level_index,
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

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.step_id for s in self.steps)

    @property
    def blocked(self) -> bool:
        return bool(self.blockers)

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "steps": [s.as_dict() for s in self.steps],
                "blockers": list(self.blockers), "warnings": list(self.warnings),
                "nothing_to_do": self.nothing_to_do}


# ---------------------------------------------------------------- version parsing

def parse_sps_major(version: Any) -> int | None:
    """Major version of a standalone SPS (``"2.6"``, ``"3.0 Patch 1"``, ``"3.3.1181"``)."""
    if version is None:
        return None
    match = re.match(r"^\s*v?(\d+)", str(version))
    return int(match.group(1)) if match else None


def parse_tmcm_version(version: Any) -> tuple[int, int, int, int] | None:
    """``"5.5 SP1 Patch 5"`` -> ``(5, 5, 1, 5)``; ``"6.0 SP1"`` -> ``(6, 0, 1, 0)``;
    ``"6.0"`` -> ``(6, 0, 0, 0)``; ``"7.0"`` -> ``(7, 0, 0, 0)``. ``None`` when unreadable."""
    if version is None:
        return None
    text = str(version).strip()
    match = re.match(r"^v?(\d+)(?:\.(\d+))?", text)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    sp = re.search(r"\bSP\s*(\d+)", text, re.IGNORECASE)
    patch = re.search(r"\bPatch\s*(\d+)", text, re.IGNORECASE)
    return (major, minor, int(sp.group(1)) if sp else 0, int(patch.group(1)) if patch else 0)


def tmcm_compatible(version: tuple[int, int, int, int]) -> bool:
    """FAQ Q10: TMCM 5.5 SP1 Patch 5 and above, or 6.0 SP1 and above."""
    if version >= (6, 0, 1, 0):
        return True
    return (5, 5, 1, 5) <= version < (6, 0, 0, 0)


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
        parsed = parse_tmcm_version(tmcm_version)
        if parsed is None:
            warnings.append(f"Control Manager version {tmcm_version!r} could not be read; CP 5712r1 "
                            "needs TMCM 5.5 SP1 Patch 5+ or 6.0 SP1+ (FAQ Q10)")
        elif not tmcm_compatible(parsed):
            blockers.append(f"Control Manager {tmcm_version} is not compatible with CP 5712r1: upgrade "
                            "TMCM to 5.5 SP1 Patch 5 or later, or 6.0 SP1 or later, first (FAQ Q10)")
    return blockers, warnings


# ---------------------------------------------------------------- planning

def plan_chain(level: str, catalog: Catalog, *, include_patch2: bool = True,
               sps_versions: Mapping[str, str | None] | Iterable[Any] = (),
               tmcm_version: str | None = None) -> ChainPlan:
    """Plan the steps from ``level`` to CP 5712r1.

    ``sps_versions``: standalone SPS host -> version string, ``None`` meaning unknown.
    ``tmcm_version``: the TMCM version string, ``None`` meaning no TMCM.
    """
    check_level(level)
    if level == "pre_10_6":
        return ChainPlan(level, (), ("OSCE older than 10.6 is not supported: the FAQ's chain starts at "
                                     "10.6 GM; upgrade the server to 10.6 (or to OSCE 11) first",))
    if level in DONE_LEVELS:
        why = ("CP 5712r1 is already installed" if level == "cp5712r1"
               else "OSCE 11 already includes the Smart Scan enhancement (FAQ Q2)")
        return ChainPlan(level, (), (), (why,), nothing_to_do=True)

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
    return ChainPlan(level, steps, tuple(blockers), tuple(warnings + gate_warnings))


def next_step(level: str, catalog: Catalog, **kwargs: Any) -> ChainStep | None:
    """The first step of ``plan_chain(level, catalog, **kwargs)``; ``None`` when nothing is left.

    Raises ``OsceError`` (field ``chain``) listing the blockers when the plan is blocked.
    """
    plan = plan_chain(level, catalog, **kwargs)
    if plan.blockers:
        raise OsceError("chain", f"cannot patch {DISPLAY_NAMES[level]}: " + "; ".join(plan.blockers),
                        level, "resolve the blockers above, then run again")
    return plan.steps[0] if plan.steps else None
