# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.calibrate: snapshot the server's INI files and registry keys, compare, print the entry."""
from __future__ import annotations

import datetime
import json
import os
import typing as t

import yaml

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.ini import parse_ini
from ansible_collections.osce.patching.plugins.module_utils.profile import expand
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import Change, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._native import plain
from ansible_collections.osce.patching.plugins.plugin_utils._server import ServerReader

VERSION = 1


def _relative(path: str, local_path: str) -> str:
    if path.lower().startswith(local_path.lower()):
        return "{local_path}" + path[len(local_path):]
    return path


def compare(old: dict[str, t.Any], new: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Changed INI keys and registry values between two snapshots."""
    out: list[dict[str, t.Any]] = []
    for path in sorted(set(old.get("files", {})) | set(new.get("files", {}))):
        a, b = old.get("files", {}).get(path) or {}, new.get("files", {}).get(path) or {}
        for section in sorted(set(a) | set(b)):
            sa, sb = a.get(section) or {}, b.get(section) or {}
            for key in sorted(set(sa) | set(sb)):
                if sa.get(key) != sb.get(key):
                    out.append({"kind": "ini", "file": path, "section": section, "key": key,
                                "before": sa.get(key), "after": sb.get(key)})
    for key in sorted(set(old.get("registry", {})) | set(new.get("registry", {}))):
        a, b = old.get("registry", {}).get(key) or {}, new.get("registry", {}).get(key) or {}
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                out.append({"kind": "registry", "keys": [key], "value": name, "before": a.get(name), "after": b.get(name)})
    return out


class ActionModule(OsceAction):
    MODULE = "calibrate"
    VERB = "calibrate the profile"

    def check_input(self, ctx: Context) -> None:
        if ctx.args["entry"] not in ctx.profile:
            raise OsceError("entry", "is not a profile entry", ctx.args["entry"], "use an entry name from docs/profile.md")
        if ctx.args["mode"] == "compare":
            path = os.path.expanduser(ctx.args["path"])
            try:
                with open(path, encoding="utf-8") as handle:
                    ctx.notes["baseline"] = json.load(handle)
            except (OSError, ValueError) as exc:
                raise OsceError("path", f"cannot read the snapshot ({exc.__class__.__name__})", ctx.args["path"],
                                "give the file written by mode=snapshot") from None
            if ctx.notes["baseline"].get("version") != VERSION:
                raise OsceError("path", "is not an osce.patching calibration snapshot", ctx.args["path"],
                                "give the file written by mode=snapshot")

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        server = ServerReader(ctx)
        basics = server.basics()
        loc = server.locator
        local_path = basics["install_path"]
        files: list[str] = []
        keys: list[str] = []
        for name, raw in ctx.profile.entries.items():
            if raw.side not in (None, "server") or not raw.known or raw.confidence == "ours":
                continue
            entry = expand(raw, local_path=local_path) if raw.placeholders and set(raw.placeholders) <= {"local_path"} \
                else raw
            if entry.placeholders:
                continue
            if entry.kind == "ini" and entry.file:
                files.append(entry.file)
            elif entry.kind == "file" and (entry.path or "").lower().endswith(".ini"):
                files.append(entry.path or "")
            elif entry.kind == "registry":
                keys.append(name)
        files += [str(f).replace("{local_path}", local_path) for f in ctx.args["extra_files"]]
        snap: dict[str, t.Any] = {"version": VERSION, "host": ctx.host, "local_path": local_path,
                                  "taken": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                                  "files": {}, "registry": {}}
        for path in dict.fromkeys(files):
            text = ctx.gateway.slurp(path, missing_ok=True)
            if text is not None:
                snap["files"][_relative(path, local_path)] = {s: dict(doc_items) for s, doc_items in parse_ini(text).sections}
        seen: set[str] = set()
        for name in keys:
            key, values = loc.registry_key(name)
            if key and key.lower() not in seen:
                seen.add(key.lower())
                snap["registry"][key] = {k: v for k, v in (values or {}).items() if k != "__sub_keys__"}
        for key in ctx.args["extra_keys"]:
            values = ctx.gateway.reg_key(key)
            if values is not None:
                snap["registry"][key] = {k: v for k, v in values.items() if k != "__sub_keys__"}
        return {"snapshot": snap}

    def _target(self, ctx: Context) -> str | None:
        return ctx.args["path"] if ctx.args["mode"] == "snapshot" else ctx.args.get("save_to")

    def plan(self, ctx, before):
        target = self._target(ctx)
        if not target:
            return []
        path = os.path.expanduser(target)
        body = json.dumps(before["snapshot"], indent=1, sort_keys=True)
        ctx.notes["body"] = body
        try:
            with open(path, encoding="utf-8") as handle:
                old = json.load(handle)
            old.pop("taken", None)
            new = dict(before["snapshot"])
            new.pop("taken", None)
            if old == new:
                return []
        except (OSError, ValueError):
            pass
        return [Change("write_snapshot", path)]

    def apply(self, ctx, before, changes):
        for c in changes:
            os.makedirs(os.path.dirname(os.path.abspath(c.target)), exist_ok=True)
            with open(c.target, "w", encoding="utf-8") as handle:
                handle.write(ctx.notes["body"])
        return {}

    def verify(self, ctx, before, changes, outcome):
        return before

    def diff_view(self, state):
        return {"files": sorted(state["snapshot"]["files"]), "registry": sorted(state["snapshot"]["registry"])}

    def report(self, ctx, before, after, changes, outcome):
        snap = before["snapshot"]
        result: dict[str, t.Any] = {"snapshot": {"files": len(snap["files"]), "keys": len(snap["registry"]),
                                                 "path": self._target(ctx)}}
        if ctx.args["mode"] == "snapshot":
            return result
        changed = compare(ctx.notes["baseline"], snap)
        entry_name = ctx.args["entry"]
        overrides: dict[str, t.Any] = {}
        if len(changed) == 1:
            c = changed[0]
            location = ({"kind": "ini", "file": c["file"], "section": c["section"], "key": c["key"]}
                        if c["kind"] == "ini" else {"kind": "registry", "keys": c["keys"], "value": c["value"]})
            overrides = {entry_name: {**location, "confidence": "calibrated",
                                      "source": f"osce.patching.calibrate on {ctx.host} {snap['taken'][:10]}",
                                      "description": f"{ctx.profile.entry(entry_name).description} "
                                                     f"(was {c['before']!r}, became {c['after']!r})"}}
            snippet = yaml.safe_dump(plain({"osce_profile_overrides": overrides}), sort_keys=False, width=120)
        elif not changed:
            snippet = ("# nothing changed between the snapshots: change the setting in the console between "
                       "mode=snapshot and mode=compare, or add the location with extra_files / extra_keys")
        else:
            snippet = (f"# {len(changed)} locations changed; change only the one setting between the snapshots, "
                       "or pick the right one from `changes`")
        result.update(changes=changed, profile_overrides=overrides, snippet=snippet)
        return result
