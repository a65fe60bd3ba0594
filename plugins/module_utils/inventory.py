# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory contract and the supported ``--limit`` patterns (pure core).

A run needs exactly one host in ``osce_server``, and every step starts on it. A pilot is the server,
its gates (standalone SPS ``osce_sps``, Control Manager ``osce_tmcm``) and some clients::

    --limit 'osce_server:osce_sps:osce_tmcm:pc0001'

:func:`inventory_contract` checks, in this order (the first problem is the one reported): the
``osce_server`` group holds exactly one host; the server is in the run; no gate is left out; no host
of the run is outside the collection's groups. It also names the optional groups that are empty or
absent, which preflight notes.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SERVER_GROUP = "osce_server"
GATE_GROUPS = ("osce_sps", "osce_tmcm")
#: The groups every host of a run belongs to (one of).
GROUPS = (SERVER_GROUP, "osce_clients", *GATE_GROUPS)
#: Groups that may be empty or absent (preflight notes each).
OPTIONAL_GROUPS = ("osce_clients", "osce_sps", "osce_tmcm")


def _members(groups: Mapping[str, Any], name: str) -> list[str]:
    return [str(h) for h in groups.get(name) or ()]


def pilot_pattern(groups: Mapping[str, Any]) -> str:
    """The ``--limit`` of a pilot: the server, its gates and the first client."""
    clients = _members(groups, "osce_clients")
    return f"--limit 'osce_server:osce_sps:osce_tmcm:{clients[0] if clients else 'pc0001'}'"


def inventory_problem(groups: Mapping[str, Any], play_hosts: Sequence[str], limit: str = "") -> str:
    """The first break of the inventory contract or the ``--limit`` patterns, as one line with its fix;
    ``""`` when the run may go on."""
    servers = _members(groups, SERVER_GROUP)
    in_run = [str(h) for h in play_hosts]
    pilot = pilot_pattern(groups)
    limit = limit or ""
    if len(servers) != 1:
        return (f"inventory: group osce_server must hold exactly one host (got {', '.join(servers) or 'none'}). "
                "Fix: put your OSCE server, and only it, in the osce_server group (see inventories/example/hosts.yml).")
    if servers[0] not in in_run:
        return (f"--limit: the OSCE server {servers[0]} is left out, and every step starts on it (got {limit}). "
                f"Fix: a pilot is the server, its gates and some clients: {pilot}")
    gates_left_out = [h for g in GATE_GROUPS for h in _members(groups, g) if h not in in_run]
    if gates_left_out:
        return (f"--limit: {', '.join(dict.fromkeys(gates_left_out))} (osce_sps / osce_tmcm) are left out, so the "
                f"FAQ's gates (SPS 3.0, Control Manager version) cannot be checked (got {limit}). "
                f"Fix: keep them in the pilot: {pilot}")
    known = {h for g in GROUPS for h in _members(groups, g)}
    foreign = list(dict.fromkeys(h for h in in_run if h not in known))
    if foreign:
        return (f"--limit: {', '.join(foreign)} are in none of the groups osce_server, osce_clients, osce_sps, "
                f"osce_tmcm (got {limit}). Fix: limit to hosts of those groups: {pilot}")
    return ""


def empty_groups(groups: Mapping[str, Any]) -> list[str]:
    """The optional groups that are empty or absent, in the order of :data:`OPTIONAL_GROUPS`."""
    return [g for g in OPTIONAL_GROUPS if not groups.get(g)]


def inventory_contract(groups: Mapping[str, Any], play_hosts: Sequence[str], limit: str = "") -> dict[str, Any]:
    """``problem`` (:func:`inventory_problem`, ``""`` when fine) and ``empty_groups`` (:func:`empty_groups`)."""
    return {"problem": inventory_problem(groups, play_hosts, limit), "empty_groups": empty_groups(groups)}
