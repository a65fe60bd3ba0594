"""Bandwidth-budget rollout planner: ``serial`` batches, download ``throttle`` and predicted makespan.

Pure core (no I/O, no Ansible objects). ``plan_rollout`` turns the online clients (architecture,
optional site), the package sizes (bytes, from the catalog), a bandwidth budget on the OSCE server's
uplink (bytes/s, optional per-site budgets) and a per-client install estimate into:

- ``serial``: the batch sizes for a play's ``serial:`` (canary first, then growing batches),
- ``throttle``: how many clients may download at once without exceeding any budget,
- ``recommended_forks``: enough workers for ``throttle`` downloads plus the installs in flight,
- per-batch bytes and expected durations, the physical floor (``lower_bound_s``) and the
  predicted makespan, and warnings (window exceeded, unknown sizes, clients offline, ...).

The model (docs/rollout.md has the long form):

- Inside a batch the throttled task is the download alone (``client_upgrade`` with ``phase: start``
  returns when AutoPcc has copied the files); the install runs on while later clients download, and an
  unthrottled task waits for the builds. The next batch starts when the slowest client of the batch
  has installed, so every batch costs its download time plus one install tail (plus
  ``batch_overhead_s``).
- ``throttle = max(1, floor(budget / client_bps))`` (the smallest over the server and every site
  link that has clients): ``throttle`` downloads at ``client_bps`` each never exceed a budget, even
  on a link much faster than the budget. Unknown ``client_bps``: ``DEFAULT_CLIENT_BPS`` (1 Gbit/s,
  the fastest common client NIC), which keeps the budget safe at the cost of speed.
- Batch-count rule: with ``X`` = total bytes / effective rate (the transfer time), ``T`` = install
  estimate + batch overhead, at most ``k_max = floor(max_tail_overhead * X / T)`` batches, but at
  least 2 (canary + the rest) when there are more clients than the canary and ``max_batches`` allows
  it. Batches grow from the canary by ``growth``; if that needs more than ``k_max`` batches, the
  planner uses exactly ``k_max`` batches and raises the growth factor until they cover the fleet.
- A maintenance window caps the predicted makespan: if exceeded, the planner retries with the
  minimum number of batches; if that is still too long it warns and says how many clients fit.

Everything is linear in the number of clients (one pass to validate, one or two to build batches).
"""
from __future__ import annotations

import math
from itertools import compress
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError

ARCHES: tuple[str, ...] = ("x86", "x64")
ARCH_ALIASES: Mapping[str, str] = {
    "x86": "x86", "32-bit": "x86", "32bit": "x86", "32": "x86", "i386": "x86", "i686": "x86",
    "x64": "x64", "64-bit": "x64", "64bit": "x64", "64": "x64", "amd64": "x64", "x86_64": "x64",
}

DEFAULT_CLIENT_BPS = 125_000_000  # 1 Gbit/s: no common Windows client NIC pulls faster
DEFAULT_GROWTH = 2.0
DEFAULT_INSTALL_S = 120.0
DEFAULT_MAX_TAIL_OVERHEAD = 0.10

# The user-facing variable behind each parameter: errors name these (roles map them 1:1).
VARIABLES: Mapping[str, str] = {
    "clients": "osce_rollout_clients",
    "package_bytes": "osce_package_bytes",
    "budget_bps": "osce_bandwidth_budget_bps",
    "client_bps": "osce_client_bps",
    "site_budgets": "osce_site_budgets_bps",
    "window_s": "osce_maintenance_window_s",
    "canary": "osce_rollout_canary",
    "growth": "osce_rollout_growth",
    "install_s": "osce_client_install_s",
    "max_tail_overhead": "osce_rollout_max_tail_overhead",
    "forks": "osce_rollout_forks",
    "batch_overhead_s": "osce_rollout_batch_overhead_s",
    "max_batches": "osce_rollout_max_batches",
    "arch": "osce_client_arch",
    "site": "osce_site",
    "online": "osce_online",
}

_TRUE = frozenset(("true", "yes", "on", "1", "y"))
_FALSE = frozenset(("false", "no", "off", "0", "n"))


@dataclass
class Batch:
    """One ``serial`` batch: who, how many bytes, and when (seconds from the rollout start)."""

    index: int
    count: int
    hosts: list[str]
    bytes: int
    arch_counts: dict[str, int]
    bytes_by_site: dict[str, int]
    concurrency: int
    download_s: float
    duration_s: float
    start_s: float
    end_s: float


@dataclass
class RolloutPlan:
    """The plan; ``as_dict()`` is plain data for Ansible (``serial:``, ``throttle:``)."""

    serial: list[int]
    throttle: int
    recommended_forks: int
    hosts: list[str]
    batches: list[Batch]
    clients: int
    offline: list[str]
    total_bytes: int
    budget_bps: float
    client_bps: float
    client_bps_assumed: bool
    effective_bps: float
    budget_utilization: float
    site_throttle: dict[str, int]
    transfer_s: float
    max_batches_by_tail_rule: int | None
    growth: float
    lower_bound_s: float
    predicted_makespan_s: float
    predicted_over_floor: float | None
    window_s: float | None
    clients_in_window: int | None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- validation


def _num(value: Any, param: str, what: str, fix: str, *, positive: bool = True,
         optional: bool = False, integer: bool = False, minimum: float | None = None) -> Any:
    """Validate one numeric option; the error names the user's variable."""
    name = VARIABLES[param]
    if value is None:
        if optional:
            return None
        raise OsceError(name, f"is required: {what}", fix=fix)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "text" if isinstance(value, str) else type(value).__name__
        raise OsceError(name, f"must be {what}, not {kind}", value, fix)
    if not math.isfinite(value):
        raise OsceError(name, f"must be {what} (a finite number)", value, fix)
    if integer and value != int(value):
        raise OsceError(name, f"must be {what} (a whole number)", value, fix)
    if positive and value <= 0:
        raise OsceError(name, f"must be {what} greater than 0", value, fix)
    if minimum is not None and value < minimum:
        raise OsceError(name, f"must be {what} of at least {minimum:g}", value, fix)
    return int(value) if integer else value


def _arch(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    arch = ARCH_ALIASES.get(value.strip().lower()) if isinstance(value, str) else None
    if arch is None:
        raise OsceError(VARIABLES["arch"], f"host {name!r} has an architecture the planner does not know",
                        value, "use x86 or x64 (32-bit / 64-bit are accepted too)")
    return arch


def _online(value: Any, name: str) -> bool:
    if value is None or value is True or value is False:
        return value is not False
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise OsceError(VARIABLES["online"], f"host {name!r} must say true or false", value,
                    "set it to true (reachable) or false (offline, left out of the rollout)")


def _package_bytes(package_bytes: Any, warnings: list[str]) -> dict[str, int | None]:
    name = VARIABLES["package_bytes"]
    fix = ("give the client package size per architecture in bytes (the catalog's client_package_bytes, "
           "or osce_installers.<step>.client_package_bytes), e.g. {x86: 39007028, x64: 46347060}")
    if not isinstance(package_bytes, Mapping):
        raise OsceError(name, "must map x86 / x64 to the package size in bytes", package_bytes, fix)
    sizes: dict[str, int | None] = {a: None for a in ARCHES}
    for key, value in package_bytes.items():
        arch = ARCH_ALIASES.get(str(key).strip().lower())
        if arch is None:
            raise OsceError(f"{name}.{key}", "is not an architecture", key, "use the keys x86 and x64")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value <= 0:
            raise OsceError(f"{name}.{key}", "must be a package size in bytes greater than 0", value, fix)
        sizes[arch] = int(math.ceil(value))
    if all(v is None for v in sizes.values()):
        raise OsceError(name, "has no package size for any architecture", package_bytes, fix)
    return sizes


def _names_in_input_order(clients: Any) -> Iterable[str]:
    for c in clients:
        yield c.get("name") or c.get("inventory_hostname")


def _parse_clients(clients: Any) -> tuple[list[str], list[str | None], list[Any], list[str]]:
    """Return online names, archs (None = unknown), sites, and offline names, in input order."""
    pname = VARIABLES["clients"]
    if clients is None:
        return [], [], [], []
    if isinstance(clients, (str, bytes)) or not isinstance(clients, Iterable) \
            or isinstance(clients, Mapping):
        raise OsceError(pname, "must be a list of clients ({name, arch, site, online})", clients,
                        "pass a list of mappings, or hostvars with a list of host names")
    if not isinstance(clients, (list, tuple)):
        clients = list(clients)  # read twice when a name repeats
    names: list[str] = []
    archs: list[str | None] = []
    sites: list[Any] = []
    offline: list[str] = []
    aliases = ARCH_ALIASES
    for i, c in enumerate(clients):
        if not isinstance(c, Mapping):
            raise OsceError(f"{pname}[{i}]", "must be a mapping with name, arch, site, online", c,
                            "give each client as {name: ..., arch: x86|x64, site: ..., online: true}")
        get = c.get
        name = get("name") or get("inventory_hostname")
        if not name or not isinstance(name, str):
            raise OsceError(f"{pname}[{i}].name", "is required (the inventory host name)", name,
                            "add name: <inventory_hostname>")
        online = get("online", True)
        if online is not True and not _online(online, name):
            offline.append(name)
            continue
        arch = get("arch")
        if arch is not None:
            a = aliases.get(arch) if isinstance(arch, str) else None
            arch = a if a is not None else _arch(arch, name)
        names.append(name)
        archs.append(arch)
        sites.append(get("site"))
    if len(set(names)) + len(set(offline)) != len(names) + len(offline) \
            or not set(names).isdisjoint(offline):
        seen: set[str] = set()
        for i, name in enumerate(_names_in_input_order(clients)):
            if name in seen:
                raise OsceError(f"{pname}[{i}].name", "appears twice", name, "list every client once")
            seen.add(name)
    return names, archs, sites, offline


# --------------------------------------------------------------------------- batch sizes


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def natural_sizes(n: int, canary: int, growth: float, limit: int) -> list[int] | None:
    """Canary, then batches growing by ``growth`` until ``n``; ``None`` if that needs > ``limit``.

    The remainder becomes the last batch, merged into the one before when it is smaller than it
    (one install tail less). The canary is never merged.
    """
    if n <= canary:
        return [n]
    sizes = [canary]
    done = canary
    cum = float(canary)
    term = float(canary)
    while done < n:
        if len(sizes) >= limit:
            return None
        term *= growth
        cum += term
        size = max(1, min(n - done, _round_half_up(cum) - done))
        sizes.append(size)
        done += size
    if len(sizes) > 2 and sizes[-1] < sizes[-2]:
        last = sizes.pop()
        sizes[-1] += last
    return sizes


def _geometric_sum_reaches(canary: int, g: float, k: int, n: int) -> bool:
    total = 0.0
    term = float(canary)
    for dummy in range(k):
        total += term
        if total >= n:
            return True
        term *= g
    return False


def fitted_sizes(n: int, canary: int, k: int, min_growth: float) -> tuple[list[int], float]:
    """Exactly ``k`` batches (``k`` >= 2, ``n`` > ``canary``): canary, then growth ``g >= min_growth``
    chosen so that ``canary * (1 + g + ... + g**(k-1)) == n``; boundaries rounded half up."""
    if k == 2:
        return [canary, n - canary], (n - canary) / canary
    lo, hi = min_growth, max(min_growth, float(n) / canary, 2.0)
    for dummy in range(100):
        mid = (lo + hi) / 2.0
        if _geometric_sum_reaches(canary, mid, k, n):
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-12 * hi:
            break
    g = hi
    sizes = [canary]
    done = canary
    cum = float(canary)
    term = float(canary)
    for i in range(1, k):
        term *= g
        cum += term
        if i == k - 1:
            size = n - done
        else:
            size = max(1, min(n - done - (k - 1 - i), _round_half_up(cum) - done))
        sizes.append(size)
        done += size
    return sizes, g


# --------------------------------------------------------------------------- ordering


def _interleave_by_site(order: list[int], sites: list[Any]) -> list[int]:
    """Spread each site's clients evenly over the sequence: the j-th of a site's m clients gets the
    key (j + 0.5) / m and the sequence is sorted by key (stable; the groups are already sorted runs,
    so the sort is a merge of one run per site). Every batch then carries about its share of each
    site, so site links work in parallel."""
    groups: dict[Any, list[int]] = {}
    for i in order:
        groups.setdefault(sites[i], []).append(i)
    if len(groups) < 2:
        return order
    merged: list[int] = []
    keys: list[float] = []
    for members in groups.values():
        m = float(len(members))
        merged.extend(members)
        keys.extend([(j + 0.5) / m for j in range(len(members))])
    return [merged[p] for p in sorted(range(len(merged)), key=keys.__getitem__)]


def _canary_covers_arches(order: list[int], archs: list[str], canary: int) -> None:
    """Make the canary hold one client of each architecture present, when it has room."""
    if canary < 2 or len(order) <= canary:
        return
    counts: dict[str, int] = {}
    for i in order[:canary]:
        counts[archs[i]] = counts.get(archs[i], 0) + 1
    for arch in ARCHES:
        if counts.get(arch):
            continue
        j = next((p for p in range(canary, len(order)) if archs[order[p]] == arch), None)
        if j is None:
            continue
        slot = next((p for p in range(canary - 1, -1, -1) if counts[archs[order[p]]] > 1), None)
        if slot is None:
            return
        counts[archs[order[slot]]] -= 1
        counts[arch] = 1
        order[slot], order[j] = order[j], order[slot]


# --------------------------------------------------------------------------- planner


def plan_rollout(clients: Iterable[Mapping[str, Any]] | None, *, package_bytes: Mapping[str, Any],
                 budget_bps: float, client_bps: float | None = None,
                 site_budgets: Mapping[str, float] | None = None, window_s: float | None = None,
                 canary: int = 1, growth: float = DEFAULT_GROWTH,
                 install_s: float = DEFAULT_INSTALL_S,
                 max_tail_overhead: float = DEFAULT_MAX_TAIL_OVERHEAD, forks: int | None = None,
                 batch_overhead_s: float = 0.0, max_batches: int | None = None) -> RolloutPlan:
    """Plan the client rollout under a bandwidth budget. See the module docstring for the model.

    ``clients``: iterable of ``{name, arch: x86|x64, site (optional), online (default true)}``;
    offline clients are left out and listed in ``offline``. ``package_bytes``: ``{x86: int, x64: int}``
    (catalog sizes). Rates are bytes per second, times seconds. Raises ``OsceError`` (one line,
    naming the user's variable, see ``VARIABLES``) for invalid input.
    """
    warnings: list[str] = []
    budget = _num(budget_bps, "budget_bps", "a number of bytes per second",
                  "set it to the share of the OSCE server uplink the rollout may use, in bytes per "
                  "second (12500000 = 100 Mbit/s); pass numbers, not text, e.g. -e '{\"osce_bandwidth_budget_bps\": 12500000}'")
    rate = _num(client_bps, "client_bps", "a number of bytes per second",
                "set it to one client's download rate in bytes per second, or leave it unset",
                optional=True)
    window = _num(window_s, "window_s", "a number of seconds",
                  "set the maintenance window length in seconds, or leave it unset", optional=True)
    canary = _num(canary, "canary", "a number of clients", "use 1 or more (the first batch)",
                  integer=True)
    growth = _num(growth, "growth", "a growth factor", "use 1 (equal batches) or more, e.g. 2",
                  minimum=1.0)
    install = _num(install_s, "install_s", "a number of seconds",
                   "set the per-client install time estimate in seconds (0 or more)", positive=False,
                   minimum=0.0)
    tail_share = _num(max_tail_overhead, "max_tail_overhead", "a fraction of the transfer time",
                      "use e.g. 0.10 (install tails may add 10% to the transfer time)")
    forks = _num(forks, "forks", "a number of forks", "use 1 or more, or leave it unset",
                 optional=True, integer=True)
    overhead = _num(batch_overhead_s, "batch_overhead_s", "a number of seconds",
                    "use 0 or more seconds of fixed cost per batch", positive=False, minimum=0.0)
    max_batches = _num(max_batches, "max_batches", "a number of batches", "use 1 or more, or leave it unset",
                       optional=True, integer=True)
    sizes = _package_bytes(package_bytes, warnings)
    site_caps: dict[Any, float] = {}
    if site_budgets is not None:
        if not isinstance(site_budgets, Mapping):
            raise OsceError(VARIABLES["site_budgets"], "must map site names to bytes per second",
                            site_budgets, "e.g. {branch-a: 1250000, branch-b: 2500000}")
        for site, value in site_budgets.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value <= 0:
                raise OsceError(f"{VARIABLES['site_budgets']}.{site}",
                                "must be a number of bytes per second greater than 0", value,
                                "set the site link's budget in bytes per second")
            site_caps[site] = float(value)

    names, archs, sites, offline = _parse_clients(clients)
    n = len(names)
    if offline:
        warnings.append(f"{len(offline)} client(s) offline, left out of the plan: "
                        + ", ".join(offline[:5]) + (" ..." if len(offline) > 5 else ""))

    # ---- sizes per client (unknown arch / unknown package size: assume the larger package)
    known = [s for s in sizes.values() if s is not None]
    largest = max(known)
    unknown_arch = archs.count(None)
    if unknown_arch:
        warnings.append(f"{unknown_arch} client(s) with unknown architecture: planned with the larger "
                        f"package ({largest} bytes); set {VARIABLES['arch']} for an exact plan")
    present = {a for a in archs if a is not None}
    for a in ARCHES:
        if a in present and sizes[a] is None:
            warnings.append(f"package size for {a} unknown: assumed {largest} bytes; "
                            f"add it to the catalog or {VARIABLES['package_bytes']}")
    size_of = {a: (sizes[a] if sizes[a] is not None else largest) for a in ARCHES}
    size_of[None] = largest  # type: ignore[index]
    archs_eff = [a if a is not None else "x64" for a in archs]
    sizes_list = [size_of[a] for a in archs]

    # ---- throttle: no link may carry more than its budget
    if rate is None:
        rate = float(DEFAULT_CLIENT_BPS)
        assumed = True
        warnings.append(f"client download rate unknown: assumed {DEFAULT_CLIENT_BPS} bytes/s (1 Gbit/s), "
                        f"which keeps the budget safe but may plan too few parallel downloads; "
                        f"set {VARIABLES['client_bps']}")
    else:
        assumed = False
    throttle = max(1, int(budget // rate))
    site_throttle: dict[str, int] = {}
    site_of_client = [s if s in site_caps else None for s in sites] if site_caps else [None] * n
    sites_present = {s for s in site_of_client if s is not None}
    for s in sorted(sites_present, key=str):
        site_throttle[str(s)] = max(1, int(site_caps[s] // rate))
    if site_throttle:
        tightest = min(site_throttle.values())
        if tightest < throttle:
            slow = sorted(k for k, v in site_throttle.items() if v == tightest)
            warnings.append(f"site budget of {', '.join(slow)} limits the throttle to {tightest} "
                            f"(server alone allows {throttle}); see site_throttle for per-site tasks")
            throttle = tightest
    for s, cap in sorted(site_caps.items(), key=lambda kv: str(kv[0])):
        if s in sites_present and cap < rate:
            warnings.append(f"site {s}: budget {cap:g} B/s is below one client's rate; a single "
                            f"download can exceed it unless the link itself is that slow")
    if budget < rate:
        warnings.append(f"budget {budget:g} B/s is below one client's rate {rate:g} B/s: one download "
                        "at a time, and a single client can exceed the budget on a faster link")
    in_flight = throttle if forks is None else min(throttle, forks)
    per_client = min(rate, budget)
    eff = min(budget, in_flight * rate)
    utilization = eff / budget

    total = sum(sizes_list)
    site_totals: dict[Any, int] = {}
    site_counts: dict[Any, int] = {}
    if sites_present:
        for s, b in zip(site_of_client, sizes_list):
            if s is not None:
                site_totals[s] = site_totals.get(s, 0) + b
                site_counts[s] = site_counts.get(s, 0) + 1

    # transfer time at the plan's rate (X), and the physical floor at the budgets
    transfer = total / eff if n else 0.0
    floor_transfer = total / budget if n else 0.0
    for s, tot in site_totals.items():
        transfer = max(transfer, tot / min(site_caps[s], min(in_flight, site_counts[s]) * rate))
        floor_transfer = max(floor_transfer, tot / site_caps[s])
    lower_bound = floor_transfer + install if n else 0.0

    avg = total / n if n else 0.0
    rec_forks = 1
    if n:
        full = min(budget, throttle * rate)  # the recommendation ignores a too-small forks
        rec_forks = throttle + int(math.ceil(install * full / avg)) if avg else throttle

    # ---- order: site interleave, canary covers the architectures
    order = list(range(n))
    if len(sites_present) > 1:
        order = _interleave_by_site(order, site_of_client)
    _canary_covers_arches(order, archs_eff, canary)

    # ---- batch count
    tail = install + overhead
    k_tail: int | None = None
    if tail > 0:
        k_tail = int(math.floor(tail_share * transfer / tail + 1e-9))
    k_min = 1 if n <= canary else 2
    if max_batches is not None:
        k_min = min(k_min, max_batches)
    k_cap = k_min
    if n > canary:
        cap = k_tail if k_tail is not None else n
        if max_batches is not None:
            cap = min(cap, max_batches)
        k_cap = max(k_min, min(cap, n - canary + 1))

    def sizes_for(k: int) -> tuple[list[int], float]:
        if n == 0:
            return [], growth
        if k <= 1:
            return [n], growth
        natural = natural_sizes(n, canary, growth, k)
        if natural is not None:
            return natural, growth
        return fitted_sizes(n, canary, k, growth)

    # the clients in batch order, as flat lists: batches are slices (sum/max run in C)
    o_names = [names[i] for i in order]
    o_bytes = [sizes_list[i] for i in order]
    o_x86 = [1 if archs_eff[i] == "x86" else 0 for i in order]
    site_list = sorted(sites_present, key=str)
    o_site_masks = {s: [1 if site_of_client[i] == s else 0 for i in order] for s in site_list}

    def build(serial: list[int]) -> tuple[list[Batch], float]:
        batches: list[Batch] = []
        clock = 0.0
        pos = 0
        for bi, count in enumerate(serial):
            end = pos + count
            chunk = o_bytes[pos:end]
            nbytes = sum(chunk)
            n86 = sum(o_x86[pos:end])
            slowest = max(chunk) / per_client
            conc = min(count, in_flight)
            download = nbytes / min(budget, conc * rate)
            by_site: dict[str, int] = {}
            for s in site_list:
                mask = o_site_masks[s][pos:end]
                site_n = sum(mask)
                if not site_n:
                    continue
                sb = sum(compress(chunk, mask))
                by_site[str(s)] = sb
                link = min(site_caps[s], min(site_n, conc) * rate)
                download = max(download, sb / link,
                               max(compress(chunk, mask)) / min(per_client, site_caps[s]))
            download = max(download, slowest)
            duration = download + install
            if forks is not None and forks < count:
                # each worker carries a client through download and install
                duration = max(duration, count / forks * (nbytes / count / per_client + install))
            duration += overhead
            batches.append(Batch(index=bi, count=count, hosts=o_names[pos:end], bytes=nbytes,
                                 arch_counts={"x86": n86, "x64": count - n86},
                                 bytes_by_site=by_site, concurrency=conc, download_s=download,
                                 duration_s=duration, start_s=clock, end_s=clock + duration))
            clock += duration
            pos = end
        return batches, clock

    serial, used_growth = sizes_for(k_cap)
    batches, makespan = build(serial)
    if window is not None and makespan > window and len(serial) > k_min:
        serial2, growth2 = sizes_for(k_min)
        batches2, makespan2 = build(serial2)
        if makespan2 < makespan:
            warnings.append(f"maintenance window {window:g}s: planned {len(serial2)} batches instead of "
                            f"{len(serial)} to shorten the rollout")
            serial, used_growth, batches, makespan = serial2, growth2, batches2, makespan2

    clients_in_window = None
    if window is not None:
        clients_in_window = 0
        for b in batches:
            if b.end_s <= window + 1e-9:
                clients_in_window += b.count
                continue
            avail = window - b.start_s - overhead - install
            if avail > 0 and b.download_s > 0:
                clients_in_window += int(b.count * min(1.0, avail / b.download_s))
            break
        if makespan > window:
            warnings.append(f"predicted makespan {makespan:.0f}s exceeds the maintenance window "
                            f"{window:g}s: about {clients_in_window} of {n} clients fit; plan the rest "
                            "for another window or raise the budget")

    if n > canary and k_tail is not None and len(serial) > max(k_tail, 1):
        warnings.append(f"install tails ({len(serial)} x {tail:g}s) exceed {tail_share:g} of the transfer "
                        f"time ({transfer:.0f}s): the canary batch costs one extra tail; "
                        f"set {VARIABLES['max_batches']}: 1 to skip it")
    if n and utilization < 0.95:
        warnings.append(f"throttle {in_flight} x client rate {rate:g} B/s uses {utilization:.0%} of the "
                        "budget")
    if forks is not None and n and forks < min(rec_forks, max(serial)):
        warnings.append(f"forks {forks} is below the recommended {min(rec_forks, max(serial))}: "
                        "downloads or installs wait for a worker")
    if not n:
        warnings.append("no online clients: nothing to roll out")
    if serial:
        rec_forks = max(1, min(rec_forks, max(serial)))

    return RolloutPlan(
        serial=serial, throttle=throttle, recommended_forks=rec_forks,
        hosts=o_names, batches=batches, clients=n, offline=offline,
        total_bytes=total, budget_bps=budget, client_bps=rate, client_bps_assumed=assumed,
        effective_bps=eff, budget_utilization=utilization, site_throttle=site_throttle,
        transfer_s=transfer, max_batches_by_tail_rule=k_tail, growth=used_growth,
        lower_bound_s=lower_bound, predicted_makespan_s=makespan,
        predicted_over_floor=(makespan / lower_bound) if lower_bound > 0 else None,
        window_s=window, clients_in_window=clients_in_window, warnings=warnings,
    )
