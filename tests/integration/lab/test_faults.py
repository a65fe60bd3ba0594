"""Every fault kind, observed through real ansible-playbook runs."""
from __future__ import annotations

import yaml

from osce_lab.osce import SERVER_INFO

INI = r"C:\Program Files (x86)\Trend Micro\OfficeScan\PCCSRV\ofcscan.ini"
HTTPD = r"C:\Program Files (x86)\Trend Micro\OfficeScan\Apache2\conf\httpd.conf"
INFO = SERVER_INFO.format(wow="Wow6432Node\\")


def test_exit_1603_missing_tampered_unreachable_offline_sps2_old_tmcm(fleet):
    f = fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "3", "--mode", "instant",
              "--fault", "osce-srv:exit1603@cp5712r1", "--fault", "osce-srv:installer_tampered@sp3_patch2",
              "--fault", "osce-srv:installer_missing@cp5495", "--fault", "pc0001:unreachable@2",
              "--fault", "pc0002:offline", "--fault", "sps01:sps2", "--fault", "tmcm01:old_tmcm")
    rc, data, err = f.play(r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: stat
      ansible.windows.win_stat: {path: '{{ item.value.path }}', checksum_algorithm: sha256}
      loop: '{{ osce_installers | dict2items }}'
    - name: patch
      ansible.windows.win_package:
        path: '{{ osce_installers.cp5712r1.path }}'
        checksum: '{{ osce_installers.cp5712r1.sha256 }}'
        checksum_algorithm: sha256
      ignore_errors: true
    - name: tampered
      ansible.windows.win_package:
        path: '{{ osce_installers.sp3_patch2.path }}'
        checksum: '{{ osce_installers.sp3_patch2.sha256 }}'
        checksum_algorithm: sha256
      ignore_errors: true
- hosts: osce_clients
  gather_facts: false
  ignore_unreachable: true
  tasks:
    - {name: ping1, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
    - {name: ping2, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
    - {name: ping3, ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro'}}
- hosts: osce_tmcm
  gather_facts: false
  tasks:
    - name: tmcm
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Wow6432Node\TrendMicro\TVCS', name: Version}
""")
    inst = yaml.safe_load(f.inventory.read_text())["all"]["vars"]["osce_installers"]
    stats = {r["item"]["key"]: r["stat"] for r in f.results(data, "stat")["osce-srv"]["results"]}
    assert stats["cp5495"] == {"exists": False}                                   # missing
    assert stats["sp3_patch2"]["checksum"] != inst["sp3_patch2"]["sha256"]        # tampered
    assert stats["cp5712r1"]["checksum"] == inst["cp5712r1"]["sha256"]
    patch = f.results(data, "patch")["osce-srv"]
    assert patch["failed"] and patch["rc"] == 1603 and "unexpected rc" in patch["msg"]
    assert f.host("osce-srv")["registry"][INFO]["values"]["ServicePack_Build"]["value"] == 5600
    tampered = f.results(data, "tampered")["osce-srv"]
    assert tampered["failed"] and "did not match" in tampered["msg"]
    # pc0001 answers twice, then is gone; pc0002 was never there
    assert not f.results(data, "ping2")["pc0001"].get("unreachable")
    assert f.results(data, "ping3")["pc0001"]["unreachable"] is True
    assert f.results(data, "ping1")["pc0002"]["unreachable"] is True
    assert f.results(data, "ping3")["pc0003"]["exists"] is True
    assert data["stats"]["pc0002"]["failures"] == 0, data["stats"]["pc0002"]   # unreachable, not failed
    assert f.results(data, "tmcm")["tmcm01"]["value"] == "5.5 SP1"
    sps = yaml.safe_load(f.inventory.read_text())["all"]["children"]["osce_sps"]["hosts"]["sps01"]
    assert sps["osce_sps_sysinfo"] == {}          # 2.x: no TMCSSVersion in /sysinfo
    assert f.host("sps01")["osce"]["sps"]["version"] == "2.5"


def test_exit_3010_and_1641_reboots_and_iis_port_conflict(fleet):
    f = fleet("--server-level", "cp5495", "--web", "iis-virtual", "--clients", "1", "--mode", "instant",
              "--fault", "osce-srv:exit3010@sp3_patch2", "--fault", "osce-srv:exit1641@cp5712r1",
              "--fault", "osce-srv:port_conflict@8082", "--privilege", "on")
    rc, data, err = f.play(r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: p2
      ansible.windows.win_package: {path: '{{ osce_installers.sp3_patch2.path }}'}
    - name: cbs after 3010
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'}
    - name: pfro after 3010
      ansible.windows.win_reg_stat: {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager', name: PendingFileRenameOperations}
    - name: shutdown before
      ansible.windows.win_reg_stat: {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Windows', name: ShutdownTime}
    - name: reboot
      ansible.windows.win_reboot:
    - name: cbs after reboot
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'}
    - name: shutdown after
      ansible.windows.win_reg_stat: {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Windows', name: ShutdownTime}
    - name: cp default codes
      ansible.windows.win_package: {path: '{{ osce_installers.cp5712r1.path }}'}
      ignore_errors: true
    - name: restarting1
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE'}
      ignore_unreachable: true
    - name: restarting2
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE'}
      ignore_unreachable: true
    - name: cp
      ansible.windows.win_package: {path: '{{ osce_installers.cp5712r1.path }}', expected_return_code: [0, 3010, 1641]}
    - name: restarting3
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE'}
      ignore_unreachable: true
    - name: restarting4
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE'}
      ignore_unreachable: true
    - name: back
      ansible.windows.win_reg_stat: {path: 'HKLM:\SOFTWARE'}
    - name: bind8082
      community.windows.win_iis_webbinding: {name: OfficeScan, port: 8082}
      ignore_errors: true
    - name: bind8092
      community.windows.win_iis_webbinding: {name: OfficeScan, port: 8092}
    - name: ports
      ansible.windows.win_listen_ports_facts:
- hosts: pc0001
  gather_facts: false
  tasks:
    - name: wait8092
      ansible.windows.win_wait_for: {host: osce-srv, port: 8092, timeout: 5}
    - name: wait9999
      ansible.windows.win_wait_for: {host: osce-srv, port: 9999, timeout: 5}
      ignore_errors: true
""")
    assert rc == 0, (data, err)
    p2 = f.results(data, "p2")["osce-srv"]
    assert p2["rc"] == 3010 and p2["reboot_required"] is True and not p2.get("failed")
    assert f.results(data, "reboot")["osce-srv"]["rebooted"] is True
    # 3010 leaves Windows' own signals; the reboot clears them and writes a new ShutdownTime
    assert f.results(data, "cbs after 3010")["osce-srv"]["exists"] is True
    assert f.results(data, "pfro after 3010")["osce-srv"]["value"]
    assert f.results(data, "cbs after reboot")["osce-srv"]["exists"] is False
    before, after = (f.results(data, n)["osce-srv"]["value"] for n in ("shutdown before", "shutdown after"))
    assert len(before) == 8 and after != before
    # 1641: the installer restarted the server, which is gone for the next two calls, then back
    for name in ("restarting1", "restarting2", "restarting3", "restarting4"):
        assert f.results(data, name)["osce-srv"]["unreachable"] is True, name
    assert f.results(data, "back")["osce-srv"]["exists"] is True
    cp_default = f.results(data, "cp default codes")["osce-srv"]
    assert cp_default["failed"] and cp_default["rc"] == 1641     # 1641 is not in win_package's default codes
    cp = f.results(data, "cp")["osce-srv"]
    assert cp["rc"] == 1641 and cp["reboot_required"] is False and not cp.get("failed")
    srv = f.host("osce-srv")
    assert srv["boot_count"] == 1 + 1 + 2 and srv["pending_reboot"] is False   # win_reboot + two 1641 runs
    assert srv["registry"][INFO]["values"]["ServicePack_Build"]["value"] == 5712
    ports = {b["port"] for b in srv["iis"]["sites"]["OfficeScan"]["bindings"]}
    assert 8082 not in ports and {4345, 5274, 8092} <= ports     # the CP skipped the held port
    assert "held by java.exe" in f.results(data, "bind8082")["osce-srv"]["msg"]
    tcp = {(x["port"], x["name"]) for x in f.results(data, "ports")["osce-srv"]["ansible_facts"]["tcp_listen"]}
    assert (8082, "java") in tcp and (8092, "System") in tcp
    assert not f.results(data, "wait8092")["pc0001"].get("failed")
    assert "timeout while waiting for osce-srv:9999" in f.results(data, "wait9999")["pc0001"]["msg"]


def test_apache_port_conflict_and_small_disk(fleet):
    f = fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "1", "--mode", "instant",
              "--port-conflict", "8082", "--fault", "osce-srv:disk_small")
    rc, data, err = f.play(r"""
- hosts: osce_server
  gather_facts: false
  tasks:
    - name: disk
      community.windows.win_disk_facts:
    - name: reapply
      ansible.windows.win_package: {path: '{{ osce_installers.cp5712r1.path }}'}
      ignore_errors: true
    - name: httpd
      ansible.windows.slurp: {src: '%(httpd)s'}
    - name: wrong fix
      community.windows.win_lineinfile: {path: '%(httpd)s', line: 'Listen 8082'}
    - name: restart fails
      ansible.windows.win_service: {name: Apache2, state: restarted}
      ignore_errors: true
    - name: right fix
      community.windows.win_lineinfile: {path: '%(httpd)s', regex: '^Listen 8082$', line: 'Listen 8092'}
    - name: record
      community.windows.win_lineinfile: {path: '%(ini)s', regex: '^FRS_HTTP_Port=', line: 'FRS_HTTP_Port=8092'}
    - name: restart ok
      ansible.windows.win_service: {name: Apache2, state: restarted}
    - name: services
      ansible.windows.win_service_info: {name: Apache2}
""" % {"httpd": HTTPD, "ini": INI})
    assert rc == 0, (data, err)
    vol = f.results(data, "disk")["osce-srv"]["ansible_facts"]["ansible_disks"][0]["partitions"][0]["volumes"][0]
    assert vol["size_remaining"] == 100_000_000
    re_ = f.results(data, "reapply")["osce-srv"]
    assert re_["rc"] == 1603 and "not enough disk space" in re_["stdout"]
    import base64
    httpd = base64.b64decode(f.results(data, "httpd")["osce-srv"]["content"]).decode()
    assert "Listen 8082" not in httpd and "Listen 4345" in httpd
    bad = f.results(data, "restart fails")["osce-srv"]
    assert bad["failed"] and "could not bind to address 0.0.0.0:8082" in bad["msg"] and bad["state"] == "stopped"
    assert f.results(data, "restart ok")["osce-srv"]["state"] == "running"
    assert f.results(data, "services")["osce-srv"]["services"][0]["state"] == "running"
