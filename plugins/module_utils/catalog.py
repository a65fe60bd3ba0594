"""The patch catalog (data/catalog.yml) and the user's installers (`osce_installers`).

Pure: callers pass already-loaded documents and schemas (``plugin_utils/_data.py`` loads them).
Reference: docs/catalog.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.errors import (
    OsceError, raise_all, validate_or_raise,
)
from ansible_collections.osce.patching.plugins.module_utils.levels import (
    BUILD_LEVELS, LEVELS, level_index, normalize_build_map,
)

STEP_IDS: tuple[str, ...] = ("sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1")
ARCHITECTURES: tuple[str, ...] = ("x86", "x64")
DEFAULT_SUCCESS_CODES: tuple[int, ...] = (0, 3010, 1641)
USER = "user"


@dataclass(frozen=True)
class Installer:
    """The user's installer for one step (`osce_installers.<step>`)."""

    path: str
    sha256: str
    arguments: str = ""
    success_codes: tuple[int, ...] = DEFAULT_SUCCESS_CODES
    method: str = "package"
    log_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "arguments": self.arguments,
                "success_codes": list(self.success_codes), "method": self.method,
                "log_path": self.log_path}


@dataclass(frozen=True)
class Step:
    """One catalog step. ``server_build`` / ``client_build`` are ``None`` where not public
    (``"user"`` in the catalog): the server build then comes from the build map, the client build
    from ``osce_installers.<step>.client_build``."""

    id: str
    name: str
    order: int
    optional: bool
    prerequisites: tuple[str, ...]
    resulting_level: str
    server_build: int | None
    client_build: int | None
    clients_receive: bool
    client_package_bytes: Mapping[str, int | None]
    reboot_server: str
    reboot_clients: str
    faq: str
    reason: str
    crcz_ptn_bytes: int | None = None
    installer: Installer | None = None

    def package_bytes(self, arch: str) -> int | None:
        return self.client_package_bytes.get(arch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "order": self.order, "optional": self.optional,
            "prerequisites": list(self.prerequisites), "resulting_level": self.resulting_level,
            "server_build": self.server_build, "client_build": self.client_build,
            "clients_receive": self.clients_receive,
            "client_package_bytes": dict(self.client_package_bytes),
            "crcz_ptn_bytes": self.crcz_ptn_bytes,
            "reboot": {"server": self.reboot_server, "clients": self.reboot_clients},
            "faq": self.faq, "reason": self.reason,
            "installer": self.installer.as_dict() if self.installer else None,
        }


@dataclass(frozen=True)
class Catalog:
    """Steps in FAQ order plus the level -> builds map (empty tuple = not public)."""

    steps: tuple[Step, ...]
    levels: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise OsceError("step", "is not in the catalog", step_id,
                        "use one of: " + ", ".join(s.id for s in self.steps))

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.steps)

    def server_build_after(self, step_id: str) -> int | None:
        """The server build a step results in: its own, else the build map's for its level."""
        s = self.step(step_id)
        if s.server_build is not None:
            return s.server_build
        builds = self.levels.get(s.resulting_level) or ()
        return builds[0] if builds else None

    def missing_for(self, step_id: str) -> list[str]:
        """What the user still has to supply before ``step_id`` can run (field paths)."""
        s = self.step(step_id)
        out: list[str] = []
        if s.installer is None:
            out.append(f"osce_installers.{step_id}")
        if self.server_build_after(step_id) is None:
            out.append(f"osce_build_map.{s.resulting_level}")
        if s.clients_receive:
            if s.client_build is None:
                out.append(f"osce_installers.{step_id}.client_build")
            for arch in ARCHITECTURES:
                if s.package_bytes(arch) is None:
                    out.append(f"osce_installers.{step_id}.client_package_bytes.{arch}")
        return out


def _step_from_doc(doc: Mapping[str, Any]) -> Step:
    def build(value: Any) -> int | None:
        return None if value == USER else int(value)

    sizes = doc["client_package_bytes"]
    return Step(
        id=doc["id"], name=doc["name"], order=int(doc["order"]), optional=bool(doc["optional"]),
        prerequisites=tuple(doc["prerequisites"]), resulting_level=doc["resulting_level"],
        server_build=build(doc["server_build"]), client_build=build(doc["client_build"]),
        clients_receive=bool(doc["clients_receive"]),
        client_package_bytes=MappingProxyType({a: sizes.get(a) for a in ARCHITECTURES}),
        reboot_server=doc["reboot"]["server"], reboot_clients=doc["reboot"]["clients"],
        faq=doc["faq"], reason=" ".join(str(doc["reason"]).split()),
        crcz_ptn_bytes=doc.get("crcz_ptn_bytes"),
    )


def load_catalog(doc: Any, schema: Mapping[str, Any]) -> Catalog:
    """Validate the catalog document against its schema and the FAQ's invariants; build a Catalog.

    Raises ``OsceError`` / ``OsceValidationError`` with one line per problem, naming fields like
    ``catalog.steps[2].order``.
    """
    validate_or_raise(doc, schema, "catalog")
    problems: list[OsceError] = []
    steps_doc = doc["steps"]
    seen_ids: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for i, s in enumerate(steps_doc):
        if s["id"] in seen_ids:
            problems.append(OsceError(f"catalog.steps[{i}].id", f"repeats the id of steps[{seen_ids[s['id']]}]",
                                      s["id"], "give every step a distinct id"))
        seen_ids.setdefault(s["id"], i)
        if s["order"] in seen_orders:
            problems.append(OsceError(f"catalog.steps[{i}].order",
                                      f"repeats the order of steps[{seen_orders[s['order']]}]",
                                      s["order"], "give every step a distinct order"))
        seen_orders.setdefault(s["order"], i)
        result = s["resulting_level"]
        for j, pre in enumerate(s["prerequisites"]):
            if level_index(pre) >= level_index(result):
                problems.append(OsceError(f"catalog.steps[{i}].prerequisites[{j}]",
                                          f"is not below the step's resulting level {result}", pre,
                                          "list only levels the step can be applied on"))
    raise_all(problems)
    levels = normalize_build_map(doc.get("levels") or {})
    _check_build_order(levels, "catalog.levels")
    steps = tuple(sorted((_step_from_doc(s) for s in steps_doc), key=lambda s: s.order))
    return Catalog(steps=steps, levels=MappingProxyType(levels))


def _check_build_order(levels: Mapping[str, tuple[int, ...]], where: str) -> None:
    """Known builds must not go down along the level order (FAQ order: SP3 < Patch 1 <= 1.1 < ...)."""
    last_level, last_build = None, 0
    for level in BUILD_LEVELS:
        builds = levels.get(level) or ()
        if not builds:
            continue
        low = min(builds)
        if low < last_build:
            raise OsceError(f"{where}.{level}", f"is lower than the build of the earlier level "
                            f"{last_level} ({last_build})", list(builds),
                            "check the build in the patch readme; levels must not go down in order "
                            + " < ".join(BUILD_LEVELS))
        last_level, last_build = level, max(last_build, low)


def merge_build_map(catalog: Catalog, user_map: Mapping[str, Any] | None) -> Catalog:
    """Return the catalog with ``osce_build_map`` merged over its ``levels`` (user wins per level).

    Values: an int, a list of ints, or null (keep the catalog's). Unknown level ids, non-integer
    builds and builds that go down along the level order raise a one-line ``OsceError``.
    """
    if user_map is None:
        return catalog
    if not isinstance(user_map, Mapping):
        raise OsceError("osce_build_map", "must be a mapping of level id to build", user_map,
                        "write e.g. `osce_build_map: {sp3_patch1_1: <build from the patch readme>}`")
    for level in user_map:
        if level not in BUILD_LEVELS:
            raise OsceError(f"osce_build_map.{level}", "is not a level with a build", level,
                            "use one of: " + ", ".join(BUILD_LEVELS))
    user = normalize_build_map({k: v for k, v in user_map.items() if v is not None})
    merged = dict(catalog.levels)
    for level in user_map:
        if user_map[level] is not None:
            merged[level] = user[level]
    _check_build_order(merged, "osce_build_map")
    return replace(catalog, levels=MappingProxyType(merged))


def merge_installers(catalog: Catalog, installers: Mapping[str, Any] | None,
                     installers_schema: Mapping[str, Any]) -> Catalog:
    """Attach the user's ``osce_installers`` to the catalog steps.

    Validates against ``installers.schema.json`` (field paths like
    ``osce_installers.cp5712r1.sha256``), fills defaults (``success_codes`` [0, 3010, 1641],
    ``method`` package, ``arguments`` ""), and applies ``client_build`` /
    ``client_package_bytes`` given for steps whose catalog values are unknown or to be overridden.
    """
    installers = installers or {}
    validate_or_raise(installers, installers_schema, "osce_installers")
    for step_id in installers:
        if step_id not in catalog.step_ids:
            raise OsceError(f"osce_installers.{step_id}", "is not a step in the catalog", step_id,
                            "use one of: " + ", ".join(catalog.step_ids))
    steps = []
    for s in catalog.steps:
        spec = installers.get(s.id)
        if spec is None:
            steps.append(s)
            continue
        inst = Installer(
            path=spec["path"], sha256=spec["sha256"].lower(),
            arguments=spec.get("arguments", ""),
            success_codes=tuple(spec.get("success_codes", DEFAULT_SUCCESS_CODES)),
            method=spec.get("method", "package"), log_path=spec.get("log_path"),
        )
        sizes = dict(s.client_package_bytes)
        sizes.update(spec.get("client_package_bytes") or {})
        steps.append(replace(s, installer=inst,
                             client_build=spec.get("client_build", s.client_build),
                             client_package_bytes=MappingProxyType(sizes)))
    return replace(catalog, steps=tuple(steps))


__all__ = [
    "ARCHITECTURES", "Catalog", "DEFAULT_SUCCESS_CODES", "Installer", "LEVELS", "STEP_IDS", "Step",
    "load_catalog", "merge_build_map", "merge_installers",
]
