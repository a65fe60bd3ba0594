"""make_fleet: every level, schema-valid host states, real installer hashes, speed, --help."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from labkit import LAB, ROOT, make_fleet  # noqa: F401
from osce_lab.osce import LEVELS as LAB_LEVELS, R1_CUTOFF, SERVER_INFO
from osce_lab.state import SCHEMA_PATH, Host, ini_sections

try:
    from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS as CORE_LEVELS
except ImportError:  # pragma: no cover
    CORE_LEVELS = None

WEBS = ["apache", "iis-virtual", "iis-default"]
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def test_lab_levels_are_the_core_vocabulary():
    if CORE_LEVELS is None:
        pytest.skip("core levels not importable")
    assert list(LAB_LEVELS) == list(CORE_LEVELS)


@pytest.mark.parametrize("i,level", list(enumerate(LAB_LEVELS)))
def test_every_level(tmp_path, i, level):
    web = WEBS[i % 3]
    out = tmp_path / "f"
    make_fleet.main(["--out", str(out), "--server-level", level, "--web", web, "--clients", "4", "--offline", "1",
                     "--seed", str(i)])
    inv = yaml.safe_load((out / "inventory.yml").read_text())
    groups = inv["all"]["children"]
    assert set(groups) == {"osce_server", "osce_clients", "osce_sps", "osce_tmcm"}
    assert len(groups["osce_clients"]["hosts"]) == 4
    for p in (out / "hosts").glob("*.json"):
        errors = [f"{p.name}: {e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(json.loads(p.read_text()))]
        assert errors == []
    version, build, _date = LAB_LEVELS[level]
    with Host.open(out / "hosts" / "osce-srv.json", write=False) as h:
        info = SERVER_INFO.format(wow="Wow6432Node\\")
        assert h.get_value(info, "Server_Version") == version
        assert h.get_value(info, "ServicePack_Build") == build
        lp = h.get_value(info, "Local_Path")
        hist = ini_sections(h.read_text(lp + "Admin\\hotfix_history.ini"))
        if level in ("cp5712", "cp5712r1"):
            date = hist["OfficeScan 10.6 SP3 Critical Patch 5712"]["InstallDate"][:10]
            assert (date < R1_CUTOFF) == (level == "cp5712")
        if h.data["osce"]["web"] == "apache":
            assert "Listen 8080" in h.read_text(h.data["osce"]["httpd_conf"])
    offline = [n for n in groups["osce_clients"]["hosts"]
               if not json.loads((out / "hosts" / f"{n}.json").read_text())["reachable"]]
    assert len(offline) == 1


def test_installers_carry_their_real_hash_and_faults(tmp_path):
    out = tmp_path / "f"
    make_fleet.main(["--out", str(out), "--server-level", "sp3", "--web", "apache", "--clients", "1",
                     "--fault", "osce-srv:installer_tampered@cp5495", "--fault", "osce-srv:installer_missing@sp3_patch2",
                     "--fault", "osce-srv:exit1603@cp5712r1"])
    inv = yaml.safe_load((out / "inventory.yml").read_text())["all"]["vars"]
    srv = json.loads((out / "hosts" / "osce-srv.json").read_text())
    for step, inst in inv["osce_installers"].items():
        entry = next((v for k, v in srv["files"].items() if k.lower() == inst["path"].lower()), None)
        if step == "sp3_patch2":
            assert entry is None
            continue
        real = hashlib.sha256((out / entry["blob"]).read_bytes()).hexdigest()
        assert (real == inst["sha256"]) == (step != "cp5495"), step
        spec = json.loads((out / entry["blob"]).read_bytes())
        assert spec["exit_code"] == 0   # the file is genuine: the exit fault acts while listed on the server
    assert {"kind": "exit1603", "arg": "cp5712r1"} in srv["faults"]


def test_cp5712_date_must_agree_with_level(tmp_path):
    with pytest.raises(SystemExit):
        make_fleet.main(["--out", str(tmp_path / "f"), "--server-level", "cp5712r1", "--web", "apache",
                         "--clients", "1", "--cp5712-installed-on", "2014-12-01"])
    make_fleet.main(["--out", str(tmp_path / "g"), "--server-level", "cp5712", "--web", "apache",
                     "--clients", "1", "--cp5712-installed-on", "2015-01-22"])


def test_two_thousand_clients(tmp_path):
    # scale, not speed (speed belongs to bench/): every client gets its state file and its site
    make_fleet.main(["--out", str(tmp_path / "f"), "--server-level", "sp3_patch1", "--web", "iis-virtual",
                     "--clients", "2000", "--x86-share", "0.4", "--conventional-share", "0.2", "--offline", "25",
                     "--sites", "4", "--site-mbps", "50"])
    clients = sorted((tmp_path / "f" / "hosts").glob("pc*.json"))
    assert len(clients) == 2000
    inventory = (tmp_path / "f" / "inventory.yml").read_text()
    assert all(inventory.count(f"osce_site: site{n}") == 500 for n in range(1, 5))


def test_help_lists_levels_and_faults():
    p = subprocess.run([sys.executable, str(LAB / "make_fleet.py"), "--help"], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    for level in LAB_LEVELS:
        assert f"  {level} " in p.stdout
    for kind in ("exit1603", "installer_tampered", "unreachable", "port_conflict", "disk_small", "sps2", "old_tmcm"):
        assert kind in p.stdout


def test_embedded_lab_inventory_is_what_reset_lab_writes(tmp_path):
    """inventories/lab/inventory.yml must be regenerated identically by tests/lab/reset-lab."""
    import re
    import shlex
    args = shlex.split(re.search(r"exec \"\$PY\" tests/lab/make_fleet.py (.*?) \"\$@\"",
                                 (LAB / "reset-lab").read_text(), re.S).group(1).replace("\\\n", " "))
    i = args.index("--out")
    args[i + 1] = str(tmp_path / "lab")
    make_fleet.main(args)

    def strip(text):
        return [ln for ln in text.splitlines() if not ln.startswith("# make_fleet args:")]

    committed = (ROOT / "inventories" / "lab" / "inventory.yml").read_text()
    assert strip((tmp_path / "lab" / "inventory.yml").read_text()) == strip(committed)
    inv = yaml.safe_load(committed)
    clients = inv["all"]["children"]["osce_clients"]["hosts"]
    assert len(clients) == 20 and inv["all"]["vars"]["lab_state_dir"] == "{{ inventory_dir }}/.state"
    # the demo's network (docs/lab.md): the planner's throttle budget // client rate is 4-6, not 1
    lab_vars = inv["all"]["vars"]
    assert 4 <= lab_vars["osce_bandwidth_budget_bps"] // lab_vars["osce_client_bps"] <= 6
    assert lab_vars["osce_client_install_s"] == 60
    states = {n: json.loads((tmp_path / "lab" / ".state" / "hosts" / f"{n}.json").read_text()) for n in clients}
    assert {hv["osce_client_arch"] for hv in clients.values()} == {"x86", "x64"}
    assert sum(not s["reachable"] for s in states.values()) == 1
    conventional = [n for n, s in states.items()
                    if any(v.get("ScanType", {}).get("value") == 0 for v in (e["values"] for e in s["registry"].values()))]
    assert 1 <= len(conventional) < len(clients) // 2
    assert list(inv["all"]["children"]["osce_sps"]["hosts"]) == ["sps01"]
    srv = json.loads((tmp_path / "lab" / ".state" / "hosts" / "osce-srv.json").read_text())
    assert srv["osce"]["web"] == "apache"
