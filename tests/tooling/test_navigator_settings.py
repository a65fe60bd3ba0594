"""ansible-navigator.yml (issue 17) against ansible-navigator's own settings schema, and what it must say."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = yaml.safe_load((ROOT / "ansible-navigator.yml").read_text())
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text())


def navigator_schema() -> dict:
    import ansible_navigator  # installed from requirements-test.txt

    return json.loads((Path(ansible_navigator.__file__).parent / "data" / "ansible-navigator.json").read_text())


def test_valid_against_the_navigator_schema():
    jsonschema.validate(SETTINGS, navigator_schema())


def test_runs_the_collection_ee_with_the_report_callback():
    ee = SETTINGS["ansible-navigator"]["execution-environment"]
    assert ee["enabled"] is True
    # the image execution-environment.yml tags, at galaxy.yml's version
    assert ee["image"].rsplit("/", 1)[-1] == f"osce-patching-ee:{GALAXY['version']}"
    assert ee["image"].rsplit("/", 1)[-1] in EE["options"]["tags"]
    assert ee["environment-variables"]["set"]["ANSIBLE_CALLBACKS_ENABLED"] == "osce.patching.rollout_report"
    # navigator keeps its own stdout callback: the settings never replace it
    assert "ANSIBLE_STDOUT_CALLBACK" not in ee["environment-variables"]["set"]


def test_the_schema_catches_a_misspelt_key():
    broken = json.loads(json.dumps(SETTINGS))
    broken["ansible-navigator"]["execution-environment"]["imagee"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, navigator_schema())
