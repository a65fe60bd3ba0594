"""The execution environment's build context (issue 17): `make tooling` runs `ansible-builder create`
into .build/ee first (no container engine is needed for that); this reads what it wrote.

Judged with independent readers: packaging's specifiers, bindep's own parser, PyYAML, tarfile.
"""
from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = ROOT / ".build" / "ee"
BUILD = CONTEXT / "_build"
EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
RUNTIME = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
SITE = Path(yaml.__file__).resolve().parents[1]  # the venv's site-packages

pytestmark = pytest.mark.skipif(not (CONTEXT / "Containerfile").exists(),
                                reason="no build context: run `make tooling` (ansible-builder create into .build/ee)")


def pinned(line: str) -> Requirement:
    req = Requirement(line)
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"not pinned to one version: {line}"
    return req


def requirement_lines(text: str) -> list[str]:
    return [ln.split("#", 1)[0].strip() for ln in text.splitlines() if ln.split("#", 1)[0].strip()]


def test_definition_is_schema_3_with_a_tagged_base_image():
    assert EE["version"] == 3
    image = EE["images"]["base_image"]["name"]
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
    assert 'FROM $EE_BASE_IMAGE AS base' in (CONTEXT / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{image}"' in (CONTEXT / "Containerfile").read_text()


def test_ansible_core_is_pinned_inside_requires_ansible_and_is_the_tested_one():
    core = pinned(EE["dependencies"]["ansible_core"]["package_pip"])
    runner = pinned(EE["dependencies"]["ansible_runner"]["package_pip"])
    assert core.name == "ansible-core" and runner.name == "ansible-runner"
    version = Version(next(iter(core.specifier)).version)
    assert version in SpecifierSet(RUNTIME["requires_ansible"]), (version, RUNTIME["requires_ansible"])
    # the EE runs what CI tests: requirements.txt's ansible-core pin
    tested = [Requirement(ln) for ln in requirement_lines((ROOT / "requirements.txt").read_text())]
    assert str(core.specifier) == str(next(r for r in tested if r.name == "ansible-core").specifier)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]+)"$', (CONTEXT / "Containerfile").read_text(), re.M).group(1)
    assert sorted(refs.split()) == sorted([str(core), str(runner)])


def test_python_requirements_are_pinned_and_cover_winrm_kerberos_credssp_jsonschema():
    lines = requirement_lines((BUILD / "requirements.txt").read_text())
    assert lines == requirement_lines((ROOT / EE["dependencies"]["python"]).read_text())
    reqs = {r.name.lower(): r for r in map(pinned, lines)}
    assert {"kerberos", "credssp"} <= reqs["pywinrm"].extras
    assert "jsonschema" in reqs
    # the extras' own packages are pinned too, not left to whatever the extra resolves to
    assert {"pykerberos", "requests-credssp"} <= set(reqs)
    # the EE gets the versions this repository tests with where the venv has them
    tested = {r.name.lower(): r for r in map(Requirement, requirement_lines((ROOT / "requirements.txt").read_text()))}
    assert str(reqs["pywinrm"].specifier) == str(tested["pywinrm"].specifier)
    assert Version(next(iter(reqs["jsonschema"].specifier)).version) in tested["jsonschema"].specifier
    # no Ansible itself in the user requirements (builder installs ansible-core / runner from the definition)
    assert not {"ansible", "ansible-core", "ansible-runner"} & set(reqs)


def test_bindep_gives_kerberos_at_run_time_and_headers_to_build():
    from bindep.depends import Depends  # installed with ansible-builder

    text = (BUILD / "bindep.txt").read_text()
    assert text == (ROOT / EE["dependencies"]["system"]).read_text()
    deps = Depends(text)
    for platform, runtime, build in (
            ("platform:rpm", {"krb5-libs", "krb5-workstation"}, {"gcc", "krb5-devel", "python3.11-devel"}),
            ("platform:dpkg", {"libkrb5-3", "krb5-user"}, {"gcc", "libkrb5-dev", "python3-dev"})):
        run = {r[0] for r in deps.active_rules([platform, "default"])}
        compile_ = {r[0] for r in deps.active_rules([platform, "compile"])} - run
        assert run == runtime and compile_ == build, (platform, run, compile_)
    # the final image installs the run-time packages only (builder installs the compile profile in its builder stage)
    assert "[compile" not in "".join(ln for ln in text.splitlines() if ln.startswith(("krb5-libs", "krb5-workstation")))


def test_collections_are_pinned_to_the_tested_releases_and_ours_is_the_current_build():
    reqs = yaml.safe_load((BUILD / "requirements.yml").read_text())["collections"]
    by_name = {c["name"]: c for c in reqs}
    for name in ("ansible.windows", "community.windows"):
        manifest = json.loads((SITE / "ansible_collections" / name.replace(".", "/") / "MANIFEST.json").read_text())
        assert by_name[name]["version"] == manifest["collection_info"]["version"], name
        # galaxy.yml's dependency range admits the pinned release
        assert Version(by_name[name]["version"]) in SpecifierSet(GALAXY["dependencies"][name])
    ours = [c for c in reqs if c.get("type") == "file"]
    assert len(ours) == 1 and len(reqs) == 3
    tarball = BUILD / ours[0]["name"]
    assert tarball.name == f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
        names = tar.getnames()
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    # the collection declares its EE needs for introspection, and ships the files it names
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert {meta["dependencies"]["python"], meta["dependencies"]["system"], "meta/execution-environment.yml"} <= set(names)
    assert not any(n.startswith(("ee/", "tests/lab")) or n == "execution-environment.yml" for n in names)


def test_containerfile_checks_the_image_it_builds():
    text = (CONTEXT / "Containerfile").read_text()
    assert "ansible-doc -t module osce.patching.build_facts" in text
    assert 'import winrm, kerberos, requests_credssp, jsonschema' in text
