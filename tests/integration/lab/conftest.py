"""Fixtures of the lab tests; the helpers live in labkit.py (imported by name from the tests)."""
from __future__ import annotations

import pytest

from labkit import Fleet, make_fleet


@pytest.fixture
def fleet(tmp_path):
    def make(*args: str) -> Fleet:
        out = tmp_path / "fleet"
        make_fleet.main(["--out", str(out), *args])
        return Fleet(out)
    return make
