# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""osce.patching.rollout_step: decide one step of the chain for the server and its clients (no remote call).

The roles ask this module, never Jinja, who is behind, what a step costs, what check mode predicts,
whether the clients may go on and whether the privilege may be released (``module_utils/step.py``).
"""
from __future__ import annotations

import functools
import typing as t
from pathlib import Path

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils import step as core
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils._action_base import ActionFailure, Context, OsceAction

ROOT = Path(__file__).resolve().parents[2]

#: Facts and inventory variables the collection itself sets or reads, besides the roles' arguments.
RUNTIME_VARIABLES = frozenset((
    "osce_server", "osce_client_state", "osce_client_online", "osce_rollout", "osce_release", "osce_settings",
    "osce_preflight_ok", "osce_preflight_report", "osce_sps_found_version", "osce_tmcm_found_version",
    "osce_isps_endpoints", "osce_step", "osce_step_server", "osce_run_id", "osce_run_outcome", "osce_run_stopped",
    "osce_lock", "osce_prediction", "osce_site", "osce_share_host", "osce_sps_sysinfo", "osce_online", "osce_lab",
    "osce_winrm_password", "osce_privilege_state", "osce_calibrate_phase", "osce_calibrate_path",
    "osce_calibrate_entry", "osce_calibration", "osce_break_lock", "osce_run_lock_settle", "osce_batch_health",
    # read by the modules from the play (docs/variables.md), not role arguments
    "osce_installers", "osce_build_map", "osce_catalog_overrides", "osce_profile_overrides", "osce_cp5712r1_installed",
    "osce_tmcm_version_required", "osce_limit_hosts", "osce_preflight_ok",
))


@functools.lru_cache(maxsize=1)
def role_options() -> dict[str, dict[str, t.Any]]:
    """Every option of every role's argument spec (name to spec; a name shared by roles has one meaning)."""
    options: dict[str, dict[str, t.Any]] = {}
    for spec_file in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        specs = (yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}).get("argument_specs") or {}
        for entry in specs.values():
            options.update((entry or {}).get("options") or {})
    return options


def known_variables() -> set[str]:
    """Every option of every role's argument spec, plus the runtime facts above."""
    return set(RUNTIME_VARIABLES) | set(core.SETTING_VARIABLES) | set(role_options())


#: What a role spec's option says about a value; the rest (description, default, required) is not about a given value.
_VALUE_KEYS = ("type", "choices", "elements", "options")


def role_value_problems(task_vars: t.Mapping[str, t.Any],
                        resolve: t.Callable[[t.Any], t.Any] = lambda value: value) -> list[OsceError]:
    """A variable of a role that runs late (verify, sps_ports, ...) with a wrong type or value is named here, in
    preflight, before any change - not when its role starts, after the server was patched. The rollout settings
    are checked with their own messages (``step.settings_from_vars``). ``resolve`` renders a value that is still
    a template (an inventory ``"{{ ... }}"``)."""
    problems = []
    for name, spec in sorted(role_options().items()):
        value = task_vars.get(name)
        if value is None or name in core.SETTING_VARIABLES:
            continue
        value = resolve(value)
        option = {k: v for k, v in spec.items() if k in _VALUE_KEYS}
        result = ArgumentSpecValidator({name: option}).validate({name: value})
        if result.error_messages:
            problems.append(OsceError(name, _expected(option), value, "see the variable in docs/variables.md"))
    return problems


def _expected(option: t.Mapping[str, t.Any]) -> str:
    kind, choices = option.get("type", "str"), [str(c) for c in option.get("choices") or ()]
    if kind == "list":
        return f"must be a list of {', '.join(choices)}" if choices else f"must be a list of {option.get('elements')}"
    words = {"bool": "true or false", "int": "a whole number", "dict": "a mapping", "str": "a text", "float": "a number"}
    return f"must be one of {', '.join(choices)}" if choices else f"must be {words.get(kind, kind)}"


class ActionModule(OsceAction):
    MODULE = "rollout_step"
    VERB = "decide the rollout step"
    NEEDS_CATALOG = True

    def _server(self, ctx: Context) -> dict[str, t.Any]:
        facts = ctx.args.get("server_facts") or (ctx.task_vars.get("ansible_facts") or {}).get("osce_server") \
            or ctx.task_vars.get("osce_server")
        if not isinstance(facts, dict) or not facts.get("level"):
            raise OsceError("server_facts", "are missing (no level)", None,
                            "run osce.patching.build_facts on the OSCE server first (preflight does)")
        # a --check run: the installs earlier steps of this run predicted (nothing was installed)
        return prediction_core.server_facts(facts, self.prediction(ctx))

    def _clients(self, ctx: Context) -> list[core.ClientState]:
        hostvars = ctx.task_vars.get("hostvars") or {}
        groups = ctx.task_vars.get("groups") or {}
        names = list(ctx.args["clients"]) if ctx.args["clients"] is not None else list(groups.get(ctx.args["clients_group"]) or [])
        out = []
        for name in names:
            hv = hostvars[name] if name in hostvars else {}
            out.append(core.ClientState.from_fact(name, hv.get("osce_client_state"), arch=hv.get("osce_client_arch"),
                                                  site=hv.get("osce_site")))
        return out

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        phase, step_id = ctx.args["phase"], ctx.args["step"]
        clients = self._clients(ctx)
        if phase == "preflight":
            return self._preflight(ctx, clients)
        settings = core.settings_from_vars(ctx.task_vars)
        if phase == "batch":
            health = core.batch_health([c for c in clients if c.name in set(ctx.args["batch"])],
                                       settings.max_fail_percentage, step_id)
            return {"osce_batch_health": {"step": step_id, **health.as_dict()}}
        server = self._server(ctx)
        if phase == "finish":
            state = server.get("collection_state") or {}
            stop = core.reboot_stop(step_id, ctx.host, core.to_bool(ctx.task_vars.get("osce_server_reboot_required")
                                                                    or False, "osce_server_reboot_required"),
                                    state.get("reboot_debt"), settings.server_reboot)
            return {"osce_reboot_stop": stop,
                    "reboot_now": bool(settings.server_reboot and state.get("reboot_debt"))}
        notes = list(self.prediction(ctx).get("notes") or [])
        if phase == "close":
            release = core.release_decision((server.get("client_program") or {}).get("build"), clients,
                                            settings.offline_clients, site_job=settings.budget_share is not None)
            out = {"step": step_id, **release.as_dict()}
            if self.predicting(ctx):
                out["prediction"] = "; ".join([prediction_core.RELEASE_ASSUMPTION, *notes])
            return {"osce_release": out}
        forks = ctx.task_vars.get("ansible_forks")
        decision = core.decide_step(step_id, server=server, catalog=ctx.catalog, clients=clients, settings=settings,
                                    check_mode=ctx.check_mode, forks=forks if isinstance(forks, int) else None,
                                    installed=phase == "installed")
        current_build = (server.get("client_program") or {}).get("build")
        gate = core.gate_before_step(step_id, current_build, clients)
        prediction = ""
        if self.predicting(ctx) and step_id != core.CATCH_UP and decision.due:
            prediction = "; ".join([prediction_core.CLIENT_ASSUMPTION, *notes])
        return {"osce_rollout": {**decision.as_dict(), "phase": phase, "gate": gate.as_dict(), "prediction": prediction,
                                 "hosts": list(decision.clients), "settings": settings.as_dict(),
                                 "total_bytes": (decision.plan or {}).get("total_bytes", 0),
                                 "predicted_makespan_s": (decision.plan or {}).get("predicted_makespan_s", 0.0),
                                 "lower_bound_s": (decision.plan or {}).get("lower_bound_s", 0.0),
                                 "budget_bps": settings.bandwidth_budget_bps}}

    def _preflight(self, ctx: Context, clients: list[core.ClientState]) -> dict[str, t.Any]:
        """Every problem at once: unknown variables, a bad setting, then every step planned."""
        problems = [e.line() for e in core.unknown_variables(ctx.task_vars.keys(), known_variables())]
        problems += [e.line() for e in role_value_problems(ctx.task_vars, self._templar.template)]
        try:
            settings = core.settings_from_vars(ctx.task_vars)
        except OsceError as exc:
            return {"osce_settings": {}, "problems": problems + [exc.line()]}
        server = self._server(ctx)
        chain_ids = [s["id"] for s in (server.get("chain") or {}).get("steps") or []]
        forks = ctx.task_vars.get("ansible_forks")
        problems += [e.line() for e in core.check_every_step(chain_ids, server=server, catalog=ctx.catalog,
                                                             clients=clients, settings=settings,
                                                             forks=forks if isinstance(forks, int) else None)]
        # preflight's own sps_ports check (registered earlier on this host): ports to set are server work too
        ports_due = bool((ctx.task_vars.get("preflight_ports") or {}).get("changed"))
        catch_up = core.decide_step(core.CATCH_UP, server=server, catalog=ctx.catalog, clients=clients, settings=settings)
        privilege_off = str((server.get("privilege") or {}).get("state")) == "off"
        problems += [e.line() for e in core.site_job_problems(settings, chain_ids, server.get("collection_state"),
                                                              ctx.host, ports_due=ports_due,
                                                              privilege_to_turn_on=privilege_off and catch_up.due)]
        # a client short of disk space fails preflight when it would take a package in this run
        problems += core.client_disk_problems(clients, None if chain_ids else catch_up.clients)
        return {"osce_settings": settings.as_dict(), "problems": problems, "estate": core.estate(clients),
                "work_due": core.work_due(chain_ids, catch_up.due, server.get("collection_state")),
                "sites": core.job_sites(clients)}

    def check_input(self, ctx: Context) -> None:
        if ctx.args["phase"] == "batch" and not ctx.args["batch"]:
            raise ActionFailure("phase batch needs the batch's clients", "pass batch: \"{{ ansible_play_batch }}\"",
                                field="batch")

    def report(self, ctx, before, after, changes, outcome):
        facts = {k: v for k, v in after.items() if k not in ("problems", "estate")}
        result: dict[str, t.Any] = {"ansible_facts": facts, **after}
        return result
