# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.build_facts: read the server, detect its level, plan the chain (read-only)."""
from __future__ import annotations

import typing as t

from ansible_collections.osce.patching.plugins.module_utils.chain import plan_chain
from ansible_collections.osce.patching.plugins.module_utils.levels import detect_level
from ansible_collections.osce.patching.plugins.plugin_utils import _server
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._state import CollectionState

SUBSETS = ("patch_history", "web_server", "client_program", "collection_state")


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
        detection = detect_level(
            {"server_version": facts["version"], "sp_build": facts["sp_build"],
             "patch_history": facts["patch_history"] if isinstance(facts["patch_history"], list) else []},
            ctx.catalog.levels,
        )
        facts.update(level=detection.level, level_name=detection.display_name,
                     level_reasons=list(detection.reasons), warnings=list(detection.warnings))
        if "client_program" in subset:
            facts["client_program"] = server.client_program()
        else:
            facts["client_program"] = _server.client_build_from_catalog(ctx.catalog, detection.level)
        plan = plan_chain(detection.level, ctx.catalog, include_patch2=ctx.args["include_patch2"],
                          sps_versions=ctx.args["sps_versions"] or {}, tmcm_version=ctx.args.get("tmcm_version"))
        facts["chain"] = plan.as_dict()
        facts["warnings"].extend(facts["web_server"].pop("warnings", []))
        facts["web_server"].pop("assumed", None)
        facts["warnings"].extend(plan.warnings)
        if "collection_state" in subset:
            facts["collection_state"] = CollectionState(server.locator).read()
        facts["cp_installed"] = detection.level in ("cp5712r1", "osce11")
        facts["profile_entries"] = server.locator.used_entries()
        return facts

    def report(self, ctx, before, after, changes, outcome):
        result: dict[str, t.Any] = {"ansible_facts": {"osce_server": after}}
        if after.get("warnings"):
            result["warnings"] = list(after["warnings"])
        return result
