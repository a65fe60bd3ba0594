"""The lab engine: a simulated OfficeScan 10.6 estate (tests only, never imported by production code).

state.py    one JSON state file per host (locked), Windows path keys, registry/file/INI helpers
network.py  virtual clock, max-min fair network model, transfer ledger
osce.py     OfficeScan behaviour: levels and builds, installers, upgrade privilege, client release
standin.py  the harness every stand-in module runs in (state lookup, faults, unreachable)
"""
