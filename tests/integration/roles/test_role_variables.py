"""The variable contract: every role default is in its argument spec with the same default, and
every variable the roles declare is documented in docs/variables.md (the one place)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml"))
DOC = (ROOT / "docs" / "variables.md").read_text()


def test_every_role_has_a_spec():
    assert set(ROLES) == {"preflight", "server_chain", "client_rollout", "sps_ports", "verify"}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_spec_and_docs(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry, spec in specs.items():
        options = spec["options"]
        for name, value in defaults.items():
            assert name in options, f"{role}:{entry}: default {name} missing from the argument spec"
            assert options[name].get("default") == value, f"{role}:{entry}: {name} default differs"
        for name, opt in options.items():
            assert f"`{name}`" in DOC, f"{name} is not documented in docs/variables.md"
            if "default" in opt and name in defaults:
                row = re.search(rf"^\| `{name}` \| (.*?) \|", DOC, re.M)
                assert row and row.group(1) == "`" + json.dumps(opt["default"]).replace("|", "\\|") + "`", name
