"""Helpers for the role / playbook tests: generate a lab fleet, run a playbook through the lab
wrapper, and read the lab's host state files directly (an independent reader: no lab or
collection code is imported to judge the result)."""
from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WRAPPER = ROOT / "tests" / "lab" / "ansible-lab"
MAKE_FLEET = ROOT / "tests" / "lab" / "make_fleet.py"
INFO_KEY = "\\TrendMicro\\OfficeScan\\service\\Information"
CLIENT_KEY = "\\TrendMicro\\PC-cillinNTCorp\\CurrentVersion"

needs_lab = pytest.mark.skipif(not (WRAPPER.exists() and MAKE_FLEET.exists()),
                               reason="the lab (tests/lab) is not present")


@dataclass
class Run:
    rc: int
    out: str

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP counters per host."""
        rows = {}
        for m in re.finditer(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", self.out, re.M):
            rows[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        return rows

    def changed_hosts(self) -> dict[str, int]:
        return {h: c["changed"] for h, c in self.recap().items() if c.get("changed")}


class Fleet:
    def __init__(self, path: Path):
        self.path = path
        self.inventory = path / "inventory.yml"

    # ---- the lab's files, read as plain JSON -------------------------------------------------
    def host(self, name: str) -> dict:
        return json.loads((self.path / "hosts" / f"{name}.json").read_text())

    def hosts(self) -> list[str]:
        return sorted(p.stem for p in (self.path / "hosts").glob("*.json"))

    def role_hosts(self, role: str) -> list[str]:
        return [h for h in self.hosts() if self.host(h).get("role") == role]

    @property
    def server(self) -> str:
        return self.role_hosts("server")[0]

    def clients(self) -> list[str]:
        return self.role_hosts("client")

    def snapshot(self) -> dict[str, str]:
        """Digest of every host state file, to prove that nothing changed on any host."""
        out = {}
        for p in sorted((self.path / "hosts").glob("*.json")):
            state = json.loads(p.read_text())
            state.pop("calls", None)  # the lab counts module calls, reads included: not a change
            out[p.name] = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()
        return out

    @staticmethod
    def _value(state: dict, key_suffix: str, name: str):
        for key, entry in state.get("registry", {}).items():
            if key.lower().endswith(key_suffix.lower()):
                for n, v in entry.get("values", {}).items():
                    if n.lower() == name.lower():
                        return v["value"]
        return None

    @staticmethod
    def _text(state: dict, suffix: str) -> str:
        for name, entry in state.get("files", {}).items():
            if name.lower().endswith(suffix.lower()) and "content" in entry:
                return entry["content"]
        return ""

    def server_build(self) -> tuple[str, int]:
        s = self.host(self.server)
        return str(self._value(s, INFO_KEY, "Server_Version")), int(self._value(s, INFO_KEY, "ServicePack_Build"))

    def patch_history(self) -> list[str]:
        """Section names of the server's hotfix_history.ini in file order (= install order)."""
        text = self._text(self.host(self.server), "\\Admin\\hotfix_history.ini")
        return re.findall(r"^\[([^\]]+)\]", text, re.M)

    def privilege_root(self) -> str:
        ini = configparser.ConfigParser(strict=False, interpolation=None)
        ini.optionxform = str
        ini.read_string(self._text(self.host(self.server), "\\PCCSRV\\ofcscan.ini"))
        return ini.get("Global Setting", "NoProgramUpgrade", fallback="0").strip()

    def client(self, name: str) -> dict:
        s = self.host(name)
        ver = str(self._value(s, CLIENT_KEY + "\\Misc.", "ProgramVer") or "0.0")
        scan = int(self._value(s, CLIENT_KEY + "\\iCRC Scan", "ScanType") or 0)
        files = [n.lower() for n in s.get("files", {})]
        return {"build": int(ver.rsplit(".", maxsplit=1)[-1]), "smart": scan != 0, "online": s.get("reachable", True),
                "crcz": any(n.endswith("\\crcz.ptn") for n in files),
                "bf": any(n.endswith("\\bf.ptn") for n in files)}


def make_fleet(tmp_path: Path, level: str, web: str = "apache", clients: int = 3, *extra: str) -> Fleet:
    out = tmp_path / f"fleet-{level}-{web}"
    cmd = [sys.executable, str(MAKE_FLEET), "--out", str(out), "--server-level", level, "--web", web,
           "--clients", str(clients), "--mode", "instant", "--settle", "0.05", *extra]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    return Fleet(out)


LAB_LOCK_SETTLE = 0.2


def run_playbook(fleet: Fleet, playbook: str = "playbooks/site.yml", *args: str, timeout: int = 600,
                 env: dict | None = None) -> Run:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", **(env or {}))
    # A Windows admin tells which IIS site OSCE uses (osce_web_server); the lab inventory does not.
    web = fleet.host(fleet.server).get("osce", {}).get("web", "")
    if web.startswith("iis"):
        args = ("-e", f"osce_web_server={web}", *args)
    # one run at a time here: the lock's race window (3 s of real time per run) is shortened; the tests of
    # two runs at once start theirs without this helper and keep the default
    args = ("-e", f"osce_run_lock_settle={LAB_LOCK_SETTLE}", *args)
    proc = subprocess.run([str(WRAPPER), "ansible-playbook", "-i", str(fleet.inventory), playbook, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


# The collection's own key on the OSCE server (the privilege marker, the run lock, Applied.<step>).
OSCE_KEY = "\\software\\osce.patching"
MARKER = OSCE_KEY + "\\privilegemarker"


def ledger(fleet: Fleet) -> dict:
    """The lab's transfer ledger (tests/lab/ledger.py --json; pending transfers drained first)."""
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "lab" / "ledger.py"), str(fleet.path), "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def outside_batches(fleet: Fleet) -> list[dict]:
    """Client package downloads not started by a batch (AutoPcc): the rule that outranks the others."""
    return [r for r in ledger(fleet)["records"] if r["kind"] == "package" and r["trigger"] != "autopcc"]


def osce_values(fleet: Fleet) -> dict:
    """Values of the collection's own key on the server."""
    for key, entry in fleet.host(fleet.server).get("registry", {}).items():
        if key.lower().endswith(OSCE_KEY):
            return {n: v["value"] for n, v in entry.get("values", {}).items()}
    return {}


def marker_open(fleet: Fleet) -> bool:
    return any(k.lower().endswith(MARKER) for k in fleet.host(fleet.server).get("registry", {}))
