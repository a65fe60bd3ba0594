"""Every module's EXAMPLES, run for real in the lab.

The EXAMPLES string of each ``plugins/modules/<name>.py`` is read with ``ast`` (never imported), parsed
as YAML and run through ``tests/lab/ansible-lab ansible-playbook`` on a freshly generated fleet. A task
list is wrapped in one play on the module's group (``GROUP``); an example that is a whole playbook (a
list of plays) runs as written. Examples of client modules take ``server_facts`` from
``hostvars[groups.osce_server[0]].ansible_facts.osce_server``, so a first play runs
``osce.patching.build_facts`` on the server, as a real site playbook does.

The examples share one fleet at SP3 Patch 2 (where the whole chain still has a step to apply), in an
order that keeps each example meaningful: reads first, then the privilege and calibration, the
patch, the iSPS ports after CP 5712r1, then the clients. Each run must end with rc 0 and no failed or
unreachable host.
"""
from __future__ import annotations

import ast
import re

import yaml

from modkit import ROOT

MODULES = ROOT / "plugins" / "modules"

# the group each module's example targets (a task list is wrapped in one play on it)
GROUP = {
    "build_facts": "osce_server",
    "calibrate": "osce_server",
    "run_lock": "osce_server",
    "rollout_step": "osce_server",
    "upgrade_privilege": "osce_server",
    "patch_chain": "osce_server",
    "sps_ports": "osce_server",
    "client_upgrade": "osce_clients",
    "pattern_verify": "osce_clients",
}

# run order on the shared fleet: reads first, then what changes the server, then the clients
ORDER = ["build_facts", "rollout_step", "run_lock", "calibrate", "upgrade_privilege", "patch_chain", "sps_ports",
         "client_upgrade", "pattern_verify"]

SERVER_FACTS_PLAY = {
    "name": "Read the server build (server_facts for the client modules)",
    "hosts": "osce_server",
    "gather_facts": False,
    "tasks": [{"osce.patching.build_facts": None}],
}


def examples(name: str) -> list:
    """The module's EXAMPLES as YAML (a task list or a list of plays)."""
    tree = ast.parse((MODULES / f"{name}.py").read_text())
    text = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "EXAMPLES" for t in node.targets))
    data = yaml.safe_load(text)
    assert isinstance(data, list) and data, f"{name}: EXAMPLES is not a YAML list"
    return data


def is_playbook(data: list) -> bool:
    return all(isinstance(item, dict) and ("hosts" in item or "import_playbook" in item) for item in data)


def playbook(name: str) -> list:
    data = examples(name)
    plays = data if is_playbook(data) else [{"name": f"EXAMPLES of {name}", "hosts": GROUP[name],
                                             "gather_facts": False, "tasks": data}]
    if "ansible_facts.osce_server" in yaml.safe_dump(plays) and not any(
            "osce.patching.build_facts" in yaml.safe_dump(p) for p in plays):
        plays = [SERVER_FACTS_PLAY] + plays
    return plays


def test_every_module_has_a_group():
    names = sorted(p.stem for p in MODULES.glob("*.py") if p.stem != "__init__")
    assert sorted(GROUP) == names == sorted(ORDER)
    for name in names:
        data = examples(name)
        assert is_playbook(data) or all(isinstance(t, dict) for t in data), name


def test_examples_run_in_the_lab(make_fleet):
    fleet = make_fleet("--server-level", "sp3_patch2", "--web", "apache", "--clients", "3", "--settle", "0.05")
    for name in ORDER:
        run = fleet.playbook(yaml.safe_dump(playbook(name), sort_keys=False))
        assert run.rc == 0, f"{name}:\n{run.stdout}"
        assert run.recap, f"{name}: no play recap\n{run.stdout}"
        for host, counts in run.recap.items():
            assert counts.get("failed", 0) == 0 and counts.get("unreachable", 0) == 0, f"{name} {host}:\n{run.stdout}"
        assert not re.search(r"^fatal:", run.stdout, re.M), f"{name}:\n{run.stdout}"
        if name == "calibrate":   # the snapshot went beside the playbook (playbook_dir), not to a fixed path
            assert (fleet.path / "osce-before.json").exists()
        if name == "patch_chain":   # SP3 Patch 2 still has CP 5712r1 to apply
            assert run.changed("osce-srv") >= 1, run.stdout
