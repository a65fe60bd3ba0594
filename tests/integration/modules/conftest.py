"""Fixtures of the module integration tests; the helpers live in modkit.py."""
from __future__ import annotations

import subprocess

import pytest

from modkit import MAKE_FLEET, PYTHON, ROOT, Fleet


@pytest.fixture
def make_fleet(tmp_path):
    def make(*args: str, name: str = "fleet") -> Fleet:
        out = tmp_path / name
        subprocess.run([str(PYTHON), str(MAKE_FLEET), "--out", str(out), "--mode", "instant", *args],
                       cwd=ROOT, check=True, capture_output=True, text=True)
        return Fleet(out)

    return make
