"""Lab helpers for the module integration tests: generate a fleet, run a playbook, read results.

Imported as ``modkit``: a module named ``conftest`` would clash with tests/integration/lab/conftest.py
when both directories are collected in one run.

Each run goes through ``tests/lab/ansible-lab ansible-playbook`` (stand-in Windows modules acting
on per-host JSON state files); the per-host result of the play's last task comes from the core
``tree`` callback, so the tests read what Ansible really returned. The lab's state files are the
independent reader for check mode (byte-identical).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "tests" / "lab" / "ansible-lab"
MAKE_FLEET = ROOT / "tests" / "lab" / "make_fleet.py"
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass
class Run:
    rc: int
    stdout: str
    results: dict[str, dict]
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def changed(self, host: str) -> int:
        return self.recap[host]["changed"]


class Fleet:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.inventory = path / "inventory.yml"
        self.n = 0

    def state(self, host: str) -> dict:
        return json.loads((self.path / "hosts" / f"{host}.json").read_text())

    def write_state(self, host: str, data: dict) -> None:
        (self.path / "hosts" / f"{host}.json").write_text(json.dumps(data, indent=1, sort_keys=True))

    def fingerprint(self) -> dict[str, bytes]:
        """Every host state file's bytes, exactly (the lab counts module calls outside them)."""
        return {p.name: p.read_bytes() for p in sorted((self.path / "hosts").glob("*.json"))}

    def play(self, hosts: str, tasks: str, *, check: bool = False, extra: list[str] | None = None) -> Run:
        """One play of ``tasks`` (YAML list text) on ``hosts``."""
        body = textwrap.indent(textwrap.dedent(tasks).strip("\n") + "\n", "    ")
        return self.playbook(f"- hosts: {hosts}\n  gather_facts: false\n  tasks:\n{body}", check=check, extra=extra)

    def playbook(self, text: str, *, check: bool = False, extra: list[str] | None = None) -> Run:
        self.n += 1
        book = self.path / f"play{self.n}.yml"
        book.write_text(text)
        tree = self.path / f"tree{self.n}"
        env = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
               "ANSIBLE_CALLBACK_TREE_DIR": str(tree), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_STDOUT_CALLBACK": "default"}
        cmd = [str(LAB), "ansible-playbook", "-i", str(self.inventory), str(book)] + (["--check", "--diff"] if check else [])
        proc = subprocess.run(cmd + (extra or []), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        results = {p.name: json.loads(p.read_text()) for p in tree.glob("*")} if tree.exists() else {}
        recap = {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
                 for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M)}
        return Run(proc.returncode, proc.stdout + proc.stderr, results, recap)


def failed(result: dict) -> bool:
    """Failure as the tree callback keeps it (it drops ``failed``; our messages start with "Failed to")."""
    return bool(result.get("failed")) or str(result.get("msg", "")).startswith("Failed to")


def collect(*names: str) -> str:
    """A last task whose result (kept by the tree callback) holds the registered results ``names``."""
    inner = ", ".join(f"'{n}': {n} | default(None)" for n in names)
    return f"- name: Collect\n  ansible.builtin.debug:\n    msg: \"{{{{ {{{inner}}} }}}}\"\n"
