from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.osce.patching.plugins.plugin_utils import _gateway
from ansible_collections.osce.patching.plugins.plugin_utils._gateway import (
    GATEWAY_MODULES, CheckModeWrite, Gateway, HostUnreachable, RemoteCallFailed,
)

ROOT = Path(__file__).resolve().parents[4]


class Recorder:
    def __init__(self, result):
        self.result = result
        self.calls = []

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, **kw):
        self.calls.append((module_name, module_args))
        return dict(self.result)


def test_module_list_is_the_documented_one():
    text = (ROOT / "docs" / "development.md").read_text()
    table = text.split("## The gateway's module list", 1)[1]
    documented = re.findall(r"^\| `((?:ansible|community)\.windows\.\w+)` \|", table, re.M)
    assert tuple(documented) == GATEWAY_MODULES


def test_only_the_gateway_names_windows_modules():
    offenders = []
    for path in (ROOT / "plugins").rglob("*.py"):
        if path.name == "_gateway.py" or "modules" in path.parts or "doc_fragments" in path.parts:
            continue
        if re.search(r"(ansible|community)\.windows\.win_|ansible\.windows\.slurp", path.read_text()):
            offenders.append(str(path))
    assert offenders == []


def test_counts_round_trips_per_module():
    rec = Recorder({"changed": False, "exists": True, "properties": {"A": {"value": 1, "type": "REG_DWORD"}}})
    gw = Gateway(rec, {}, "h1")
    assert gw.reg_key("HKLM:\\X")["A"] == 1
    gw.reg_key("HKLM:\\Y")
    assert gw.round_trips == 2
    assert gw.stats()["per_module"] == {"ansible.windows.win_reg_stat": 2}
    assert rec.calls[0] == ("ansible.windows.win_reg_stat", {"path": "HKLM:\\X"})


def test_unreachable_and_failed_are_typed():
    with pytest.raises(HostUnreachable):
        Gateway(Recorder({"unreachable": True, "msg": "boom\nmore"}), {}, "h1").reg_key("HKLM:\\X")
    with pytest.raises(RemoteCallFailed) as err:
        Gateway(Recorder({"failed": True, "msg": "Access denied"}), {}, "h1").reg_key("HKLM:\\X")
    assert err.value.message == "Access denied" and err.value.host == "h1"


def test_writes_refused_in_check_mode_without_a_call():
    rec = Recorder({"changed": True})
    gw = Gateway(rec, {}, "h1", check_mode=True)
    with pytest.raises(CheckModeWrite):
        gw.reg_set("HKLM:\\X", "v", "1")
    assert rec.calls == [] and gw.round_trips == 0


def test_slurp_missing_ok_and_decoding():
    gw = Gateway(Recorder({"failed": True, "msg": "Path C:\\x is not found"}), {}, "h1")
    assert gw.slurp("C:\\x", missing_ok=True) is None
    with pytest.raises(RemoteCallFailed):
        gw.slurp("C:\\x")
    gw = Gateway(Recorder({"content": "//5hAGIA", "encoding": "base64"}), {}, "h1")
    assert gw.slurp("C:\\y") == "ab"


def test_none_arguments_are_not_sent():
    rec = Recorder({"rc": 0})
    Gateway(rec, {}, "h1").package("C:\\p.exe", None, [0], None)
    assert rec.calls[0][1] == {"path": "C:\\p.exe", "expected_return_code": [0]}


def test_unknown_module_rejected():
    with pytest.raises(ValueError):
        Gateway(Recorder({}), {}, "h1").call("ansible.windows.win_shell", {})


def test_write_and_installer_sets_are_in_the_list():
    assert _gateway.WRITE_MODULES <= set(GATEWAY_MODULES)
    assert _gateway.INSTALLER_MODULES <= _gateway.WRITE_MODULES


def test_skipped_reads_as_would_change():
    rec = Recorder({"skipped": True, "msg": "remote module does not support check mode"})
    res = Gateway(rec, {}, "h1").call("ansible.windows.win_service_info", {})
    assert res["skipped"] and res["changed"] is True
