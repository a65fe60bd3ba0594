"""sps_ports never breaks smart scan silently (issue 15): a port another process holds is moved only
together with a calibrated iSPS port record; without one the task fails - in check mode too - naming
the conflict and the Fix. One playbook run on a lab server with `make_fleet.py --port-conflict 8082`.
"""
from __future__ import annotations

from modkit import collect, failed

SRV = "osce-srv"

PLAY = """
- name: The lab's profile overrides without the calibrated iSPS port record
  ansible.builtin.set_fact:
    no_record: "{{ osce_profile_overrides | dict2items | rejectattr('key', 'match', '^isps_port') | items2dict }}"
- name: Without a record, check mode
  osce.patching.sps_ports:
  vars:
    osce_profile_overrides: "{{ no_record }}"
  check_mode: true
  register: check_no_record
  ignore_errors: true
- name: Without a record, for real
  osce.patching.sps_ports:
  vars:
    osce_profile_overrides: "{{ no_record }}"
  register: real_no_record
  ignore_errors: true
- name: With the calibrated record, check mode
  osce.patching.sps_ports:
  check_mode: true
  register: check_record
- name: With the calibrated record, for real
  osce.patching.sps_ports:
  register: real_record
- name: Again
  osce.patching.sps_ports:
  register: again
""" + collect("check_no_record", "real_no_record", "check_record", "real_record", "again")


def test_port_conflict_without_and_with_a_calibrated_record(make_fleet):
    fleet = make_fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "1", "--port-conflict", "8082")
    run = fleet.play("osce_server", PLAY)
    assert run.rc == 0, run.stdout
    r = run.results[SRV]["msg"]
    for key in ("check_no_record", "real_no_record"):
        res = r[key]
        assert failed(res) and not res["changed"], (key, res)
        assert "File Reputation HTTP port 8082: port 8082 is held by java" in res["msg"], res["msg"]
        assert "CP 5712r1 installer" in res["msg"] and "calibrate the iSPS port record" in res["msg"]
        assert res["conflicts"][0]["port"] == 8082 and res["conflicts"][0]["to"] == 8083
    # nothing was moved by the refusals: the record still names 8082, the check run says what it would do
    c = r["check_record"]
    assert not failed(c) and c["changed"] and c["conflicts"][0]["port"] == 8082 and c["ports"]["frs_http"] == 8083
    assert any(w["kind"] == "record" and w["target"] == "frs_http" for w in c["would"])
    m = r["real_record"]
    assert not failed(m) and m["ports"]["frs_http"] == 8083
    assert m["agreement"] == "record, configuration and listeners agree"
    assert r["again"]["changed"] is False
    state = fleet.state(SRV)
    ini = next(v["content"] for k, v in state["files"].items() if k.lower().endswith("\\pccsrv\\ofcscan.ini"))
    assert "FRS_HTTP_Port=8083" in ini
