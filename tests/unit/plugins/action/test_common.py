"""Behaviour every module shares through the action base."""
from __future__ import annotations

import importlib

from unittest.mock import MagicMock

import pytest
from fake_windows import FakeWindows, make_action

MINIMAL = {
    "build_facts": {},
    "upgrade_privilege": {"state": "on"},
    "patch_chain": {},
    "sps_ports": {},
    "client_upgrade": {"server": "osce-srv", "server_facts": {"client_program": {"build": 5712}}},
    "pattern_verify": {"server_facts": {}},
    "calibrate": {"mode": "snapshot", "path": "/nonexistent/snap.json"},
    "run_lock": {"state": "present", "run_id": "r1", "settle": 0},
}


def action_class(name):
    return importlib.import_module(f"ansible_collections.osce.patching.plugins.action.{name}").ActionModule


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_unknown_option_is_one_line_before_any_round_trip(name):
    fake = FakeWindows()
    action, tv = make_action(action_class(name), {**MINIMAL[name], "bogus": 1}, fake)
    res = action.run(task_vars=tv)
    assert res["failed"] and res["changed"] is False
    assert res["msg"].startswith(f"Failed to {action.VERB} on osce01: invalid arguments:")
    assert "bogus" in res["msg"] and "Fix: see ansible-doc osce.patching." in res["msg"] and "\n" not in res["msg"]
    assert fake.calls == [] and res["round_trips"]["round_trips"] == 0


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_wrong_type_is_one_line(name):
    action, tv = make_action(action_class(name), {**MINIMAL[name], "timeout": "soon"}, FakeWindows())
    res = action.run(task_vars=tv)
    assert res["failed"] and "timeout" in res["msg"] and "\n" not in res["msg"]


@pytest.mark.parametrize("name", sorted(n for n in MINIMAL if n != "upgrade_privilege"))
def test_unreachable_host_is_reported_as_such(name):
    fake = FakeWindows()
    fake.unreachable = True
    action, tv = make_action(action_class(name), MINIMAL[name], fake)
    res = action.run(task_vars=tv)
    # UNREACHABLE, not FAILED: Ansible tests `failed` before `unreachable`, so `failed` must be absent
    assert res.get("unreachable") is True and "failed" not in res, res
    assert "unreachable" in res["msg"] and "\n" not in res["msg"]
    assert res["changed"] is False and "round_trips" in res


class _ConnectionDown:
    """An ``_execute_module`` whose connection plugin raises, as WinRM does when the host is down."""

    def __init__(self):
        self.calls = 0

    def __call__(self, **_kw):
        from ansible.errors import AnsibleConnectionFailure

        self.calls += 1
        raise AnsibleConnectionFailure("winrm connection error: HTTPSConnectionPool(host='pc9', port=5986): timed out")


@pytest.mark.parametrize("name", sorted(n for n in MINIMAL if n != "upgrade_privilege"))
def test_connection_failure_is_unreachable_not_failed(name):
    action, tv = make_action(action_class(name), MINIMAL[name], FakeWindows())
    action._execute_module = down = _ConnectionDown()
    res = action.run(task_vars=tv)
    assert down.calls == 1
    assert res.get("unreachable") is True and "failed" not in res, res
    assert "timed out" in res["msg"] and "\n" not in res["msg"]


@pytest.mark.parametrize("name", sorted(n for n in MINIMAL if n != "upgrade_privilege"))
def test_task_executor_counts_it_unreachable(name):
    """What ansible-core's strategy sees: TaskResult.is_unreachable() and not is_failed()."""
    from ansible.executor.task_result import TaskResult

    fake = FakeWindows()
    fake.unreachable = True
    action, tv = make_action(action_class(name), MINIMAL[name], fake)
    res = action.run(task_vars=tv)
    res.setdefault("failed", False)  # as TaskExecutor does for a result without `failed` (and without rc)
    tr = TaskResult(host=MagicMock(), task=MagicMock(), return_data=res, task_fields={})
    assert tr.is_unreachable() and not tr.is_failed()


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_invocation_holds_the_validated_arguments(name):
    action, tv = make_action(action_class(name), MINIMAL[name], FakeWindows())
    res = action.run(task_vars=tv)
    assert set(MINIMAL[name]) <= set(res["invocation"]["module_args"])
