"""OfficeScan behaviour through real ansible-playbook runs on the stand-ins (tests/lab/ansible-lab)."""
from __future__ import annotations

import subprocess

import pytest

from labkit import LAB, ROOT
from ledger import summary
from osce_lab.osce import CLIENT_KEY, SERVER_INFO

INI = r"C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV\ofcscan.ini"
INFO = SERVER_INFO.format(wow="Wow6432Node\\")


def program_build(fleet, name):
    h = fleet.host(name)
    key = CLIENT_KEY.format(wow="Wow6432Node\\" if h["arch"] == "x64" else "") + "\\Misc."
    return int(h["registry"][key]["values"]["ProgramVer"]["value"].rsplit(".", 1)[1])


def test_smoke_playbook(fleet, tmp_path):
    f = fleet("--server-level", "sp3_patch1_1", "--web", "apache", "--clients", "2")
    p = subprocess.run([str(LAB / "ansible-lab"), "ansible-playbook", "-i", str(f.inventory),
                        "tests/lab/playbooks/smoke.yml"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ServicePack_Build=4100" in p.stdout
    assert "Server_Version=10.6" in p.stdout


PRIVILEGE_PLAY = r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: patch
      ansible.windows.win_package:
        path: '{{ osce_installers.cp5712r1.path }}'
        checksum: '{{ osce_installers.cp5712r1.sha256 }}'
        checksum_algorithm: sha256
    - name: release one
      community.windows.win_lineinfile:
        path: '%(ini)s'
        line: 'client:pc0001=0'
        insertafter: '^\[Client Privilege\]'
- hosts: pc0002
  gather_facts: false
  tasks:
    - name: autopcc
      ansible.windows.win_command: '\\osce-srv\ofcscan\AutoPcc.exe -f -u'
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: root off
      community.windows.win_lineinfile:
        path: '%(ini)s'
        regex: '^NoProgramUpgrade='
        line: 'NoProgramUpgrade=0'
""" % {"ini": INI}


def test_privilege_per_client_release_autopcc_and_root_burst(fleet):
    f = fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "9", "--privilege", "on",
              "--fault", "pc0005:offline", "--fault", "pc0009:offline", "--mode", "instant", "--seed", "7")
    offline = [n for n in (f"pc{i:04d}" for i in range(1, 10)) if not f.host(n)["reachable"]]
    assert offline == ["pc0005", "pc0009"]
    rc, data, err = f.play(PRIVILEGE_PLAY)
    assert rc == 0, (data, err)
    assert f.results(data, "patch")["osce-srv"]["rc"] == 0
    assert "upgraded to build 5712" in f.results(data, "autopcc")["pc0002"]["stdout"]
    s = summary(f.dir)
    recs = [r for r in s["records"] if r["kind"] == "package"]
    by_host = {r["host"]: r for r in recs}
    # privilege on while patching: nobody downloaded; pc0001 released alone (notify), pc0002 by AutoPcc
    assert by_host["pc0001"]["trigger"] == "notify" and by_host["pc0002"]["trigger"] == "autopcc"
    release_t = by_host["pc0001"]["start"]
    assert release_t == pytest.approx(600.0)  # right after the 600 s server install (invented duration)
    # root off: every remaining ONLINE client starts at the same instant — the burst
    burst = [r for r in recs if r["host"] not in ("pc0001", "pc0002")]
    assert sorted(r["host"] for r in burst) == sorted(n for n in (f"pc{i:04d}" for i in range(3, 10))
                                                      if n not in offline)
    assert len({round(r["start"], 6) for r in burst}) == 1
    assert s["max_simultaneous_starts"] == len(burst) == 5
    assert s["peak_concurrency"] >= len(burst)
    for n in (f"pc{i:04d}" for i in range(1, 10)):
        assert program_build(f, n) == (5600 if n in offline else 5712), n
        files = {k.rsplit("\\", 1)[1] for k in f.host(n)["files"]}
        smart = "BF.ptn" in files or "CRCz.ptn" in files
        if smart and n not in offline:
            assert "CRCz.ptn" in files and "BF.ptn" not in files


def test_autopcc_respects_privilege_when_configured(fleet):
    f = fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "2", "--behind", "2",
              "--privilege", "on", "--autopcc-respects-privilege", "--mode", "instant")
    rc, data, err = f.play("""
- hosts: pc0001
  gather_facts: false
  tasks:
    - name: autopcc
      ansible.windows.win_command: '\\\\osce-srv\\ofcscan\\AutoPcc.exe'
""")
    assert rc == 0, (data, err)
    assert "not permitted" in f.results(data, "autopcc")["pc0001"]["stdout"]
    assert program_build(f, "pc0001") == 5600


def test_check_mode(fleet):
    f = fleet("--server-level", "sp3_patch2", "--web", "iis-default", "--clients", "1", "--mode", "instant")
    rc, data, err = f.play(r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: patch
      ansible.windows.win_package: {path: '{{ osce_installers.cp5712r1.path }}'}
    - name: regedit
      ansible.windows.win_regedit: {path: 'HKLM:\SOFTWARE\osce.patching\PrivilegeMarker', name: root, data: 'on'}
- hosts: pc0001
  gather_facts: false
  tasks:
    - name: autopcc
      ansible.windows.win_command: '\\osce-srv\ofcscan\AutoPcc.exe'
""", "--check")
    assert rc == 0, (data, err)
    assert f.results(data, "patch")["osce-srv"]["changed"] is True
    assert f.results(data, "regedit")["osce-srv"]["changed"] is True
    assert f.results(data, "autopcc")["pc0001"].get("skipped") is True   # win_command: no check mode
    srv = f.host("osce-srv")
    assert srv["registry"][INFO]["values"]["ServicePack_Build"]["value"] == 5600
    assert not any("osce.patching" in k for k in srv["registry"])
    assert summary(f.dir)["transfers"] == 0
