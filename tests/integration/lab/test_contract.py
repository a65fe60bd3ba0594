"""Contract: the lab stand-ins against the real ansible.windows / community.windows of the installed
`ansible` package (DOCUMENTATION / RETURN read by path, never imported: once the collection loader
is active a plain import could return the lab's own copy)."""
from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
STANDINS = ROOT / "tests" / "lab" / "collections" / "ansible_collections"
GATEWAY = ROOT / "plugins" / "plugin_utils" / "_gateway.py"
DEV_DOC = ROOT / "docs" / "development.md"
ACTIONS = {"ansible.windows.win_reboot"}  # stand-ins that are action plugins
# Where the real module's DOCUMENTATION and its code disagree, the stand-in follows the code; each
# exception names the code line that proves it (checked by test_doc_deviations_still_hold).
DOC_DEVIATIONS = {
    ("community.windows.win_lineinfile", "insertafter"):
        r'-name "insertafter" -type "str"\s*$',   # doc: default EOF, pseudo-choices EOF/*regex*
    ("community.windows.win_lineinfile", "insertbefore"):
        r'-name "insertbefore" -type "str"\s*$',  # doc: pseudo-choices BOF/*regex*
}


def gateway_modules() -> list[str]:
    """GATEWAY_MODULES from plugins/plugin_utils/_gateway.py (parsed, not imported); else the docs table."""
    if GATEWAY.exists():
        for node in ast.parse(GATEWAY.read_text()).body:
            target = getattr(node, "target", None) or (node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and target.id == "GATEWAY_MODULES":
                return list(ast.literal_eval(node.value))
    text = DEV_DOC.read_text()
    table = text.split("## The gateway's module list", 1)[1]
    return re.findall(r"^\| `((?:ansible|community)\.windows\.\w+)` \|", table, re.M)


def all_standins() -> list[str]:
    return gateway_modules() + sorted(ACTIONS)


# ------------------------------------------------------------------ loading
def real_files(fqcn: str) -> tuple[Path, Path | None]:
    ns, coll, name = fqcn.split(".")
    dist = importlib.metadata.distribution("ansible")
    base = Path(dist.locate_file(f"ansible_collections/{ns}/{coll}/plugins/modules"))
    py, yml, ps1 = base / f"{name}.py", base / f"{name}.yml", base / f"{name}.ps1"
    doc = py if py.exists() else yml
    return doc, (ps1 if ps1.exists() else None)


def _module_strings(path: Path) -> dict:
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def real_contract(fqcn: str) -> dict:
    doc_path, ps1 = real_files(fqcn)
    if not doc_path.exists():
        raise FileNotFoundError(f"{fqcn}: no module documentation at {doc_path}")
    if doc_path.suffix == ".yml":
        y = yaml.safe_load(doc_path.read_text())
        doc, ret = y["DOCUMENTATION"], y.get("RETURN") or {}
    else:
        s = _module_strings(doc_path)
        doc, ret = yaml.safe_load(s["DOCUMENTATION"]), yaml.safe_load(s.get("RETURN") or "") or {}
    check = None
    if ps1 is not None:
        t = ps1.read_text()
        check = bool(re.search(r"supports_check_mode\s*=\s*\$true|-supports_check_mode\s+\$true", t, re.I))
    elif fqcn in ACTIONS:
        action = doc_path.parent.parent / "action" / f"{fqcn.rsplit('.', 1)[1]}.py"
        check = "_supports_check_mode = True" in action.read_text()
    return {"options": doc.get("options") or {}, "returns": set(ret), "check_mode": check,
            "fragments": doc.get("extends_documentation_fragment") or []}


def standin_path(fqcn: str) -> Path:
    ns, coll, name = fqcn.split(".")
    kind = "action" if fqcn in ACTIONS else "modules"
    return STANDINS / ns / coll / "plugins" / kind / f"{name}.py"


def standin_contract(fqcn: str) -> dict:
    s = _module_strings(standin_path(fqcn))
    return {"options": s["ARGUMENT_SPEC"], "returns": set(s["RETURNS"]), "check_mode": s["SUPPORTS_CHECK_MODE"]}


# ------------------------------------------------------------------ the checker
def _norm(spec: dict) -> dict:
    t = spec.get("type") or "str"
    d = spec.get("default")
    if t == "list" and d is not None and not isinstance(d, list):
        d = [d]
    if t in ("float",) and d is not None:
        d = float(d)
    return {"type": t, "default": d, "choices": sorted(map(str, spec["choices"])) if spec.get("choices") else None,
            "elements": spec.get("elements"), "required": bool(spec.get("required", False)),
            "aliases": set(spec.get("aliases") or [])}


def contract_problems(fqcn: str, real: dict, standin: dict) -> list[str]:
    problems = []
    ropts = real["options"]
    for name, spec in standin["options"].items():
        if name not in ropts:
            problems.append(f"{fqcn}: option {name!r} is not an option of the real module")
            continue
        r, s = _norm(ropts[name]), _norm(spec)
        fields = ("type", "elements", "required") if (fqcn, name) in DOC_DEVIATIONS else \
            ("type", "default", "choices", "elements", "required")
        for field in fields:
            if r[field] != s[field]:
                problems.append(f"{fqcn}: option {name!r} {field} differs: real {r[field]!r}, stand-in {s[field]!r}")
        if not s["aliases"] <= r["aliases"]:
            problems.append(f"{fqcn}: option {name!r} aliases {sorted(s['aliases'] - r['aliases'])} not in the real module")
    for name, spec in ropts.items():
        if spec.get("required") and name not in standin["options"]:
            problems.append(f"{fqcn}: required option {name!r} missing from the stand-in")
    extra = standin["returns"] - real["returns"]
    if extra:
        problems.append(f"{fqcn}: returns undocumented keys {sorted(extra)}")
    if real["check_mode"] is not None and real["check_mode"] != standin["check_mode"]:
        problems.append(f"{fqcn}: check mode support differs: real {real['check_mode']}, stand-in {standin['check_mode']}")
    return problems


# ------------------------------------------------------------------ tests
def test_gateway_list_is_known():
    mods = gateway_modules()
    assert len(mods) >= 15, mods
    assert "ansible.windows.win_reg_stat" in mods and "community.windows.win_iis_webbinding" in mods


@pytest.mark.parametrize("fqcn", all_standins())
def test_module_exists_in_real_collections(fqcn):
    doc, _ps1 = real_files(fqcn)
    assert doc.exists(), f"{fqcn} is not in the installed ansible package ({doc})"


@pytest.mark.parametrize("fqcn", all_standins())
def test_standin_exists(fqcn):
    assert standin_path(fqcn).exists(), f"the lab has no stand-in for {fqcn}"


@pytest.mark.parametrize("fqcn", all_standins())
def test_standin_matches_real(fqcn):
    assert contract_problems(fqcn, real_contract(fqcn), standin_contract(fqcn)) == []


def test_no_extra_standins():
    """The lab provides exactly the gateway's list plus win_reboot, nothing else."""
    found = {f"{p.parts[-5]}.{p.parts[-4]}.{p.stem}" for p in STANDINS.glob("*/*/plugins/*/*.py")
             if p.stem != "__init__"}
    assert found == set(all_standins())


def test_checker_catches_drift():
    fqcn = "ansible.windows.win_stat"
    real = real_contract(fqcn)
    good = standin_contract(fqcn)
    assert contract_problems(fqcn, real, good) == []
    drifted = {
        "options": dict(good["options"],
                        path={"type": "str", "required": True, "aliases": ["dest", "name", "file"]},
                        get_checksum={"type": "bool", "default": False},
                        checksum_algorithm={"type": "str", "default": "sha1", "choices": ["md5", "sha1"]},
                        lab_state_file={"type": "path"}),
        "returns": good["returns"] | {"lab_build"},
        "check_mode": False,
    }
    problems = "\n".join(contract_problems(fqcn, real, drifted))
    assert "option 'lab_state_file' is not an option of the real module" in problems
    assert "option 'path' type differs" in problems
    assert "aliases ['file']" in problems
    assert "option 'get_checksum' default differs" in problems
    assert "option 'checksum_algorithm' choices differs" in problems
    assert "returns undocumented keys ['lab_build']" in problems
    assert "check mode support differs" in problems


def test_win_command_has_no_check_mode_like_the_real_one():
    assert real_contract("ansible.windows.win_command")["check_mode"] is False
    assert standin_contract("ansible.windows.win_command")["check_mode"] is False


def test_docs_table_matches_gateway_constant():
    if not GATEWAY.exists():
        pytest.skip("plugins/plugin_utils/_gateway.py not there yet")
    text = DEV_DOC.read_text().split("## The gateway's module list", 1)[1]
    table = re.findall(r"^\| `((?:ansible|community)\.windows\.\w+)` \|", text, re.M)
    assert sorted(table) == sorted(gateway_modules())


def test_doc_deviations_still_hold():
    for (fqcn, _option), pattern in DOC_DEVIATIONS.items():
        _doc, ps1 = real_files(fqcn)
        assert re.search(pattern, ps1.read_text(), re.M), f"{fqcn}: the code changed, revisit DOC_DEVIATIONS"
