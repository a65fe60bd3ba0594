# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter ``osce.patching.rollout_plan``: the bandwidth-budget rollout plan as plain data."""
from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_plan
short_description: Plan client rollout batches (serial) and the download throttle from a bandwidth budget
version_added: 0.1.0
author:
  - osce.patching maintainers
description:
  - Turns the online OfficeScan clients (architecture, optional site), the client package sizes, a
    bandwidth budget on the OSCE server's uplink and a per-client install estimate into a C(serial)
    list (canary first, then growing batches), a C(throttle) for the download task, recommended
    C(forks), expected bytes and duration per batch, the physical floor and the predicted makespan.
  - C(throttle) is the largest number of clients whose downloads at O(client_bps) each stay within
    every budget (server and per-site), at least 1.
  - The number of batches is limited so that the install tails (one per batch) add at most
    O(max_tail_overhead) to the transfer time; see C(docs/rollout.md) in the collection.
  - A play's C(serial) is fixed before the play starts, so compute the plan in an earlier play (for
    example on C(localhost)) and read it through C(hostvars['localhost']).
  - Offline clients are left out of C(hosts) and C(serial) and listed in C(offline). Use the returned
    C(hosts) as the rollout play's C(hosts) so that C(serial) counts exactly the planned clients.
  - "Invalid input fails with one line that names the variable, says what is wrong, shows the value
    and says how to fix it, for example C(osce_bandwidth_budget_bps: must be a number of bytes per
    second greater than 0 ...)."
options:
  _input:
    description:
      - The clients. Either a list of mappings with C(name), C(arch) (V(x86) or V(x64); V(32-bit) and
        V(64-bit) are accepted), optional C(site) and C(online) (default V(true)); or a list of
        hostvars entries (C(inventory_hostname), C(osce_client_arch) or C(ansible_architecture),
        C(osce_site), C(osce_online)); or the whole C(hostvars) mapping together with O(hosts).
      - A client without a known architecture is planned with the larger package (and a warning).
    type: raw
    required: true
  hosts:
    description:
      - When O(_input) is a mapping (C(hostvars)), the names of the clients to plan, in order, for
        example C(groups['osce_clients']).
    type: list
    elements: str
  package_bytes:
    description:
      - "Client package size per architecture in bytes, from the patch catalog, for example
        C({'x86': 39007028, 'x64': 46347060}) for CP 5712r1 (37.2 MB and 44.2 MB)."
      - Variable C(osce_package_bytes).
    type: dict
    required: true
  budget_bps:
    description:
      - Bytes per second the rollout may use on the OSCE server's uplink. Variable
        C(osce_bandwidth_budget_bps). Must be a number greater than 0 (text is refused).
    type: float
    required: true
  client_bps:
    description:
      - One client's download rate in bytes per second. Variable C(osce_client_bps).
      - When unset the planner assumes 125000000 (1 Gbit/s), which keeps the budget safe on any
        client with a gigabit NIC or slower but may plan fewer parallel downloads than possible.
    type: float
  site_budgets:
    description:
      - Optional per-site link budgets, bytes per second by site name (the clients' C(site)).
        Variable C(osce_site_budgets_bps). The throttle then respects the tightest site too.
    type: dict
  window_s:
    description:
      - Maintenance window length in seconds. Variable C(osce_maintenance_window_s). When the
        predicted makespan exceeds it, the planner uses the fewest batches and warns how many
        clients fit.
    type: float
  canary:
    description: Size of the first batch. Variable C(osce_rollout_canary).
    type: int
    default: 1
  growth:
    description:
      - Minimum factor between consecutive batches (1 or more). Variable C(osce_rollout_growth).
        When the batch-count rule allows fewer batches than this growth needs, the factor is raised.
    type: float
    default: 2.0
  install_s:
    description: Per-client install time estimate in seconds. Variable C(osce_client_install_s).
    type: float
    default: 120.0
  max_tail_overhead:
    description:
      - Largest share of the transfer time that install tails (one per batch) may add. Variable
        C(osce_rollout_max_tail_overhead).
    type: float
    default: 0.10
  forks:
    description:
      - The run's forks (pass C(ansible_forks)); when below the recommendation the prediction
        accounts for it and a warning is given. Variable C(osce_rollout_forks).
    type: int
  batch_overhead_s:
    description: Fixed cost per batch in seconds (play start, checks). Variable C(osce_rollout_batch_overhead_s).
    type: float
    default: 0.0
  max_batches:
    description:
      - Upper bound on the number of batches; V(1) means no canary. Variable C(osce_rollout_max_batches).
    type: int
  batch_hosts:
    description: Whether each batch in RV(_value.batches) lists its host names.
    type: bool
    default: true
seealso:
  - plugin: ansible.builtin.extract
    plugin_type: filter
"""

EXAMPLES = r"""
# Play 1 runs on localhost and computes the plan once, before the rollout play starts.
- name: Plan the client rollout
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Compute serial and throttle from the bandwidth budget
      ansible.builtin.set_fact:
        osce_rollout: >-
          {{ hostvars | osce.patching.rollout_plan(
               hosts=groups['osce_clients'],
               package_bytes={'x86': 39007028, 'x64': 46347060},
               budget_bps=osce_bandwidth_budget_bps,
               client_bps=12500000,
               install_s=180,
               window_s=4 * 3600,
               forks=ansible_forks) }}

    - name: Show the plan
      ansible.builtin.debug:
        msg: >-
          serial {{ osce_rollout.serial }}, throttle {{ osce_rollout.throttle }},
          predicted {{ osce_rollout.predicted_makespan_s | round | int }}s
          against a floor of {{ osce_rollout.lower_bound_s | round | int }}s;
          {{ osce_rollout.warnings | join('; ') }}

# Play 2 uses the plan: hosts and serial from localhost's fact, throttle on the download task.
- name: Roll CP 5712r1 out to the clients
  hosts: "{{ hostvars['localhost'].osce_rollout.hosts }}"
  serial: "{{ hostvars['localhost'].osce_rollout.serial }}"
  strategy: ansible.builtin.free
  max_fail_percentage: 10
  gather_facts: false
  tasks:
    - name: Download the package (no more clients at once than the budget allows)
      ansible.builtin.debug:
        msg: "download on {{ inventory_hostname }}"
      throttle: "{{ hostvars['localhost'].osce_rollout.throttle }}"

# The same from a list of client mappings (for example from the OSCE console's client list).
- name: Plan from a list of clients
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan from a list
      ansible.builtin.set_fact:
        osce_rollout: >-
          {{ [{'name': 'pc1', 'arch': 'x64'}, {'name': 'pc2', 'arch': 'x86', 'online': false}]
             | osce.patching.rollout_plan(package_bytes={'x86': 39007028, 'x64': 46347060},
                                          budget_bps=12500000, client_bps=2500000) }}
      # osce_rollout.serial == [1], osce_rollout.offline == ['pc2']

# Pinning by hand instead: write serial and throttle yourself, e.g.
#   serial: [1, 10, 50, 200]   and   throttle: 4   (4 x 2.5 MB/s = the 10 MB/s budget)
"""

RETURN = r"""
_value:
  description: The plan as plain data.
  type: dict
  contains:
    serial:
      description: Batch sizes for the play's C(serial), canary first; they add up to the online clients.
      type: list
      elements: int
    throttle:
      description: Concurrent downloads allowed, for the download task's C(throttle).
      type: int
    recommended_forks:
      description: Forks that keep C(throttle) downloads plus the installs in flight busy.
      type: int
    hosts:
      description: Online client names in batch order; use as the rollout play's C(hosts).
      type: list
      elements: str
    offline:
      description: Clients left out because they are offline.
      type: list
      elements: str
    batches:
      description:
        - Per batch, C(index), C(count), C(hosts) (unless O(batch_hosts=false)), C(bytes),
          C(arch_counts), C(bytes_by_site), C(concurrency), C(download_s), C(duration_s), C(start_s)
          and C(end_s) (seconds from the rollout start).
      type: list
      elements: dict
    total_bytes:
      description: Bytes all planned clients download.
      type: int
    lower_bound_s:
      description:
        - The physical floor, total bytes / budget (or the slowest site link) plus one install.
      type: float
    predicted_makespan_s:
      description: Predicted duration of the whole rollout.
      type: float
    predicted_over_floor:
      description: Predicted makespan divided by the floor (null with no clients).
      type: float
    effective_bps:
      description: Aggregate download rate the throttle allows, at most the budget.
      type: float
    budget_utilization:
      description: C(effective_bps) / budget.
      type: float
    site_throttle:
      description: Per-site throttle, for plays that download per site.
      type: dict
    max_batches_by_tail_rule:
      description: Batches the tail rule allows (null when install and overhead are 0).
      type: int
    growth:
      description: The growth factor the batches use (raised when the tail rule limits the batches).
      type: float
    clients_in_window:
      description: Clients predicted to finish within O(window_s) (null without a window).
      type: int
    warnings:
      description: Things to know before running the plan (offline clients, window exceeded, assumptions).
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.module_utils.rollout import plan_rollout

_UNSET = object()


def _first(entry, *keys):
    for key in keys:
        value = entry.get(key, _UNSET)
        if value is not _UNSET and value is not None:
            return value
    return None


def _client(entry, name=None):
    if not isinstance(entry, Mapping):
        return entry  # the planner reports the bad entry
    return {
        "name": name or _first(entry, "name", "inventory_hostname"),
        "arch": _first(entry, "arch", "osce_client_arch", "ansible_architecture"),
        "site": _first(entry, "site", "osce_site"),
        "online": _first(entry, "online", "osce_online"),
    }


def rollout_plan(clients, hosts=None, package_bytes=None, budget_bps=None, client_bps=None,
                 site_budgets=None, window_s=None, canary=1, growth=2.0, install_s=120.0,
                 max_tail_overhead=0.10, forks=None, batch_overhead_s=0.0, max_batches=None,
                 batch_hosts=True):
    """Return the rollout plan as a dict (see RETURN)."""
    try:
        if isinstance(clients, Mapping):
            if hosts is None:
                raise OsceError("hosts", "is required when the input is a mapping such as hostvars",
                                fix="pass hosts=groups['osce_clients']")
            entries = [_client(clients[h], name=h) if h in clients else {"name": h}
                       for h in hosts]
        elif isinstance(clients, (list, tuple)):
            wanted = set(hosts) if hosts is not None else None
            entries = [_client(c) for c in clients]
            if wanted is not None:
                entries = [e for e in entries if not isinstance(e, Mapping) or e.get("name") in wanted]
        else:
            entries = clients  # the planner explains what it expected
        plan = plan_rollout(entries, package_bytes=package_bytes, budget_bps=budget_bps,
                            client_bps=client_bps, site_budgets=site_budgets, window_s=window_s,
                            canary=canary, growth=growth, install_s=install_s,
                            max_tail_overhead=max_tail_overhead, forks=forks,
                            batch_overhead_s=batch_overhead_s, max_batches=max_batches)
    except OsceError as err:
        raise AnsibleFilterError(err.line()) from err
    data = plan.as_dict()
    if not batch_hosts:
        for batch in data["batches"]:
            batch.pop("hosts", None)
    return data


class FilterModule:
    """osce.patching rollout filters."""

    def filters(self):
        return {"rollout_plan": rollout_plan}
