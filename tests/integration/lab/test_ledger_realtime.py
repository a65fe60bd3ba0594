"""The ledger of real ansible-playbook runs in realtime mode matches the network model by hand.

Fleet: server at CP 5712r1, three 64-bit clients one level behind (build 5600), so each AutoPcc
moves a 44.2 MB package (FAQ size). Network: uplink 80 Mbit/s = 1.0e7 B/s, client downlinks
32 Mbit/s = 4.0e6 B/s, install 5 s per client. Which downloads overlap is whatever Ansible ran.
"""
from __future__ import annotations

import pytest

from ledger import summary

PKG = 44_200_000
UP, DOWN, INSTALL = 1.0e7, 4.0e6, 5.0
PLAY = r"""
- hosts: osce_clients
  gather_facts: false
  %(extra)s
  tasks:
    - name: autopcc
      ansible.windows.win_command: '\\osce-srv\ofcscan\AutoPcc.exe -f -u'
      %(throttle)s
"""


def run(fleet, extra="", throttle="", forks=3):
    f = fleet("--server-level", "cp5712r1", "--web", "apache", "--clients", "3", "--x86-share", "0",
              "--conventional-share", "0", "--behind", "3", "--uplink-mbps", "80", "--downlink-mbps", "32",
              "--install-seconds", "5", "--mode", "realtime", "--settle", "0.6")
    rc, data, err = f.play(PLAY % {"extra": extra, "throttle": throttle}, forks=forks)
    assert rc == 0, (data, err)
    s = summary(f.dir)
    assert s["transfers"] == 3 and s["bytes"] == 3 * PKG
    return sorted(s["records"], key=lambda r: (r["start"], r["host"])), s


def test_three_forks_share_the_uplink(fleet):
    recs, s = run(fleet)
    # all three at once: fair share 1e7/3 = 3.333e6 B/s < 4e6 downlink
    # transfer 44.2e6 / 3.333e6 = 13.26 s, then 5 s install -> 18.26 s
    for r in recs:
        assert r["start"] == pytest.approx(0.0)
        assert r["transfer_end"] == pytest.approx(PKG / (UP / 3))          # 13.26
        assert r["end"] == pytest.approx(PKG / (UP / 3) + INSTALL)          # 18.26
    assert s["makespan"] == pytest.approx(18.26)
    assert s["peak_bps"] == pytest.approx(UP) and s["peak_concurrency"] == 3


def test_serial_one_runs_one_after_another(fleet):
    recs, s = run(fleet, extra="serial: 1")
    # alone: min(4e6 downlink, 1e7 uplink) = 4e6 -> 44.2e6/4e6 = 11.05 s download, then 5 s install.
    # AutoPcc returns when its files are copied, so the next client starts while this one installs.
    download = PKG / DOWN
    assert download == pytest.approx(11.05)
    for k, r in enumerate(recs):
        assert r["start"] == pytest.approx(k * download)
        assert r["transfer_end"] == pytest.approx((k + 1) * download)
        assert r["end"] == pytest.approx((k + 1) * download + INSTALL)
    assert s["makespan"] == pytest.approx(38.15)
    assert s["peak_bps"] == pytest.approx(DOWN) and s["peak_concurrency"] == 1


def test_throttle_two(fleet):
    recs, s = run(fleet, throttle="throttle: 2")
    # two at once: share 1e7/2 = 5e6 > 4e6, so downlink-bound: 11.05 s download; the slot frees when
    # AutoPcc returns (download end), so the third starts at 11.05 while the first two install
    download = PKG / DOWN
    assert [r["start"] for r in recs] == pytest.approx([0.0, 0.0, download])
    assert [r["end"] for r in recs] == pytest.approx([download + INSTALL, download + INSTALL, 2 * download + INSTALL])
    assert s["makespan"] == pytest.approx(27.10)
    assert s["peak_bps"] == pytest.approx(2 * DOWN) and s["peak_concurrency"] == 2
