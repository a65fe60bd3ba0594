from __future__ import annotations

import json

import yaml
from fake_windows import LOCAL, FakeWindows, make_action, osce_server

from ansible_collections.osce.patching.plugins.action.calibrate import ActionModule


def run(fake, args, **kw):
    action, tv = make_action(ActionModule, args, fake, **kw)
    return action.run(task_vars=tv), action


def test_snapshot_then_compare_prints_the_changed_entry(tmp_path):
    fake = FakeWindows()
    osce_server(fake)
    base = tmp_path / "before.json"
    res, action = run(fake, {"mode": "snapshot", "path": str(base)})
    assert not res.get("failed"), res.get("msg")
    assert res["changed"] and base.exists() and fake.writes() == []
    snap = json.loads(base.read_text())
    assert "{local_path}ofcscan.ini" in snap["files"]
    # a second snapshot of an unchanged host changes nothing
    assert run(fake, {"mode": "snapshot", "path": str(base)})[0]["changed"] is False
    # the operator flips the privilege in the console
    ini = LOCAL + "ofcscan.ini"
    fake.put(ini, fake.text(ini).replace("NoProgramUpgrade=0", "NoProgramUpgrade=1"))
    res, _action = run(fake, {"mode": "compare", "path": str(base)})
    assert res["changed"] is False
    assert res["changes"] == [{"kind": "ini", "file": "{local_path}ofcscan.ini", "section": "Global Setting",
                               "key": "NoProgramUpgrade", "before": "0", "after": "1"}]
    entry = res["profile_overrides"]["upgrade_privilege_root"]
    assert entry["kind"] == "ini" and entry["confidence"] == "calibrated"
    pasted = yaml.safe_load(res["snippet"])["osce_profile_overrides"]
    # the printed entry is accepted by the profile as an override
    res, _action = run(fake, {"mode": "snapshot", "path": str(tmp_path / "x.json"), "profile_overrides": pasted})
    assert not res.get("failed"), res.get("msg")


def test_check_mode_writes_no_file(tmp_path):
    fake = FakeWindows()
    osce_server(fake)
    res, _action = run(fake, {"mode": "snapshot", "path": str(tmp_path / "s.json")}, check_mode=True)
    assert res["changed"] and not (tmp_path / "s.json").exists()


def test_compare_with_missing_snapshot_fails_before_any_round_trip(tmp_path):
    fake = FakeWindows()
    res, _action = run(fake, {"mode": "compare", "path": str(tmp_path / "nope.json")})
    assert res["failed"] and res["msg"].startswith("Failed to calibrate the profile on osce01: path:")
    assert fake.calls == []


def test_compare_with_ansible_tagged_arguments_prints_the_snippet(tmp_path):
    """ansible-core 2.19 passes templated arguments and variables as tagged str/dict subclasses;
    yaml.safe_dump refused them: ('cannot represent an object', 'upgrade_privilege_root')."""
    from ansible._internal._datatag._tags import Origin, TrustedAsTemplate

    def tag(value):
        return Origin(description="inventory.yml").tag(value)

    fake = FakeWindows()
    osce_server(fake)
    base = tmp_path / "before.json"
    overrides = tag({tag("server_hotfix_history"): tag({tag("kind"): tag("file"), tag("path"): tag("{local_path}Admin\\hotfix_history.ini"),
                                                        tag("description"): tag("patch history")})})
    tv = {"osce_profile_overrides": overrides}
    res, _action = run(fake, {"mode": "snapshot", "path": TrustedAsTemplate().tag(str(base))}, task_vars=tv)
    assert not res.get("failed"), res.get("msg")
    ini = LOCAL + "ofcscan.ini"
    fake.put(ini, fake.text(ini).replace("NoProgramUpgrade=0", "NoProgramUpgrade=1"))
    res, _action = run(fake, {"mode": "compare", "path": tag(str(base)), "entry": tag("upgrade_privilege_root")}, task_vars=tv)
    assert not res.get("failed"), res.get("msg")
    pasted = yaml.safe_load(res["snippet"])["osce_profile_overrides"]
    assert pasted["upgrade_privilege_root"]["key"] == "NoProgramUpgrade"
