"""playbooks/verify.yml judges the target, not just the server (issues 12.5 / 13.6).

A lab fleet whose server is on OSCE 10.6 SP3 - an intermediate build - with every client on the
server's build: each smart scan client is `server_not_on_target`, which fails verify.yml with the
default osce_verify_fail_on, and the summary names the server's level. In check mode the summary says
it is a prediction; with the server's chain still to install (what site.yml --check would do first)
the verdict is reported, not failed.
"""
from __future__ import annotations

from labfleet import make_fleet, needs_lab, outside_batches, run_playbook

pytestmark = [needs_lab]


def test_verify_on_an_sp3_fleet_fails_with_server_not_on_target(tmp_path):
    fleet = make_fleet(tmp_path, "sp3", "apache", 2, "--conventional-share", "0")
    before = fleet.snapshot()
    run = run_playbook(fleet, "playbooks/verify.yml")
    assert run.rc != 0, run.out
    assert fleet.snapshot() == before                      # verify reads only
    out = run.out
    assert "not on the target CP 5712r1" in out and "verified on the hosts" in out
    recap = run.recap()
    for client in fleet.clients():
        assert recap[client]["failed"] == 1, (client, recap)
        assert f"{client}: verdict server_not_on_target is in osce_verify_fail_on" in out
        assert "Fix: finish the server chain to CP 5712r1" in out
    assert "'server_not_on_target': 2" in out or '"server_not_on_target": 2' in out

    check = run_playbook(fleet, "playbooks/verify.yml", "--check")
    assert check.rc == 0, check.out
    assert "CHECK MODE - a prediction" in check.out and "is still to be installed" in check.out
    assert "'server_not_on_target': 2" in check.out or '"server_not_on_target": 2' in check.out
    assert outside_batches(fleet) == []
