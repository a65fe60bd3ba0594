"""The verify role's decision (module_utils/verify_report.py): who fails the policy, the message, the summary."""
from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils import step
from ansible_collections.osce.patching.plugins.module_utils import verify_report as core

FAIL_ON = ["program_behind", "server_not_on_target", "crcz_missing"]
ON_TARGET = {"level": "cp5712r1", "level_name": "OSCE 10.6 SP3 CP 5712r1", "sp_build": 5712,
             "chain": {"steps": [], "blockers": []}}
SP3 = {"level": "sp3", "level_name": "OSCE 10.6 SP3", "sp_build": 5012,
       "chain": {"steps": [{"id": "sp3_patch1_1"}, {"id": "cp5712r1"}], "blockers": []}}


def server(facts):
    return core.ServerView("osce-srv", facts)


def state(verdict, **extra):
    return {"verdict": verdict, "reason": f"why {verdict}", **extra}


# ------------------------------------------------------------------------------- the server


def test_server_text_names_level_build_and_whether_on_target():
    assert server(ON_TARGET).text == "osce-srv on OSCE 10.6 SP3 CP 5712r1 (build 5712)"
    assert server(SP3).text == ("osce-srv on OSCE 10.6 SP3 (build 5012), not on the target CP 5712r1 "
                                "(server_not_on_target)")
    assert server({}).text == "osce-srv on an unknown level (build ?), not on the target CP 5712r1 (server_not_on_target)"
    assert server({"level": "osce11"}).on_target and server({"level": "osce11"}).text.endswith("(build ?)")


@pytest.mark.parametrize("facts, check_mode, pending", [
    (SP3, True, True),
    (SP3, False, False),                                    # only a prediction in check mode
    (ON_TARGET, True, False),                               # nothing left to install
    ({**SP3, "chain": {**SP3["chain"], "blockers": ["SPS 2.x"]}}, True, False),  # a blocked chain will not install
    ({}, True, False),
])
def test_chain_pending_only_in_check_mode_with_an_unblocked_chain(facts, check_mode, pending):
    assert server(facts).chain_pending(check_mode) is pending


# ----------------------------------------------------------------------------- one client


@pytest.mark.parametrize("verdict, facts, judged", [
    ("up_to_date", ON_TARGET, "up_to_date"),
    ("conventional_scan", ON_TARGET, "conventional_scan"),
    ("up_to_date", SP3, "server_not_on_target"),
    ("conventional_scan", SP3, "server_not_on_target"),
    ("program_behind", SP3, "program_behind"),              # its own fault comes first
    ("offline", SP3, "offline"),
])
def test_failing_verdict(verdict, facts, judged):
    assert core.failing_verdict(verdict, server(facts)) == judged


def test_a_client_on_a_server_off_the_target_fails_with_the_server_fix():
    out = core.judge_client("pc1", state("up_to_date"), server=server(SP3), fail_on=FAIL_ON)
    assert out.failing and out.verdict == "up_to_date" and out.failing_verdict == "server_not_on_target"
    assert out.message == ("pc1: verdict server_not_on_target is in osce_verify_fail_on (got why up_to_date). "
                           "Fix: finish the server chain to CP 5712r1 (playbooks/site.yml), then verify again")


def test_other_failing_verdicts_get_the_rerun_fix_and_the_check_mode_mark():
    out = core.judge_client("pc1", state("program_behind"), server=server(ON_TARGET), fail_on=FAIL_ON, check_mode=True)
    assert out.failing
    assert out.message == ("pc1: verdict program_behind is in osce_verify_fail_on (got why program_behind). "
                           "Fix: rerun playbooks/site.yml for this client, or read the evidence with -v "
                           "[check mode: a prediction]")


def test_a_client_in_a_batch_of_a_check_run_is_not_failed_for_the_upgrade_it_would_take():
    """site.yml --check with only client batches due (the server on the target): the clients in this run's
    batches were predicted upgraded, not upgraded, so their read build is behind; the real run fixes it."""
    batched = {**state("program_behind"), "steps": ["catch_up"]}
    out = core.judge_client("pc1", batched, server=server(ON_TARGET), fail_on=FAIL_ON, check_mode=True)
    assert not out.failing and out.failing_verdict == "program_behind"
    assert core.judge_client("pc1", batched, server=server(ON_TARGET), fail_on=FAIL_ON).failing   # a real run
    out = core.verify_report({"pc1": batched}, ["pc1"], server=server(ON_TARGET), fail_on=FAIL_ON, check_mode=True)
    assert out["failing"] == [] and "1 client(s) in this run's batches still read program_behind" in \
        out["summary"]["mode"]


def test_without_a_reason_the_message_names_the_server():
    out = core.judge_client("pc1", {"verdict": "crcz_missing"}, server=server(ON_TARGET), fail_on=FAIL_ON)
    assert "(got osce-srv on OSCE 10.6 SP3 CP 5712r1 (build 5712))." in out.message


@pytest.mark.parametrize("verdict", ["up_to_date", "conventional_scan", "bf_in_use", "unknown", "offline"])
def test_verdicts_outside_the_policy_do_not_fail(verdict):
    out = core.judge_client("pc1", state(verdict), server=server(ON_TARGET), fail_on=FAIL_ON)
    assert not out.failing and out.message == ""


def test_an_opted_in_inferred_verdict_fails():
    out = core.judge_client("pc1", state("bf_in_use"), server=server(ON_TARGET), fail_on=[*FAIL_ON, "bf_in_use"])
    assert out.failing and "verdict bf_in_use is in osce_verify_fail_on" in out.message


def test_server_not_on_target_is_reported_not_failed_while_the_chain_is_pending_in_check_mode():
    pending = core.judge_client("pc1", state("up_to_date"), server=server(SP3), fail_on=FAIL_ON, check_mode=True)
    assert not pending.failing and pending.failing_verdict == "server_not_on_target"
    # a real fault still fails in check mode
    behind = core.judge_client("pc1", state("program_behind"), server=server(SP3), fail_on=FAIL_ON, check_mode=True)
    assert behind.failing


def test_a_failed_read_fails_whatever_the_policy_unless_offline():
    error = "Failed to verify the client patterns on pc1: access denied. Fix: check the account."
    failed = core.judge_client("pc1", state("unknown", error=error), server=server(ON_TARGET), fail_on=[])
    assert failed.failing and failed.message == error
    offline = core.judge_client("pc1", state("offline", error=error), server=server(ON_TARGET), fail_on=[])
    assert not offline.failing


def test_a_client_without_state_is_unknown():
    out = core.judge_client("pc1", None, server=server(ON_TARGET), fail_on=FAIL_ON)
    assert out.verdict == "unknown" and not out.failing and out.warnings == ()


# ------------------------------------------------------------------------------ the fleet


def fleet():
    return {
        "pc1": state("up_to_date"),
        "pc2": state("program_behind", reboot_required=True),
        "pc3": state("conventional_scan"),
        "pc4": state("offline"),
        "pc5": state("up_to_date", warnings=["agent_pattern_behind: older"]),
    }


def test_fleet_summary_on_the_target():
    report = core.verify_report(fleet(), ["pc1", "pc2", "pc3", "pc4", "pc5", "pc6"], server=server(ON_TARGET),
                                fail_on=FAIL_ON, server_reboot_required=True)
    summary = report["summary"]
    assert list(summary) == ["mode", "server", "clients", "by_verdict", "failing_policy", "warnings_not_failing",
                             "conventional_scan", "offline", "reboot_pending", "server_reboot_pending", "rests_on",
                             "reachability"]
    assert summary["mode"] == "verified on the hosts"
    assert summary["clients"] == 6
    assert summary["by_verdict"] == {"up_to_date": 2, "program_behind": 1, "conventional_scan": 1, "offline": 1,
                                     "unknown": 1}
    assert list(summary["by_verdict"]) == ["up_to_date", "program_behind", "conventional_scan", "offline", "unknown"]
    assert summary["failing_policy"] == FAIL_ON
    assert summary["warnings_not_failing"] == ["pc5"]
    assert summary["conventional_scan"] == ["pc3"] and summary["offline"] == ["pc4"]
    assert summary["reboot_pending"] == ["pc2"] and summary["server_reboot_pending"] is True
    assert report["failing"] == ["pc2"]
    assert report["clients"]["pc2"]["failing"] and report["clients"]["pc2"]["message"].startswith("pc2: verdict program_behind")
    assert report["clients"]["pc5"]["warnings"] == ["agent_pattern_behind: older"]
    assert set(report["clients"]) == {"pc1", "pc2", "pc3", "pc4", "pc5", "pc6"}


def test_fleet_off_the_target_fails_every_client_that_matches_its_server():
    report = core.verify_report(fleet(), list(fleet()), server=server(SP3), fail_on=FAIL_ON)
    assert report["failing"] == ["pc1", "pc2", "pc3", "pc5"]
    assert report["summary"]["server"].endswith("not on the target CP 5712r1 (server_not_on_target)")
    # the counts are by the clients' own verdicts
    assert report["summary"]["by_verdict"]["up_to_date"] == 2


def test_check_mode_summary_says_it_is_a_prediction_and_names_the_pending_chain():
    report = core.verify_report(fleet(), list(fleet()), server=server(SP3), fail_on=FAIL_ON, check_mode=True)
    assert report["summary"]["mode"] == (
        core.CHECK_MODE_TEXT + "; the server chain (sp3_patch1_1, cp5712r1) is still to be installed, so "
        "server_not_on_target is reported, not failed")
    assert report["failing"] == ["pc2"]
    on_target = core.verify_report(fleet(), list(fleet()), server=server(ON_TARGET), fail_on=FAIL_ON, check_mode=True)
    assert on_target["summary"]["mode"] == core.CHECK_MODE_TEXT


# ---------------------------------------------------- the state verify records (step.state_after_verify)


def test_state_after_verify_records_reason_warnings_and_error():
    result = {"verdict": "bf_in_use", "reason": "BF.ptn beside CRCz.ptn",
              "evidence": {"program_build": 5712, "warnings": ["agent_pattern_behind: older"]}}
    warned = step.state_after_verify("pc1", {}, result, fail_on=FAIL_ON)
    assert warned["verdict"] == "bf_in_use" and warned["reason"] == "BF.ptn beside CRCz.ptn"
    assert warned["warnings"] == ["agent_pattern_behind: older", "bf_in_use: BF.ptn beside CRCz.ptn"]
    assert warned["build"] == 5712 and warned["error"] == ""
    # opted in: the verdict fails, so it is not a warning as well
    failing = step.state_after_verify("pc1", {}, result, fail_on=[*FAIL_ON, "bf_in_use"])
    assert failing["warnings"] == ["agent_pattern_behind: older"]
    error = step.state_after_verify("pc1", {}, {"failed": False, "osce_error": {"msg": "Failed to verify x"}})
    assert error["error"] == "Failed to verify x" and error["verdict"] == "unknown"


def test_state_after_verify_offline_keeps_the_build_and_records_no_error():
    before = step.state_from_preflight("pc1", {"verdict": "up_to_date", "reason": "ok",
                                               "evidence": {"program_build": 5712}})
    assert before["reason"] == "ok" and before["warnings"] == []
    after = step.state_after_verify("pc1", before, {"unreachable": True, "msg": "Failed to connect"})
    assert after["verdict"] == "offline" and after["build"] == 5712 and after["error"] == ""
    assert after["reason"] == "" and after["warnings"] == []


def test_the_summary_says_which_profile_confidence_each_check_rests_on():
    evidences = {
        "pc1": {"checks": {"crcz_ptn": {"entries": ["client_crcz_file"], "confidence": {"client_crcz_file": "guessed"}},
                           "program_build": {"confidence": {"client_program_version": "documented"}}}},
        "pc2": {"checks": {"update_source": {"confidence": {"client_update_source": "calibrated"}}}},
        "pc3": "not a mapping",
    }
    report = core.verify_report(fleet(), list(fleet()), server=server(ON_TARGET), fail_on=FAIL_ON, evidences=evidences)
    assert report["summary"]["rests_on"] == {"crcz_ptn": {"client_crcz_file": "guessed"},
                                             "program_build": {"client_program_version": "documented"},
                                             "update_source": {"client_update_source": "calibrated"}}
    assert core.verify_report(fleet(), ["pc1"], server=server(ON_TARGET), fail_on=FAIL_ON)["summary"]["rests_on"] == {}


# ------------------------------------------------------------------------- who probes the smart protection source
PORTS = [{"host": "srv", "port": p} for p in (8082, 4345, 5274)]


def probed(plan):
    return {h: [p["port"] for p in points] for h, points in plan["hosts"].items()}


def test_site_scope_deals_each_port_once_per_site_over_the_clients_that_answered():
    states = {"pc1": {"online": True, "site": "a"}, "pc2": {"online": False, "site": "a"},
              "pc3": {"online": True, "site": "a"}, "pc4": {"online": True, "site": "b"}, "pc5": None}
    plan = core.probe_plan(states, list(states), PORTS)
    # pc2 did not answer: it probes nothing, its site's ports go to pc1 and pc3; pc5 has no state (site "")
    assert probed(plan) == {"pc1": [8082, 5274], "pc2": [], "pc3": [4345], "pc4": [8082, 4345, 5274],
                            "pc5": [8082, 4345, 5274]}
    assert sorted(p for points in probed(plan).values() for p in points) == sorted([8082, 4345, 5274] * 3)


def test_client_scope_probes_every_port_from_every_answering_client():
    states = {"pc1": {"online": True}, "pc2": {"online": False}}
    assert probed(core.probe_plan(states, list(states), PORTS, "client")) == {"pc1": [8082, 4345, 5274], "pc2": []}
    with pytest.raises(ValueError, match="must be one of site, client"):
        core.probe_plan(states, list(states), PORTS, "everyone")


def test_a_prober_that_gave_no_answer_leaves_its_port_not_proven_and_fails_nobody():
    states = {"pc1": {"online": True, "site": "a", "verdict": "up_to_date"},
              "pc2": {"online": True, "site": "a", "verdict": "up_to_date"}}
    plan = core.probe_plan(states, list(states), PORTS[:2])
    results = {"pc1": [{"host": "srv", "port": 8082, "reachable": True}]}     # pc2 dropped before its probe
    report = core.verify_report(states, list(states), server=server(ON_TARGET), fail_on=FAIL_ON, probes=plan,
                                reachability=results)
    assert report["failing"] == []
    assert report["summary"]["reachability"] == {"a": {"srv:8082": "reachable from pc1",
                                                       "srv:4345": "not proven: pc2 gave no answer"}}


def test_in_client_scope_a_closed_port_fails_only_the_client_that_found_it():
    states = {"pc1": {"online": True, "verdict": "up_to_date", "error": "not reachable: srv:4345"},
              "pc2": {"online": True, "verdict": "up_to_date"}}
    plan = core.probe_plan(states, list(states), PORTS, "client")
    results = {h: [{**p, "reachable": not (h == "pc1" and p["port"] == 4345)} for p in PORTS] for h in states}
    report = core.verify_report(states, list(states), server=server(ON_TARGET), fail_on=FAIL_ON, probes=plan,
                                reachability=results)
    assert report["failing"] == ["pc1"] and report["summary"]["reachability"] == core.PROBED_BY_EACH
    nothing = core.verify_report(states, list(states), server=server(ON_TARGET), fail_on=FAIL_ON,
                                 probes=core.probe_plan(states, list(states), [], "site"))
    assert nothing["summary"]["reachability"].startswith("not probed in this run")
