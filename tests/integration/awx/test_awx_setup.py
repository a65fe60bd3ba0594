"""playbooks/awx_setup.yml (AWX / AAP as code, issue 17), validated offline.

Every awx.awx module argument used is checked against that module's DOCUMENTATION in the installed
`ansible` package (parsed with ast + yaml, never imported, like tests/integration/lab/test_contract.py):
names (aliases and the awx.awx.auth fragment included), choices of literal values, nested suboptions.
Then what the workflow and the job templates must say: the job types, the survey's variables, the
approval and failure paths, no job slicing, the credential's no_log. And `ansible-playbook
--syntax-check` on the playbook.
"""
from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "playbooks" / "awx_setup.yml"
AWX = Path(importlib.metadata.distribution("ansible").locate_file("ansible_collections/awx/awx"))
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def _doc_string(path: Path, holder: str | None = None) -> dict:
    tree = ast.parse(path.read_text())
    body = tree.body
    if holder:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == holder).body
    for node in body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"no DOCUMENTATION in {path}")


def module_options(name: str) -> dict:
    doc = _doc_string(AWX / "plugins" / "modules" / f"{name}.py")
    options = dict(doc["options"])
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        assert fragment.startswith("awx.awx."), fragment
        frag = _doc_string(AWX / "plugins" / "doc_fragments" / f"{fragment.split('.')[2]}.py", "ModuleDocFragment")
        options.update(frag["options"])
    return options


def check_args(args: dict, options: dict, where: str) -> list[str]:
    """Findings for args against documented options (recursing into suboptions)."""
    names = {}
    for opt, spec in options.items():
        names[opt] = spec
        for alias in spec.get("aliases") or []:
            names[alias] = spec
    found = []
    for key, value in args.items():
        spec = names.get(key)
        if spec is None:
            found.append(f"{where}: unknown option {key!r}")
            continue
        templated = isinstance(value, str) and "{{" in value
        if "choices" in spec and not templated and value not in spec["choices"] and str(value) not in map(str, spec["choices"]):
            found.append(f"{where}.{key}: {value!r} not in {spec['choices']}")
        kind = spec.get("type", "str")
        if not templated:
            expected = {"bool": bool, "int": int, "dict": dict, "list": list}.get(kind)
            if expected and not isinstance(value, expected):
                found.append(f"{where}.{key}: {value!r} is not a {kind}")
        subs = spec.get("suboptions")
        if subs and isinstance(value, dict):
            found += check_args(value, subs, f"{where}.{key}")
        elif subs and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    found += check_args(item, subs, f"{where}.{key}[{index}]")
    return found


def awx_tasks() -> list[tuple[str, str, dict, dict]]:
    plays = yaml.safe_load(PLAYBOOK.read_text())
    out = []
    for play in plays:
        for task in play.get("tasks", []):
            fqcn = next((k for k in task if k.startswith("awx.awx.")), None)
            if fqcn:
                out.append((task["name"], fqcn.split(".")[2], task[fqcn], task))
    return out


def by_module(name: str) -> list[tuple[dict, dict]]:
    return [(args, task) for _n, module, args, task in awx_tasks() if module == name]


def test_every_awx_module_argument_is_documented():
    tasks = awx_tasks()
    wanted = {"execution_environment", "project", "inventory", "inventory_source", "credential", "job_template",
              "workflow_job_template"}
    assert {m for _n, m, _a, _t in tasks} >= wanted
    findings = []
    for name, module, args, _task in tasks:
        assert (AWX / "plugins" / "modules" / f"{module}.py").exists(), module
        findings += check_args(args, module_options(module), f"{name} (awx.awx.{module})")
    assert not findings, "\n".join(findings)


def test_module_defaults_group_exists_and_its_options_are_documented():
    runtime = yaml.safe_load((AWX / "meta" / "runtime.yml").read_text())
    play = yaml.safe_load(PLAYBOOK.read_text())[0]
    for group, args in play["module_defaults"].items():
        members = runtime["action_groups"][group.split(".")[-1]]
        assert "job_template" in members and "workflow_job_template" in members
        assert not check_args(args, module_options("job_template"), group)


def test_the_checker_catches_mistakes():
    options = module_options("workflow_job_template")
    assert check_args({"name": "x", "survey_answers": True}, options, "w") == ["w: unknown option 'survey_answers'"]
    bad = check_args({"workflow_nodes": [{"identifier": "a", "related": {"success": [{"identifier": "b"}]}}]}, options, "w")
    assert bad == ["w.workflow_nodes[0].related: unknown option 'success'"]
    assert check_args({"job_type": "dry"}, module_options("job_template"), "j") == ["j.job_type: 'dry' not in ['run', 'check']"]


def test_job_templates_plan_site_verify_release_without_slicing():
    ((args, task),) = by_module("job_template")
    items = {i["name"]: i for i in task["loop"]}
    assert set(items) == {"plan", "site", "verify", "privilege release", "privilege report"}
    assert items["plan"]["job_type"] == "check" and items["site"]["job_type"] == "run"
    playbooks = {n: i["playbook"] for n, i in items.items()}
    assert playbooks == {"plan": "playbooks/plan.yml", "site": "playbooks/site.yml", "verify": "playbooks/verify.yml",
                         "privilege release": "playbooks/privilege.yml", "privilege report": "playbooks/privilege.yml"}
    assert items["privilege release"]["job_type"] == "run" and items["privilege report"]["job_type"] == "check"
    assert all((ROOT / p).exists() for p in playbooks.values())
    assert args["job_slice_count"] == 1 and args["ask_job_slice_count_on_launch"] is False
    assert args["allow_simultaneous"] is False
    assert items["site"]["survey"] and items["plan"]["survey"]


def test_survey_asks_budget_serial_window():
    play = yaml.safe_load(PLAYBOOK.read_text())[0]
    spec = play["vars"]["osce_awx_survey"]
    assert set(spec) == {"name", "description", "spec"}
    questions = {q["variable"]: q for q in spec["spec"]}
    assert set(questions) == {"osce_bandwidth_budget_bps", "osce_serial", "osce_maintenance_window_s"}
    for q in questions.values():
        assert {"question_name", "variable", "type", "required"} <= set(q) and q["type"] in SURVEY_TYPES
    assert questions["osce_bandwidth_budget_bps"]["type"] == "integer" and questions["osce_bandwidth_budget_bps"]["required"]
    assert questions["osce_serial"]["required"] is False
    # the variables exist in the roles' argument specs (names and meaning documented there)
    specs = (ROOT / "roles" / "server_chain" / "meta" / "argument_specs.yml").read_text()
    assert all(f"      {v}:" in specs for v in questions)


def test_workflow_plan_approval_site_verify_with_a_failure_path():
    ((args, _task),) = by_module("workflow_job_template")
    nodes = {n["identifier"]: n for n in args["workflow_nodes"]}
    assert set(nodes) == {"plan", "approve", "site", "verify", "report"}

    def targets(node: str, kind: str) -> list[str]:
        return [t["identifier"] for t in nodes[node].get("related", {}).get(kind, [])]

    assert targets("plan", "success_nodes") == ["approve"]
    assert nodes["approve"]["unified_job_template"]["type"] == "workflow_approval"
    assert targets("approve", "success_nodes") == ["site"]
    assert targets("site", "success_nodes") == ["verify"]
    for node in ("plan", "site", "verify"):
        assert targets(node, "failure_nodes") == ["report"], node
    jt_names = {n: nodes[n]["unified_job_template"]["name"] for n in ("plan", "site", "verify", "report")}
    # the failure path reports (privilege.yml in check mode); it never releases behind the health gate
    assert jt_names["report"].endswith("| privilege report") and jt_names["site"].endswith("| site")
    assert not targets("report", "success_nodes") and not targets("report", "failure_nodes")
    assert args["survey_enabled"] is True and args["allow_simultaneous"] is False


def test_credential_is_machine_with_no_log_and_a_vaulted_password():
    ((args, task),) = by_module("credential")
    assert args["credential_type"] == "Machine" and task.get("no_log") is True
    play = yaml.safe_load(PLAYBOOK.read_text())[0]
    assert play["vars"]["osce_awx_winrm_password"] == "{{ vault_osce_awx_winrm_password }}"
    assert args["inputs"]["password"] == "{{ osce_awx_winrm_password }}"


def test_syntax_check():
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", str(PLAYBOOK)],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("extra, servers, ok", [
    ({}, 1, True),                                                                   # outside AWX
    ({"awx_job_template_name": "OSCE patching | site", "awx_workflow_job_name": "OSCE patching | rollout"}, 1, True),
    ({"awx_job_template_name": "OSCE patching | site"}, 1, True),                      # launched on its own
    ({"awx_job_template_name": "OSCE patching | site", "awx_workflow_job_name": "OSCE patching | site"}, 1, False),
    ({}, 0, False),                                                                  # a slice without the server
])
def test_the_no_slicing_preflight_task_file(tmp_path, extra, servers, ok):
    inventory = tmp_path / "hosts.yml"
    hosts = {f"srv{i}": {"ansible_connection": "local"} for i in range(servers)}
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "osce_server": {"hosts": hosts}, "osce_clients": {"hosts": {"pc1": {"ansible_connection": "local"}}}}}}))
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"name": "check", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "no slicing", "ansible.builtin.import_tasks": str(ROOT / "playbooks" / "tasks" / "awx_no_slicing.yml")}]}]))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    (tmp_path / "extra.yml").write_text(yaml.safe_dump(extra or {"unused": 1}))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(play),
                           "-e", f"@{tmp_path / 'extra.yml'}"], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    if not ok:
        assert "job_slice_count to 1" in proc.stdout
