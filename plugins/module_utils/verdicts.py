"""Per-client verdicts: does this client hold what the server says it should?

Precedence (first match wins; docs/core.md "Client verdicts"):

1. ``unknown`` — the scan method, or for a smart scan client a build/pattern fact the decision
   needs, is missing.
2. ``conventional_scan`` — conventional scan only; reported apart (FAQ Q11 lets it wait). The
   program comparison is still in the evidence (``program_current``).
3. ``program_behind`` — the client program build is lower than the build the server offers.
4. ``crcz_missing`` — CP 5712r1 is on the server but CRCz.ptn is not on the client (FAQ Q7).
5. ``bf_in_use`` — CP 5712r1 is on the server, CRCz.ptn is present, BF.ptn is still there: the
   replacement has not finished (inferred: the FAQ says CRCz.ptn replaces BF.ptn).
6. ``agent_pattern_behind`` — the Smart Scan Agent Pattern is older than the server's (reference 004:
   smart scan clients scan with it, the update source deploys it daily).
7. ``up_to_date``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERDICTS: tuple[str, ...] = ("up_to_date", "program_behind", "crcz_missing", "bf_in_use",
                             "agent_pattern_behind", "conventional_scan", "unknown")


@dataclass(frozen=True)
class VerdictResult:
    verdict: str
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reason": self.reason, "evidence": dict(self.evidence)}


def parse_build(value: Any) -> int | None:
    """``"10.6.0.5712"`` / ``"10.6.5712"`` / ``"5712"`` / ``5712`` -> 5712; ``None`` if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        return None
    return int(text.rsplit(".", maxsplit=1)[-1])


def parse_pattern_version(value: Any) -> int | None:
    """Comparable pattern version: ``"11.345.00"`` -> 1134500, ``1134500`` -> 1134500,
    ``"11.345"`` -> 1134500. ``None`` if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    match = re.fullmatch(r"(\d+)\.(\d{1,3})(?:\.(\d{1,2}))?", text)
    if not match:
        return None
    major, minor, patch = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    return major * 100000 + minor * 100 + patch


def comparable_patterns(client: int | None, server: int | None) -> tuple[int | None, int | None]:
    """Bring two parsed pattern versions to one scale.

    A pattern file's extension (``icrc$oth.411``) or a short record gives only the pattern number
    (``411``); a dotted or integer version (``11.411.00`` -> ``1141100``) also holds the major part.
    When one side is a bare number (below 1000) both are compared on the pattern number
    (``(version // 100) % 1000``); otherwise the full versions are compared.
    """
    if client is None or server is None or (client >= 1000 and server >= 1000):
        return client, server

    def number(value: int) -> int:
        return value if value < 1000 else (value // 100) % 1000

    return number(client), number(server)


def scan_method_from_scan_type(value: Any) -> str | None:
    """``iCRC Scan\\ScanType``: non-zero = smart, 0 = conventional, missing = ``None``."""
    if value is None or value == "":
        return None
    try:
        return "smart" if int(value) != 0 else "conventional"
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def client_verdict(client: Mapping[str, Any], server: Mapping[str, Any]) -> VerdictResult:
    """Verdict for one client.

    ``client``: ``program_build``, ``scan_method`` (smart / conventional / None), ``bf_ptn`` and
    ``crcz_ptn`` (present: True / False / None = not checked), ``agent_pattern`` (Smart Scan Agent
    Pattern version). ``server``: ``client_build`` (program build it offers), ``agent_pattern``,
    ``cp_installed`` (CP 5712r1 on the server: True / False / None).
    """
    c_build = parse_build(client.get("program_build"))
    s_build = parse_build(server.get("client_build"))
    method = client.get("scan_method")
    if method is not None:
        method = str(method).lower()
    bf = _flag(client.get("bf_ptn"))
    crcz = _flag(client.get("crcz_ptn"))
    c_ptn, s_ptn = comparable_patterns(parse_pattern_version(client.get("agent_pattern")),
                                       parse_pattern_version(server.get("agent_pattern")))
    cp = _flag(server.get("cp_installed"))
    program_current = None if c_build is None or s_build is None else c_build >= s_build
    evidence = {"program_build": c_build, "server_client_build": s_build, "scan_method": method,
                "bf_ptn": bf, "crcz_ptn": crcz, "agent_pattern": c_ptn,
                "server_agent_pattern": s_ptn, "cp_installed": cp,
                "program_current": program_current}

    def result(verdict: str, reason: str) -> VerdictResult:
        return VerdictResult(verdict, reason, evidence)

    if method not in ("smart", "conventional"):
        return result("unknown", f"scan method not known (got {method!r}); read iCRC Scan\\ScanType")
    if method == "conventional":
        tail = {None: "program build not compared", True: "program build is current",
                False: f"program build {c_build} is behind the server's {s_build}"}[program_current]
        return result("conventional_scan", "conventional scan only: the CP's smart scan changes do not "
                      f"apply yet (FAQ Q11); {tail}")
    missing = [name for name, val in (("client program build", c_build),
                                      ("server's client program build", s_build)) if val is None]
    if missing:
        return result("unknown", "missing evidence: " + ", ".join(missing))
    if c_build < s_build:
        return result("program_behind", f"client program build {c_build} is behind the server's "
                      f"{s_build}; the client has not taken the server's program update")
    if c_build > s_build:
        return result("unknown", f"client program build {c_build} is newer than the {s_build} the "
                      "server offers; check the server's Tmlisten.exe evidence")
    if cp is None:
        return result("unknown", "whether CP 5712r1 is on the server is not known, so the expected "
                      "pattern files are not known")
    if cp:
        if crcz is None:
            return result("unknown", "CRCz.ptn presence not checked (profile entry client_crcz_ptn)")
        if not crcz:
            return result("crcz_missing", "CP 5712r1 is on the server but CRCz.ptn is not on the client "
                          "(FAQ Q7: it comes with the CP's program update)")
        if bf:
            return result("bf_in_use", "CRCz.ptn is present but BF.ptn is still there: the client has "
                          "not finished replacing BF.ptn with CRCz.ptn (FAQ Q7)")
    if c_ptn is None or s_ptn is None:
        return result("unknown", "Smart Scan Agent Pattern version missing on the "
                      + ("client" if c_ptn is None else "server"))
    if c_ptn < s_ptn:
        return result("agent_pattern_behind", f"Smart Scan Agent Pattern {c_ptn} is behind the "
                      f"server's {s_ptn}")
    return result("up_to_date", "program build, pattern files and Smart Scan Agent Pattern match "
                  "the server")
