#!/usr/bin/env python3
"""Generate a simulated OfficeScan estate for the lab (tests/lab; see docs/lab.md).

Writes DIR/inventory.yml (groups osce_server, osce_clients, osce_sps, osce_tmcm, with the lab's
osce_build_map, osce_installers and osce_profile_overrides), and under the state dir (DIR, or
DIR/<--state-subdir>): hosts/<host>.json, bin/<host> interpreter launchers, installers/, lab/.

Build numbers are INVENTED by the lab (the real 10.6 GM..SP3 Patch 2 builds are not public).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shlex
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from osce_lab import osce  # noqa: E402
from osce_lab.osce import (CLIENT_KEY, CLIENT_PACKAGE, ISPS_PORTS, LEVELS, MB, SERVER_INFO, STEPS,  # noqa: E402
                           TVCS_KEY, file_version, wow)
from osce_lab.pairing import inventory_host_vars  # noqa: E402
from osce_lab.state import write_json  # noqa: E402

try:  # the core's vocabulary, when it is importable (tests put .build/collections on sys.path)
    from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS as CORE_LEVELS
except Exception:  # pragma: no cover - the lab works without the core
    CORE_LEVELS = tuple(LEVELS)

FAULT_KINDS = {
    "exit1603": "server: installer exits 1603 (fatal error) [@step]; exit faults act while listed in the host state",
    "exit3010": "server: installer exits 3010 (success, reboot required) [@step]",
    "exit1641": "server: installer exits 1641 (success, the installer restarts the server) [@step]",
    "installer_missing": "server: installer file absent [@step]",
    "installer_tampered": "server: installer file differs from its recorded sha256 [@step]",
    "unreachable": "any host: unreachable after N module calls [@N, default 0]",
    "offline": "client: offline (unreachable, misses notifications)",
    "port_conflict": "server: another process listens on PORT [@PORT, default 8082]",
    "port_blocked": "client: a firewall drops its connections to PORT on other hosts [@PORT, default 8082]",
    "disk_small": "server or client: only 100 MB free on C: (e.g. pc0001:disk_small); a client's AutoPcc then "
                  "fails (rc 112) for a package that does not fit",
    "sps2": "standalone SPS: version 2.5, /sysinfo without TMCSSVersion",
    "old_tmcm": "TMCM: version 5.5 SP1 (older than the FAQ's minimum)",
}
HISTORY_DATES = {"sp1": "2012-03-05 10:00:00", "sp2": "2012-09-10 10:00:00", "sp3": "2013-05-06 10:00:00",
                 "sp3_patch1": "2014-02-03 10:00:00", "sp3_patch1_1": "2014-05-05 10:00:00",
                 "cp5495": "2014-08-04 10:00:00", "sp3_patch2": "2014-10-06 10:00:00",
                 "cp5712": "2014-11-17 10:00:00", "cp5712r1": "2015-02-09 10:00:00"}
STEP_LEVEL = {"sp3": "sp3", "sp3_patch1_1": "sp3_patch1_1", "cp5495": "cp5495", "sp3_patch2": "sp3_patch2",
              "cp5712r1": "cp5712r1"}
STEP_DURATION = {"sp3": 1800, "sp3_patch1_1": 900, "cp5495": 600, "sp3_patch2": 900, "cp5712r1": 600}  # INVENTED
STEP_DISK = {"sp3": 3000 * MB, "sp3_patch1_1": 1500 * MB, "cp5495": 500 * MB, "sp3_patch2": 1500 * MB,
             "cp5712r1": 1000 * MB}  # INVENTED
# client package the server offers at each level: the step's (FAQ for CP 5712r1), INVENTED otherwise
LEVEL_PACKAGE = dict(CLIENT_PACKAGE, cp5712=(17.2, 24.2), cp5712r1=CLIENT_PACKAGE["cp5712r1"])
SERVER = "osce-srv"
LOCAL_PATH = "C:\\Program Files (x86)\\Trend Micro\\OfficeScan\\PCCSRV\\"
INSTALLER_DIR = "C:\\OSCE-Patches\\"
AGENT_PATTERN = 411
CONV_PATTERN = 235


def level_help() -> str:
    rows = [f"  {lv:<13} Server_Version {v} build {b}" for lv, (v, b, _) in LEVELS.items()]
    return "levels (builds INVENTED by the lab; cp5712 vs cp5712r1 by install date vs 2015-01-23):\n" + \
        "\n".join(rows) + "\nfault kinds (--fault HOST:KIND[@ARG]):\n" + \
        "\n".join(f"  {k:<19} {v}" for k, v in FAULT_KINDS.items())


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, epilog=level_help(),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="fleet directory (inventory.yml goes here)")
    ap.add_argument("--server-level", required=True, choices=list(LEVELS), metavar="LEVEL",
                    help="one of: " + ", ".join(LEVELS))
    ap.add_argument("--web", required=True, choices=["apache", "iis-virtual", "iis-default"])
    ap.add_argument("--clients", type=int, required=True)
    ap.add_argument("--x86-share", type=float, default=0.3)
    ap.add_argument("--conventional-share", type=float, default=0.1)
    ap.add_argument("--offline", type=int, default=0, help="number of offline clients")
    ap.add_argument("--sps-version", default="3.0", help="standalone SPS version ('none' for no SPS)")
    ap.add_argument("--tmcm-version", default="6.0 SP3", help="TMCM version ('none' for no TMCM)")
    ap.add_argument("--port-conflict", type=int, action="append", default=[],
                    help="a non-OSCE process listens on PORT on the server (repeatable)")
    ap.add_argument("--cp5712-installed-on", help="YYYY-MM-DD install date of CP 5712 (levels cp5712/cp5712r1)")
    ap.add_argument("--no-isps-record", action="store_true",
                    help="leave the iSPS port record out of the inventory's calibrated profile (the shipped "
                         "default: a held port cannot be moved with OSCE's record)")
    ap.add_argument("--no-patch-history", action="store_true",
                    help="the server has no Admin\\hotfix_history.ini and its installers write none (a history "
                         "nobody can read: CP 5712 cannot be told from r1 by date)")
    ap.add_argument("--fault", action="append", default=[], metavar="HOST:KIND[@ARG]")
    ap.add_argument("--seed", type=int, default=0)
    # extras
    ap.add_argument("--state-subdir", default=".", help="host states etc. under DIR/SUBDIR (inventories/lab: .state)")
    ap.add_argument("--sites", type=int, default=1, help="number of sites (site1..N), clients spread round-robin")
    ap.add_argument("--site-mbps", type=float, default=0.0, help="per-site link in Mbit/s (0 = no site link)")
    ap.add_argument("--uplink-mbps", type=float, default=100.0, help="server uplink in Mbit/s")
    ap.add_argument("--downlink-mbps", type=float, default=20.0, help="per-client downlink in Mbit/s")
    ap.add_argument("--install-seconds", type=float, default=None,
                    help="per-client install time (virtual s, default 60); when given, the inventory also tells "
                         "the planner (osce_client_install_s)")
    ap.add_argument("--budget-mbps", type=float, default=0.0,
                    help="rollout budget on the server uplink in Mbit/s, written to the inventory as "
                         "osce_bandwidth_budget_bps (0 = not written: the role default applies)")
    ap.add_argument("--mode", choices=["realtime", "instant"], default="realtime")
    ap.add_argument("--settle", type=float, default=1.0, help="quiet period Q (real seconds) before the clock jumps")
    ap.add_argument("--privilege", choices=["on", "off"], default="off",
                    help="root upgrade privilege at start (off = clients take program updates freely)")
    ap.add_argument("--behind", type=int, default=0, help="clients one level behind the server's client build")
    ap.add_argument("--autopcc-respects-privilege", action="store_true",
                    help="AutoPcc does not upgrade a client whose privilege is on (unknown in reality)")
    ap.add_argument("--reboot-down-calls", type=int, default=2,
                    help="after an installer exits 1641 the host is unreachable for this many module calls")
    ap.add_argument("--today", default="2015-11-20 09:00:00", help="lab calendar at virtual time 0")
    a = ap.parse_args(argv)
    a.install_told = a.install_seconds is not None
    if a.install_seconds is None:
        a.install_seconds = 60.0
    return a


# ---------------------------------------------------------------------------- builders
def ini(sections: dict) -> str:
    out = []
    for sec, kv in sections.items():
        out.append(f"[{sec}]")
        out += [f"{k}={v}" for k, v in kv.items()]
    return "\r\n".join(out) + "\r\n"


def base_host(name, role, arch, mtime):
    return {"schema": 1, "hostname": name, "role": role, "arch": arch, "reachable": True,
            "faults": [], "registry": {}, "files": {}, "dirs": [], "services": {}, "listeners": [
                {"port": 135, "process": "svchost.exe", "pid": 812}, {"port": 445, "process": "System", "pid": 4},
                {"port": 3389, "process": "svchost.exe", "pid": 1020}],
            "iis": None, "disks": [{"drive": "C:", "size": 100_000 * MB, "free": 40_000 * MB}],
            "pending_reboot": False, "boot_count": 1, "osce": {}, "mtime": mtime}


def reg(h, key, name, value, rtype="REG_SZ"):
    h["registry"].setdefault(key, {"values": {}})["values"][name] = {"type": rtype, "value": value}


def windows_base(h, today):
    """Session Manager and the last clean shutdown (the day before the lab calendar starts)."""
    from osce_lab import reboot
    reboot.base_registry(lambda key, name, value, rtype: reg(h, key, name, value, rtype),
                         today - dt.timedelta(days=1))


def history_levels(level):
    if level in ("pre_10_6", "gm", "osce11"):
        return []
    chain = osce.CHAIN
    if level == "cp5712r1":
        return chain
    return chain[: chain.index(level) + 1]


def make_server(a, rng, mtime):
    version, build, _ = LEVELS[a.server_level]
    h = base_host(SERVER, "server", "x64", mtime)
    info = SERVER_INFO.format(wow=wow("x64"))
    lp = LOCAL_PATH
    reg(h, info, "Local_Path", lp)
    reg(h, info, "Server_Version", version)
    reg(h, info, "ServicePack_Build", build, "REG_DWORD")
    hist = {}
    for lv in history_levels(a.server_level):
        name = LEVELS[lv][2]
        date = HISTORY_DATES[lv]
        if lv == "cp5712":
            date = HISTORY_DATES["cp5712r1" if a.server_level == "cp5712r1" else "cp5712"]
            if a.cp5712_installed_on:
                date = a.cp5712_installed_on + " 10:00:00"
        hist[name] = {"Build": LEVELS[lv][1], "InstallDate": date}
    cp_installed = a.server_level in ("cp5712", "cp5712r1")
    settings = {"INI_SERVER_SECTION": {"Master_DomainPort": 8080 if a.web != "iis-default" else 80},
                "Global Setting": {"NoProgramUpgrade": 1 if a.privilege == "on" else 0},
                "INI_PROGRAM_VERSION_SECTION": {"NonCrcPtnVersion": f"11.{CONV_PATTERN:03d}.00",
                                                "PtnVersion": AGENT_PATTERN},
                "Client Privilege": {}}
    files = {
        lp + "ofcscan.ini": {"content": ini(settings)},
        lp + "Pccnt\\Common\\Tmlisten.exe": {"version": file_version(build, version), "size": 1_843_200},
        lp + f"Pccnt\\Common\\icrc$oth.{AGENT_PATTERN:03d}": {"size": 8 * MB, "version": f"11.{AGENT_PATTERN}.00"},
        lp + "WSS\\ptngrowth.ini": {"content": ini({"COOLDOWN": {"MAX_UPDATE_CONNECTION": 5,
                                                                 "UPDATE_WAIT_SECOND": 15}})},
        lp + "CmAgent\\Product.ini": {"content": ini({"Product": {"Version": version, "Build": build}})},
        "\\\\osce-srv\\ofcscan\\AutoPcc.exe": {"version": file_version(build, version), "size": 420_000},
    }
    if not a.no_patch_history:
        files[lp + "Admin\\hotfix_history.ini"] = {"content": ini(hist)}
    for p, f in files.items():
        f.setdefault("mtime", mtime)
        h["files"][p] = f
    h["dirs"] = [lp + "LWCS", lp + "Backup"]
    svc = {"OfcService": "OfficeScan Master Service", "iCRCService": "Trend Micro Smart Scan Server",
           "LWCSService": "Trend Micro Local Web Classification Server",
           "OfcADIntegration": "OfficeScan Active Directory Integration Service",
           "OfcCMAgent": "OfficeScan Control Manager Agent", "TMPluginMgr": "Trend Micro Plug-in Manager"}
    for n, d in svc.items():
        h["services"][n] = {"display_name": d, "start_mode": "auto", "state": "running", "path": lp + n + ".exe"}
    pk = LEVEL_PACKAGE.get(a.server_level, (50.0, 60.0))  # sizes of the level's own client package
    h["osce"] = {"web": a.web, "crcz_with_package": a.server_level != "cp5712",
                 "client_package_bytes": {"x86": int(pk[0] * MB), "x64": int(pk[1] * MB)}}
    if a.no_patch_history:
        h["osce"]["no_patch_history"] = True   # osce.run_installer writes no history either
    if a.web == "apache":
        conf = lp + "..\\Apache2\\conf\\httpd.conf"
        from osce_lab.state import norm_path
        conf = norm_path(conf)
        listen = ["Listen 8080", "Listen 4343"]
        if cp_installed:
            listen += [f"Listen {p}" for p in dict.fromkeys(ISPS_PORTS["apache"])]
        h["files"][conf] = {"content": "\r\n".join(["# OfficeScan bundled Apache (lab)", 'ServerRoot "C:/Program '
                            'Files (x86)/Trend Micro/OfficeScan/Apache2"'] + listen +
                            ["LoadModule ssl_module modules/mod_ssl.so"]) + "\r\n", "mtime": mtime}
        h["osce"]["httpd_conf"] = conf
        h["services"]["Apache2"] = {"display_name": "Apache2", "start_mode": "auto", "state": "running",
                                    "path": "C:\\Program Files (x86)\\Trend Micro\\OfficeScan\\Apache2\\bin\\httpd.exe"}
    else:
        sites = {"Default Web Site": {"state": "Started", "bindings": [
            {"protocol": "http", "ip": "*", "port": 80, "host_header": ""},
            {"protocol": "https", "ip": "*", "port": 443, "host_header": ""}]}}
        if a.web == "iis-virtual":
            sites["OfficeScan"] = {"state": "Started", "bindings": [
                {"protocol": "http", "ip": "*", "port": 8080, "host_header": ""},
                {"protocol": "https", "ip": "*", "port": 4343, "host_header": ""}]}
            if cp_installed:
                sites["OfficeScan"]["bindings"] += [
                    {"protocol": "http", "ip": "*", "port": 8082, "host_header": ""},
                    {"protocol": "https", "ip": "*", "port": 4345, "host_header": ""},
                    {"protocol": "http", "ip": "*", "port": 5274, "host_header": ""}]
        h["iis"] = {"sites": sites}
        h["services"]["W3SVC"] = {"display_name": "World Wide Web Publishing Service", "start_mode": "auto",
                                  "state": "running", "path": "C:\\Windows\\system32\\svchost.exe -k iissvcs"}
    if cp_installed:
        frs, frss, wrs = ISPS_PORTS[a.web]
        text = h["files"][lp + "ofcscan.ini"]["content"]
        from osce_lab.state import ini_set
        for k, v in (("FRS_HTTP_Port", frs), ("FRS_HTTPS_Port", frss), ("WRS_HTTP_Port", wrs)):
            text = ini_set(text, "INI_SMART_PROTECTION", k, v)
        h["files"][lp + "ofcscan.ini"]["content"] = text
    return h


def installer_spec(step, web):
    version = "10.6"
    lvl = STEP_LEVEL[step]
    _, build, display = LEVELS[lvl]
    x86, x64 = CLIENT_PACKAGE[step]
    return {
        "lab_installer": 1,
        "note": "LAB INSTALLER (tests/lab): not a real Trend Micro package; builds INVENTED by the lab",
        "step": step, "display_name": display, "requires_version": version, "build": build,
        "client_build": build, "exit_code": 0, "reboot_required": False,
        "duration_seconds": STEP_DURATION[step], "disk_needed_bytes": STEP_DISK[step],
        "client_package_bytes": {"x86": int(x86 * MB), "x64": int(x64 * MB)},
        "crcz_with_package": True if step == "cp5712r1" else None,
        "isps": step == "cp5712r1",
        "registry": [{"key": "{info_key}", "name": "ServicePack_Build", "value": build, "type": "REG_DWORD"}],
        "files": [{"path": "{local_path}Pccnt\\Common\\Tmlisten.exe", "version": file_version(build, version)},
                  {"path": "\\\\osce-srv\\ofcscan\\AutoPcc.exe", "version": file_version(build, version)}],
    }


def make_client(a, i, rng, mtime, level_build, server_version, arch, smart, site, offline):
    name = f"pc{i:04d}"
    h = base_host(name, "client", arch, mtime)
    h["listeners"] = [{"port": 135, "process": "svchost.exe", "pid": 812},
                      {"port": 21112, "process": "TmListen.exe", "pid": 1544}]
    h["disks"] = [{"drive": "C:", "size": 250_000 * MB, "free": 60_000 * MB}]
    key = CLIENT_KEY.format(wow=wow(arch))
    app = ("C:\\Program Files (x86)\\Trend Micro\\OfficeScan Client\\" if arch == "x64"
           else "C:\\Program Files\\Trend Micro\\OfficeScan Client\\")
    ver = f"{server_version}.{level_build}"
    reg(h, key, "Application Path", app)
    reg(h, key, "Server", SERVER)
    reg(h, key, "ServerPort", "8080" if a.web != "iis-default" else "80")
    reg(h, key + "\\Misc.", "ProgramVer", ver)
    reg(h, key + "\\Misc.", "TmListen_Ver", ver)
    reg(h, key + "\\Misc.", "PatternVer", f"11.{AGENT_PATTERN:03d}.00")
    reg(h, key + "\\Misc.", "InternalNonCrcPatternVer", f"11{CONV_PATTERN:03d}00", "REG_DWORD")
    reg(h, key + "\\Misc.", "PatternDate", "20151119")
    reg(h, key + "\\Misc.", "ClientUpgradeStatus", 0, "REG_DWORD")
    reg(h, key + "\\iCRC Scan", "ScanType", 1 if smart else 0, "REG_DWORD")
    reg(h, key + "\\iCRC Scan\\Scan Server", "LocationProfile", 1, "REG_DWORD")
    h["files"][app + "Tmlisten.exe"] = {"version": file_version(level_build, server_version), "size": 1_843_200,
                                        "mtime": mtime}
    h["files"][app + "NTRtScan.exe"] = {"version": file_version(level_build, server_version), "size": 2_304_000,
                                        "mtime": mtime}
    if smart:
        if level_build >= 5712:
            h["files"][app + "CRCz.ptn"] = {"size": osce.CRCZ_BYTES, "version": str(AGENT_PATTERN), "mtime": mtime}
        else:
            h["files"][app + "BF.ptn"] = {"size": 9 * MB, "version": "1.0", "mtime": mtime}
        h["files"][app + f"icrc$oth.{AGENT_PATTERN:03d}"] = {"size": 8 * MB, "version": f"11.{AGENT_PATTERN}.00",
                                                             "mtime": mtime}
    else:
        h["files"][app + f"lpt$vpn.{CONV_PATTERN:03d}"] = {"size": 60 * MB, "version": f"11.{CONV_PATTERN}.00",
                                                           "mtime": mtime}
    for n in ("TmListen", "NTRTScan", "TmProxy", "TmPfw", "TmCCSF"):
        h["services"][n] = {"display_name": n, "start_mode": "auto", "state": "running", "path": app + n + ".exe"}
    h["osce"] = {"domain": site.replace("site", "Domain"), "site": site, "agent_pattern": AGENT_PATTERN,
                 "downlink_bps": a.downlink_mbps * 1e6 / 8, "install_seconds": a.install_seconds}
    if offline:
        h["reachable"] = False
    return h


def make_sps(a, mtime, version):
    h = base_host("sps01", "sps", "x64", mtime)
    h["registry"] = {}
    h["disks"] = [{"drive": "C:", "size": 50_000 * MB, "free": 30_000 * MB}]
    build = {"2": "1044", "3": "1166"}.get(version.split(".")[0], "1000")
    sysinfo = {} if version.startswith("2") else {"TMCSSVersion": version, "TMCSSBuild": build,
                                                  "FRSHTTPPort": 80, "FRSHTTPSPort": 443, "WRSHTTPPort": 5274}
    h["osce"] = {"sps": {"version": version, "build": build, "sysinfo": sysinfo}}
    return h


def make_tmcm(a, mtime, version):
    h = base_host("tmcm01", "tmcm", "x64", mtime)
    reg(h, TVCS_KEY.format(wow=wow("x64")), "Version", version)
    h["services"]["TMCM"] = {"display_name": "Trend Micro Control Manager", "start_mode": "auto", "state": "running"}
    return h


# --- lab interpreter launcher (lab cost, docs/lab.md "Cost of a module call"; owned with osce_lab/standin.py)
LAUNCHER = """#!/bin/sh
# Lab interpreter launcher (written by make_fleet.py): bin/<host> -> ../lab-python.
# Tells the stand-in modules which host state file they act on; no module option, no play environment.
# Shell expansions only (no subshell, no dirname/basename process): it runs once per module call.
case $0 in /*) me=$0 ;; *) me=$PWD/$0 ;; esac
d=${{me%/*}}; d=${{d%/*}}
OSCE_LAB_STATE="$d/hosts/${{me##*/}}.json"
OSCE_LAB_LIB="${{OSCE_LAB_LIB:-{lib}}}"
# lab_site/sitecustomize.py: compile cache for the AnsiballZ payload (OSCE_LAB_PYCACHE= turns it off)
OSCE_LAB_PYCACHE="${{OSCE_LAB_PYCACHE-{pycache}}}"
PYTHONPATH="$OSCE_LAB_LIB/lab_site${{PYTHONPATH:+:$PYTHONPATH}}"
export OSCE_LAB_STATE OSCE_LAB_LIB OSCE_LAB_PYCACHE PYTHONPATH
# lab_client.py hands the call to the lab's fork server (osce_lab/forkserver.py; OSCE_LAB_FORKSERVER=0: off)
exec "${{OSCE_LAB_PYTHON:-{python}}}" -S -I "$OSCE_LAB_LIB/lab_client.py" "$@"
"""
LAB_PYCACHE = HERE.parent.parent / ".build" / "lab-pycache"
# --- end launcher


def write_fleet(a) -> Path:
    t0 = dt.datetime.strptime(a.today, "%Y-%m-%d %H:%M:%S")
    mtime = (t0 - dt.datetime(1970, 1, 1)).total_seconds()
    out = Path(a.out).resolve()
    sd = (out / a.state_subdir).resolve()
    for sub in ("hosts", "bin", "installers", "lab", "calls"):
        if (sd / sub).exists():
            shutil.rmtree(sd / sub)
        (sd / sub).mkdir(parents=True)
    rng = random.Random(a.seed)
    faults = {}
    for f in a.fault:
        host, _, kind = f.partition(":")
        kind, _, arg = kind.partition("@")
        if kind not in FAULT_KINDS or not host:
            raise SystemExit(f"make_fleet: --fault {f!r}: unknown kind (choose from {', '.join(FAULT_KINDS)})")
        faults.setdefault(host, []).append((kind, arg))
    if a.cp5712_installed_on:
        cut = a.cp5712_installed_on < osce.R1_CUTOFF
        if a.server_level == "cp5712r1" and cut or a.server_level == "cp5712" and not cut:
            raise SystemExit(f"make_fleet: --cp5712-installed-on {a.cp5712_installed_on} contradicts level "
                             f"{a.server_level} (r1 cut-off {osce.R1_CUTOFF})")
    # ---- server
    srv = make_server(a, rng, mtime)
    version, build, _ = LEVELS[a.server_level]
    conflicts = list(a.port_conflict) + [int(arg or 8082) for kind, arg in faults.get(SERVER, [])
                                         if kind == "port_conflict"]
    for port in a.port_conflict:
        srv["listeners"].append({"port": port, "process": "java.exe", "pid": 3300 + port % 100})
    # a CP installed while another process held an iSPS port left that port unserved (see configure_isps)
    conf = srv["osce"].get("httpd_conf")
    if conf:
        srv["files"][conf]["content"] = "".join(
            line for line in srv["files"][conf]["content"].splitlines(keepends=True)
            if not any(line.strip() == f"Listen {p}" for p in conflicts if p in ISPS_PORTS["apache"]))
    for site in (srv["iis"] or {}).get("sites", {}).values():
        site["bindings"] = [b for b in site["bindings"] if not (b["port"] in conflicts and b["port"] in (8082, 4345, 5274))]
    # ---- installers
    installers = {}
    for step in STEPS:
        spec = installer_spec(step, a.web)   # exitNNNN faults act at run time (osce.run_installer)
        content = json.dumps(spec, indent=1, sort_keys=True).encode() + b"\n"
        blob = sd / "installers" / f"osce106_{step}.exe"
        blob.write_bytes(content)
        sha = hashlib.sha256(content).hexdigest()
        win = INSTALLER_DIR + f"osce106_{step}.exe"
        present, tampered = True, False
        for kind, arg in faults.get(SERVER, []):
            if kind == "installer_missing" and arg in ("", step):
                present = False
            if kind == "installer_tampered" and arg in ("", step):
                tampered = True
        if tampered:
            blob.write_bytes(content.replace(b'"exit_code"', b'"exit_code" ', 1))
        if present:
            srv["files"][win] = {"blob": f"installers/osce106_{step}.exe", "version": f"10.6.0.{spec['build']}",
                                 "mtime": mtime}
        installers[step] = {"path": win, "sha256": sha, "arguments": "/s", "success_codes": [0, 3010, 1641],
                            "method": "package", "client_build": spec["client_build"],
                            "client_package_bytes": spec["client_package_bytes"]}
    hosts = {SERVER: srv}
    # ---- clients
    n = a.clients
    n_x86 = round(n * a.x86_share)
    n_conv = round(n * a.conventional_share)
    idx = list(range(1, n + 1))
    x86 = set(rng.sample(idx, n_x86))
    conv = set(rng.sample(idx, n_conv))
    offline = set(rng.sample(idx, min(a.offline, n)))
    behind = set(rng.sample([i for i in idx if i not in offline], min(a.behind, n - len(offline))))
    prev_build = {}  # the build of the nearest earlier level with a different build
    for j, lv in enumerate(osce.LEVEL_ORDER):
        earlier = [LEVELS[p][1] for p in osce.LEVEL_ORDER[:j] if LEVELS[p][1] < LEVELS[lv][1]]
        if earlier:
            prev_build[lv] = max(earlier)
    clients_cfg = []
    for i in idx:
        site = f"site{(i - 1) % max(1, a.sites) + 1}"
        cb = prev_build.get(a.server_level, build) if i in behind else build
        c = make_client(a, i, rng, mtime, cb, version, "x86" if i in x86 else "x64", i not in conv, site,
                        i in offline)
        hosts[c["hostname"]] = c
        clients_cfg.append({"name": c["hostname"], "site": site, "domain": c["osce"]["domain"]})
    if a.sps_version != "none":
        hosts["sps01"] = make_sps(a, mtime, a.sps_version)
    if a.tmcm_version != "none":
        hosts["tmcm01"] = make_tmcm(a, mtime, a.tmcm_version)
    # ---- host-level faults
    for host, fl in faults.items():
        if host not in hosts:
            raise SystemExit(f"make_fleet: --fault {host}:...: no such host (server is {SERVER}, clients pc0001..)")
        h = hosts[host]
        for kind, arg in fl:
            if kind == "unreachable":
                h["faults"].append({"kind": "unreachable", "after": int(arg or 0)})
            elif kind == "offline":
                h["reachable"] = False
            elif kind == "port_conflict":
                h["listeners"].append({"port": int(arg or 8082), "process": "java.exe", "pid": 3390})
            elif kind == "port_blocked":
                if h["role"] != "client":
                    raise SystemExit(f"make_fleet: --fault {host}:{kind}: applies to a client (pc0001..)")
                arg = arg or "8082"
            elif kind == "disk_small":
                h["disks"][0]["free"] = 100 * MB
            elif kind == "sps2":
                h.update(make_sps(a, mtime, "2.5"))
            elif kind == "old_tmcm":
                h.update(make_tmcm(a, mtime, "5.5 SP1"))
            elif kind.startswith(("exit", "installer_")):
                if host != SERVER:
                    raise SystemExit(f"make_fleet: --fault {host}:{kind}: installer faults apply to {SERVER}")
            h.setdefault("faults", [])
            if kind != "unreachable":
                h["faults"].append({"kind": kind, "arg": arg})
    for name, h in hosts.items():
        if h["role"] != "sps":   # the SPS is a Linux appliance
            windows_base(h, t0)
        write_json(sd / "hosts" / f"{name}.json", h)
        os.symlink("../lab-python", sd / "bin" / name)
        sysinfo = h["osce"].get("sps", {}).get("sysinfo") if h["role"] == "sps" else None
        if sysinfo is not None:
            (sd / "lab" / f"{name}.sysinfo.json").write_text(json.dumps(sysinfo, indent=1) + "\n")
    launcher = sd / "lab-python"
    launcher.write_text(LAUNCHER.format(lib=HERE, python=sys.executable, pycache=LAB_PYCACHE))
    launcher.chmod(0o755)
    sites = {f"site{i}": a.site_mbps * 1e6 / 8 for i in range(1, a.sites + 1)} if a.site_mbps > 0 else {}
    lab_cfg = {"mode": a.mode, "settle_seconds": a.settle, "today": a.today, "server": SERVER,
               "autopcc_respects_privilege": a.autopcc_respects_privilege,
               "reboot_down_calls": a.reboot_down_calls,
               "network": {"uplink_bps": a.uplink_mbps * 1e6 / 8, "default_downlink_bps": a.downlink_mbps * 1e6 / 8,
                           "default_install_seconds": a.install_seconds, "sites": sites},
               "clients": clients_cfg, "generated_by": " ".join(sys.argv[1:]) if __name__ == "__main__" else "api"}
    write_json(sd / "lab" / "lab.json", lab_cfg)
    write_inventory(a, out, hosts, installers)
    return out


def write_inventory(a, out: Path, hosts, installers):
    rel = a.state_subdir.strip("/") or "."
    sdir = "{{ inventory_dir }}" if rel == "." else "{{ inventory_dir }}/" + rel
    build_map = {lv: b for lv, (v, b, _) in LEVELS.items() if lv not in ("pre_10_6", "osce11", "cp5495",
                                                                          "cp5712", "cp5712r1")}
    lp = "{local_path}ofcscan.ini"
    over = {
        "upgrade_privilege_root": {"kind": "ini", "confidence": "calibrated", "file": lp, "section": "Global Setting",
                                   "key": "NoProgramUpgrade", "source": "osce.patching lab (GUESS, not OSCE)",
                                   "description": "lab: 1 = clients update components but not the program"},
        "upgrade_privilege_domain": {"kind": "ini", "confidence": "calibrated", "file": lp,
                                     "section": "Client Privilege", "key": "domain:{domain}",
                                     "source": "osce.patching lab (GUESS, not OSCE)",
                                     "description": "lab: 1 = on, 0 = off for the domain"},
        "upgrade_privilege_client": {"kind": "ini", "confidence": "calibrated", "file": lp,
                                     "section": "Client Privilege", "key": "client:{client}",
                                     "source": "osce.patching lab (GUESS, not OSCE)",
                                     "description": "lab: 1 = on, 0 = off for the client"},
        "isps_ports": {"kind": "ini", "confidence": "calibrated", "file": lp, "section": "INI_SMART_PROTECTION",
                       "key": "FRS_HTTP_Port", "source": "osce.patching lab (GUESS, not OSCE)",
                       "description": "lab: keys FRS_HTTP_Port, FRS_HTTPS_Port, WRS_HTTP_Port"},
    }
    if a.no_isps_record:   # as the shipped profile: where OSCE records the iSPS ports is not calibrated
        del over["isps_ports"]
    import textwrap

    import yaml
    args = shlex.join(sys.argv[1:]) if __name__ == "__main__" else "(api)"
    head = ["# Generated by tests/lab/make_fleet.py - a SIMULATED OfficeScan estate (see docs/lab.md).",
            "# Build numbers are INVENTED by the lab; locations marked GUESS are the lab's calibrated profile."]
    head += ["# make_fleet args: " + line
             for line in textwrap.wrap(args, 120, break_on_hyphens=False, break_long_words=False)]
    # one source: the client's host vars are read from the host state written beside them
    clients = {n: inventory_host_vars(h) for n, h in hosts.items() if h["role"] == "client"}
    sps = {n: {"osce_sps_sysinfo": h["osce"]["sps"]["sysinfo"]} for n, h in hosts.items() if h["role"] == "sps"}
    tmcm = {n: {} for n, h in hosts.items() if h["role"] == "tmcm"}
    doc = {"all": {
        "vars": {
            "ansible_connection": "local",
            "lab_state_dir": sdir,
            "ansible_python_interpreter": "{{ lab_state_dir }}/bin/{{ inventory_hostname }}",
            "osce_build_map": build_map,
            "osce_installers": installers,
            "osce_profile_overrides": over,
            "osce_client_bps": int(a.downlink_mbps * 1e6 / 8),
        },
        "children": {
            "osce_server": {"hosts": {SERVER: {}}},
            "osce_clients": {"hosts": clients},
            "osce_sps": {"hosts": sps},
            "osce_tmcm": {"hosts": tmcm},
        }}}
    if a.budget_mbps > 0:
        doc["all"]["vars"]["osce_bandwidth_budget_bps"] = int(a.budget_mbps * 1e6 / 8)
    if a.install_told:
        doc["all"]["vars"]["osce_client_install_s"] = int(a.install_seconds) if a.install_seconds == int(
            a.install_seconds) else a.install_seconds
    body = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False, width=150, allow_unicode=True)
    body = body.replace("    osce_client_bps:", "    # one client's download rate in the lab's network model (--downlink-mbps)\n"
                        "    osce_client_bps:", 1)
    body = body.replace("    osce_bandwidth_budget_bps:", "    # the rollout's share of the server uplink (--budget-mbps)\n"
                        "    osce_bandwidth_budget_bps:", 1)
    body = body.replace("    osce_client_install_s:", "    # one client's install time in the lab (--install-seconds)\n"
                        "    osce_client_install_s:", 1)
    body = body.replace("    osce_build_map:\n", "    # lab builds, INVENTED (CP builds follow their names)\n"
                        "    osce_build_map:\n", 1)
    (out / "inventory.yml").write_text("\n".join(head) + "\n---\n" + body)


def main(argv=None):
    a = parse_args(argv)
    out = write_fleet(a)
    print(f"make_fleet: {a.clients} clients, server {a.server_level}/{a.web} -> {out}/inventory.yml")


if __name__ == "__main__":
    main()
