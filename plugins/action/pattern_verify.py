# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.pattern_verify: the core's client verdict from two round trips (read-only)."""
from __future__ import annotations

import typing as t

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.verdicts import client_verdict
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._client import ClientReader, client_free_space, server_expectations


class ActionModule(OsceAction):
    MODULE = "pattern_verify"
    VERB = "verify the client"

    def check_input(self, ctx: Context) -> None:
        for i, ep in enumerate(ctx.args["sps_endpoints"]):
            if not ep.get("host") or not str(ep.get("port", "")).isdigit():
                raise OsceError(f"sps_endpoints[{i}]", "needs a host and a numeric port", ep,
                                "write e.g. {host: osce-srv, port: 8082}")

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        reader = ClientReader(ctx)
        program = reader.program()
        files = reader.pattern_files(program["arch"], ctx.args.get("app_path"))
        if ctx.args["read_scan_type"]:
            files["scan_method"] = reader.scan_type()
            files["scan_method_source"] = "registry (profile entry client_scan_type)"
        agent = files["agent_pattern_from_file"] or program["agent_pattern"]
        agent_source = ("pattern file (profile entry client_agent_pattern_file)" if files["agent_pattern_from_file"]
                        else "registry (profile entry client_pattern_version)" if program["agent_pattern"] else None)
        server = server_expectations(ctx.args["server_facts"])
        verdict = client_verdict({"program_build": program["program_build"], "scan_method": files["scan_method"],
                                  "bf_ptn": files["bf_ptn"], "crcz_ptn": files["crcz_ptn"], "agent_pattern": agent},
                                 server)
        evidence = dict(verdict.evidence)
        evidence.update(program_version=program["program_version"], arch=program["arch"],
                        scan_method_source=files["scan_method_source"], agent_pattern_source=agent_source,
                        agent_pattern_files=files["agent_pattern_files"], folders=files["folders"])
        state = {"verdict": verdict.verdict, "reason": verdict.reason, "evidence": evidence}
        if ctx.args["sps_endpoints"]:
            state["reachability"] = []
            for ep in ctx.args["sps_endpoints"]:
                res = ctx.gateway.wait_for(str(ep["host"]), int(ep["port"]), int(ep.get("timeout", 5)))
                state["reachability"].append({"host": ep["host"], "port": int(ep["port"]),
                                              "reachable": not res.get("failed"), "elapsed": res.get("elapsed")})
        if ctx.args.get("min_free_bytes", 0) > 0:
            state["disk"] = client_free_space(ctx, ctx.args["min_free_bytes"])
        return state

    def report(self, ctx, before, after, changes, outcome):
        unreachable = [f"{r['host']}:{r['port']}" for r in after.get("reachability", []) if not r["reachable"]]
        if after["verdict"] in ctx.args["fail_on"]:
            raise ActionFailure(f"verdict {after['verdict']}: {after['reason']}",
                                "bring the client up to date (osce.patching.client_upgrade) or drop the verdict "
                                "from fail_on", field=ctx.host, extra=dict(after))
        if unreachable:
            raise ActionFailure(f"smart protection source not reachable from the client: {', '.join(unreachable)}",
                                "check the iSPS ports (osce.patching.sps_ports) and firewalls between client and server",
                                field=ctx.host, extra=dict(after))
        return dict(after)
