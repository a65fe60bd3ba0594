"""Inventory <-> host state agreement: a generated inventory and its state files must describe the
same hosts (the per-client ``osce_client_arch`` / ``osce_site`` host vars are rendered from the host state
by ``make_fleet.inventory_host_vars``). ``tests/lab/ansible-lab`` runs this on every ``-i`` file
before Ansible starts, so a stale state dir (an inventory regenerated, the state not, or the
reverse) is refused instead of silently simulating other hosts than the inventory says.

    python -m osce_lab.pairing INVENTORY.yml ...     (exit 2 with one line per problem)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def inventory_host_vars(state: dict) -> dict:
    """The host vars a generated inventory carries for one client: read from its host state (one source)."""
    return {"osce_site": state["osce"]["site"], "osce_client_arch": state["arch"]}


def _state_dir(inv_path: Path, inv: dict) -> Path | None:
    raw = ((inv.get("all") or {}).get("vars") or {}).get("lab_state_dir")
    if not isinstance(raw, str):
        return None
    return Path(raw.replace("{{ inventory_dir }}", str(inv_path.parent)))


def check(inv_path) -> list[str]:
    """Problems (empty: the inventory and its state agree, or the inventory is not a lab one)."""
    import yaml
    inv_path = Path(inv_path)
    if inv_path.is_dir():
        inv_path = inv_path / "inventory.yml"
    if not inv_path.is_file():
        return []
    try:
        inv = yaml.safe_load(inv_path.read_text()) or {}
    except yaml.YAMLError:
        return []
    sdir = _state_dir(inv_path, inv) if isinstance(inv, dict) else None
    if sdir is None:
        return []
    clients = (((inv["all"].get("children") or {}).get("osce_clients") or {}).get("hosts")) or {}
    fix = "Fix: regenerate both with tests/lab/make_fleet.py (inventories/lab: tests/lab/reset-lab)"
    problems = []
    for name, hv in clients.items():
        p = sdir / "hosts" / f"{name}.json"
        if not p.exists():
            problems.append(f"{inv_path}: client {name} has no lab state file ({p}). {fix}")
            continue
        want = inventory_host_vars(json.loads(p.read_text()))
        for key, value in want.items():
            got = (hv or {}).get(key)
            if got is not None and got != value:
                problems.append(f"{inv_path}: {name} {key} is {got!r} in the inventory but {value!r} in its "
                                f"state file {p}. {fix}")
    return problems


def main(argv=None) -> int:
    problems = [p for inv in (argv if argv is not None else sys.argv[1:]) for p in check(inv)]
    for p in problems:
        print(f"ansible-lab: {p}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
