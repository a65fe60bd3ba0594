"""Helpers for the lab tests: generate fleets, run playbooks through tests/lab/ansible-lab.

A module of its own name (not ``conftest``): pytest loads every conftest.py named on the command line
before the tests, so ``from conftest import ...`` would pick tests/integration/modules/conftest.py when
both directories run in one session."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "tests" / "lab"
sys.path.insert(0, str(LAB))

import make_fleet  # noqa: E402
from osce_lab.state import Host  # noqa: E402

__all__ = ["LAB", "ROOT", "Fleet", "Host", "make_fleet"]  # make_fleet: re-exported for the tests


class Fleet:
    def __init__(self, out: Path):
        self.dir = out
        self.inventory = out / "inventory.yml"

    def host(self, name: str) -> dict:
        with Host.open(self.dir / "hosts" / f"{name}.json", write=False) as h:
            return h.data

    def hostobj(self, name: str):
        return Host.open(self.dir / "hosts" / f"{name}.json", write=False)

    def play(self, playbook: str, *args: str, forks: int | None = None, env: dict | None = None):
        """Run a playbook (YAML text) with the json callback; returns (rc, parsed json, stderr)."""
        pb = self.dir / f"play{len(list(self.dir.glob('play*.yml')))}.yml"
        pb.write_text(playbook)
        e = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="lab_json", ANSIBLE_NOCOLOR="1",
                 ANSIBLE_CALLBACK_PLUGINS=str(LAB / "callback_plugins"))
        if forks:
            e["ANSIBLE_FORKS"] = str(forks)
        e.update(env or {})
        p = subprocess.run([str(LAB / "ansible-lab"), "ansible-playbook", "-i", str(self.inventory), str(pb), *args],
                           capture_output=True, text=True, env=e, cwd=ROOT, timeout=300, check=False)
        try:
            data = json.loads(p.stdout[p.stdout.index("{"):])
        except ValueError:
            raise AssertionError(f"no json from ansible-playbook (rc {p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p.returncode, data, p.stderr

    @staticmethod
    def results(data, task_name: str) -> dict:
        """host -> result of the task named task_name (last play that ran it)."""
        out = {}
        for play in data["plays"]:
            for t in play["tasks"]:
                if t["task"]["name"] == task_name:
                    out.update(t["hosts"])
        return out
