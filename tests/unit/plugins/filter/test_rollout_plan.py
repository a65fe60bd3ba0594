"""Tests for the filter osce.patching.rollout_plan (plugins/filter/rollout_plan.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.filter import rollout_plan as plugin

ROOT = Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".build" / "collections"
BIN = Path(sys.executable).parent
SIZES = {"x86": 39007028, "x64": 46347060}
rollout_plan = plugin.FilterModule().filters()["rollout_plan"]


def ansible_env(tmp_path):
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_CONFIG=str(tmp_path / "none.cfg"))
    return env


def test_list_of_client_mappings():
    plan = rollout_plan([{"name": "pc1", "arch": "x64"}, {"name": "pc2", "arch": "x86", "online": False},
                         {"name": "pc3", "arch": "x86"}],
                        package_bytes=SIZES, budget_bps=10e6, client_bps=2.5e6)
    assert plan["serial"] == [1, 1] and plan["hosts"] == ["pc1", "pc3"]
    assert plan["offline"] == ["pc2"] and plan["throttle"] == 4
    assert json.loads(json.dumps(plan)) == plan  # plain data only


def test_hostvars_mapping_with_hosts():
    hostvars = {
        "pc1": {"inventory_hostname": "pc1", "osce_client_arch": "x64", "osce_site": "hq"},
        "pc2": {"inventory_hostname": "pc2", "ansible_architecture": "32-bit", "osce_site": "hq"},
        "pc3": {"inventory_hostname": "pc3", "osce_client_arch": "x64", "osce_online": False},
        "localhost": {"inventory_hostname": "localhost"},
    }
    plan = rollout_plan(hostvars, hosts=["pc1", "pc2", "pc3"], package_bytes=SIZES, budget_bps=10e6,
                        client_bps=2.5e6, batch_hosts=False)
    assert plan["hosts"] == ["pc1", "pc2"] and plan["offline"] == ["pc3"]
    assert plan["total_bytes"] == SIZES["x64"] + SIZES["x86"]
    assert "hosts" not in plan["batches"][0]


def test_list_of_hostvars_entries_keeps_order_and_hosts_filter():
    entries = [{"inventory_hostname": f"pc{i}", "osce_client_arch": "x64"} for i in range(5)]
    plan = rollout_plan(entries, hosts=["pc1", "pc3"], package_bytes=SIZES, budget_bps=10e6)
    assert plan["hosts"] == ["pc1", "pc3"]


@pytest.mark.parametrize("budget", [0, -1, "fast"])
def test_errors_are_one_line_filter_errors(budget):
    with pytest.raises(AnsibleFilterError) as err:
        rollout_plan([{"name": "pc1", "arch": "x64"}], package_bytes=SIZES, budget_bps=budget)
    assert str(err.value.message).startswith("osce_bandwidth_budget_bps: ")
    assert "\n" not in err.value.message


def test_mapping_without_hosts_is_an_error():
    with pytest.raises(AnsibleFilterError, match="^hosts: is required"):
        rollout_plan({"pc1": {}}, package_bytes=SIZES, budget_bps=1)


def test_documentation_parses():
    for text in (plugin.DOCUMENTATION, plugin.EXAMPLES, plugin.RETURN):
        assert yaml.safe_load(text)
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "rollout_plan"
    import inspect
    params = set(inspect.signature(plugin.rollout_plan).parameters) - {"clients"}
    assert params == set(doc["options"]) - {"_input"}


def test_ansible_doc_renders(tmp_path):
    out = subprocess.run([str(BIN / "ansible-doc"), "-t", "filter", "osce.patching.rollout_plan"],
                         env=ansible_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "budget_bps" in out.stdout and "EXAMPLES" in out.stdout and "RETURN" in out.stdout.upper()


def test_examples_playbook_runs_with_serial_and_throttle_from_the_plan(tmp_path):
    """The two plays in EXAMPLES, run for real: plan on localhost, then serial/hosts/throttle."""
    plays = [p for p in yaml.safe_load(plugin.EXAMPLES) if "hosts" in p][:2]
    assert [p["name"] for p in plays] == ["Plan the client rollout", "Roll CP 5712r1 out to the clients"]
    (tmp_path / "site.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
    hosts = {f"pc{i:02d}": {"osce_client_arch": "x86" if i % 3 == 0 else "x64"} for i in range(12)}
    hosts["pc05"]["osce_online"] = False
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "osce_bandwidth_budget_bps": 50_000_000},
        "children": {"osce_clients": {"hosts": hosts}},
    }}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    out = subprocess.run([str(BIN / "ansible-playbook"), "-i", "inventory.yml", "site.yml"],
                         cwd=tmp_path, env=ansible_env(tmp_path), capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    # serial [1, ...]: the rollout play starts once per batch; pc05 (offline) never runs
    assert out.stdout.count("PLAY [Roll CP 5712r1 out to the clients]") >= 2
    assert "download on pc00" in out.stdout and "download on pc05" not in out.stdout
    assert out.stdout.count("download on pc") == 11
