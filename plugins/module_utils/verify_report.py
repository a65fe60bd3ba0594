# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify role's decision: which clients fail the policy, with which message, and the fleet summary (pure core).

The per-client verdicts come from :mod:`verdicts` (``osce.patching.pattern_verify``) and are recorded in
each client's ``osce_client_state`` (:func:`step.state_after_verify`). This module judges them against
the policy ``osce_verify_fail_on`` and the server's level:

- a client whose own verdict is ``up_to_date`` or ``conventional_scan`` on a server that is not on the
  target (CP 5712r1 / OSCE 11) fails as ``server_not_on_target``;
- in check mode with an unblocked chain still to install (what ``site.yml --check`` installs first),
  ``server_not_on_target`` is a prediction of the present: reported, not failed;
- a client whose read failed (``error``) fails whatever the policy, unless it is offline;
- with the iSPS ports probed once per site (:func:`probe_plan`), a port a prober found closed fails every
  client of the prober's site that answered, naming the prober.

:func:`verify_report` returns one structure: ``summary`` (what the role prints once) and ``clients``
(per client ``verdict``, ``failing_verdict``, ``failing``, ``message``, ``warnings``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.verdicts import TARGET_LEVELS

#: Client verdicts that mean "matches its server": on a server off the target they fail as server_not_on_target.
MATCHES_SERVER = ("up_to_date", "conventional_scan")

CHECK_MODE_TEXT = ("CHECK MODE - a prediction: nothing was installed in this run; the verdicts judge the clients "
                   "against the server facts this run holds (predicted where an earlier play of a --check run "
                   "predicted them)")


#: Who probes the smart protection source (``osce_verify_probe_scope``): one client per site and endpoint, or
#: every client.
PROBE_SCOPES = ("site", "client")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _site(state: Mapping[str, Any] | None) -> str:
    return str(_mapping(state).get("site") or "")


def client_states(hostvars: Mapping[str, Any], hosts: Sequence[str]) -> dict[str, Any]:
    """Each host's ``osce_client_state`` from ``hostvars`` (None for a host without one): what the filters judge."""
    out = {}
    for host in hosts:
        host_vars = hostvars[host] if host in hostvars else {}
        out[host] = host_vars.get("osce_client_state") if isinstance(host_vars, Mapping) else None
    return out


#: What is wrong with a bad iSPS endpoint (see :func:`bad_endpoint`).
ENDPOINT_PROBLEM = "needs a host and a numeric port"


def bad_endpoint(endpoints: Sequence[Any]) -> int | None:
    """The index of the first endpoint without a host and a numeric port, or None when all have both."""
    for i, point in enumerate(endpoints):
        if not isinstance(point, Mapping) or not point.get("host") or not str(point.get("port", "")).isdigit():
            return i
    return None


def _answered(state: Mapping[str, Any]) -> bool:
    """A client that answered at its last contact, or that no play of this run has read (nothing says it is down)."""
    return "online" not in state or bool(state.get("online"))


def probe_plan(states: Mapping[str, Mapping[str, Any] | None], hosts: Sequence[str],
               endpoints: Sequence[Mapping[str, Any]], scope: str = "site") -> dict[str, Any]:
    """Which client probes which smart protection endpoint (host and port) in verify.

    ``client``: every client that answered at its last contact probes every endpoint (one round trip each).
    ``site``: what a probe proves is the network path from the client's site (``osce_site``) to the server's
    port, so each endpoint is probed once per site, the endpoints dealt in turn over the site's answering clients
    in name order: no client probes more than ceil(endpoints / answering clients of its site), and an estate
    pays per site, not per client. A client that did not answer (offline, dropped) probes nothing.

    Returns ``scope`` and ``hosts`` (every host of ``hosts``: the endpoints it probes, possibly none)."""
    if scope not in PROBE_SCOPES:
        raise ValueError(f"osce_verify_probe_scope must be one of {', '.join(PROBE_SCOPES)} (got {scope!r})")
    bad = bad_endpoint(endpoints)
    if bad is not None:
        raise ValueError(f"endpoints[{bad}] {ENDPOINT_PROBLEM} (got {endpoints[bad]!r})")
    points = [{"host": str(ep["host"]), "port": int(ep["port"])} for ep in endpoints]
    plan: dict[str, list[dict[str, Any]]] = {h: [] for h in hosts}
    answering = [h for h in hosts if _answered(_mapping(states.get(h)))]
    if scope == "client":
        for host in answering:
            plan[host] = [dict(p) for p in points]
        return {"scope": scope, "hosts": plan}
    by_site: dict[str, list[str]] = {}
    for host in sorted(answering):
        by_site.setdefault(_site(states.get(host)), []).append(host)
    for members in by_site.values():
        for i, point in enumerate(points):
            plan[members[i % len(members)]].append(dict(point))
    return {"scope": scope, "hosts": plan}


def site_reachability(states: Mapping[str, Mapping[str, Any] | None], plan: Mapping[str, Any] | None,
                      results: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per site, per ``host:port`` of a ``site`` probe plan: ``probed_from`` and ``reachable`` (true, false, or
    none when the prober gave no answer: not proven). ``results``: each prober's ``reachability`` list (from
    pattern_verify). Empty for a ``client`` plan: there each client answers for itself."""
    plan = _mapping(plan)
    if plan.get("scope") != "site":
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for prober, points in sorted(_mapping(plan.get("hosts")).items()):
        answers = {(str(r.get("host")), int(r.get("port", 0))): r.get("reachable")
                   for r in results.get(prober) or () if isinstance(r, Mapping)}
        for point in points or ():
            key = (str(point["host"]), int(point["port"]))
            reachable = answers.get(key)
            out.setdefault(_site(states.get(prober)), {})[f"{key[0]}:{key[1]}"] = {
                "probed_from": prober, "reachable": None if reachable is None else bool(reachable)}
    return out


def _site_problem(name: str, site: str, by_site: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One line when a probe for the client's site found a port closed (another client probed it)."""
    blocked = [f"{point} (probed from {p['probed_from']})" for point, p in by_site.get(site, {}).items()
               if p["reachable"] is False and p["probed_from"] != name]
    if not blocked:
        return ""
    where = f"site {site}" if site else "its site (no osce_site)"
    return (f"{name}: the smart protection source is not reachable from {where}: {', '.join(blocked)}. Fix: open the "
            "ports between the site and the server (osce.patching.sps_ports lists them), then verify again")


@dataclass(frozen=True)
class ServerView:
    """The server as verify judges it: its inventory name and its facts (``osce_server``)."""

    name: str
    facts: Mapping[str, Any]

    @property
    def on_target(self) -> bool:
        return self.facts.get("level") in TARGET_LEVELS

    @property
    def chain_ids(self) -> list[str]:
        steps = _mapping(self.facts.get("chain")).get("steps") or []
        return [str(_mapping(s).get("id")) for s in steps]

    def chain_pending(self, check_mode: bool) -> bool:
        """Check mode with an unblocked chain still to install: site.yml --check would install it first."""
        chain = _mapping(self.facts.get("chain"))
        return bool(check_mode) and bool(chain.get("steps")) and not chain.get("blockers")

    @property
    def text(self) -> str:
        level = self.facts.get("level_name") or self.facts.get("level") or "an unknown level"
        build = self.facts.get("sp_build")
        out = f"{self.name} on {level} (build {'?' if build is None else build})"
        return out if self.on_target else out + ", not on the target CP 5712r1 (server_not_on_target)"


@dataclass(frozen=True)
class ClientOutcome:
    """One client judged against the policy."""

    name: str
    verdict: str
    failing_verdict: str
    failing: bool
    message: str
    warnings: tuple[str, ...]
    reboot_required: bool

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["warnings"] = list(self.warnings)
        return out


def failing_verdict(verdict: str, server: ServerView) -> str:
    """The verdict the policy judges: a client that matches a server off the target is server_not_on_target."""
    return "server_not_on_target" if verdict in MATCHES_SERVER and not server.on_target else verdict


def judge_client(name: str, state: Mapping[str, Any] | None, *, server: ServerView, fail_on: Iterable[str],
                 check_mode: bool = False, site_problem: str = "") -> ClientOutcome:
    """Whether ``osce_verify_fail_on`` fails this client, and the one-line message that says why and how to fix it.

    ``state`` is the client's ``osce_client_state`` after verify (``verdict``, ``reason``, ``error``,
    ``warnings``, ``reboot_required``); a client without one is ``unknown``. ``site_problem``: a probe from
    another client of its site found the smart protection source unreachable (:func:`site_reachability`)."""
    state = _mapping(state)
    policy = set(fail_on or ())
    verdict = str(state.get("verdict") or "unknown")
    judged = failing_verdict(verdict, server)
    error = str(state.get("error") or "") or site_problem
    # a --check run installs nothing: a server chain still to install, or a client in a batch of this run
    # (its predicted upgrade is in `steps`), is judged on what the real run would leave, not failed
    predicted = (judged == "server_not_on_target" and server.chain_pending(check_mode)) or \
        (bool(check_mode) and judged == "program_behind" and bool(state.get("steps")))
    failing = (judged in policy and not predicted) or (bool(error) and verdict != "offline")
    message = ""
    if failing:
        if error:
            message = error
        else:
            fix = (" Fix: finish the server chain to CP 5712r1 (playbooks/site.yml), then verify again"
                   if judged == "server_not_on_target"
                   else " Fix: rerun playbooks/site.yml for this client, or read the evidence with -v")
            message = (f"{name}: verdict {judged} is in osce_verify_fail_on (got {state.get('reason') or server.text})."
                       f"{fix}{' [check mode: a prediction]' if check_mode else ''}")
    return ClientOutcome(name=name, verdict=verdict, failing_verdict=judged, failing=failing, message=message,
                         warnings=tuple(str(w) for w in state.get("warnings") or ()),
                         reboot_required=bool(state.get("reboot_required", False)))


def rests_on(evidences: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Per check of pattern_verify, the profile entries it read and their confidence (``calibrated``,
    ``documented``, ``guessed``, ...): which verdicts rest on which facts. The entries are the profile's, the same
    for every client, so the evidences are merged; a check no client read is absent."""
    out: dict[str, dict[str, str]] = {}
    for evidence in evidences.values():
        checks = _mapping(_mapping(evidence).get("checks"))
        for name, check in checks.items():
            for entry, confidence in _mapping(_mapping(check).get("confidence")).items():
                out.setdefault(str(name), {})[str(entry)] = str(confidence)
    return {name: dict(sorted(entries.items())) for name, entries in sorted(out.items())}


def verify_report(states: Mapping[str, Mapping[str, Any] | None], hosts: Sequence[str], *, server: ServerView,
                  fail_on: Iterable[str], check_mode: bool = False,
                  server_reboot_required: bool = False,
                  evidences: Mapping[str, Any] | None = None, probes: Mapping[str, Any] | None = None,
                  reachability: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Judge every client of ``hosts`` (their ``osce_client_state`` in ``states``) and summarise the fleet.

    ``summary`` keeps the order the role prints: ``mode``, ``server``, ``clients``, ``by_verdict`` (counts,
    in first-seen order), ``failing_policy``, ``warnings_not_failing``, ``conventional_scan``, ``offline``,
    ``reboot_pending``, ``server_reboot_pending``, ``rests_on`` (:func:`rests_on` of the clients' pattern_verify
    ``evidences``) and ``reachability`` (per site, per endpoint of a ``site`` probe plan ``probes``, what the prober's
    ``reachability`` result said; a closed port fails every client of the site); ``failing`` lists the clients the
    policy fails."""
    policy = list(fail_on or ())
    by_site = site_reachability(states, probes, reachability or {})
    outcomes = [judge_client(h, states.get(h), server=server, fail_on=policy, check_mode=check_mode,
                             site_problem=_site_problem(h, _site(states.get(h)), by_site))
                for h in hosts]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.verdict] = counts.get(outcome.verdict, 0) + 1
    if check_mode:
        mode = CHECK_MODE_TEXT
        if server.chain_pending(check_mode):
            mode += (f"; the server chain ({', '.join(server.chain_ids)}) is still to be installed, so "
                     "server_not_on_target is reported, not failed")
        batched = [o.name for o in outcomes if o.failing_verdict == "program_behind" and not o.failing]
        if batched:
            mode += (f"; {len(batched)} client(s) in this run's batches still read program_behind: the real run "
                     "upgrades them, so it is reported, not failed")
    else:
        mode = "verified on the hosts"
    summary = {
        "mode": mode,
        "server": server.text,
        "clients": len(outcomes),
        "by_verdict": counts,
        "failing_policy": policy,
        "warnings_not_failing": [o.name for o in outcomes if o.warnings],
        "conventional_scan": [o.name for o in outcomes if o.verdict == "conventional_scan"],
        "offline": [o.name for o in outcomes if o.verdict == "offline"],
        "reboot_pending": [o.name for o in outcomes if o.reboot_required],
        "server_reboot_pending": bool(server_reboot_required),
        "rests_on": rests_on(evidences or {}),
        "reachability": _reachability(probes, by_site),
    }
    return {"summary": summary, "failing": [o.name for o in outcomes if o.failing],
            "clients": {o.name: o.as_dict() for o in outcomes}}


NOT_PROBED = ("not probed in this run: no iSPS port to probe (verify.yml alone, a --check run before the ports are "
              "set, or osce_verify_probe_ports false)")
PROBED_BY_EACH = "each client probed every port (osce_verify_probe_scope: client): a closed port fails that client"


def _reachability(plan: Mapping[str, Any] | None, by_site: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Any:
    """The summary's ``reachability``: per site what its probes found, or one line saying why there is none."""
    if not any(_mapping(_mapping(plan).get("hosts")).values()):
        return NOT_PROBED
    if _mapping(plan).get("scope") == "client":
        return PROBED_BY_EACH
    return {site or "(no osce_site)": {point: _probe_text(p) for point, p in points.items()}
            for site, points in sorted(by_site.items())}


def _probe_text(probe: Mapping[str, Any]) -> str:
    if probe["reachable"] is None:
        return f"not proven: {probe['probed_from']} gave no answer"
    return f"{'reachable' if probe['reachable'] else 'NOT reachable'} from {probe['probed_from']}"
