"""plugin_utils/_privilege.py: the upgrade privilege where the calibrated profile says, and its marker."""
from __future__ import annotations

import pytest
from fake_windows import LOCAL, osce_server

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils import _privilege as priv
from ansible_collections.osce.patching.plugins.plugin_utils._locations import Locator

INI = LOCAL + "ofcscan.ini"
MARKER = "HKLM:\\SOFTWARE\\osce.patching\\PrivilegeMarker"
REG_KEY = "HKLM:\\SOFTWARE\\Example\\OfficeScan\\Privileges"
REGISTRY_PROFILE = {"upgrade_privilege_root": {"kind": "registry", "keys": [REG_KEY], "value": "NoUpgrade",
                                               "on_value": 1, "off_value": 0}}


def store(fake, make_ctx, overrides, ini="[Global Setting]\r\nNoProgramUpgrade=0\r\n"):
    osce_server(fake)
    fake.put(INI, ini)
    ctx = make_ctx(overrides)
    return priv.PrivilegeStore(Locator(ctx.profile, ctx.gateway, local_path=LOCAL))


def test_targets_round_trip():
    assert priv.target_id("root") == "root" and priv.target_id("client", "pc1") == "client:pc1"
    assert priv.split_target("domain:Sales") == ("domain", "Sales") and priv.split_target("root") == ("root", None)


def test_require_known_fails_before_any_round_trip_with_the_calibration_fix(make_ctx, lab_profile, fake):
    with pytest.raises(OsceError) as err:
        priv.require_known(make_ctx().profile, "root")
    assert err.value.field == "profile.upgrade_privilege_root" and "calibrate" in err.value.line()
    priv.require_known(make_ctx(lab_profile).profile, "client")       # calibrated: no error
    assert fake.calls == []


def test_read_show_and_location_of_an_ini_privilege(fake, make_ctx, lab_profile):
    s = store(fake, make_ctx, lab_profile, "[Global Setting]\r\nNoProgramUpgrade=1\r\n"
              "[Client Privilege]\r\nclient:pc1=0\r\nclient:pc2= yes \r\n")
    assert s.read("root") == "1" and s.show("root", s.read("root")) == "on"
    assert s.read("client:pc1") == "0" and s.show("client:pc1", "0") == "off"
    assert s.read("client:pc2") == "yes" and s.show("client:pc2", "yes") == "raw:yes"
    assert s.read("client:pc3") is None and s.show("client:pc3", None) == "absent"
    assert s.read("domain:Sales") is None
    assert s.location("client:pc1")["location"] == f"{INI} [Client Privilege] client:pc1"
    assert s.wanted("root", "on") == "1" and s.wanted("root", "off") == "0"
    assert fake.count("slurp") == 1                     # one file, one read


def test_write_an_ini_privilege_adds_the_section_and_the_key(fake, make_ctx, lab_profile):
    s = store(fake, make_ctx, lab_profile)
    s.write("client:pc1", "1")
    text = fake.text(INI)
    assert "[Client Privilege]\r\nclient:pc1=1" in text
    s.write("root", "1")
    assert "NoProgramUpgrade=1" in fake.text(INI) and "NoProgramUpgrade=0" not in fake.text(INI)
    s.forget()
    assert s.read("root") == "1" and s.read("client:pc1") == "1"
    s.write("client:pc1", None)
    assert "client:pc1" not in fake.text(INI)


def test_an_ini_key_also_outside_its_section_is_not_edited(fake, make_ctx, lab_profile):
    s = store(fake, make_ctx, lab_profile, "[Global Setting]\r\nNoProgramUpgrade=0\r\n[Other]\r\nNoProgramUpgrade=1\r\n")
    before = fake.text(INI)
    with pytest.raises(OsceError, match=r"also appears outside \[Global Setting\]"):
        s.write("root", "1")
    assert fake.text(INI) == before and fake.writes() == []


def test_a_registry_privilege_with_an_integer_on_value_writes_a_dword(fake, make_ctx):
    s = store(fake, make_ctx, REGISTRY_PROFILE)
    assert s.read("root") is None
    s.write("root", "1")
    assert fake.get_reg(REG_KEY, "NoUpgrade") == 1
    s.forget()
    assert s.read("root") == "1" and s.show("root", "1") == "on"
    assert s.location("root")["location"] == f"{REG_KEY}\\NoUpgrade"
    s.write("root", None)
    assert fake.get_reg(REG_KEY, "NoUpgrade") is None


def test_a_privilege_entry_of_another_kind_is_refused(fake, make_ctx):
    s = store(fake, make_ctx, {"upgrade_privilege_root": {"kind": "file", "path": "{local_path}x.dat"}})
    with pytest.raises(OsceError, match="must be ini or registry for the privilege"):
        s.read("root")


def test_the_marker_keeps_the_original_value_or_absent(fake, make_ctx, lab_profile):
    s = store(fake, make_ctx, lab_profile)
    assert s.read_marker() == {} and not s.marker_exists
    s.write_marker("root", "0")
    s.write_marker("client:pc1", None)
    assert s.read_marker() == {"root": "0", "client:pc1": priv.ABSENT} and s.marker_exists
    s.clear_marker("root")
    assert s.read_marker() == {"client:pc1": priv.ABSENT}
    s.remove_marker_key()
    assert s.read_marker() == {} and not s.marker_exists
    assert s.marker_key() == MARKER
