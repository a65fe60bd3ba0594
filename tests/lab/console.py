#!/usr/bin/env python3
"""The OSCE web console, for what an operator does by hand in the lab.

    python tests/lab/console.py DIR privilege on|off [--client NAME | --domain NAME]
    python tests/lab/console.py DIR privilege show

DIR is the fleet's state dir (the folder holding hosts/ and lab/; for inventories/lab:
inventories/lab/.state, which is found from inventories/lab too).

``privilege`` ticks (``on``) or unticks (``off``) "Clients can update components but not upgrade the
client program or deploy hot fixes" (Networked Computers > Client Management > Settings >
Privileges and Other Settings > Other Settings > Update Settings) for the root, one client or one
domain, and saves, as the console would: it writes the lab's GUESS location of the setting
(``ofcscan.ini [Global Setting] NoProgramUpgrade`` for the root, ``[Client Privilege] client:NAME`` /
``domain:NAME``; ``osce_lab/osce.py`` ``PRIV_ROOT`` / ``PRIV_SECTION``, docs/lab.md) on the server, then
notifies the clients as a server change does (unticked: online clients behind the server's build
start downloading it). This is what ``playbooks/calibrate.yml`` is meant to observe between its
snapshot and compare phases. It prints one line: where it wrote, the old and the new value.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from osce_lab.osce import PRIV_ROOT, PRIV_SECTION, Fleet, Server, reconcile  # noqa: E402
from osce_lab.state import Host, ini_get  # noqa: E402

VALUES = {"on": "1", "off": "0"}


def resolve(fleet: str) -> Path:
    p = Path(fleet)
    for candidate in (p, p / ".state"):
        if (candidate / "lab" / "lab.json").exists() and (candidate / "hosts").is_dir():
            return candidate
    raise SystemExit(f"console: no lab fleet (hosts/ and lab/lab.json) under {p}")


def privilege(fleet_dir: Path, state: str, client: str | None = None, domain: str | None = None) -> str:
    """Set (or show, ``state='show'``) the privilege; returns the line printed."""
    fleet = Fleet(fleet_dir)
    section, key = PRIV_ROOT
    if client or domain:
        section, key = PRIV_SECTION, f"client:{client}" if client else f"domain:{domain}"
    with Host.open(fleet.host_path(fleet.server_name), write=state != "show") as host:
        server = Server(host)
        old = ini_get(server.ini, section, key)
        where = f"{fleet.server_name} {server.p('ofcscan.ini')} [{section}] {key}"
        if state == "show":
            return f"{where} = {old}"
        new = VALUES[state]
        if old != new:
            server.set_ini(section, key, new)
    started = reconcile(fleet) if old != new else []
    line = f"{where}: {old} -> {new}" if old != new else f"{where}: already {new}"
    return line + (f" (clients notified, now upgrading: {', '.join(started)})" if started else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("fleet", help="the fleet's state dir (or inventories/lab)")
    sub = ap.add_subparsers(dest="setting", required=True)
    priv = sub.add_parser("privilege", help="Clients can update components but not upgrade the client program")
    priv.add_argument("state", choices=["on", "off", "show"])
    scope = priv.add_mutually_exclusive_group()
    scope.add_argument("--client", help="one client (its own setting) instead of the root")
    scope.add_argument("--domain", help="one domain instead of the root")
    args = ap.parse_args(argv)
    print(privilege(resolve(args.fleet), args.state, args.client, args.domain))
    return 0


if __name__ == "__main__":
    sys.exit(main())
