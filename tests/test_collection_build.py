"""Build check: the collection builds with ansible-galaxy and the tarball installs.

No Galaxy server is reachable from our machines, so the install uses ``--no-deps``
(ansible.windows / community.windows come with the ``ansible`` package in the venv).
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))

# Never shipped: development environments, build output, the simulated lab.
FORBIDDEN_PREFIXES = (".venv/", ".build/", "tests/lab/", ".git/", "tests/output/", "reports/")


def _galaxy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"ansible-galaxy collection {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _build(dest: Path) -> Path:
    _galaxy("build", "--force", "--output-path", str(dest), str(ROOT))
    tarball = dest / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    assert tarball.is_file(), f"expected {tarball.name}, got {sorted(p.name for p in dest.iterdir())}"
    return tarball


def test_galaxy_metadata() -> None:
    assert (GALAXY["namespace"], GALAXY["name"]) == ("osce", "patching")
    assert set(GALAXY["dependencies"]) == {"ansible.windows", "community.windows"}
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert runtime["requires_ansible"].startswith(">=")
    assert "osce" in runtime["action_groups"]


def test_build_excludes_dev_content(tmp_path: Path) -> None:
    tarball = _build(tmp_path)
    with tarfile.open(tarball) as tar:
        names = [name.removeprefix("./") for name in tar.getnames()]
    assert "MANIFEST.json" in names and "FILES.json" in names
    assert "galaxy.yml" not in names  # ansible-galaxy turns it into MANIFEST.json
    shipped_bad = [n for n in names if n.startswith(FORBIDDEN_PREFIXES) or n.rstrip("/") in {".venv", ".build", "tests/lab"}]
    assert not shipped_bad, f"tarball ships development content: {shipped_bad[:10]}"
    assert not [n for n in names if n.endswith((".pyc", ".tar.gz"))]


def test_tarball_installs(tmp_path: Path) -> None:
    tarball = _build(tmp_path / "dist")
    target = tmp_path / "collections"
    _galaxy("install", "--no-deps", "--force", "-p", str(target), str(tarball), cwd=tmp_path)
    installed = target / "ansible_collections" / "osce" / "patching"
    assert (installed / "MANIFEST.json").is_file()
    assert (installed / "meta" / "runtime.yml").is_file()
    assert not (installed / "tests" / "lab").exists()
    listing = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "list", "osce.patching", "-p", str(target)],
        capture_output=True, text=True, check=False,
    )
    assert GALAXY["version"] in listing.stdout, listing.stdout + listing.stderr
