"""Per-client verdicts: does this client hold what the server says it should, on the target?

Precedence (first match wins; docs/core.md "Client verdicts"):

1. ``unknown`` — the scan method, or a build fact the decision needs, is missing.
2. ``program_behind`` — the client program build is lower than the build the server offers (smart
   and conventional scan clients alike).
3. ``conventional_scan`` — conventional scan only, program current; reported apart (FAQ Q11 lets it
   wait).
4. ``server_not_on_target`` — the client matches its server, but the server is not on the target
   (CP 5712r1 or OSCE 11): the client holds an intermediate build (named in the reason).
5. ``crcz_missing`` — CP 5712r1 is on the server but CRCz.ptn is not on the client (FAQ Q7).
6. Inferred checks (``INFERRED_VERDICTS``; failing only when the caller opts in):
   ``bf_in_use`` (BF.ptn still beside CRCz.ptn), ``custom_update_source`` (the client updates from a
   source other than its server, so the server's pattern is not its reference), ``agent_pattern_behind``
   (Smart Scan Agent Pattern older than the server's).
7. ``up_to_date`` — every fact holds; inferred checks that could not be made are listed as such.

Every check is in ``evidence.checks`` with its ``basis`` (``fact`` / ``inferred``) and the profile
entries it rests on; inferred findings that are not the verdict are in ``evidence.warnings``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERDICTS: tuple[str, ...] = ("up_to_date", "program_behind", "server_not_on_target", "crcz_missing",
                             "bf_in_use", "custom_update_source", "agent_pattern_behind", "conventional_scan",
                             "unknown")

#: Verdicts that rest on facts (a build number, the FAQ's CRCz.ptn, the server's level): the default
#: of ``fail_on`` / ``osce_verify_fail_on``.
FACT_VERDICTS: tuple[str, ...] = ("program_behind", "server_not_on_target", "crcz_missing")

#: Verdicts that rest on inferences (docs/core.md): warnings unless the caller opts in.
INFERRED_VERDICTS: tuple[str, ...] = ("bf_in_use", "custom_update_source", "agent_pattern_behind")

#: Server levels that are the target: CP 5712r1, or OSCE 11 which includes it (FAQ Q2).
TARGET_LEVELS: tuple[str, ...] = ("cp5712r1", "osce11")

#: What each check rests on: its basis and the profile entries it reads.
CHECKS: Mapping[str, Mapping[str, Any]] = {
    "program": {"basis": "fact", "entries": ("client_program_version", "server_client_program")},
    "target": {"basis": "fact", "entries": ("server_version", "server_sp_build")},
    "crcz": {"basis": "fact", "entries": ("client_crcz_ptn",)},
    "bf": {"basis": "inferred", "entries": ("client_bf_ptn",)},
    "update_source": {"basis": "inferred", "entries": ("client_update_from",)},
    "agent_pattern": {"basis": "inferred", "entries": ("client_agent_pattern_file", "client_pattern_version",
                                                       "server_agent_pattern_version")},
}

#: CRCz.ptn freshness (FAQ Q7: incremental updates come from the smart protection source): no
#: public source names CRCz.ptn's version record, so it is reported as not checkable.
CRCZ_FRESHNESS = ("not checkable: after the one-time copy that comes with the CP, CRCz.ptn takes incremental "
                  "updates from the integrated or standalone Smart Protection Server (FAQ Q7, Q14), but where "
                  "its version is recorded on a client is not public (OSCE-FACTS: unknown)")


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


def _names_match(source: str, names: Any) -> bool | None:
    text = source.strip().lower()
    wanted = [str(n).strip().lower() for n in (names or ()) if str(n or "").strip()]
    if not text or not wanted:
        return None
    short = {w.split(".", maxsplit=1)[0] for w in wanted if not w.replace(".", "").isdigit()}
    return any(w in text for w in wanted) or any(re.search(rf"\b{re.escape(w)}\b", text) for w in short)


def client_verdict(client: Mapping[str, Any], server: Mapping[str, Any]) -> VerdictResult:
    """Verdict for one client.

    ``client``: ``program_build``, ``scan_method`` (smart / conventional / None), ``bf_ptn`` and
    ``crcz_ptn`` (present: True / False / None = not checked), ``agent_pattern`` (Smart Scan Agent
    Pattern version), ``update_source`` (``Misc.\\Updatefrom``, None = not read). ``server``:
    ``client_build`` (program build it offers), ``agent_pattern``, ``cp_installed`` (CP 5712r1 on
    the server: True / False / None), ``level`` and ``build`` (the server's level id and
    ``ServicePack_Build``; without ``level`` the target is judged from ``cp_installed``), ``names``
    (host names / addresses of the server, to tell a custom update source).
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
    level = server.get("level") or None
    on_target = (level in TARGET_LEVELS) if level else cp
    source = client.get("update_source")
    source = str(source) if source not in (None, "") else None
    from_server = _names_match(source, server.get("names")) if source else None
    program_current = None if c_build is None or s_build is None else c_build >= s_build
    checks: dict[str, dict[str, Any]] = {
        name: {"basis": spec["basis"], "entries": list(spec["entries"]), "result": "not_checked"}
        for name, spec in CHECKS.items()}
    evidence: dict[str, Any] = {
        "program_build": c_build, "server_client_build": s_build, "scan_method": method,
        "bf_ptn": bf, "crcz_ptn": crcz, "agent_pattern": c_ptn, "server_agent_pattern": s_ptn,
        "cp_installed": cp, "program_current": program_current, "server_level": level,
        "server_build": server.get("build"), "server_on_target": on_target, "update_source": source,
        "custom_update_source": None if from_server is None else not from_server,
        "crcz_freshness": CRCZ_FRESHNESS, "checks": checks, "warnings": []}

    def mark(name: str, result: str, detail: str = "") -> None:
        checks[name]["result"] = result
        if detail:
            checks[name]["detail"] = detail

    # -- every check, facts and inferences, recorded whatever the verdict turns out to be
    if program_current is not None:
        mark("program", "pass" if c_build == s_build else "fail",
             f"client {c_build}, server offers {s_build}")
    if on_target is not None:
        mark("target", "pass" if on_target else "fail", f"server level {level or ('CP installed' if cp else '?')}")
    inferred: list[tuple[str, str]] = []
    if cp and crcz is not None:
        mark("crcz", "pass" if crcz else "fail", "CRCz.ptn " + ("present" if crcz else "absent"))
    if cp and crcz and bf is not None:
        mark("bf", "fail" if bf else "pass", "BF.ptn " + ("still present beside CRCz.ptn" if bf else "gone"))
        if bf:
            inferred.append(("bf_in_use", "CRCz.ptn is present but BF.ptn is still there: the client may not have "
                             "finished replacing BF.ptn with CRCz.ptn (FAQ Q7; inferred - the FAQ says CRCz.ptn "
                             "replaces BF.ptn, not that BF.ptn is deleted)"))
    if from_server is not None:
        mark("update_source", "pass" if from_server else "fail", f"Updatefrom {source!r}")
        if not from_server:
            inferred.append(("custom_update_source", f"the client updates from {source!r}, not from its OSCE "
                             "server (a custom update source, reference 004): the server's Smart Scan Agent "
                             "Pattern is not its reference (inferred from Updatefrom, 3p)"))
    if c_ptn is not None and s_ptn is not None:
        behind = c_ptn < s_ptn
        mark("agent_pattern", "fail" if behind else "pass", f"client {c_ptn}, server {s_ptn}")
        if behind and from_server is not False:
            inferred.append(("agent_pattern_behind", f"Smart Scan Agent Pattern {c_ptn} is behind the server's "
                             f"{s_ptn} (inferred: the update source deploys it daily, reference 004; the "
                             "server's record is profile entry server_agent_pattern_version)"))
    evidence["warnings"] = [why for _name, why in inferred]

    def result(verdict: str, reason: str) -> VerdictResult:
        if inferred and verdict == inferred[0][0]:
            evidence["warnings"] = [why for _name, why in inferred[1:]]
        return VerdictResult(verdict, reason, evidence)

    if method not in ("smart", "conventional"):
        return result("unknown", f"scan method not known (got {method!r}); read iCRC Scan\\ScanType")
    missing = [name for name, val in (("client program build", c_build),
                                      ("server's client program build", s_build)) if val is None]
    if missing:
        return result("unknown", "missing evidence: " + ", ".join(missing))
    if c_build < s_build:
        return result("program_behind", f"client program build {c_build} is behind the server's "
                      f"{s_build}; the client has not taken the server's program update"
                      + (" (a conventional scan client: its program must still follow the server)"
                         if method == "conventional" else ""))
    if c_build > s_build:
        return result("unknown", f"client program build {c_build} is newer than the {s_build} the "
                      "server offers; check the server's Tmlisten.exe evidence")
    if method == "conventional":
        return result("conventional_scan", "conventional scan only: the CP's smart scan changes do not "
                      f"apply yet (FAQ Q11); program build {c_build} is current")
    if on_target is None:
        return result("unknown", "whether the server is on the target (CP 5712r1 / OSCE 11) is not known, so "
                      "the client cannot be judged up to date")
    if not on_target:
        where = f"level {level}" if level else "a level before CP 5712r1"
        build = server.get("build")
        return result("server_not_on_target", f"the client matches its server's program build {c_build}, but the "
                      f"server is on {where}" + (f" (build {build})" if build is not None else "")
                      + ", not on the target CP 5712r1: an intermediate build; finish the server's chain "
                      "(playbooks/site.yml)")
    if cp is None:
        return result("unknown", "whether CP 5712r1 is on the server is not known, so the expected "
                      "pattern files are not known")
    if cp:
        if crcz is None:
            return result("unknown", "CRCz.ptn presence not checked (profile entry client_crcz_ptn)")
        if not crcz:
            return result("crcz_missing", "CP 5712r1 is on the server but CRCz.ptn is not on the client "
                          "(FAQ Q7: it comes with the CP's program update)")
    if inferred:
        return result(inferred[0][0], inferred[0][1])
    unchecked = [name for name in ("bf", "update_source", "agent_pattern")
                 if checks[name]["result"] == "not_checked" and (name != "bf" or cp)]
    tail = f"; inferred checks not made: {', '.join(unchecked)}" if unchecked else ""
    return result("up_to_date", "program build matches the server, which is on the target, and the pattern "
                  f"files the CP brings are present{tail}")
