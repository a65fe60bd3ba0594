"""Reboot behaviour of a lab Windows host (server or client).

- Windows' reboot-pending signals: the Component Based Servicing key ``RebootPending`` and the Session
  Manager value ``PendingFileRenameOperations`` (set by an installer exiting 3010), the Windows Update key
  ``Auto Update\\RebootRequired`` (set by nothing in the lab; tests may add it).
- ``ShutdownTime`` (``HKLM\\SYSTEM\\CurrentControlSet\\Control\\Windows``, REG_BINARY FILETIME,
  little-endian): written at every (clean) restart with the lab calendar's time.
- A restart (``win_reboot`` stand-in, or an installer exiting 1641) clears the signals, counts the boot and
  writes ``ShutdownTime``; after a 1641 the host is also unreachable for the next ``reboot_down_calls``
  module calls (lab.json, default 2) - the lab's "short time" is counted in calls, not seconds, so tests
  stay deterministic.
"""
from __future__ import annotations

import datetime

CBS_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
WU_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
SESSION_MANAGER = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
WINDOWS_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Windows"
PFRO = "PendingFileRenameOperations"
DEFAULT_DOWN_CALLS = 2
_EPOCH_1601 = datetime.datetime(1601, 1, 1)


def filetime_bytes(when: datetime.datetime) -> list:
    """A FILETIME (100 ns since 1601-01-01) as the 8 little-endian bytes REG_BINARY holds."""
    ticks = int((when - _EPOCH_1601).total_seconds() * 10**7)
    return list(ticks.to_bytes(8, "little"))


def base_registry(reg, when: datetime.datetime) -> None:
    """Session Manager and Control\\Windows keys every lab host has (``reg`` = make_fleet.reg)."""
    reg(SESSION_MANAGER, "BootExecute", ["autocheck autochk *"], "REG_MULTI_SZ")
    reg(WINDOWS_KEY, "ShutdownTime", filetime_bytes(when), "REG_BINARY")


def pending(h) -> list:
    """Names of the signals set on host ``h`` (an osce_lab.state.Host)."""
    out = []
    if h.find_key(CBS_KEY):
        out.append("cbs")
    if h.find_key(WU_KEY):
        out.append("wu")
    if [v for v in (h.get_value(SESSION_MANAGER, PFRO) or []) if v]:
        out.append("pfro")
    return out


def mark_pending(h, replaced: str) -> None:
    """An installer that exits 3010: Windows has work for the next boot."""
    h._reg().setdefault(CBS_KEY, {"values": {}})
    h.set_value(SESSION_MANAGER, PFRO, ["\\??\\" + replaced + ".new", "!\\??\\" + replaced], "REG_MULTI_SZ")
    h.data["pending_reboot"] = True
    h.touch()


def restart(h, when: datetime.datetime, down_calls: int = 0, calls_now: int = 0) -> None:
    """A clean restart: signals cleared, boot counted, ShutdownTime written; optionally down for N calls."""
    for key in (CBS_KEY, WU_KEY):
        found = h.find_key(key)
        if found:
            del h._reg()[found]
    h.delete_value(SESSION_MANAGER, PFRO)
    new = filetime_bytes(when)
    old = h.get_value(WINDOWS_KEY, "ShutdownTime")
    if isinstance(old, list) and len(old) == 8 and int.from_bytes(bytes(old), "little") >= int.from_bytes(bytes(new), "little"):
        new = list((int.from_bytes(bytes(old), "little") + 10**7).to_bytes(8, "little"))   # always forward
    h.set_value(WINDOWS_KEY, "ShutdownTime", new, "REG_BINARY")
    h.data["pending_reboot"] = False
    h.data["boot_count"] = h.data.get("boot_count", 0) + 1
    if down_calls > 0:
        h.data["down_until_call"] = calls_now + down_calls
    h.touch()


def lab_now(fleet) -> datetime.datetime:
    """The lab calendar now (``today`` + virtual time); a restart always moves ShutdownTime forward."""
    base = datetime.datetime.strptime(fleet.cfg.get("today", "2015-11-20 09:00:00"), "%Y-%m-%d %H:%M:%S")
    return base + datetime.timedelta(seconds=fleet.lab.now())
