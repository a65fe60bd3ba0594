"""The reader layer (plugin_utils/_locations, _server, _client, _privilege) against a fake Windows host.

The fake answers at the gateway boundary (``fake_windows.FakeWindows.execute``), so a reader test counts
the round trips it costs and sees exactly the module results a real host would give."""
from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

ACTION_TESTS = str(Path(__file__).resolve().parents[1] / "action")
if ACTION_TESTS not in sys.path:
    sys.path.insert(0, ACTION_TESTS)

from fake_windows import LAB_PROFILE, FakeWindows  # noqa: E402  (after the path is set)


@pytest.fixture()
def fake():
    return FakeWindows()


@pytest.fixture()
def make_ctx(fake):
    """A reader context (``profile``, ``gateway``, ``host``) over ``fake``; ``overrides`` are osce_profile_overrides."""
    from ansible_collections.osce.patching.plugins.plugin_utils._data import load_profile
    from ansible_collections.osce.patching.plugins.plugin_utils._gateway import Gateway

    def make(overrides=None, host="osce01"):
        action = types.SimpleNamespace(_execute_module=fake.execute)
        return types.SimpleNamespace(profile=load_profile(overrides), gateway=Gateway(action, {}, host), host=host)

    return make


@pytest.fixture()
def lab_profile():
    return dict(LAB_PROFILE)
