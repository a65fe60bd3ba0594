"""Host state: one JSON file per host, guarded by fcntl.flock.

Windows paths are keys: registry keys are normalised to ``HKLM\\SOFTWARE\\...`` (``HKLM:\\``,
``HKEY_LOCAL_MACHINE\\`` accepted) and looked up case-insensitively, as Windows does; file paths
likewise (``C:\\...``, ``\\\\server\\share\\...``).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("host_state.schema.json")

_HIVES = {
    "hklm": "HKLM", "hkey_local_machine": "HKLM", "hkcu": "HKCU", "hkey_current_user": "HKCU",
    "hkcr": "HKCR", "hkey_classes_root": "HKCR", "hku": "HKU", "hkey_users": "HKU",
    "hkcc": "HKCC", "hkey_current_config": "HKCC",
}


def norm_key(path: str) -> str:
    p = path.replace("/", "\\").strip()
    p = re.sub(r"^Registry::", "", p, flags=re.I)
    head, _, rest = p.partition("\\")
    hive = _HIVES.get(head.rstrip(":").lower())
    if hive is None:
        raise ValueError(f"unsupported registry path {path!r}")
    rest = re.sub(r"\\+", "\\\\", rest).strip("\\")
    return hive + ("\\" + rest if rest else "")


def norm_path(path: str) -> str:
    p = path.replace("/", "\\")
    unc = p.startswith("\\\\")
    body = re.sub(r"\\+", "\\\\", p.lstrip("\\")).rstrip("\\")
    parts = []
    for part in body.split("\\"):
        if part == "..":
            if len(parts) > 1:
                parts.pop()
        elif part != ".":
            parts.append(part)
    body = "\\".join(parts)
    if re.fullmatch(r"[A-Za-z]:", body):
        body += "\\"
    return ("\\\\" + body) if unc else body


def parent(path: str) -> str:
    p = norm_path(path)
    head, _, _ = p.rpartition("\\")
    if re.fullmatch(r"[A-Za-z]:", head):
        head += "\\"
    return head


def basename(path: str) -> str:
    return norm_path(path).rpartition("\\")[2]


@contextlib.contextmanager
def flocked(path: Path, exclusive: bool = True):
    lock = Path(str(path) + ".lock")
    with open(lock, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_json(path: Path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_json(path: Path, data) -> None:
    tmp = Path(f"{path}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def calls_path(state_path) -> Path:
    """``<state>/calls/<host>.json``: the host's module-call counter, kept OUT of the host state file
    so that reads (and check mode) leave ``hosts/<host>.json`` byte-identical."""
    p = Path(state_path)
    return p.parent.parent / "calls" / p.name


def call_count(state_path) -> int:
    p = calls_path(state_path)
    if not p.exists():
        return 0
    with flocked(p, exclusive=False):
        return int(read_json(p).get("calls", 0))


def count_call(state_path) -> int:
    """One more module call on the host; returns the new count."""
    p = calls_path(state_path)
    p.parent.mkdir(exist_ok=True)
    with flocked(p):
        n = int(read_json(p).get("calls", 0)) + 1 if p.exists() else 1
        write_json(p, {"calls": n})
    return n


def is_reachable(data: dict, calls: int) -> bool:
    """Offline (``reachable: false``), restarting (call count up to ``down_until_call``, after an installer
    exit 1641) or past an ``unreachable@N`` fault (more than N calls)."""
    if not data.get("reachable", True):
        return False
    down_until = int(data.get("down_until_call") or 0)
    if down_until and calls <= down_until:  # no restart recorded: a host nobody called yet is up
        return False
    return not any(f.get("kind") == "unreachable" and calls > int(f.get("after", 0))
                   for f in data.get("faults", []))


class Host:
    """A host's state dict plus helpers. Use ``Host.open(path)`` as a context manager."""

    def __init__(self, path: Path, data: dict):
        self.path = Path(path)
        self.data = data
        self.dirty = False

    @classmethod
    @contextlib.contextmanager
    def open(cls, path, write: bool = True):
        path = Path(path)
        with flocked(path, exclusive=write):
            host = cls(path, read_json(path))
            try:
                yield host
            except SystemExit:
                # exit_json/fail_json inside the block: what the module changed up to there stays
                # changed, as on a real host (stand-ins answer after the block; this is the safety net)
                if write and host.dirty:
                    write_json(path, host.data)
                raise
            if write and host.dirty:
                write_json(path, host.data)

    @property
    def name(self) -> str:
        return self.data["hostname"]

    @property
    def reachable(self) -> bool:
        """Reachability as module calls see it (state flag, unreachable@N fault and call count)."""
        return is_reachable(self.data, call_count(self.path))

    @property
    def fleet_dir(self) -> Path:
        return self.path.parent.parent

    def touch(self):
        self.dirty = True

    # ---------------------------------------------------------------- registry
    def _reg(self) -> dict:
        return self.data["registry"]

    def find_key(self, path: str):
        k = norm_key(path).lower()
        for name in self._reg():
            if name.lower() == k:
                return name
        return None

    def key_exists(self, path: str) -> bool:
        if self.find_key(path):
            return True
        prefix = norm_key(path).lower() + "\\"
        return any(n.lower().startswith(prefix) for n in self._reg())

    def sub_keys(self, path: str) -> list:
        prefix = norm_key(path).lower() + "\\"
        subs = []
        for n in self._reg():
            if n.lower().startswith(prefix):
                first = n[len(prefix):].split("\\")[0]
                if first and first not in subs:
                    subs.append(first)
        return sorted(subs)

    def values(self, path: str) -> dict:
        k = self.find_key(path)
        return self._reg()[k]["values"] if k else {}

    def get_value(self, path: str, name: str, default=None):
        for n, v in self.values(path).items():
            if n.lower() == (name or "").lower():
                return v["value"]
        return default

    def set_value(self, path: str, name: str, value, rtype: str = "REG_SZ") -> bool:
        k = self.find_key(path) or norm_key(path)
        entry = self._reg().setdefault(k, {"values": {}})
        vals = entry["values"]
        for n in list(vals):
            if n.lower() == (name or "").lower():
                if vals[n] == {"type": rtype, "value": value}:
                    return False
                del vals[n]
        vals[name] = {"type": rtype, "value": value}
        self.touch()
        return True

    def delete_value(self, path: str, name: str) -> bool:
        vals = self.values(path)
        for n in list(vals):
            if n.lower() == (name or "").lower():
                del vals[n]
                self.touch()
                return True
        return False

    def delete_key(self, path: str) -> bool:
        k = norm_key(path).lower()
        gone = [n for n in self._reg() if n.lower() == k or n.lower().startswith(k + "\\")]
        for n in gone:
            del self._reg()[n]
        if gone:
            self.touch()
        return bool(gone)

    # ------------------------------------------------------------------- files
    def _files(self) -> dict:
        return self.data["files"]

    def find_file(self, path: str):
        p = norm_path(path).lower()
        for name in self._files():
            if name.lower() == p:
                return name
        return None

    def file(self, path: str):
        name = self.find_file(path)
        return (name, self._files()[name]) if name else (None, None)

    def is_dir(self, path: str) -> bool:
        p = norm_path(path).lower().rstrip("\\") + "\\"
        return any(n.lower().startswith(p) for n in self._files()) or any(
            d.lower().rstrip("\\") + "\\" == p for d in self.data.get("dirs", []))

    def file_bytes(self, entry: dict):
        """Content of a file entry: inline text, or a blob (a real lab file, relative to the fleet dir)."""
        if "content" in entry:
            return entry["content"].encode("utf-8")
        if "blob" in entry:
            blob = self.fleet_dir / entry["blob"]
            return blob.read_bytes() if blob.exists() else None
        return None

    def file_size(self, entry: dict) -> int:
        data = self.file_bytes(entry)
        return len(data) if data is not None else int(entry.get("size", 0))

    def file_hash(self, entry: dict, algo: str = "sha256") -> str:
        data = self.file_bytes(entry)
        if data is not None:
            return hashlib.new(algo, data).hexdigest()
        if algo == "sha256" and entry.get("sha256"):
            return entry["sha256"]
        # opaque big file (pattern): a stable stand-in hash of its identity
        return hashlib.new(algo, json.dumps([entry.get("version"), entry.get("size")]).encode()).hexdigest()

    def read_text(self, path: str):
        _, entry = self.file(path)
        if entry is None:
            return None
        data = self.file_bytes(entry)
        return None if data is None else data.decode("utf-8")

    def write_text(self, path: str, text: str, mtime: float | None = None):
        name = self.find_file(path) or norm_path(path)
        entry = self._files().setdefault(name, {})
        entry.pop("blob", None)
        entry["content"] = text
        entry["mtime"] = mtime if mtime is not None else entry.get("mtime", 0)
        self.touch()

    def put_file(self, path: str, **entry):
        name = self.find_file(path) or norm_path(path)
        self._files()[name] = entry
        self.touch()

    def remove_file(self, path: str) -> bool:
        name = self.find_file(path)
        if name:
            del self._files()[name]
            self.touch()
        return bool(name)


# -------------------------------------------------------------------- INI text
def ini_get(text: str, section: str, key: str):
    cur = None
    for line in (text or "").splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            cur = s[1:-1].strip().lower()
        elif cur == section.lower() and "=" in s:
            k, _, v = s.partition("=")
            if k.strip().lower() == key.lower():
                return v.strip()
    return None


def ini_sections(text: str) -> dict:
    out, cur = {}, None
    for line in (text or "").splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            cur = s[1:-1].strip()
            out.setdefault(cur, {})
        elif cur is not None and "=" in s and not s.startswith(";"):
            k, _, v = s.partition("=")
            out[cur][k.strip()] = v.strip()
    return out


def ini_set(text: str, section: str, key: str, value) -> str:
    lines = (text or "").splitlines()
    cur, sec_end, found = None, None, False
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            if cur == section.lower():
                sec_end = i
            cur = s[1:-1].strip().lower()
            if cur == section.lower():
                sec_end = None
        elif cur == section.lower() and "=" in s and s.partition("=")[0].strip().lower() == key.lower():
            lines[i] = f"{key}={value}"
            found = True
    if not found:
        if section.lower() not in [l.strip()[1:-1].strip().lower() for l in lines if l.strip().startswith("[")]:
            lines += [f"[{section}]", f"{key}={value}"]
        else:
            idx = sec_end if sec_end is not None else len(lines)
            while idx > 0 and not lines[idx - 1].strip():
                idx -= 1
            lines.insert(idx, f"{key}={value}")
    return "\r\n".join(lines) + "\r\n"
