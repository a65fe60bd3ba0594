# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence about one OSCE client, read through the gateway from profile entries.

Budget: :meth:`ClientReader.program` is one ``win_reg_stat`` of the ``Misc.`` key. The registry
view is tried first as the host is known to be (``osce_client_state.arch`` read earlier in the run,
else the inventory's ``osce_client_arch``): a 32-bit client costs no extra call for the
``Wow6432Node`` key it lacks (two only when the hint is wrong); :meth:`ClientReader.pattern_files`
is one ``win_find`` over the folders of the profile's pattern entries.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import fnmatch
import ntpath
import re
import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.verdicts import parse_build
from ansible_collections.osce.patching.plugins.plugin_utils._locations import Locator

#: File entries looked for in one win_find; the conventional pattern file only infers the scan method.
PATTERN_ENTRIES = ("client_bf_ptn", "client_crcz_ptn", "client_agent_pattern_file", "client_conventional_pattern_file")


def server_expectations(server_facts: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """What the client must match, from build_facts' ``osce_server``."""
    program = server_facts.get("client_program") or {}
    patterns = server_facts.get("patterns") or {}
    agent = patterns.get("agent")
    return {"client_build": program.get("build") if isinstance(program, dict) else None,
            "agent_pattern": None if agent == "unknown" else agent,
            "cp_installed": server_facts.get("cp_installed"),
            "level": server_facts.get("level")}


def arch_hint(task_vars: t.Mapping[str, t.Any]) -> bool | None:
    """Whether the host's OSCE key lives under ``Wow6432Node`` (x64) as far as the play knows: the arch
    read earlier in this run (``osce_client_state.arch``), else ``osce_client_arch``; ``None`` if neither."""
    state = task_vars.get("osce_client_state")
    arch = state.get("arch") if isinstance(state, t.Mapping) else None
    arch = str(arch or task_vars.get("osce_client_arch") or "").strip().lower()
    return {"x64": True, "x86": False}.get(arch)


class ClientReader:
    def __init__(self, ctx: t.Any) -> None:
        self.ctx = ctx
        self.locator = Locator(ctx.profile, ctx.gateway)
        self.locator.prefer_view(arch_hint(getattr(ctx, "task_vars", None) or {}))
        self.last_program: dict[str, t.Any] | None = None

    def program(self) -> dict[str, t.Any]:
        """Program build and Smart Scan Agent Pattern (profile entries ``client_program_version``,
        ``client_pattern_version``: the same ``Misc.`` key, one read); arch from the registry view found."""
        loc = self.locator
        key = loc.require_key("client_program_version", self.ctx.host, "client")
        raw = loc.registry_value("client_program_version")
        self.last_program = {
            "program_version": raw, "program_build": parse_build(str(raw).rsplit(".", maxsplit=1)[-1]) if raw else None,
            "agent_pattern": loc.registry_value("client_pattern_version"),
            "arch": "x64" if "wow6432node" in key.lower() else "x86", "registry_key": key,
            # Updatefrom (profile entry client_update_from) sits in the same Misc. key: no round trip
            "update_source": loc.registry_value("client_update_from") if "client_update_from" in self.ctx.profile else None}
        return dict(self.last_program)

    def forget(self) -> None:
        self.locator.forget_key("client_program_version")

    def pattern_files(self, arch: str, app_path: str | None) -> dict[str, t.Any]:
        """Which pattern files exist, in one win_find over the folders the profile names."""
        loc = self.locator
        if app_path:
            candidates = [app_path]
        else:
            order = ["client_default_folder_x64", "client_default_folder_x86"]
            if arch == "x86":
                order.reverse()
            candidates = [loc.path(name) for name in order]
        wanted: dict[str, list[tuple[str, str]]] = {}
        folders: list[str] = []
        for base in candidates:
            loc.placeholders["app_path"] = base
            for name in PATTERN_ENTRIES:
                path = loc.path(name)
                folder, pattern = ntpath.split(path)
                wanted.setdefault(name, []).append((folder.lower(), pattern.lower()))
                if folder not in folders:
                    folders.append(folder)
        patterns = sorted({p for pairs in wanted.values() for _f, p in pairs})
        files = self.ctx.gateway.find(folders, patterns)
        hits: dict[str, list[str]] = {name: [] for name in wanted}
        for f in files:
            path = str(f.get("path") or "")
            folder, fname = ntpath.split(path)
            for name, pairs in wanted.items():
                if any(folder.lower().rstrip("\\") == fo.rstrip("\\") and fnmatch.fnmatch(fname.lower(), pa)
                       for fo, pa in pairs):
                    hits[name].append(path)
        agent_files = sorted(hits["client_agent_pattern_file"])
        ext = [m.group(1) for p in agent_files if (m := re.search(r"\.(\d+)$", p))]
        if agent_files:
            method = "smart"
        elif hits["client_conventional_pattern_file"]:
            method = "conventional"
        else:
            method = None
        return {"bf_ptn": bool(hits["client_bf_ptn"]), "crcz_ptn": bool(hits["client_crcz_ptn"]),
                "agent_pattern_files": agent_files, "agent_pattern_from_file": max(ext, key=int) if ext else None,
                "conventional_pattern_files": sorted(hits["client_conventional_pattern_file"]), "scan_method": method,
                "scan_method_source": "pattern files (inferred)", "folders": folders}

    def scan_type(self) -> str | None:
        """Scan method from the profile entry ``client_scan_type`` (one extra round trip)."""
        from ansible_collections.osce.patching.plugins.module_utils.verdicts import scan_method_from_scan_type

        return scan_method_from_scan_type(self.locator.registry_value("client_scan_type"))


def client_free_space(ctx: t.Any, required: int) -> dict[str, t.Any]:
    """Free space of the system drive against ``required`` bytes, from one ``win_disk_facts``.

    The system drive is the first drive letter on the disk flagged ``system_disk`` (``C`` when no disk is
    flagged). Returns ``drive``, ``free_bytes``, ``required_bytes``, ``ok`` and, when not ok, ``problem``
    (one line in the errors.py voice)."""
    res = ctx.gateway.call("win_disk_facts", {"filter": ["partitions", "volumes"]})
    disks = (res.get("ansible_facts") or {}).get("ansible_disks") or []
    letters = []   # (on the system disk, letter, free bytes)
    for disk in disks:
        for part in disk.get("partitions") or []:
            letter = str(part.get("drive_letter") or "").rstrip(":\\").upper()
            if letter:
                vols = part.get("volumes") or []
                free_bytes = int(vols[0].get("size_remaining") or 0) if vols else None
                letters.append((bool(disk.get("system_disk")), letter, free_bytes))
    system = [letter for on_system, letter, _free in letters if on_system]
    drive = system[0] if system else "C"
    free = next((f for _on, letter, f in letters if letter == drive), None)
    out: dict[str, t.Any] = {"drive": drive, "free_bytes": free, "required_bytes": int(required),
                             "ok": free is not None and free >= required}
    if free is None:
        out["problem"] = OsceError("min_free_bytes", f"drive {drive}: not found on {ctx.host}", int(required),
                                   "check the client's disks; the free space was not checked").line()
    elif not out["ok"]:
        out["problem"] = OsceError("min_free_bytes", f"drive {drive}: on {ctx.host} has {free} bytes free, less than "
                                   "required", int(required), "free disk space on the client before it takes the "
                                   "package").line()
    return out
