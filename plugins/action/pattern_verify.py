# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.pattern_verify: the core's client verdict from two round trips (read-only)."""
from __future__ import annotations

import hashlib
import json
import typing as t

from ansible_collections.osce.patching.plugins.module_utils import step
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.verdicts import FACT_VERDICTS, INFERRED_VERDICTS, client_verdict
from ansible_collections.osce.patching.plugins.module_utils.verify_report import ENDPOINT_PROBLEM, bad_endpoint
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Context, OsceAction
from ansible_collections.osce.patching.plugins.plugin_utils._client import ClientReader, client_free_space, server_expectations
from ansible_collections.osce.patching.plugins.plugin_utils._native import plain


def server_read(server_facts: t.Any) -> str:
    """Fingerprint of the server facts a read was judged against: equal means the server was not re-read."""
    return hashlib.sha256(json.dumps(plain(dict(server_facts or {})), sort_keys=True, default=str).encode()).hexdigest()[:16]


def reusable_reads(previous: t.Any, args: t.Mapping[str, t.Any], task_vars: t.Mapping[str, t.Any]) -> dict | None:
    """The earlier reads of ``previous`` when they still describe the client (see the option's text), else None."""
    if not isinstance(previous, t.Mapping) or any(previous.get(k) for k in ("failed", "unreachable", "skipped")):
        return None
    reads = previous.get("reads")
    if not isinstance(reads, t.Mapping) or not isinstance(reads.get("program"), t.Mapping) \
            or not isinstance(reads.get("files"), t.Mapping):
        return None
    if reads.get("server_read") != server_read(args.get("server_facts")) \
            or reads.get("app_path") != args.get("app_path") or bool(reads.get("read_scan_type")) != bool(args["read_scan_type"]):
        return None
    state = task_vars.get("osce_client_state")
    if not isinstance(state, t.Mapping) or state.get("steps") or state.get("upgrade_error") or state.get("dropped"):
        return None
    return plain(dict(reads))


def server_names(task_vars: t.Mapping[str, t.Any]) -> list[str]:
    """Names and addresses of the OSCE server (first host of osce_server), to tell a custom update source."""
    hosts = (task_vars.get("groups") or {}).get("osce_server") or []
    if not hosts:
        return []
    name = str(hosts[0])
    names = [name]
    address = ((task_vars.get("hostvars") or {}).get(name) or {}).get("ansible_host")
    if address and str(address) not in names:
        names.append(str(address))
    return names


def program_read(result: t.Any, args: t.Mapping[str, t.Any], task_vars: t.Mapping[str, t.Any]) -> dict | None:
    """The program read of a client_upgrade (finish) result when it showed the build the server offers now: the
    client cannot move past the server's build, so the read still holds (the pattern files are read afresh)."""
    if not isinstance(result, t.Mapping) or any(result.get(k) for k in ("failed", "unreachable", "skipped")):
        return None
    reads = result.get("reads")
    program = reads.get("program") if isinstance(reads, t.Mapping) else None
    if not isinstance(program, t.Mapping) or "update_source" not in program:
        return None
    offered = ((args.get("server_facts") or {}).get("client_program") or {})
    offered = offered.get("build") if isinstance(offered, t.Mapping) else None
    build = program.get("program_build")
    if not isinstance(build, int) or build != offered or reads.get("expected_build") != offered:
        return None
    state = task_vars.get("osce_client_state")
    if not isinstance(state, t.Mapping) or state.get("upgrade_error") or state.get("dropped") or state.get("build") != build:
        return None
    return plain(dict(program))


class ActionModule(OsceAction):
    MODULE = "pattern_verify"
    VERB = "verify the client"

    def check_input(self, ctx: Context) -> None:
        margin = ctx.args.get("disk_margin_bytes")
        if margin is not None and margin < 0:
            raise OsceError("disk_margin_bytes", "must be 0 or more", margin, "use e.g. 104857600 (100 MiB)")
        if margin is not None and ctx.args.get("min_free_bytes", 0) > 0:
            raise OsceError("disk_margin_bytes", "and min_free_bytes are mutually exclusive", margin,
                            "give min_free_bytes for a fixed threshold, or disk_margin_bytes to size it from the "
                            "client package")
        bad = bad_endpoint(ctx.args["sps_endpoints"])
        if bad is not None:
            raise OsceError(f"sps_endpoints[{bad}]", ENDPOINT_PROBLEM, ctx.args["sps_endpoints"][bad],
                            "write e.g. {host: osce-srv, port: 8082}")

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        reader = ClientReader(ctx)
        reads = reusable_reads(ctx.args.get("previous"), ctx.args, ctx.task_vars)
        upgraded = program_read(ctx.args.get("program_read"), ctx.args, ctx.task_vars) if reads is None else None
        if reads is not None:
            # preflight read this client against the same server read, and nothing upgraded it since
            program, files, update_source = dict(reads["program"]), dict(reads["files"]), reads.get("update_source")
        else:
            program = upgraded if upgraded is not None else reader.program()
            files = reader.pattern_files(program["arch"], ctx.args.get("app_path"))
            if ctx.args["read_scan_type"]:
                files["scan_method"] = reader.scan_type()
                files["scan_method_source"] = "registry (profile entry client_scan_type)"
            update_source = program.get("update_source")
        agent = files["agent_pattern_from_file"] or program["agent_pattern"]
        agent_source = ("pattern file (profile entry client_agent_pattern_file)" if files["agent_pattern_from_file"]
                        else "registry (profile entry client_pattern_version)" if program["agent_pattern"] else None)
        server = server_expectations(ctx.args["server_facts"])
        server.update(build=ctx.args["server_facts"].get("sp_build"), names=server_names(ctx.task_vars))
        verdict = client_verdict({"program_build": program["program_build"], "scan_method": files["scan_method"],
                                  "bf_ptn": files["bf_ptn"], "crcz_ptn": files["crcz_ptn"], "agent_pattern": agent,
                                  "update_source": update_source},
                                 server)
        evidence = dict(verdict.evidence)
        for check in evidence["checks"].values():
            check["confidence"] = {name: self._confidence(ctx, name) for name in check["entries"]}
        if files["scan_method_source"].endswith("(inferred)"):
            evidence["checks"]["scan_method"] = {"basis": "inferred", "entries": ["client_agent_pattern_file",
                                                                                  "client_conventional_pattern_file"],
                                                 "result": "pass" if files["scan_method"] else "not_checked",
                                                 "detail": "scan method inferred from the pattern files"}
        evidence.update(program_version=program["program_version"], arch=program["arch"],
                        scan_method_source=files["scan_method_source"], agent_pattern_source=agent_source,
                        agent_pattern_files=files["agent_pattern_files"], folders=files["folders"])
        state = {"verdict": verdict.verdict, "reason": verdict.reason, "evidence": evidence,
                 "reads": {"program": program, "files": files, "update_source": update_source,
                           "server_read": server_read(ctx.args.get("server_facts")), "app_path": ctx.args.get("app_path"),
                           "read_scan_type": bool(ctx.args["read_scan_type"]), "reused": reads is not None,
                           "program_reused": reads is not None or upgraded is not None}}
        if ctx.args["sps_endpoints"]:
            state["reachability"] = []
            for ep in ctx.args["sps_endpoints"]:
                res = ctx.gateway.wait_for(str(ep["host"]), int(ep["port"]), int(ep.get("timeout", 5)))
                state["reachability"].append({"host": ep["host"], "port": int(ep["port"]),
                                              "reachable": not res.get("failed"), "elapsed": res.get("elapsed")})
        if ctx.args.get("disk_margin_bytes") is not None:
            if step.client_takes_package(ctx.args.get("server_facts"), program["program_build"]):
                state["disk"] = self._package_space(ctx, program["arch"])
            else:   # one round trip saved per client on a rerun: nothing will be downloaded to it
                state["disk"] = {"skipped": "takes no package in this run (on the server's client build, no step due)"}
        elif ctx.args.get("min_free_bytes", 0) > 0:
            state["disk"] = client_free_space(ctx, ctx.args["min_free_bytes"])
        return state

    def _load(self, ctx: Context) -> None:
        # the catalog (client package sizes) is needed only to size the disk check
        self.NEEDS_CATALOG = ctx.args.get("disk_margin_bytes") is not None
        super()._load(ctx)

    @staticmethod
    def _package_space(ctx: Context, arch: str | None) -> dict[str, t.Any]:
        """Free space against the client's own need: its package, CRCz.ptn and the margin (step.py decides)."""
        sizes = ctx.task_vars.get("osce_package_bytes")
        need = step.client_space_need(ctx.catalog, arch or ctx.task_vars.get("osce_client_arch"),
                                      ctx.args["disk_margin_bytes"],
                                      sizes if isinstance(sizes, dict) and set(sizes) >= {"x86", "x64"} else None,
                                      server=ctx.args["server_facts"])
        disk = client_free_space(ctx, need.total)
        disk.pop("problem", None)
        disk["need"] = {"arch": need.arch, "package_bytes": need.package_bytes, "crcz_bytes": need.crcz_bytes,
                        "margin_bytes": need.margin_bytes}
        problem = step.client_space_problem(ctx.host, disk, need)
        if problem is not None:
            disk["problem"] = problem.line()
        return disk

    @staticmethod
    def _confidence(ctx: Context, name: str) -> str:
        return str(ctx.profile.entry(name).confidence) if name in ctx.profile else "unknown"

    def report(self, ctx, before, after, changes, outcome):
        unreachable = [f"{r['host']}:{r['port']}" for r in after.get("reachability", []) if not r["reachable"]]
        fail_on = ctx.args["fail_on"] if ctx.args["fail_on"] is not None else list(FACT_VERDICTS)
        if after["verdict"] in fail_on:
            raise ActionFailure(f"verdict {after['verdict']}: {after['reason']}",
                                "bring the client up to date (osce.patching.client_upgrade) or drop the verdict "
                                "from fail_on", field=ctx.host, extra=dict(after))
        if unreachable:
            raise ActionFailure(f"smart protection source not reachable from the client: {', '.join(unreachable)}",
                                "check the iSPS ports (osce.patching.sps_ports) and firewalls between client and server",
                                field=ctx.host, extra=dict(after))
        result = dict(after)
        warnings = list(after["evidence"].get("warnings") or [])
        if after["verdict"] in INFERRED_VERDICTS and after["verdict"] not in fail_on:
            warnings.insert(0, f"{ctx.host}: {after['verdict']} (inferred check, not failing: add it to fail_on to "
                               f"fail on it): {after['reason']}")
        if warnings:
            result["warnings"] = warnings
        return result
