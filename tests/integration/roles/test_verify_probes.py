"""Who proves that clients reach the integrated Smart Protection Server (issue 16: cost per client).

verify probes each iSPS port once per site by default (osce_verify_probe_scope: site), dealt over the
site's clients; a port closed between a site and the server fails every client of that site, and only
that site. One small fleet: the server already on CP 5712r1, three clients in two sites (site1:
pc0001, pc0003; site2: pc0002), and a firewall that drops pc0003's connections to port 4345 - the port
the site plan gives pc0003 (8082 and 5274 go to pc0001, in name order).
"""
from __future__ import annotations

import re

from labfleet import make_fleet, needs_lab, outside_batches, run_playbook

pytestmark = [needs_lab]


def failed_hosts(run) -> set[str]:
    return {host for host, row in run.recap().items() if row.get("failed")}


def test_a_port_closed_from_one_site_fails_that_site_only(tmp_path):
    fleet = make_fleet(tmp_path, "cp5712r1", "apache", 3, "--sites", "2", "--conventional-share", "0",
                       "--fault", "pc0003:port_blocked@4345")
    before = fleet.snapshot()

    # a typo in a verify variable is named by preflight, before any change (verify runs last)
    typo = run_playbook(fleet, "playbooks/site.yml", "-e", "osce_verify_probe_scope=sites")
    assert typo.rc != 0 and fleet.snapshot() == before, typo.out[-3000:]
    assert "osce_verify_probe_scope: must be one of site, client (got 'sites')" in typo.out

    run = run_playbook(fleet, "playbooks/site.yml")
    assert run.rc != 0, run.out[-3000:]
    assert failed_hosts(run) == {"pc0001", "pc0003"}, run.recap()
    assert ("pc0001: the smart protection source is not reachable from site site1: osce-srv:4345 "
            "(probed from pc0003)") in run.out
    assert re.search(r'"osce-srv:4345": "NOT reachable from pc0003"', run.out), run.out[-3000:]
    site2 = re.findall(r'"osce-srv:(\d+)": "reachable from pc0002"', run.out)
    assert sorted(site2) == ["4345", "5274", "8082"], run.out[-3000:]

    # every client probes every port: the blocked client alone fails
    each = run_playbook(fleet, "playbooks/site.yml", "-e", "osce_verify_probe_scope=client")
    assert failed_hosts(each) == {"pc0003"}, each.recap()
    assert "smart protection source not reachable from the client: osce-srv:4345" in each.out
    assert outside_batches(fleet) == []
