"""Host state files: writes persist, reads (and check mode) leave them byte-identical, and a generated
inventory agrees with its state files (one source)."""
from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from labkit import LAB, ROOT
import make_fleet
from osce_lab.pairing import check as pairing_check

MARKER = r"HKLM:\SOFTWARE\osce.patching\PrivilegeMarker"
MARKER_KEY = "HKLM\\SOFTWARE\\osce.patching\\PrivilegeMarker"

REGEDIT_PLAY = r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: set
      ansible.windows.win_regedit: {path: '%(key)s', name: root, data: 'on'}
    - name: set other
      ansible.windows.win_regedit: {path: '%(key)s', name: keep, data: 'x'}
    - name: remove value
      ansible.windows.win_regedit: {path: '%(key)s', name: root, state: absent}
    - name: remove value again
      ansible.windows.win_regedit: {path: '%(key)s', name: root, state: absent}
""" % {"key": MARKER}

REMOVE_KEY_PLAY = r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: remove key
      ansible.windows.win_regedit: {path: '%(key)s', state: absent}
    - name: remove key again
      ansible.windows.win_regedit: {path: '%(key)s', state: absent}
""" % {"key": MARKER}


def test_regedit_absent_persists(fleet):
    f = fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "1", "--mode", "instant")
    rc, data, err = f.play(REGEDIT_PLAY)
    assert rc == 0, (data, err)
    assert f.results(data, "remove value")["osce-srv"]["changed"] is True
    assert f.results(data, "remove value again")["osce-srv"]["changed"] is False   # it is really gone
    values = f.host("osce-srv")["registry"][MARKER_KEY]["values"]
    assert "root" not in values and values["keep"]["value"] == "x"
    rc, data, err = f.play(REMOVE_KEY_PLAY)
    assert rc == 0, (data, err)
    assert f.results(data, "remove key")["osce-srv"]["changed"] is True
    assert f.results(data, "remove key again")["osce-srv"]["changed"] is False
    assert MARKER_KEY not in f.host("osce-srv")["registry"]


READS = r"""
- hosts: all:!osce_sps
  gather_facts: false
  tasks:
    - name: probe
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}
    - name: stat
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: patch
      ansible.windows.win_package: {path: '{{ osce_installers.cp5712r1.path }}'}
    - name: regedit
      ansible.windows.win_regedit: {path: '%(key)s', name: root, data: 'on'}
""" % {"key": MARKER}


def state_bytes(f):
    return {p.name: p.read_bytes() for p in sorted((f.dir / "hosts").glob("*.json"))}


def test_check_mode_and_reads_leave_state_files_byte_identical(fleet):
    f = fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "3", "--offline", "1",
              "--mode", "instant")
    before = state_bytes(f)
    rc, data, err = f.play(READS, "--check")
    assert rc in (0, 4), (data, err)           # the offline client is unreachable
    assert f.results(data, "regedit")["osce-srv"]["changed"] is True
    assert state_bytes(f) == before
    # the call counter lives apart, and still drives unreachable@N
    calls = json.loads((f.dir / "calls" / "osce-srv.json").read_text())["calls"]
    assert calls >= 4
    assert "calls" not in json.loads(before["osce-srv.json"])


def test_unreachable_after_n_calls_counts_outside_the_state_file(fleet):
    f = fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "1", "--mode", "instant",
              "--fault", "pc0001:unreachable@2")
    before = state_bytes(f)
    rc, data, err = f.play(r"""
- hosts: pc0001
  gather_facts: false
  tasks:
    - {name: one, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
    - {name: two, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
    - {name: three, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
""")
    assert f.results(data, "two")["pc0001"].get("unreachable") is not True, (data, err)
    assert f.results(data, "three")["pc0001"].get("unreachable") is True
    assert state_bytes(f) == before


@pytest.mark.parametrize("seed", [1, 2, 3, 2015])
def test_generated_inventory_agrees_with_state_files(tmp_path, seed):
    out = tmp_path / "fleet"
    make_fleet.main(["--out", str(out), "--state-subdir", ".state", "--server-level", "cp5495", "--web", "apache",
                     "--clients", "40", "--x86-share", "0.5", "--conventional-share", "0.2", "--offline", "2",
                     "--behind", "3", "--sites", "3", "--seed", str(seed), "--fault", "pc0002:disk_small",
                     "--fault", "pc0003:unreachable@1", "--fault", "pc0004:offline"])
    inv = yaml.safe_load((out / "inventory.yml").read_text())
    clients = inv["all"]["children"]["osce_clients"]["hosts"]
    assert len(clients) == 40
    archs = set()
    for name, hv in clients.items():
        state = json.loads((out / ".state" / "hosts" / f"{name}.json").read_text())
        assert hv["osce_client_arch"] == state["arch"], name
        assert hv["osce_site"] == state["osce"]["site"], name
        archs.add(state["arch"])
    assert archs == {"x86", "x64"}
    assert pairing_check(out / "inventory.yml") == []


def test_wrapper_refuses_an_inventory_its_state_contradicts(fleet):
    f = fleet("--server-level", "cp5495", "--web", "apache", "--clients", "2", "--x86-share", "0.5", "--seed", "1")
    cmd = [str(LAB / "ansible-lab"), "ansible-inventory", "-i", str(f.inventory), "--list"]
    ok = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    path = f.dir / "hosts" / "pc0002.json"
    state = json.loads(path.read_text())
    state["arch"] = "x64" if state["arch"] == "x86" else "x86"   # a state from another generation
    path.write_text(json.dumps(state))
    bad = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2
    assert "pc0002 osce_client_arch" in bad.stderr and "reset-lab" in bad.stderr
