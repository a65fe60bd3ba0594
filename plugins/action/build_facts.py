# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.build_facts: read the server, detect its level, plan the chain (read-only)."""
from __future__ import annotations

import re
import typing as t

from ansible_collections.osce.patching.plugins.module_utils import collection_state as cs
from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.chain import DONE_LEVELS, plan_chain
from ansible_collections.osce.patching.plugins.module_utils.ini import parse_ini
from ansible_collections.osce.patching.plugins.module_utils.levels import (
    R1_STEP, detect_level, normalize_build_map,
)
from ansible_collections.osce.patching.plugins.plugin_utils import _server
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._state import CollectionState

SUBSETS = ("patch_history", "web_server", "client_program", "collection_state")


def history_with_raw_dates(history: t.Any, text: str | None) -> list[dict[str, t.Any]]:
    """Patch-history entries with the install date as written in the file (``InstallDate``), so
    level detection sees an ambiguous ``10/01/2015`` instead of a date already guessed from it."""
    if not isinstance(history, list):
        return []
    raw: dict[str, t.Any] = {}
    if text:
        doc = parse_ini(text)
        for name in doc.section_names():
            raw[name] = doc.get(name, "InstallDate")
    return [{**entry, "installed_on": raw.get(entry.get("name"), entry.get("installed_on"))} for entry in history]


def patch2_in_history(history: list[dict[str, t.Any]], build_map: t.Any) -> bool | None:
    """Whether SP3 Patch 2 is in the patch history (its build or its name); ``None`` when the history
    holds nothing to tell (not read, missing or empty)."""
    if not history:
        return None
    builds = set(normalize_build_map(build_map)["sp3_patch2"])
    return any(entry.get("build") in builds or re.search(r"\bpatch\s*2\b", str(entry.get("name") or ""), re.I)
               for entry in history)


class ActionModule(OsceAction):
    MODULE = "build_facts"
    VERB = "gather OSCE server facts"
    NEEDS_CATALOG = True

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        subset = set(ctx.args["gather_subset"])
        if "all" in subset:
            subset = set(SUBSETS)
        server = _server.ServerReader(ctx)
        facts = server.basics()                       # round trip 1: Information key
        facts.update(server.ofcscan())                # round trip 2: ofcscan.ini
        facts["patch_history"] = server.patch_history() if "patch_history" in subset else "unknown"
        facts["web_server"] = server.web_server() if "web_server" in subset else {"kind": "unknown", "source": "not read"}
        stated = _server.r1_statement(ctx)
        r1_undecided = stated is None and facts["sp_build"] in set(normalize_build_map(ctx.catalog.levels)["cp5712r1"])
        evidence = {"server_version": facts["version"], "sp_build": facts["sp_build"], "cp5712r1_installed": stated}
        state = None
        if "collection_state" in subset or r1_undecided:
            # Our own record decides CP 5712 vs 5712r1 first: read only when the build is 5712 (or asked).
            state = CollectionState(server.locator).read()
            # (or its intent, when the connection was lost before the record and the build proves it)
            evidence["applied_record"] = cs.applied_or_confirmed(state, R1_STEP, facts["sp_build"])
        if "patch_history" not in subset and r1_undecided and evidence.get("applied_record") is None:
            # then only the history's install date tells r1 from the original: read it rather than guess "CP 5712"
            subset.add("patch_history")
            facts["patch_history"] = server.patch_history()
        history = (history_with_raw_dates(facts["patch_history"], server.locator.file_text("server_hotfix_history"))
                   if "patch_history" in subset else [])
        evidence["patch_history"] = history
        detection = detect_level(evidence, ctx.catalog.levels)
        facts.update(level=detection.level, level_name=detection.display_name,
                     level_reasons=list(detection.reasons), warnings=list(detection.warnings))
        if "client_program" in subset:
            facts["client_program"] = server.client_program()
        else:
            facts["client_program"] = _server.client_build_from_catalog(ctx.catalog, detection.level)
        plan = plan_chain(detection.level, ctx.catalog, include_patch2=ctx.args["include_patch2"],
                          sps_versions=ctx.args["sps_versions"] or {}, tmcm_version=ctx.args.get("tmcm_version"),
                          patch2_installed=patch2_in_history(history, ctx.catalog.levels))
        facts["chain"] = plan.as_dict()
        facts["warnings"].extend(facts["web_server"].pop("warnings", []))
        facts["web_server"].pop("assumed", None)
        facts["warnings"].extend(plan.warnings)
        if state is not None:
            # a --check run: the run lock and privilege marker earlier tasks of this run predicted (they wrote
            # nothing); the level and builds stay as read, since nothing was installed
            facts["collection_state"] = prediction_core.collection_state(state, self.prediction(ctx))
        facts["cp5712r1_evidence"] = {"stated": stated, "applied_record": evidence.get("applied_record"),
                                      "record_read": state is not None}
        facts["cp_installed"] = detection.level in DONE_LEVELS
        facts["profile_entries"] = server.locator.used_entries()
        return facts

    def report(self, ctx, before, after, changes, outcome):
        result: dict[str, t.Any] = {"ansible_facts": {"osce_server": after}}
        if after.get("warnings"):
            result["warnings"] = list(after["warnings"])
        return result
