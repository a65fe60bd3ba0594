"""OfficeScan behaviour of the lab.

Build numbers below are INVENTED by the lab (the real 10.6 GM..SP3 Patch 2 builds are not public);
only CP 5495 / CP 5712 follow their names. Every location marked GUESS is the lab's own choice
(used by the lab inventory as a "calibrated" profile override), see docs/lab.md.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .network import Lab
from .state import Host, ini_get, ini_sections, ini_set, norm_path, read_json

# level id -> (Server_Version, ServicePack_Build, hotfix_history display name); builds INVENTED
LEVELS = {
    "pre_10_6": ("10.5", 2900, None),
    "gm": ("10.6", 1000, None),
    "sp1": ("10.6", 2000, "OfficeScan 10.6 Service Pack 1"),
    "sp2": ("10.6", 2500, "OfficeScan 10.6 Service Pack 2"),
    "sp3": ("10.6", 3000, "OfficeScan 10.6 Service Pack 3"),
    "sp3_patch1": ("10.6", 4000, "OfficeScan 10.6 Service Pack 3 Patch 1"),
    "sp3_patch1_1": ("10.6", 4100, "OfficeScan 10.6 Service Pack 3 Patch 1.1"),
    "cp5495": ("10.6", 5495, "OfficeScan 10.6 SP3 Critical Patch 5495"),
    "sp3_patch2": ("10.6", 5600, "OfficeScan 10.6 Service Pack 3 Patch 2"),
    "cp5712": ("10.6", 5712, "OfficeScan 10.6 SP3 Critical Patch 5712"),
    "cp5712r1": ("10.6", 5712, "OfficeScan 10.6 SP3 Critical Patch 5712"),
    "osce11": ("11.0", 6054, None),
}
LEVEL_ORDER = list(LEVELS)
CHAIN = ["sp1", "sp2", "sp3", "sp3_patch1", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712"]
R1_CUTOFF = "2015-01-23"
STEPS = ["sp3", "sp3_patch1_1", "cp5495", "sp3_patch2", "cp5712r1"]
# installer prerequisites (ServicePack_Build range on 10.6) — from the FAQ chain, builds invented
STEP_REQUIRES = {"sp3": (1000, 2999), "sp3_patch1_1": (3000, 4099), "cp5495": (4000, 5494),
                 "sp3_patch2": (5495, 5599), "cp5712r1": (5495, 5712)}
MB = 1_000_000
# client package sizes: CP 5712r1 from the FAQ (incl. CRCz.ptn); the others INVENTED
CLIENT_PACKAGE = {"sp3": (120.0, 140.0), "sp3_patch1_1": (60.0, 70.0), "cp5495": (8.0, 10.0),
                  "sp3_patch2": (65.0, 75.0), "cp5712r1": (37.2, 44.2)}
CRCZ_BYTES = 20 * MB          # FAQ: ~20 MB one-time
BF_BYTES = 27 * MB            # FAQ: full BF.ptn redeploy
AGENT_PATTERN_BYTES = 2 * MB  # INVENTED: an incremental Smart Scan Agent Pattern update
ISPS_PORTS = {"apache": (8082, 4345, 5274), "iis-virtual": (8082, 4345, 5274), "iis-default": (80, 443, 80)}

SERVER_INFO = "HKLM\\SOFTWARE\\{wow}TrendMicro\\OfficeScan\\service\\Information"
CLIENT_KEY = "HKLM\\SOFTWARE\\{wow}TrendMicro\\PC-cillinNTCorp\\CurrentVersion"
TVCS_KEY = "HKLM\\SOFTWARE\\{wow}TrendMicro\\TVCS"
# GUESS locations (the lab's calibrated profile)
PRIV_ROOT = ("Global Setting", "NoProgramUpgrade")
PRIV_SECTION = "Client Privilege"
ISPS_SECTION = "INI_SMART_PROTECTION"
VERSION_SECTION = "INI_PROGRAM_VERSION_SECTION"


def wow(arch: str) -> str:
    return "Wow6432Node\\" if arch == "x64" else ""


def file_version(build: int, major: str = "10.6") -> str:
    return f"{major}.0.{build}"


def build_of(version) -> int:
    m = re.findall(r"\d+", str(version or ""))
    return int(m[-1]) if m else 0


# ------------------------------------------------------------------- server view
class Server:
    """Read-only view of the server host's state (plus the mutators used by installers)."""

    def __init__(self, host: Host):
        self.h = host
        self.o = host.data["osce"]

    @property
    def info_key(self):
        return SERVER_INFO.format(wow=wow(self.h.data["arch"]))

    @property
    def local_path(self) -> str:
        return self.h.get_value(self.info_key, "Local_Path")

    def p(self, rel: str) -> str:
        return norm_path(self.local_path.rstrip("\\") + "\\" + rel)

    @property
    def version(self) -> str:
        return str(self.h.get_value(self.info_key, "Server_Version"))

    @property
    def build(self) -> int:
        return int(self.h.get_value(self.info_key, "ServicePack_Build") or 0)

    @property
    def offered_client_build(self) -> int:
        _, entry = self.h.file(self.p("Pccnt\\Common\\Tmlisten.exe"))
        return build_of(entry["version"]) if entry else 0

    @property
    def ini(self) -> str:
        return self.h.read_text(self.p("ofcscan.ini")) or ""

    def set_ini(self, section, key, value):
        self.h.write_text(self.p("ofcscan.ini"), ini_set(self.ini, section, key, value))

    def privilege_on(self, client: str, domain: str | None) -> bool:
        """True when the client may update components but NOT the program (GUESS location)."""
        return _privilege_on(self.ini, client, domain)

    @property
    def agent_pattern(self) -> int:
        return int(ini_get(self.ini, VERSION_SECTION, "PtnVersion") or 0)

    def web_listeners(self) -> list:
        """Ports the web server holds given its configuration and service state."""
        out = []
        svc = self.h.data["services"]
        web = self.o["web"]
        if web == "apache" and svc.get("Apache2", {}).get("state") == "running":
            for port in apache_listen_ports(self.h.read_text(self.o["httpd_conf"]) or ""):
                out.append({"port": port, "process": "httpd.exe", "pid": 2104, "service": "Apache2"})
        if web.startswith("iis") and svc.get("W3SVC", {}).get("state") == "running":
            for site in self.h.data["iis"]["sites"].values():
                if site.get("state", "Started") == "Started":
                    for b in site["bindings"]:
                        out.append({"port": int(b["port"]), "process": "System", "pid": 4, "service": "W3SVC"})
        return out


def apache_listen_ports(text: str) -> list:
    ports = []
    for line in text.splitlines():
        m = re.match(r"\s*Listen\s+(?:[\d.]+:)?(\d+)\s*$", line, re.I)
        if m and int(m.group(1)) not in ports:
            ports.append(int(m.group(1)))
    return ports


def listeners(host: Host) -> list:
    """Every listening TCP port of a host: other processes + the OSCE web server if any."""
    out = [dict(l) for l in host.data.get("listeners", [])]
    if host.data["role"] == "server":
        out += Server(host).web_listeners()
    return out


def start_service(host: Host, name: str):
    """Start a service; Apache refuses to start when a Listen port is held by another process."""
    svc = host.data["services"][name]
    if host.data["role"] == "server" and name == "Apache2":
        held = {l["port"]: l for l in host.data.get("listeners", [])}
        for port in apache_listen_ports(host.read_text(host.data["osce"]["httpd_conf"]) or ""):
            if port in held:
                svc["state"] = "stopped"
                host.touch()
                return (f"Service 'Apache2' failed to start: make_sock: could not bind to address "
                        f"0.0.0.0:{port} (held by {held[port]['process']})")
    svc["state"] = "running"
    host.touch()
    return None


# ------------------------------------------------------------------- fleet
class Fleet:
    def __init__(self, fleet_dir):
        self.dir = Path(fleet_dir)
        self.lab = Lab(self.dir)
        self.cfg = self.lab.config

    def host_path(self, name: str) -> Path:
        return self.dir / "hosts" / f"{name}.json"

    @property
    def server_name(self) -> str:
        return self.cfg["server"]

    def is_server_ref(self, name: str) -> bool:
        n = name.lower()
        s = self.server_name.lower()
        return n == s or n.split(".")[0] == s

    def clients(self) -> list:
        return self.cfg["clients"]


def load_installer(host: Host, path: str):
    _, entry = host.file(path)
    if entry is None:
        return None, "missing"
    data = host.file_bytes(entry)
    try:
        spec = json.loads(data.decode("utf-8"))
    except Exception:
        return None, "corrupt"
    if not isinstance(spec, dict) or spec.get("lab_installer") != 1:
        return None, "corrupt"
    return spec, None


def run_installer(fleet: Fleet, server_path: Path, spec: dict, now_date: str) -> dict:
    """Apply an installer's effect to the server. Returns {rc, stdout, reboot_required}."""
    with Host.open(server_path) as h:
        srv = Server(h)
        lo, hi = STEP_REQUIRES.get(spec["step"], (0, 10**9))
        if srv.version != spec.get("requires_version", "10.6") or not lo <= srv.build <= hi:
            return {"rc": 1603, "stdout": f"lab installer {spec['step']}: prerequisite not met "
                    f"(server {srv.version} build {srv.build}, needs {spec.get('requires_version', '10.6')} "
                    f"build {lo}..{hi})", "applied": False}
        free = h.data["disks"][0]["free"]
        if free < spec.get("disk_needed_bytes", 0):
            return {"rc": 1603, "stdout": f"lab installer {spec['step']}: not enough disk space "
                    f"({free} bytes free, {spec['disk_needed_bytes']} needed)", "applied": False}
        rc = int(spec.get("exit_code", 0))
        # exitNNNN[@step] faults act while listed in the server's state: the file stays the genuine one
        # (its sha256 matches), and removing the fault lets the next run install
        for fault in h.data.get("faults", []):
            if str(fault.get("kind", "")).startswith("exit") and fault.get("arg", "") in ("", spec["step"]):
                rc = int(fault["kind"][4:])
        if rc == 1603:
            return {"rc": 1603, "stdout": f"lab installer {spec['step']}: fatal error during installation",
                    "applied": False}
        subst = {"info_key": srv.info_key, "local_path": srv.local_path.rstrip("\\") + "\\"}
        for r in spec.get("registry", []):
            h.set_value(r["key"].format(**subst), r["name"], r["value"], r.get("type", "REG_SZ"))
        for f in spec.get("files", []):
            p = f["path"].format(**subst)
            _, old = h.file(p)
            new = dict(old or {})
            new.update({k: v for k, v in f.items() if k != "path"})
            new["mtime"] = spec.get("_now_epoch", new.get("mtime", 0))
            h.put_file(p, **new)
        if not h.data["osce"].get("no_patch_history"):   # make_fleet --no-patch-history
            hist = srv.p("Admin\\hotfix_history.ini")
            text = h.read_text(hist) or ""
            text = ini_set(text, spec["display_name"], "Build", spec["build"])
            text = ini_set(text, spec["display_name"], "InstallDate", now_date)
            h.write_text(hist, text)
        for k, v in spec.get("ini", {}).items():
            sec, _, key = k.partition("/")
            srv.set_ini(sec, key, v)
        if spec.get("crcz_with_package") is not None:
            h.data["osce"]["crcz_with_package"] = spec["crcz_with_package"]
        if spec.get("isps"):
            configure_isps(h)
        if spec.get("client_package_bytes"):
            h.data["osce"]["client_package_bytes"] = spec["client_package_bytes"]
        if rc == 3010:
            from .reboot import mark_pending
            mark_pending(h, srv.p("Pccnt\\Common\\Tmlisten.exe"))   # files in use: replaced at the next boot
        h.touch()
        out = {"rc": rc, "stdout": f"lab installer {spec['step']}: installed build {spec['build']}",
               "applied": True}
    return out


def configure_isps(h: Host):
    """CP 5712: record the iSPS ports and open them on the web server (ports held elsewhere skipped)."""
    srv = Server(h)
    web = h.data["osce"]["web"]
    d_frs, d_frss, d_wrs = ISPS_PORTS[web]
    text = srv.ini
    frs = int(ini_get(text, ISPS_SECTION, "FRS_HTTP_Port") or d_frs)
    frss = int(ini_get(text, ISPS_SECTION, "FRS_HTTPS_Port") or d_frss)
    wrs = int(ini_get(text, ISPS_SECTION, "WRS_HTTP_Port") or d_wrs)
    srv.set_ini(ISPS_SECTION, "FRS_HTTP_Port", frs)
    srv.set_ini(ISPS_SECTION, "FRS_HTTPS_Port", frss)
    srv.set_ini(ISPS_SECTION, "WRS_HTTP_Port", wrs)
    held = {l["port"] for l in h.data.get("listeners", [])}
    wanted = [(frs, "http"), (frss, "https"), (wrs, "http")]
    if web == "apache":
        conf = h.read_text(h.data["osce"]["httpd_conf"]) or ""
        have = apache_listen_ports(conf)
        for port, _ in wanted:
            if port not in have and port not in held:
                conf = conf.rstrip("\r\n") + f"\r\nListen {port}\r\n"
                have.append(port)
        h.write_text(h.data["osce"]["httpd_conf"], conf)
    else:
        site = h.data["iis"]["sites"]["OfficeScan" if web == "iis-virtual" else "Default Web Site"]
        for port, proto in wanted:
            if port in held:
                continue
            if not any(int(b["port"]) == port and b["protocol"] == proto for b in site["bindings"]):
                site["bindings"].append({"protocol": proto, "ip": "*", "port": port, "host_header": ""})
    for name in ("iCRCService", "LWCSService"):
        h.data["services"].setdefault(name, {"display_name": name, "start_mode": "auto", "state": "running",
                                            "path": srv.local_path + name + ".exe"})
    h.touch()


# ------------------------------------------------------------------- clients
def client_info(c: Host) -> dict:
    o = c.data["osce"]
    key = CLIENT_KEY.format(wow=wow(c.data["arch"]))
    return {"key": key, "build": build_of(c.get_value(key + "\\Misc.", "ProgramVer")),
            "smart": int(c.get_value(key + "\\iCRC Scan", "ScanType") or 0) != 0,
            "domain": o.get("domain"), "site": o.get("site"), "online": c.reachable}


def upgrade_client(fleet: Fleet, client_path: Path, server_snapshot: dict, trigger: str, block: bool):
    """Move a client to the server's program build: ledger download(s), then apply the new state.

    Blocking (AutoPcc on the client): waits for the virtual clock until the downloads have ended
    (AutoPcc copies the files and exits); the install goes on in virtual time and the new state shows
    once it ends (``settle_install``, run before any stand-in on the client acts). Background
    (notify / burst): the client's state changes at once, its transfer times are computed as the
    clock moves. Returns the list of ledger ids started (empty when nothing to do).
    """
    lab = fleet.lab
    with Host.open(client_path) as c:
        info = client_info(c)
        o = c.data["osce"]
        target = server_snapshot["client_build"]
        ids = []
        if info["build"] >= target and o.get("agent_pattern", 0) >= server_snapshot["agent_pattern"]:
            return []
        if o.get("upgrading"):
            return []
        arch = c.data["arch"]
        if info["build"] < target:
            pkg = server_snapshot["client_package_bytes"].get(arch, 0)
            ids.append(lab.start(c.name, "package", f"program {target}", pkg, trigger=trigger,
                                 site=info["site"], downlink_bps=o.get("downlink_bps"),
                                 install_seconds=o.get("install_seconds", lab.net["default_install_seconds"])))
            if info["smart"] and target >= 5712 and not server_snapshot["crcz_with_package"]:
                ids.append(lab.start(c.name, "pattern", "CRCz.ptn", CRCZ_BYTES, trigger=trigger,
                                     site=info["site"], downlink_bps=o.get("downlink_bps")))
        if info["smart"] and o.get("agent_pattern", 0) < server_snapshot["agent_pattern"]:
            ids.append(lab.start(c.name, "pattern", f"icrc$oth.{server_snapshot['agent_pattern']:03d}",
                                 AGENT_PATTERN_BYTES, trigger=trigger, site=info["site"],
                                 downlink_bps=o.get("downlink_bps")))
        if block:
            o["upgrading"] = {"ids": ids, "snapshot": {k: v for k, v in server_snapshot.items() if k != "ini"}}
            c.touch()
        else:
            _apply_client(c, info, server_snapshot)
    if block:
        for i in ids:
            lab.wait(i, until="transfer")
    return ids


def settle_install(fleet: Fleet, client_path: Path) -> None:
    """A client whose AutoPcc install is still running: block until it ends (virtual time), apply it.

    Every read of the client then sees the state a real poll would see once the install is over,
    without the lab having to simulate the polls themselves."""
    with Host.open(client_path, write=False) as c:
        pending = c.data.get("osce", {}).get("upgrading")
    if not isinstance(pending, dict):
        return
    for i in pending["ids"]:
        fleet.lab.wait(i)
    with Host.open(client_path) as c:
        o = c.data["osce"]
        if isinstance(o.get("upgrading"), dict):
            o.pop("upgrading")
            _apply_client(c, client_info(c), pending["snapshot"])


def settle_all(fleet: Fleet) -> float:
    """End of a run: finish every pending download and install on the model, apply the installs to
    the clients' state (as if time ran on until the network was quiet); returns the final virtual time."""
    end = fleet.lab.drain()
    for path in sorted((fleet.dir / "hosts").glob("*.json")):
        settle_install(fleet, path)
    return end


def _apply_client(c: Host, info: dict, snap: dict):
    key = info["key"]
    o = c.data["osce"]
    app = c.get_value(key, "Application Path")
    target = snap["client_build"]
    if info["build"] < target:
        ver = f"{snap['major']}.{target}"
        c.set_value(key + "\\Misc.", "ProgramVer", ver)
        c.set_value(key + "\\Misc.", "TmListen_Ver", ver)
        _, tl = c.file(app + "Tmlisten.exe")
        c.put_file(app + "Tmlisten.exe", **dict(tl or {}, version=file_version(target, snap["major"]),
                                                 size=(tl or {}).get("size", 1_843_200)))
        if info["smart"] and target >= 5712:
            c.put_file(app + "CRCz.ptn", size=CRCZ_BYTES, version=str(snap["agent_pattern"]), mtime=0)
            c.remove_file(app + "BF.ptn")
    if info["smart"] and o.get("agent_pattern", 0) < snap["agent_pattern"]:
        for name in list(c.data["files"]):
            if re.search(r"\\icrc\$oth\.\d+$", name, re.I):
                del c.data["files"][name]
        ap = snap["agent_pattern"]
        c.put_file(app + f"icrc$oth.{ap:03d}", size=AGENT_PATTERN_BYTES * 4, version=f"11.{ap:03d}.00", mtime=0)
        c.set_value(key + "\\Misc.", "PatternVer", f"11.{ap:03d}.00")
        o["agent_pattern"] = ap
    c.touch()


def server_snapshot(server_path: Path) -> dict:
    with Host.open(server_path, write=False) as h:
        srv = Server(h)
        o = h.data["osce"]
        return {"client_build": srv.offered_client_build, "agent_pattern": srv.agent_pattern,
                "major": srv.version, "crcz_with_package": o.get("crcz_with_package", True),
                "client_package_bytes": o.get("client_package_bytes", {"x86": 0, "x64": 0}),
                "ini": srv.ini, "reachable": h.reachable}


def reconcile(fleet: Fleet) -> list:
    """Server notifies every online client that is behind and allowed: they all download now."""
    snap = server_snapshot(fleet.host_path(fleet.server_name))
    started = []
    for c in fleet.clients():
        path = fleet.host_path(c["name"])
        with Host.open(path, write=False) as ch:
            info = client_info(ch)
            if not info["online"] or ch.data["osce"].get("upgrading"):
                continue
            behind = info["build"] < snap["client_build"]
            if not behind:
                continue
        if _privilege_on(snap["ini"], c["name"], info["domain"]):
            continue
        ids = upgrade_client(fleet, path, snap, trigger="notify", block=False)
        if ids:
            started.append(c["name"])
    return started


def _privilege_on(ini_text: str, client: str, domain) -> bool:
    for key in (f"client:{client}", f"domain:{domain}" if domain else None):
        if key:
            v = ini_get(ini_text, PRIV_SECTION, key)
            if v is not None:
                return v.strip() == "1"
    return (ini_get(ini_text, *PRIV_ROOT) or "0").strip() == "1"
