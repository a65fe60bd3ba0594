"""Unit tests for the bandwidth-budget rollout planner (plugins/module_utils/rollout.py)
and the rollout report schema (data/schemas/rollout-report.schema.json)."""
from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path

import pytest

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.rollout import (
    DEFAULT_CLIENT_BPS, fitted_sizes, natural_sizes, plan_rollout)

MB = 1_048_576
CP5712R1 = {"x86": int(37.2 * MB), "x64": int(44.2 * MB)}  # FAQ sizes, as the catalog gives them
ROOT = Path(__file__).resolve().parents[4]


def fleet(n, *, x86_every=3, offline_every=0, sites=0):
    out = []
    for i in range(n):
        c = {"name": f"pc{i:06d}", "arch": "x86" if x86_every and i % x86_every == 0 else "x64"}
        if sites:
            c["site"] = f"site{i % sites}"
        if offline_every and i % offline_every == 0:
            c["online"] = False
        out.append(c)
    return out


def assert_within_budget(plan, budget, site_budgets=None):
    """No batch downloads more than its budget could carry over its own download window."""
    for b in plan.batches:
        assert b.bytes <= budget * b.download_s * (1 + 1e-9), b
        for site, sb in b.bytes_by_site.items():
            assert sb <= site_budgets[site] * b.download_s * (1 + 1e-9), (site, b)
    # and the throttle never lets the concurrent downloads exceed a budget
    assert plan.throttle * plan.client_bps <= budget or plan.throttle == 1
    for site, t in plan.site_throttle.items():
        assert plan.throttle <= t


# ----------------------------------------------------------------------------- the budget invariant


@pytest.mark.parametrize("n", [1, 2, 7, 50, 333, 5000])
@pytest.mark.parametrize("budget,rate", [(10e6, 2.5e6), (10e6, 3e6), (1e6, 12.5e6), (125e6, 12.5e6)])
def test_no_batch_exceeds_budget_over_its_window(n, budget, rate):
    plan = plan_rollout(fleet(n), package_bytes=CP5712R1, budget_bps=budget, client_bps=rate,
                        install_s=90)
    assert sum(plan.serial) == n
    assert_within_budget(plan, budget)
    assert plan.predicted_makespan_s >= plan.lower_bound_s - 1e-6


def test_per_site_budgets_hold_per_batch_and_in_the_throttle():
    sites = {"site0": 4e6, "site1": 20e6, "site2": 20e6}
    plan = plan_rollout(fleet(600, sites=3), package_bytes=CP5712R1, budget_bps=25e6,
                        client_bps=2e6, site_budgets=sites, install_s=60)
    assert_within_budget(plan, 25e6, sites)
    assert plan.site_throttle == {"site0": 2, "site1": 10, "site2": 10}
    assert plan.throttle == 2  # the tightest link bounds the single throttle
    assert any("site0" in w for w in plan.warnings)
    # the floor honours the slowest site link: site0 carries a third of the bytes at 4 MB/s
    site0 = sum(CP5712R1[c["arch"]] for c in fleet(600, sites=3) if c["site"] == "site0")
    assert plan.lower_bound_s == pytest.approx(max(plan.total_bytes / 25e6, site0 / 4e6) + 60)
    # every batch carries its share of each site (interleaved), not one site after another
    big = max(plan.batches, key=lambda b: b.count)
    assert len(big.bytes_by_site) == 3


def test_sites_without_a_budget_only_use_the_server_budget():
    plan = plan_rollout(fleet(30, sites=2), package_bytes=CP5712R1, budget_bps=10e6,
                        client_bps=2.5e6, site_budgets={"elsewhere": 1e6})
    assert plan.throttle == 4
    assert plan.site_throttle == {}


# ----------------------------------------------------------------------------- edge fleets


def test_zero_clients():
    plan = plan_rollout([], package_bytes=CP5712R1, budget_bps=10e6)
    assert plan.serial == [] and plan.hosts == [] and plan.batches == []
    assert plan.lower_bound_s == 0 and plan.predicted_makespan_s == 0
    assert plan.predicted_over_floor is None
    assert any("no online clients" in w for w in plan.warnings)
    assert plan_rollout(None, package_bytes=CP5712R1, budget_bps=10e6).serial == []


def test_all_offline():
    clients = fleet(5, offline_every=1)
    plan = plan_rollout(clients, package_bytes=CP5712R1, budget_bps=10e6, client_bps=1e6)
    assert plan.serial == [] and plan.clients == 0
    assert plan.offline == [c["name"] for c in clients]
    assert any("5 client(s) offline" in w for w in plan.warnings)
    assert any("no online clients" in w for w in plan.warnings)


def test_offline_clients_are_excluded_and_reported():
    clients = fleet(20, offline_every=4)
    plan = plan_rollout(clients, package_bytes=CP5712R1, budget_bps=10e6, client_bps=1e6)
    assert plan.offline == ["pc000000", "pc000004", "pc000008", "pc000012", "pc000016"]
    assert sum(plan.serial) == 15 and not set(plan.offline) & set(plan.hosts)


def test_one_client():
    plan = plan_rollout([{"name": "only", "arch": "x86"}], package_bytes=CP5712R1,
                        budget_bps=10e6, client_bps=2.5e6, install_s=30)
    assert plan.serial == [1] and plan.hosts == ["only"]
    b = plan.batches[0]
    # one client alone pulls at its own rate, not at the budget
    assert b.download_s == pytest.approx(CP5712R1["x86"] / 2.5e6)
    assert plan.predicted_makespan_s == pytest.approx(CP5712R1["x86"] / 2.5e6 + 30)
    assert plan.lower_bound_s == pytest.approx(CP5712R1["x86"] / 10e6 + 30)


def test_100k_clients_fast_and_linear():
    clients = fleet(100_000, offline_every=97)
    best = math.inf
    for dummy in range(3):
        t = time.perf_counter()
        plan = plan_rollout(clients, package_bytes=CP5712R1, budget_bps=125e6, client_bps=12.5e6,
                            install_s=120)
        best = min(best, time.perf_counter() - t)
    assert best < 1.0, best
    assert sum(plan.serial) == 100_000 - len(plan.offline)
    assert len(plan.hosts) == sum(plan.serial) == len(set(plan.hosts))
    assert plan.serial[0] == 1
    assert all(b >= a for a, b in zip(plan.serial[1:], plan.serial[2:]))
    assert plan.predicted_over_floor < 1.10
    assert_within_budget(plan, 125e6)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("budget", [0, -5, "lots", "12500000", None, True, float("nan"), float("inf")])
def test_bad_budget_is_one_line_naming_the_variable(budget):
    with pytest.raises(OsceError) as err:
        plan_rollout(fleet(3), package_bytes=CP5712R1, budget_bps=budget)
    text = str(err.value)
    assert text.startswith("osce_bandwidth_budget_bps: ")
    assert "\n" not in text and "Fix: " in text


@pytest.mark.parametrize("kwargs,variable", [
    ({"client_bps": 0}, "osce_client_bps"),
    ({"client_bps": "fast"}, "osce_client_bps"),
    ({"growth": 0.5}, "osce_rollout_growth"),
    ({"growth": "2"}, "osce_rollout_growth"),
    ({"canary": 0}, "osce_rollout_canary"),
    ({"canary": 1.5}, "osce_rollout_canary"),
    ({"install_s": -1}, "osce_client_install_s"),
    ({"window_s": 0}, "osce_maintenance_window_s"),
    ({"max_tail_overhead": 0}, "osce_rollout_max_tail_overhead"),
    ({"forks": 0}, "osce_rollout_forks"),
    ({"max_batches": 0}, "osce_rollout_max_batches"),
    ({"site_budgets": {"a": -1}}, "osce_site_budgets_bps.a"),
    ({"site_budgets": ["a"]}, "osce_site_budgets_bps"),
    ({"package_bytes": {"x86": 0, "x64": 1}}, "osce_package_bytes.x86"),
    ({"package_bytes": {"arm": 5}}, "osce_package_bytes.arm"),
    ({"package_bytes": {"x86": None}}, "osce_package_bytes"),
    ({"package_bytes": 44}, "osce_package_bytes"),
])
def test_bad_options_name_their_variable(kwargs, variable):
    args = {"package_bytes": CP5712R1, "budget_bps": 10e6, **kwargs}
    with pytest.raises(OsceError) as err:
        plan_rollout(fleet(3), **args)
    assert str(err.value).startswith(variable + ": ")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("clients,field", [
    ([{"name": "a", "arch": "arm64"}], "osce_client_arch"),
    ([{"name": "a", "arch": 64.5}], "osce_client_arch"),
    ([{"name": "a", "online": "maybe"}], "osce_online"),
    ([{"arch": "x86"}], "osce_rollout_clients[0].name"),
    ([{"name": "a"}, {"name": "a"}], "osce_rollout_clients[1].name"),
    (["pc1"], "osce_rollout_clients[0]"),
    ("pc1", "osce_rollout_clients"),
])
def test_bad_clients(clients, field):
    with pytest.raises(OsceError) as err:
        plan_rollout(clients, package_bytes=CP5712R1, budget_bps=10e6)
    assert str(err.value).startswith(field + ": ")


# ----------------------------------------------------------------------------- architectures


def test_mix_of_architectures_bytes_and_canary_coverage():
    clients = [{"name": f"a{i}", "arch": "x64"} for i in range(8)] + \
              [{"name": f"b{i}", "arch": "32-bit"} for i in range(4)]
    plan = plan_rollout(clients, package_bytes=CP5712R1, budget_bps=10e6, client_bps=2.5e6,
                        canary=2, install_s=1)
    assert plan.total_bytes == 8 * CP5712R1["x64"] + 4 * CP5712R1["x86"]
    assert sum(b.bytes for b in plan.batches) == plan.total_bytes
    assert plan.batches[0].arch_counts == {"x86": 1, "x64": 1}  # the canary tries both packages
    assert sum(b.arch_counts["x86"] for b in plan.batches) == 4


def test_unknown_architecture_and_unknown_package_size_warn():
    clients = [{"name": "a", "arch": "x64"}, {"name": "b"}, {"name": "c", "arch": "x86"}]
    plan = plan_rollout(clients, package_bytes={"x64": 100, "x86": None}, budget_bps=10,
                        client_bps=10, install_s=0)
    assert plan.total_bytes == 300
    assert any("unknown architecture" in w for w in plan.warnings)
    assert any("package size for x86 unknown" in w for w in plan.warnings)


# ----------------------------------------------------------------------------- throttle rule


@pytest.mark.parametrize("budget,rate,throttle", [
    (10e6, 2.5e6, 4), (10e6, 3e6, 3), (10e6, 10e6, 1), (10e6, 20e6, 1), (125e6, 12.5e6, 10),
    (12_500_000, 1_250_000, 10),
])
def test_throttle_is_budget_over_client_rate(budget, rate, throttle):
    plan = plan_rollout(fleet(100), package_bytes=CP5712R1, budget_bps=budget, client_bps=rate)
    assert plan.throttle == throttle
    assert plan.effective_bps == pytest.approx(min(budget, throttle * rate))
    # on a link 5x faster than the budget the throttled peak is throttle x client rate <= budget
    peak = min(5 * budget, plan.throttle * rate)
    assert peak <= budget or plan.throttle == 1


def test_unknown_client_rate_assumes_a_gigabit_client():
    plan = plan_rollout(fleet(10), package_bytes=CP5712R1, budget_bps=250e6)
    assert plan.client_bps == DEFAULT_CLIENT_BPS and plan.client_bps_assumed
    assert plan.throttle == 2
    assert any("client download rate unknown" in w for w in plan.warnings)


def test_utilization_warning_when_throttle_cannot_fill_the_budget():
    plan = plan_rollout(fleet(100), package_bytes=CP5712R1, budget_bps=10e6, client_bps=3e6)
    assert plan.budget_utilization == pytest.approx(0.9)
    assert any("uses 90% of the budget" in w for w in plan.warnings)


# ----------------------------------------------------------------------------- batch-count rule


def test_natural_and_fitted_sizes():
    assert natural_sizes(100, 1, 2.0, 99) == [1, 2, 4, 8, 16, 32, 37]
    assert natural_sizes(4, 1, 2.0, 99) == [1, 3]          # remainder 1 < 2 merged into the batch before
    assert natural_sizes(100, 1, 2.0, 3) is None           # growth 2 needs 7 batches, only 3 allowed
    # 3 batches for 100: 1 + g + g^2 = 100 -> g = (sqrt(397) - 1) / 2 = 9.462; boundaries 1, 10.46 -> 10
    sizes, g = fitted_sizes(100, 1, 3, 2.0)
    assert sizes == [1, 9, 90] and g == pytest.approx((math.sqrt(397) - 1) / 2)
    assert fitted_sizes(100, 5, 2, 2.0)[0] == [5, 95]


def test_tail_rule_limits_the_number_of_batches():
    # 100 x64 clients of 10 MB at 10 MB/s: transfer 100 s; tail 2 s -> k_max = 0.10 * 100 / 2 = 5
    clients = [{"name": f"h{i}", "arch": "x64"} for i in range(100)]
    plan = plan_rollout(clients, package_bytes={"x64": 10_000_000}, budget_bps=10e6,
                        client_bps=10e6, install_s=2)
    assert plan.max_batches_by_tail_rule == 5
    assert len(plan.serial) == 5 and plan.serial[0] == 1 and sum(plan.serial) == 100
    assert plan.growth > 2.0
    # install tails: 5 x 2 s = 10 s <= 10% of 100 s
    assert len(plan.serial) * 2 <= 0.10 * plan.transfer_s + 1e-9


def test_canary_plus_rest_even_when_tails_dominate():
    plan = plan_rollout(fleet(10), package_bytes=CP5712R1, budget_bps=100e6, client_bps=100e6,
                        install_s=600)
    assert plan.serial == [1, 9]
    assert any("canary batch costs one extra tail" in w for w in plan.warnings)
    assert plan_rollout(fleet(10), package_bytes=CP5712R1, budget_bps=100e6, client_bps=100e6,
                        install_s=600, max_batches=1).serial == [10]


def test_small_fleet_inside_the_canary():
    plan = plan_rollout(fleet(3), package_bytes=CP5712R1, budget_bps=10e6, canary=5)
    assert plan.serial == [3]


# ----------------------------------------------------------------------------- hand calculations


def test_makespan_equals_hand_calculation_two_batches():
    """5 clients, x64 40 MB / x86 30 MB, budget 10 MB/s, client 5 MB/s, install 60 s.

    throttle = floor(10 / 5) = 2; transfer X = (3*40 + 2*30) MB / 10 MB/s = 18 s;
    tail rule: 0.10 * 18 / 60 = 0.03 -> k_max 0, so the minimum: canary + rest.
    batch 0 = [a] (x64): one client at 5 MB/s: 40/5 = 8 s download + 60 s install = 68 s.
    batch 1 = [b, c, d, e] = 30+40+40+30 = 140 MB, 2 at once at 5 MB/s = 10 MB/s: 14 s
      (the slowest single download, 40/5 = 8 s, is shorter) + 60 s install = 74 s.
    makespan = 68 + 74 = 142 s; floor = 180 MB / 10 MB/s + 60 s = 78 s.
    forks: throttle 2 + installs in flight ceil(60 s * 10 MB/s / 36 MB) = 17 -> 19, capped at the
    largest batch, 4.
    """
    clients = [{"name": "a", "arch": "x64"}, {"name": "b", "arch": "x86"},
               {"name": "c", "arch": "x64"}, {"name": "d", "arch": "x64"},
               {"name": "e", "arch": "x86"}]
    plan = plan_rollout(clients, package_bytes={"x86": 30_000_000, "x64": 40_000_000},
                        budget_bps=10_000_000, client_bps=5_000_000, install_s=60)
    assert plan.throttle == 2
    assert plan.serial == [1, 4]
    assert plan.transfer_s == pytest.approx(18.0)
    assert plan.max_batches_by_tail_rule == 0
    b0, b1 = plan.batches
    assert (b0.hosts, b0.bytes, b0.download_s, b0.duration_s) == (["a"], 40_000_000, 8.0, 68.0)
    assert (b1.hosts, b1.bytes) == (["b", "c", "d", "e"], 140_000_000)
    assert b1.download_s == pytest.approx(14.0) and b1.duration_s == pytest.approx(74.0)
    assert (b1.start_s, b1.end_s) == (pytest.approx(68.0), pytest.approx(142.0))
    assert plan.predicted_makespan_s == pytest.approx(142.0)
    assert plan.lower_bound_s == pytest.approx(78.0)
    assert plan.recommended_forks == 4


def test_makespan_equals_hand_calculation_three_batches():
    """7 clients x 10 MB, budget = client = 1 MB/s (throttle 1), install 2 s, growth 2.

    X = 70 MB / 10 MB/s = 70 s; k_max = floor(0.10 * 70 / 2) = 3; growth 2 gives 1, 2, 4 (3 batches).
    batches: 10 s + 2 = 12 s; 20 s + 2 = 22 s; 40 s + 2 = 42 s -> makespan 76 s; floor 70 + 2 = 72 s.
    """
    clients = [{"name": f"h{i}", "arch": "x64"} for i in range(7)]
    plan = plan_rollout(clients, package_bytes={"x64": 10_000_000, "x86": 1},
                        budget_bps=1_000_000, client_bps=1_000_000, install_s=2)
    assert plan.serial == [1, 2, 4]
    assert [b.duration_s for b in plan.batches] == pytest.approx([12.0, 22.0, 42.0])
    assert plan.predicted_makespan_s == pytest.approx(76.0)
    assert plan.lower_bound_s == pytest.approx(72.0)
    assert plan.predicted_over_floor == pytest.approx(76 / 72)


def test_forks_below_throttle_limit_concurrency():
    """throttle 4 but forks 2: two downloads at 2.5 MB/s = 5 MB/s; 8 x 10 MB -> batch 2 (7 hosts):
    workers carry a client through download (4 s) and install (1 s): 7 / 2 * 5 s = 17.5 s versus
    70 MB / 5 MB/s + 1 s = 15 s -> 17.5 s."""
    clients = [{"name": f"h{i}", "arch": "x64"} for i in range(8)]
    plan = plan_rollout(clients, package_bytes={"x64": 10_000_000}, budget_bps=10e6,
                        client_bps=2.5e6, install_s=1, forks=2, max_batches=2)
    assert plan.throttle == 4 and plan.batches[1].concurrency == 2
    assert plan.batches[1].duration_s == pytest.approx(17.5)
    assert any("forks 2 is below" in w for w in plan.warnings)


# ----------------------------------------------------------------------------- maintenance window


def test_window_exceeded_says_how_many_clients_fit():
    clients = [{"name": f"h{i}", "arch": "x64"} for i in range(7)]
    plan = plan_rollout(clients, package_bytes={"x64": 10_000_000}, budget_bps=1e6,
                        client_bps=1e6, install_s=2, window_s=40)
    # fewest batches: [1, 6] = (10 + 2) + (60 + 2) = 74 s > 40 s
    assert plan.serial == [1, 6]
    assert plan.predicted_makespan_s == pytest.approx(74.0)
    # canary done at 12 s; batch 2 has 40 - 12 - 2 = 26 s of its 60 s download: 6 * 26/60 -> 2
    assert plan.clients_in_window == 3
    assert any("exceeds the maintenance window" in w and "about 3 of 7" in w for w in plan.warnings)


def test_window_met_keeps_the_plan():
    clients = [{"name": f"h{i}", "arch": "x64"} for i in range(7)]
    plan = plan_rollout(clients, package_bytes={"x64": 10_000_000}, budget_bps=1e6,
                        client_bps=1e6, install_s=2, window_s=3600)
    assert plan.serial == [1, 2, 4] and plan.clients_in_window == 7
    assert not any("window" in w for w in plan.warnings)


def test_plan_as_dict_is_plain_json():
    plan = plan_rollout(fleet(20, sites=2), package_bytes=CP5712R1, budget_bps=10e6,
                        client_bps=2.5e6, site_budgets={"site0": 5e6, "site1": 5e6})
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["serial"] == plan.serial and data["batches"][0]["hosts"] == plan.batches[0].hosts


# ----------------------------------------------------------------------------- report schema


SCHEMA_PATH = ROOT / "data" / "schemas" / "rollout-report.schema.json"

REPORT = {
    "schema_version": 1,
    "run_id": "20250101T120000Z-lab",
    "started_at": "2025-01-01T12:00:00Z",
    "finished_at": "2025-01-01T12:02:22Z",
    "target_level": "cp5712r1",
    "budget_bps": 10000000,
    "plan": {"serial": [1, 4], "throttle": 2, "lower_bound_s": 78.0, "predicted_makespan_s": 142.0},
    "hosts": [
        {"name": "pc01", "arch": "x64", "site": None, "batch": 0,
         "level_before": "sp3_patch2", "level_after": "cp5712r1",
         "steps": [{"id": "cp5712r1", "status": "applied", "start_s": 0.0, "end_s": 68.0}],
         "verdict": "up_to_date", "bytes": 46347059,
         "timings": {"start_s": 0.0, "download_s": 8.0, "install_s": 60.0, "end_s": 68.0},
         "reboot_required": False, "errors": []},
        {"name": "pc02", "arch": "x86", "batch": 1,
         "level_before": "sp3_patch2", "level_after": "sp3_patch2",
         "steps": [{"id": "cp5712r1", "status": "failed"}],
         "verdict": "program_behind", "bytes": 0,
         "timings": {"start_s": 68.0, "end_s": 70.0},
         "reboot_required": None, "errors": ["installer exit code 1603"]},
    ],
    "batches": [
        {"index": 0, "hosts": ["pc01"], "bytes": 46347059, "start_s": 0.0, "end_s": 68.0,
         "failures": 0, "failed_hosts": []},
        {"index": 1, "hosts": ["pc02"], "bytes": 0, "start_s": 68.0, "end_s": 70.0,
         "failures": 1, "failed_hosts": ["pc02"]},
    ],
    "fleet": {"hosts": 2, "counts": {"up_to_date": 1, "program_behind": 1},
              "bytes": 46347059, "lower_bound_s": 64.6, "makespan_s": 70.0,
              "efficiency": 0.923, "peak_bps": 5800000, "source": "lab-ledger"},
}


@pytest.fixture(scope="module")
def validator():
    from jsonschema import Draft202012Validator
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_report_example_validates(validator):
    errors = list(validator.iter_errors(REPORT))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("breakage", [
    lambda r: r["fleet"].update(source="guess"),
    lambda r: r["fleet"].pop("efficiency"),
    lambda r: r["fleet"]["counts"].update(fine=2),
    lambda r: r["hosts"][0].update(verdict="ok"),
    lambda r: r["hosts"][0].update(level_after="sp4"),
    lambda r: r["hosts"][0].update(bytes=-1),
    lambda r: r["hosts"][0]["steps"][0].update(id="cp9999"),
    lambda r: r["hosts"][1].pop("errors"),
    lambda r: r["batches"][0].pop("end_s"),
    lambda r: r["batches"][1].update(failures="one"),
    lambda r: r.pop("run_id"),
    lambda r: r.update(surprise=True),
])
def test_broken_reports_are_rejected(validator, breakage):
    report = copy.deepcopy(REPORT)
    breakage(report)
    assert list(validator.iter_errors(report))


def test_clients_may_be_a_generator_and_duplicates_are_still_found():
    plan = plan_rollout((c for c in fleet(5)), package_bytes=CP5712R1, budget_bps=10e6)
    assert sum(plan.serial) == 5
    dup = ({"name": n, "arch": "x64", "online": n != "a"} for n in ["a", "b", "a"])
    with pytest.raises(OsceError, match=r"^osce_rollout_clients\[2\]\.name: appears twice"):
        plan_rollout(dup, package_bytes=CP5712R1, budget_bps=10e6)
