"""The one step decision (module_utils/step.py): settings, behind, gates, batches, release."""
from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.osce.patching.plugins.module_utils import step as core
from ansible_collections.osce.patching.plugins.module_utils.chain import plan_chain
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError

FULL = ("sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1")
# every FAQ start level with the chain plan_chain gives it (with Patch 2)
LEVELS = [("gm", FULL), ("sp1", FULL), ("sp2", FULL), ("sp3", FULL[1:]), ("sp3_patch1", FULL[2:]),
          ("sp3_patch1_1", FULL[2:]), ("cp5495", FULL[3:]), ("sp3_patch2", FULL[4:]), ("cp5712", FULL[4:]),
          ("cp5712r1", ()), ("osce11", ())]


def server(catalog, level, client_build, **extra):
    chain = plan_chain(level, catalog).as_dict()
    return {"level": level, "chain": chain, "client_program": {"build": client_build}, **extra}


def client(name, build, online=True, arch="x64", **extra):
    fact = {"online": online, "preflight_online": extra.pop("preflight_online", online), "build": build,
            "arch": arch, **extra}
    return core.ClientState.from_fact(name, fact)


SETTINGS = core.settings_from_vars({})


# ------------------------------------------------------------------------------- settings


def test_defaults_are_the_role_defaults():
    import yaml
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    defaults = {}
    for role in ("server_chain", "client_rollout", "preflight"):
        defaults.update(yaml.safe_load((root / "roles" / role / "defaults" / "main.yml").read_text()))
    settings = SETTINGS.as_dict()
    for name, value in settings.items():
        key = f"osce_{name}"
        if key not in defaults:
            continue
        expected = defaults[key]
        if key in ("osce_client_bps", "osce_maintenance_window_s", "osce_rollout_max_batches", "osce_budget_share"):
            expected = expected or None  # 0 means "not set"
        if key == "osce_serial":
            value = list(value)
        if key == "osce_site_budgets_bps":
            value = dict(value)
        assert value == expected, key


@pytest.mark.parametrize(("name", "value", "field"), [
    ("osce_bandwidth_budget_bps", -5, "osce_bandwidth_budget_bps"),
    ("osce_bandwidth_budget_bps", "fast", "osce_bandwidth_budget_bps"),
    ("osce_serial", 0, "osce_serial[0]"),
    ("osce_serial", ["200%"], "osce_serial[0]"),
    ("osce_serial", [1, "x%"], "osce_serial[1]"),
    ("osce_max_fail_percentage", 150, "osce_max_fail_percentage"),
    ("osce_server_reboot", "perhaps", "osce_server_reboot"),
    ("osce_offline_clients", "ignore", "osce_offline_clients"),
    ("osce_rollout_canary", 0, "osce_rollout_canary"),
    ("osce_package_bytes", {"x86": 1}, "osce_package_bytes.x64"),
    ("osce_site_budgets_bps", {"a": 0}, "osce_site_budgets_bps.a"),
])
def test_a_bad_value_names_its_variable(name, value, field):
    with pytest.raises(OsceError) as err:
        core.settings_from_vars({name: value})
    assert err.value.field == field
    assert "Fix:" in err.value.line()


def test_text_from_extra_vars_is_converted_once():
    settings = core.settings_from_vars({"osce_server_reboot": "true", "osce_bandwidth_budget_bps": "12500000",
                                        "osce_serial": "[1, '50%']", "osce_rollout_max_batches": "1"})
    assert settings.server_reboot is True
    assert settings.bandwidth_budget_bps == 12_500_000
    assert settings.serial == (1, "50%")
    assert settings.rollout_max_batches == 1


def test_unknown_variable_names_the_closest():
    errors = core.unknown_variables(["osce_bandwith_budget_bps", "osce_serial", "other"], core.SETTING_VARIABLES)
    assert [e.field for e in errors] == ["osce_bandwith_budget_bps"]
    assert "osce_bandwidth_budget_bps" in errors[0].fix


# ------------------------------------------------------------------------------------ steps


@pytest.mark.parametrize(("level", "chain"), LEVELS, ids=[lv for lv, _c in LEVELS])
def test_every_faq_level_every_chain_step_is_due_and_the_rest_not(catalog, level, chain):
    srv = server(catalog, level, 4000)
    clients = [client("pc1", 4000), client("pc2", 4000, arch="x86")]
    for step_id in FULL:
        decision = core.decide_step(step_id, server=srv, catalog=catalog, clients=clients, settings=SETTINGS,
                                    check_mode=True)
        assert decision.due == (step_id in chain), (level, step_id)
        assert decision.to_level == catalog.step(step_id).resulting_level
        if decision.due:
            assert decision.server_facts["level"] == decision.to_level  # predicted before the install
            assert sorted(decision.clients) == ["pc1", "pc2"]
            assert decision.plan is not None and decision.serial


def test_one_definition_of_behind_a_newer_client_is_current(catalog):
    srv = server(catalog, "sp3_patch2", 5600)
    clients = [client("old", 5495), client("same", 5600), client("newer", 5700), client("unread", None)]
    catch_up = core.decide_step(core.CATCH_UP, server=srv, catalog=catalog, clients=clients, settings=SETTINGS)
    assert list(catch_up.clients) == ["old"]
    gate = core.gate_before_step("cp5712r1", 5600, clients)
    assert set(gate.blocking) == {"old", "unread"}  # unreadable counts as not current
    # with the step's client build given (osce_installers.cp5712r1.client_build), a client already on it
    # takes nothing; without it (the catalog says "user"), every online client is planned
    given = dataclasses.replace(catalog, steps=tuple(dataclasses.replace(s, client_build=5712) if s.id == "cp5712r1"
                                                     else s for s in catalog.steps))
    current = [client("on5712", 5712), client("on5700", 5700)]
    decision = core.decide_step("cp5712r1", server=srv, catalog=given, clients=current, settings=SETTINGS)
    assert list(decision.clients) == ["on5700"] and decision.target_build == 5712
    unknown = core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=current, settings=SETTINGS)
    assert sorted(unknown.clients) == ["on5700", "on5712"]
    assert any("client_build" in w for w in unknown.warnings)


def test_sizes_are_honest_about_unknowns(catalog):
    srv = server(catalog, "sp3", 4000)
    decision = core.decide_step("sp3_patch1_1", server=srv, catalog=catalog, clients=[client("pc1", 4000)],
                                settings=SETTINGS)
    assert decision.package_bytes_source == {"x86": "assumed (osce_package_bytes)",
                                             "x64": "assumed (osce_package_bytes)"}
    assert any("osce_installers.sp3_patch1_1.client_package_bytes" in w for w in decision.warnings)
    r1 = core.decide_step("cp5712r1", server=server(catalog, "sp3_patch2", 5600), catalog=catalog,
                          clients=[client("pc1", 5600)], settings=SETTINGS)
    assert r1.package_bytes_source == {"x86": "catalog", "x64": "catalog"}
    assert r1.package_bytes["x64"] == catalog.step("cp5712r1").package_bytes("x64")


def test_offline_and_failed_clients_take_no_step(catalog):
    srv = server(catalog, "sp3_patch2", 5600)
    clients = [client("up", 5600), client("off", 5600, online=False),
               core.ClientState.from_fact("failed", {"online": True, "build": 5600, "upgrade_error": "boom"})]
    decision = core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=clients, settings=SETTINGS)
    assert list(decision.clients) == ["up"]
    assert decision.offline == ("off",)


def test_pinned_serial_and_throttle_win_and_a_serial_without_canary_is_refused(catalog):
    srv = server(catalog, "sp3_patch2", 5600)
    clients = [client(f"pc{i}", 5600) for i in range(4)]
    pinned = core.settings_from_vars({"osce_serial": [1, "100%"], "osce_throttle": 3})
    decision = core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=clients, settings=pinned)
    assert decision.serial == (1, "100%") and decision.throttle == 3
    with pytest.raises(OsceError) as err:
        core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=clients,
                         settings=core.settings_from_vars({"osce_serial": ["100%"]}))
    assert err.value.field == "osce_serial" and "osce_rollout_no_canary" in err.value.fix
    allowed = core.settings_from_vars({"osce_serial": ["100%"], "osce_rollout_no_canary": True})
    assert core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=clients, settings=allowed).serial == ("100%",)


def test_max_batches_is_passed_to_the_planner(catalog):
    srv = server(catalog, "sp3_patch2", 5600)
    clients = [client(f"pc{i}", 5600) for i in range(20)]
    one = core.settings_from_vars({"osce_rollout_max_batches": 1})
    assert len(core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=clients, settings=one).serial) == 1


def test_after_the_install_the_takers_are_behind_the_read_build(catalog):
    srv = server(catalog, "sp3_patch2", 5712)  # re-read after the install: the server offers 5712
    decision = core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=[client("a", 5600), client("b", 5712)],
                                settings=SETTINGS, installed=True)
    assert decision.due and list(decision.clients) == ["a"] and decision.target_build == 5712


def test_check_mode_says_the_install_is_predicted(catalog):
    srv = server(catalog, "sp3_patch2", 5712)
    decision = core.decide_step("cp5712r1", server=srv, catalog=catalog, clients=[client("a", 5600)],
                                settings=SETTINGS, installed=True, check_mode=True)
    assert decision.due and decision.reason.startswith("predicted installed by this --check run")


def test_a_check_run_decides_the_next_step_on_the_predicted_server(catalog):
    """Step 2 of a --check run: the server facts read at preflight, with step 1's predicted install over
    them (module_utils/prediction.py), and the clients as step 1's batches predicted them."""
    from ansible_collections.osce.patching.plugins.module_utils import prediction

    read = server(catalog, "sp3", 3000)          # preflight: chain sp3_patch1_1 -> ... -> cp5712r1
    predicted = prediction.installed({}, level="sp3_patch1_1", level_name=None, sp_build=4100, client_build=4100,
                                     step="sp3_patch1_1")
    srv = prediction.server_facts(read, predicted)
    clients = [client("a", 4100), client("b", 4100)]   # predicted by step 1's client batches
    decision = core.decide_step("cp5495", server=srv, catalog=catalog, clients=clients, settings=SETTINGS,
                                check_mode=True)
    assert decision.due and decision.from_level == "sp3_patch1_1" and set(decision.clients) == {"a", "b"}
    assert core.gate_before_step("cp5495", srv["client_program"]["build"], clients).ok
    # the close of step 1 releases the privilege: every client is on the predicted build
    assert core.release_decision(srv["client_program"]["build"], clients).release


def test_preflight_plans_every_step_and_reports_each_problem_once(catalog):
    srv = server(catalog, "sp3", 4000)
    clients = [client(f"pc{i}", 4000) for i in range(3)]
    bad = core.settings_from_vars({"osce_serial": ["100%"]})
    problems = core.check_every_step(list(FULL[1:]), server=srv, catalog=catalog, clients=clients, settings=bad)
    assert len(problems) == 1 and problems[0].field == "osce_serial"


# ------------------------------------------------------------------------- health, release


def test_batch_health_counts_a_drop_as_a_failure():
    batch = [core.ClientState.from_fact("canary", {"online": False, "dropped": True, "build": 5600})]
    health = core.batch_health(batch, 10, "cp5712r1")
    assert health.tripped and health.failed == ("canary",) and "dropped" in health.message
    fine = [client("a", 5712), client("b", 5712)]
    assert not core.batch_health(fine, 10).tripped
    half = [client("a", 5712), core.ClientState.from_fact("b", {"online": True, "upgrade_error": "exit 5"})]
    assert core.batch_health(half, 50).tripped is False  # exactly 50% is not more than 50%
    assert core.batch_health(half, 49).tripped is True


def test_release_only_when_nobody_would_upgrade_outside_a_batch():
    current = [client("a", 5712), client("b", 5800)]
    assert core.release_decision(5712, current).release
    outside_limit = current + [core.ClientState.from_fact("c", None)]
    decision = core.release_decision(5712, outside_limit)
    assert not decision.release and "outside --limit" in decision.held["c"]
    assert "playbooks/privilege.yml" in decision.message
    dropped = [core.ClientState.from_fact("d", {"online": False, "preflight_online": True, "dropped": True,
                                                "build": 5600})]
    assert core.release_decision(5712, dropped).held == {"d": "dropped during its upgrade"}


@pytest.mark.parametrize(("policy", "released"), [("hold", False), ("release", True)])
def test_offline_clients_follow_the_policy(policy, released):
    clients = [client("a", 5712), client("off", None, online=False)]
    decision = core.release_decision(5712, clients, policy)
    assert decision.release is released
    assert ("off" in decision.offline_released) is released


def test_state_after_upgrade_drop_error_and_success():
    before = core.state_from_preflight("pc1", {"verdict": "program_behind", "evidence": {"program_build": 5600}})
    assert before["read"] and before["preflight_online"] and before["build"] == 5600
    ok = core.state_after_upgrade("pc1", before, "cp5712r1", {"changed": True, "build": 5600, "reboot_required": True},
                                  {"changed": False, "build": 5712})
    assert ok["build"] == 5712 and ok["steps"] == ["cp5712r1"] and ok["reboot_required"] and not ok["dropped"]
    drop = core.state_after_upgrade("pc1", before, "cp5712r1", {"changed": True, "build": 5600},
                                    {"unreachable": True, "msg": "gone"})
    assert drop["dropped"] and not drop["online"] and drop["preflight_online"]
    # failed_when: false clears `failed`; osce_error still carries the failure
    err = core.state_after_upgrade("pc1", before, "cp5712r1", {"failed": False, "osce_error": {"msg": "Failed to x"}})
    assert err["upgrade_error"] == "Failed to x" and err["steps"] == []


# ---------------------------------------------------------------------------- client disk


def test_client_space_need_is_the_largest_package_of_its_arch_plus_crcz_and_margin(catalog):
    x64 = core.client_space_need(catalog, "x64", 1000)
    r1 = catalog.step("cp5712r1")
    assert (x64.package_bytes, x64.crcz_bytes) == (r1.package_bytes("x64"), r1.crcz_ptn_bytes)
    assert x64.total == 46_347_060 + 20_971_520 + 1000
    assert core.client_space_need(catalog, "x86", 0).total == 39_007_028 + 20_971_520
    # an unknown architecture is sized as x64, the larger package
    assert core.client_space_need(catalog, None, 0).arch == "x64"
    # a step whose size nobody gave is planned with osce_package_bytes: so is its disk need
    big = core.client_space_need(catalog, "x64", 0, {"x86": 1, "x64": 90_000_000})
    assert big.package_bytes == 90_000_000
    # only the steps of the server's chain count; with none left, the package of its level (a catch-up)
    sized = dataclasses.replace(catalog, steps=tuple(
        dataclasses.replace(s, client_package_bytes={"x86": 10**9, "x64": 10**9}) if s.id == "sp3" else s
        for s in catalog.steps))
    assert core.client_space_need(sized, "x64", 0, server=server(sized, "sp3_patch2", 5600)).package_bytes == 46_347_060
    assert core.client_space_need(sized, "x64", 0, server=server(sized, "sp1", 4000)).package_bytes == 10**9
    assert core.client_space_need(sized, "x64", 0, server=server(sized, "cp5712r1", 5712)).package_bytes == 46_347_060


def test_client_space_problem_names_the_client_the_need_and_the_fix(catalog):
    need = core.client_space_need(catalog, "x64", 104_857_600)
    assert core.client_space_problem("pc1", {"drive": "C", "free_bytes": need.total}, need) is None
    line = core.client_space_problem("pc1", {"drive": "C", "free_bytes": 100_000_000}, need).line()
    assert line.startswith(f"pc1: drive C: has less free space than the {need.total} bytes its upgrade needs "
                           "(x64 client package 46347060 + CRCz.ptn 20971520 + osce_client_disk_margin_bytes 104857600)"
                           " (got 100000000). Fix: free at least")
    assert "\n" not in line
    unknown = core.client_space_problem("pc1", {"drive": "C", "free_bytes": None}, need).line()
    assert unknown.startswith("pc1: free space of drive C: unknown")


def test_disk_problems_only_for_reachable_clients_that_take_a_package():
    short = client("pc1", 5600, disk_problem="pc1: drive C: short")
    offline = client("pc2", 5600, online=False, disk_problem="pc2: drive C: short")
    fine = client("pc3", 5600)
    assert core.client_disk_problems([short, offline, fine]) == ["pc1: drive C: short"]
    assert core.client_disk_problems([short, offline, fine], takers=["pc3"]) == []
    # the problem survives the later transitions of the client state
    after = core.state_after_verify("pc1", short.as_fact(), {"verdict": "up_to_date", "evidence": {}})
    assert after["disk_problem"] == "pc1: drive C: short"


def test_preflight_records_the_disk_problem_pattern_verify_returns():
    fact = core.state_from_preflight("pc1", {"verdict": "program_behind", "evidence": {"program_build": 5600},
                                             "disk": {"ok": False, "problem": "pc1: drive C: short"}})
    assert fact["disk_problem"] == "pc1: drive C: short"
    assert core.state_from_preflight("pc1", {"verdict": "up_to_date", "evidence": {}})["disk_problem"] == ""


@pytest.mark.parametrize("value", [-1, "lots", 1.5])
def test_disk_margin_must_be_whole_bytes(value):
    with pytest.raises(OsceError) as err:
        core.settings_from_vars({"osce_client_disk_margin_bytes": value})
    assert err.value.field == "osce_client_disk_margin_bytes"


# ------------------------------------------------------------------------ reboot owed at the end


def test_a_reboot_debt_is_work_for_a_run():
    assert core.work_due([], False, {"reboot_debt": {"step": "cp5712r1", "exit_code": 3010}}) is True
    assert core.work_due([], False, {"privilege_marker_present": True}) is True
    assert core.work_due(["cp5712r1"], False, {}) is True
    assert core.work_due([], False, {"reboot_debt": None}) is False


def test_a_reboot_owed_after_the_last_install_stops_the_run_with_the_fix():
    # issue 13: CP 5712r1 exiting 3010 on the last step used to end the run with rc 0 and a debt nobody paid
    stop = core.reboot_stop("cp5712r1", "srv", True, {"step": "cp5712r1", "exit_code": 3010}, server_reboot=False)
    assert stop["step"] == "cp5712r1" and "needs a reboot" in stop["reason"] and "exited 3010" in stop["reason"]
    assert "osce_server_reboot=true" in stop["fix"]
    # a debt left by an earlier run stops it too; with the opt-in, finish reboots instead
    assert core.reboot_stop("finish", "srv", False, {"step": "sp3_patch2", "exit_code": 3010}, False)["reason"] \
        == "srv needs a reboot to finish what was installed (sp3_patch2 exited 3010)"
    assert core.reboot_stop("cp5712r1", "srv", True, {"step": "cp5712r1"}, server_reboot=True) is None
    assert core.reboot_stop("cp5712r1", "srv", False, None, server_reboot=False) is None


def test_a_site_job_plans_on_its_share_and_is_refused_while_the_server_has_work():
    settings = core.settings_from_vars({"osce_bandwidth_budget_bps": 6_250_000, "osce_budget_share": "0.5"})
    assert settings.bandwidth_budget_bps == 3_125_000 and settings.budget_share == 0.5
    assert core.settings_from_vars({}).budget_share is None
    with pytest.raises(OsceError, match="osce_budget_share.*from 0 to 1"):
        core.settings_from_vars({"osce_budget_share": 1.5})
    assert core.site_job_problems(settings, [], {}, "srv") == []
    assert core.site_job_problems(core.settings_from_vars({}), ["cp5712r1"], {}, "srv") == []   # a whole run
    problems = core.site_job_problems(settings, ["cp5712r1"], {"reboot_debt": {"step": "cp5495"}}, "srv",
                                      ports_due=True)
    line = problems[0].line()
    assert "osce_budget_share" in line and "cp5712r1 are due" in line and "a reboot debt is owed" in line
    assert "ports are to be set" in line and "run the server job first" in line
    off = core.site_job_problems(settings, [], {}, "srv", privilege_to_turn_on=True)[0].line()
    assert "the upgrade privilege is off while clients are behind" in off


def test_a_site_job_never_releases_the_privilege():
    clients = [core.ClientState(name="pc1", build=5712, read=True, online=True, preflight_online=True, site="site1")]
    assert core.release_decision(5712, clients).release is True
    held = core.release_decision(5712, clients, site_job=True)
    assert held.release is False and "server job" in held.message
    assert core.job_sites(clients + [core.ClientState(name="pc2", build=5495, read=False)]) == ["site1"]
