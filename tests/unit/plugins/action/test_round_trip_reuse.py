"""Shared reads (issue 16): when an earlier result of the run stands in for a read, and when it does not."""
from __future__ import annotations

from ansible_collections.osce.patching.plugins.action import pattern_verify as pv
from ansible_collections.osce.patching.plugins.action import sps_ports as sp

SERVER = {"level": "cp5712r1", "sp_build": 6083, "client_program": {"build": 6083}, "install_path": "C:\\P\\",
          "registry_key": "HKLM:\\X"}
ARGS = {"server_facts": SERVER, "app_path": None, "read_scan_type": False}
READS = {"program": {"program_build": 6083, "update_source": None}, "files": {"bf_ptn": False},
         "server_read": pv.server_read(SERVER), "app_path": None, "read_scan_type": False}


def test_preflight_read_serves_verify_when_nothing_moved():
    assert pv.reusable_reads({"reads": READS}, ARGS, {"osce_client_state": {"steps": []}}) is not None


def test_preflight_read_does_not_serve_after_an_upgrade_or_a_server_re_read():
    assert pv.reusable_reads({"reads": READS}, ARGS, {"osce_client_state": {"steps": ["cp5712r1"]}}) is None
    assert pv.reusable_reads({"reads": READS}, ARGS, {"osce_client_state": {"upgrade_error": "x"}}) is None
    moved = dict(ARGS, server_facts=dict(SERVER, sp_build=6084))
    assert pv.reusable_reads({"reads": READS}, moved, {"osce_client_state": {}}) is None
    assert pv.reusable_reads({"reads": READS, "unreachable": True}, ARGS, {"osce_client_state": {}}) is None
    assert pv.reusable_reads({"reads": READS}, dict(ARGS, read_scan_type=True), {"osce_client_state": {}}) is None


def test_the_rollouts_program_read_serves_only_on_the_build_the_server_offers():
    done = {"reads": {"program": {"program_build": 6083, "update_source": None}, "expected_build": 6083}}
    state = {"osce_client_state": {"build": 6083}}
    assert pv.program_read(done, ARGS, state) is not None
    assert pv.program_read(done, dict(ARGS, server_facts=dict(SERVER, client_program={"build": 6090})), state) is None
    assert pv.program_read(done, ARGS, {"osce_client_state": {"build": 6083, "dropped": True}}) is None
    assert pv.program_read({"skipped": True}, ARGS, state) is None


def test_sps_ports_reuses_preflight_only_for_the_same_server_read_and_nothing_to_do():
    checked = {"server_read": sp.server_read(SERVER), "web_server": "apache", "endpoints": [{"port": 8082}],
               "conflicts": []}
    assert sp.reusable(checked, SERVER, "auto") and sp.reusable(checked, SERVER, "apache")
    assert not sp.reusable(checked, dict(SERVER, level="sp3_patch2"), "auto")       # a step ran since
    assert not sp.reusable(dict(checked, would=[{"kind": "listen"}]), SERVER, "auto")
    assert not sp.reusable(dict(checked, conflicts=[{"role": "frs_http"}]), SERVER, "auto")
    assert not sp.reusable(checked, SERVER, "iis-virtual")
