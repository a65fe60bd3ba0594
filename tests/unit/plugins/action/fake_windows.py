"""A fake Windows host at the gateway boundary: replaces ``ActionBase._execute_module``.

It answers the sixteen gateway modules with result dicts shaped like the real modules' RETURN
(``win_reg_stat`` ``properties`` with ``value``/``raw_value``/``type``, ``slurp`` base64 ``content``,
``win_find`` ``files``, ``win_listen_ports_facts`` ``ansible_facts.tcp_listen`` ...), keeps a small
in-memory state, and records every call so tests can count reads, writes and installer runs.
"""
from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import typing as t
from unittest.mock import MagicMock

SERVER_KEY = "HKLM:\\SOFTWARE\\Wow6432Node\\TrendMicro\\OfficeScan\\service\\Information"
LOCAL = "C:\\Program Files (x86)\\Trend Micro\\OfficeScan\\PCCSRV\\"
CLIENT_KEY = "HKLM:\\SOFTWARE\\Wow6432Node\\TrendMicro\\PC-cillinNTCorp\\CurrentVersion"
APP = "C:\\Program Files (x86)\\Trend Micro\\OfficeScan Client\\"

WRITE_MODULES = {"win_regedit", "win_package", "win_command", "win_service", "win_lineinfile", "win_iis_webbinding"}


def _k(path: str) -> str:
    p = path.replace("/", "\\").rstrip("\\").lower()
    return p.replace("hklm:\\", "hklm\\")


class FakeWindows:
    def __init__(self) -> None:
        self.registry: dict[str, tuple[str, dict[str, t.Any]]] = {}
        self.files: dict[str, dict[str, t.Any]] = {}
        self.services: dict[str, dict[str, t.Any]] = {}
        self.listeners: list[dict[str, t.Any]] = []
        self.iis: dict[str, list[dict[str, t.Any]]] = {}
        self.disks = [{"drive_letter": "C", "size": 100 * 2**30, "size_remaining": 50 * 2**30}]
        self.installers: dict[str, t.Callable[["FakeWindows"], int]] = {}
        self.commands: dict[str, t.Callable[["FakeWindows", list[str]], int]] = {}
        self.reachable: set[tuple[str, int]] = set()
        self.unreachable = False
        #: the next N calls find the host unreachable (a restart), then it answers again
        self.down_for = 0
        self.on_restart: dict[str, t.Callable[["FakeWindows"], str | None]] = {}
        self.calls: list[tuple[str, dict[str, t.Any]]] = []

    # -- setup helpers -------------------------------------------------------------------------
    def set_reg(self, key: str, name: str, value: t.Any, type_: str = "REG_SZ") -> None:
        self.registry.setdefault(_k(key), (key, {}))[1][name] = (value, type_)

    def get_reg(self, key: str, name: str) -> t.Any:
        entry = self.registry.get(_k(key))
        return None if entry is None or name not in entry[1] else entry[1][name][0]

    def put(self, path: str, text: str | None = None, *, size: int | None = None, sha256: str | None = None,
            version: str | None = None) -> None:
        data = (text or "").encode()
        self.files[path.lower()] = {"path": path, "content": data if text is not None else None,
                                    "size": size if size is not None else len(data),
                                    "sha256": sha256 or hashlib.sha256(data).hexdigest(), "version": version}

    def text(self, path: str) -> str | None:
        f = self.files.get(path.lower())
        return None if f is None or f["content"] is None else f["content"].decode()

    def snapshot(self) -> t.Any:
        return copy.deepcopy((self.registry, self.files, self.services, self.iis, self.listeners))

    def names(self) -> list[str]:
        return [m.rsplit(".", 1)[1] for m, _args in self.calls]

    def count(self, short: str) -> int:
        return self.names().count(short)

    def writes(self) -> list[str]:
        return [n for n in self.names() if n in WRITE_MODULES]

    # -- the boundary ---------------------------------------------------------------------------
    def execute(self, module_name: str | None = None, module_args: dict[str, t.Any] | None = None,
                task_vars: dict[str, t.Any] | None = None, **_kw: t.Any) -> dict[str, t.Any]:
        args = dict(module_args or {})
        self.calls.append((str(module_name), args))
        if self.unreachable:
            return {"unreachable": True, "msg": "ntlm: the specified credentials were rejected by the server"}
        if self.down_for > 0:
            self.down_for -= 1
            return {"unreachable": True, "msg": "winrm: connection refused (the host is restarting)"}
        short = str(module_name).rsplit(".", 1)[1]
        return getattr(self, f"_m_{short}")(args)

    # -- modules --------------------------------------------------------------------------------
    def _m_win_reg_stat(self, a):
        entry = self.registry.get(_k(a["path"]))
        if entry is None:
            return {"changed": False, "exists": False}
        prefix = _k(a["path"]) + "\\"
        subs = sorted({k[len(prefix):].split("\\")[0] for k in self.registry if k.startswith(prefix)})
        props = {n: {"value": v, "raw_value": v, "type": ty} for n, (v, ty) in entry[1].items()}
        return {"changed": False, "exists": True, "properties": props, "sub_keys": subs}

    def _m_win_regedit(self, a):
        key = _k(a["path"])
        if a.get("state") == "absent":
            if "name" in a:
                entry = self.registry.get(key)
                changed = bool(entry and a["name"] in entry[1])
                if changed:
                    del entry[1][a["name"]]
                return {"changed": changed}
            changed = key in self.registry
            self.registry.pop(key, None)
            return {"changed": changed}
        old = self.get_reg(a["path"], a["name"])
        changed = old != a.get("data")
        self.set_reg(a["path"], a["name"], a.get("data"))
        return {"changed": changed, "data_changed": changed, "data_type_changed": False}

    def _m_slurp(self, a):
        text = self.text(a["src"])
        if text is None:
            return {"failed": True, "changed": False, "msg": f"Path {a['src']} is not found"}
        return {"changed": False, "content": base64.b64encode(text.encode()).decode(), "encoding": "base64"}

    def _m_win_stat(self, a):
        f = self.files.get(a["path"].lower())
        if f is None:
            return {"changed": False, "stat": {"exists": False}}
        st = {"exists": True, "path": f["path"], "size": f["size"], "isdir": False,
              "filename": f["path"].rsplit("\\", 1)[1]}
        if a.get("get_checksum", True):
            st["checksum"] = f["sha256"] if a.get("checksum_algorithm") == "sha256" else "sha1-not-faked"
        return {"changed": False, "stat": st}

    def _m_win_find(self, a):
        found = []
        for p in a["paths"]:
            folder = p.rstrip("\\").lower() + "\\"
            for path, f in self.files.items():
                if path.startswith(folder) and "\\" not in path[len(folder):]:
                    name = f["path"].rsplit("\\", 1)[1]
                    if not a.get("patterns") or any(fnmatch.fnmatch(name.lower(), pat.lower()) for pat in a["patterns"]):
                        found.append({"path": f["path"], "filename": name, "size": f["size"], "isdir": False,
                                      "exists": True, "lastwritetime": 0.0})
        return {"changed": False, "files": found, "matched": len(found), "examined": len(self.files)}

    def _m_win_package(self, a):
        # like the real module: with checksum, the file is hashed before it is started
        f = self.files.get(a["path"].lower())
        if a.get("checksum") and f is None:
            return {"failed": True, "changed": False, "msg": f"the file at the path '{a['path']}' cannot be reached"}
        if a.get("checksum") and f["sha256"].lower() != a["checksum"].lower():
            return {"failed": True, "changed": False,
                    "msg": f"The checksum for {a['path']} did not match '{a['checksum']}', it was '{f['sha256']}'"}
        effect = self.installers.get(a["path"].lower())
        rc = effect(self) if effect else 2
        ok = rc in a.get("expected_return_code", [0, 3010])
        res = {"changed": True, "rc": rc, "reboot_required": rc in (3010, 1641)}
        if not ok:
            res.update(failed=True, msg=f"unexpected rc from install {a['path']}: see rc, stdout and stderr for more details")
        return res

    def _m_win_command(self, a):
        argv = a.get("argv") or str(a.get("cmd", "")).split()
        effect = self.commands.get(argv[0].lower())
        rc = effect(self, argv) if effect else 2
        res = {"changed": True, "rc": rc, "stdout": "", "stderr": "", "cmd": " ".join(argv)}
        if rc != 0:
            res.update(failed=True, msg="non-zero return code")
        return res

    def _m_win_service(self, a):
        svc = self.services.get(a["name"])
        if svc is None:
            return {"failed": True, "msg": f"Service '{a['name']}' is not installed, need to set 'path' to create a new service"}
        svc["restarts"] = svc.get("restarts", 0) + 1
        svc["state"] = "running"
        hook = self.on_restart.get(a["name"])
        if hook and hook(self):
            svc["state"] = "stopped"
            return {"failed": True, "msg": f"Service '{a['name']}' failed to start: {hook(self)}"}
        return {"changed": True, "exists": True, "name": a["name"], "state": "running"}

    def _m_win_service_info(self, a):
        out = [{"name": n, **{k: v for k, v in s.items() if k != "restarts"}} for n, s in self.services.items()
               if a.get("name") in (None, n)]
        return {"changed": False, "exists": bool(out), "services": out}

    def _m_win_listen_ports_facts(self, a):
        return {"changed": False, "ansible_facts": {"tcp_listen": [dict(l, protocol="tcp") for l in self.listeners],
                                                    "udp_listen": []}}

    def _m_win_wait_for(self, a):
        if (a["host"], a["port"]) in self.reachable:
            return {"changed": False, "elapsed": 0.1, "wait_attempts": 1}
        return {"failed": True, "changed": False, "elapsed": float(a.get("timeout", 0)), "wait_attempts": 3,
                "msg": f"timeout while waiting for {a['host']}:{a['port']} to start listening"}

    def _m_win_file_version(self, a):
        f = self.files.get(a["path"].lower())
        if f is None:
            return {"failed": True, "msg": f"Specified path {a['path']} does not exist"}
        v = f["version"] or ""
        return {"changed": False, "win_file_version": {"path": f["path"], "file_version": v, "product_version": v}}

    def _m_win_disk_facts(self, a):
        parts = [{"drive_letter": d["drive_letter"], "volumes": [{"size": d["size"], "size_remaining": d["size_remaining"]}]}
                 for d in self.disks]
        return {"changed": False, "ansible_facts": {"ansible_disks": [{"number": 0, "partitions": parts}]}}

    def _m_win_lineinfile(self, a):
        import re

        text = self.text(a["path"])
        if text is None:
            return {"failed": True, "msg": f"Path {a['path']} does not exist !"}
        lines = text.splitlines()
        if a.get("state") == "absent":
            kept = [line for line in lines if not re.search(a["regex"], line)]
            if kept == lines:
                return {"changed": False, "msg": ""}
            self.put(a["path"], "\r\n".join(kept) + "\r\n")
            return {"changed": True, "msg": f"{len(lines) - len(kept)} line(s) removed"}
        for i, line in enumerate(lines):
            if re.search(a["regex"], line):
                if line == a["line"]:
                    return {"changed": False, "msg": ""}
                lines[i] = a["line"]
                break
        else:
            at = len(lines)
            if a.get("insertafter"):
                hits = [i for i, line in enumerate(lines) if re.search(a["insertafter"], line)]
                if hits:
                    at = hits[-1] + 1
            lines.insert(at, a["line"])
        self.put(a["path"], "\r\n".join(lines) + "\r\n")
        return {"changed": True, "msg": "line added"}

    def _m_win_iis_webbinding(self, a):
        site = self.iis.setdefault(a["name"], [])
        b = {"port": int(a["port"]), "protocol": a.get("protocol", "http"), "ip": a.get("ip", "*")}
        if b in site:
            return {"changed": False}
        site.append(b)
        self.listeners.append({"port": b["port"], "name": "System", "pid": 4})
        return {"changed": True, "binding_info": b}


def make_action(cls: type, args: dict[str, t.Any], fake: FakeWindows, *, check_mode: bool = False,
                task_vars: dict[str, t.Any] | None = None, host: str = "osce01") -> tuple[t.Any, dict[str, t.Any]]:
    """An action plugin instance wired to ``fake``; returns (action, task_vars)."""
    task = MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = True
    task.action = f"osce.patching.{cls.MODULE}"
    connection = MagicMock()
    connection._shell.tmpdir = "/tmp/fake"
    action = cls(task, connection, MagicMock(), loader=MagicMock(), templar=MagicMock(), shared_loader_obj=MagicMock())
    action._execute_module = fake.execute
    tv = {"inventory_hostname": host}
    tv.update(task_vars or {})
    return action, tv


def osce_server(fake: FakeWindows, *, build: int = 5600, version: str = "10.6",
                history: str = "", agent_ptn: str = "11.345.00", web: str = "apache") -> None:
    """An OSCE server as the shipped profile reads it."""
    fake.set_reg(SERVER_KEY, "Server_Version", version)
    fake.set_reg(SERVER_KEY, "ServicePack_Build", str(build))
    fake.set_reg(SERVER_KEY, "Local_Path", LOCAL)
    fake.put(LOCAL + "ofcscan.ini", "[INI_SERVER_SECTION]\r\nMaster_DomainPort=8080\r\n"
             "[INI_PROGRAM_VERSION_SECTION]\r\nNonCrcPtnVersion=11.345.00\r\n"
             f"PtnVersion={agent_ptn}\r\n[Global Setting]\r\nNoProgramUpgrade=0\r\n")
    fake.put(LOCAL + "Admin\\hotfix_history.ini", history)
    fake.put(LOCAL + "Pccnt\\Common\\Tmlisten.exe", size=1843200, version=f"10.6.0.{build}")
    if web == "apache":
        fake.services["Apache2"] = {"display_name": "Apache2", "state": "running", "start_mode": "auto"}
        fake.put(LOCAL + "..\\Apache2\\conf\\httpd.conf", "ServerRoot x\r\nListen 8080\r\nListen 4343\r\n")
    else:
        fake.services["W3SVC"] = {"display_name": "World Wide Web Publishing Service", "state": "running",
                                  "start_mode": "auto"}
    fake.services["OfficeScan Master Service"] = {"display_name": "OfficeScan Master Service", "state": "running",
                                                  "start_mode": "auto"}


LAB_PROFILE = {
    "upgrade_privilege_root": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "Global Setting",
                               "key": "NoProgramUpgrade"},
    "upgrade_privilege_client": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "Client Privilege",
                                 "key": "client:{client}"},
    "upgrade_privilege_domain": {"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "Client Privilege",
                                 "key": "domain:{domain}"},
}

BUILD_MAP = {"sp3": 3000, "sp3_patch1": 4000, "sp3_patch1_1": 4100, "sp3_patch2": 5600}
