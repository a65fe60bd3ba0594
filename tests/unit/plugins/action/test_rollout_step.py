"""osce.patching.rollout_step in a --check run: the step decision on the server this run predicted."""
from __future__ import annotations

from fake_windows import FakeWindows, make_action

from ansible_collections.osce.patching.plugins.action.rollout_step import ActionModule

CHAIN = {"steps": [{"id": "sp3_patch1_1", "from_level": "sp3"}, {"id": "cp5495", "from_level": "sp3_patch1_1"},
                   {"id": "sp3_patch2", "from_level": "cp5495"}, {"id": "cp5712r1", "from_level": "sp3_patch2"}]}
READ = {"level": "sp3", "sp_build": 3000, "client_program": {"build": 3000}, "chain": CHAIN}
# step sp3_patch1_1 predicted installed, its client batches predicted through
PREDICTION = {"run_id": "r1", "notes": [],
              "server": {"level": "sp3_patch1_1", "sp_build": 4100, "client_program": {"build": 4100}}}


def run(args, *, check_run=True, clients_build=4100, prediction=None):
    fake = FakeWindows()
    clients = {f"pc{i}": {"osce_client_state": {"online": True, "preflight_online": True, "build": clients_build,
                                                "arch": "x64"}} for i in (1, 2)}
    tv = {"osce_server": READ, "hostvars": clients, "groups": {"osce_clients": list(clients)}, "osce_run_id": "r1",
          "ansible_check_mode": check_run, "osce_prediction": PREDICTION if prediction is None else prediction}
    action, tv = make_action(ActionModule, args, fake, check_mode=check_run, task_vars=tv)
    res = action.run(task_vars=tv)
    assert not res.get("failed"), res.get("msg")
    assert fake.calls == []   # a decision: no round trip
    return res


def test_a_check_run_decides_the_next_step_from_the_predicted_server():
    res = run({"step": "cp5495"})["osce_rollout"]
    assert res["due"] and res["from_level"] == "sp3_patch1_1"
    assert res["gate"]["target_build"] == 4100 and res["gate"]["ok"]
    assert res["server_facts"]["level"] == "cp5495" and res["hosts"] == ["pc1", "pc2"]
    assert res["prediction"].startswith("prediction: ")


def test_installed_phase_in_a_check_run_targets_the_predicted_build():
    res = run({"step": "sp3_patch1_1", "phase": "installed"}, clients_build=3000)["osce_rollout"]
    assert res["target_build"] == 4100 and res["hosts"] == ["pc1", "pc2"]
    assert res["reason"].startswith("predicted installed")


def test_close_in_a_check_run_releases_against_the_predicted_build_and_says_so():
    res = run({"step": "sp3_patch1_1", "phase": "close"})["osce_release"]
    assert res["release"] and res["server_build"] == 4100 and res["prediction"].startswith("prediction: ")
    # the clients still on the read build would hold it, had step 1's batches not been predicted
    res = run({"step": "sp3_patch1_1", "phase": "close"}, clients_build=3000)["osce_release"]
    assert not res["release"]


def test_a_real_run_ignores_a_prediction():
    res = run({"step": "cp5495"}, check_run=False)["osce_rollout"]
    assert res["gate"]["target_build"] == 3000 and res["prediction"] == ""
    res = run({"step": "sp3_patch1_1", "phase": "close"}, check_run=False)["osce_release"]
    assert res["server_build"] == 3000 and "prediction" not in res


def test_a_late_roles_variable_with_a_wrong_value_is_named_in_preflight():
    from ansible_collections.osce.patching.plugins.action.rollout_step import role_value_problems

    lines = [e.line() for e in role_value_problems({
        "osce_verify_probe_scope": "sites", "osce_verify_probe_ports": "maybe",
        "osce_verify_fail_on": ["program_behind", "bf"], "osce_sps_ports_restart": "yes",
        "osce_serial": "not checked here",   # a rollout setting: step.settings_from_vars names it
    })]
    assert lines == [
        "osce_verify_fail_on: must be a list of up_to_date, program_behind, server_not_on_target, crcz_missing, "
        "bf_in_use, custom_update_source, agent_pattern_behind, conventional_scan, unknown "
        "(got [\"program_behind\", \"bf\"]). Fix: see the variable in docs/variables.md",
        "osce_verify_probe_ports: must be true or false (got 'maybe'). Fix: see the variable in docs/variables.md",
        "osce_verify_probe_scope: must be one of site, client (got 'sites'). Fix: see the variable in docs/variables.md",
    ]
    rendered = role_value_problems({"osce_verify_probe_scope": "{{ scope }}"},
                                   resolve=lambda v: "client" if v == "{{ scope }}" else v)
    assert rendered == []
