# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the module is the action plugin plugins/action/sps_ports.py.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: sps_ports
short_description: Ensure the integrated Smart Protection Server ports after CP 5712r1
version_added: 0.1.0
description:
  - Ensures the ports of the integrated Smart Protection Server (iSPS) for the web server OSCE runs on, as the
    vendor FAQ (Q8) gives them - Apache and the IIS virtual web site File Reputation HTTP 8082, HTTPS 4345, Web
    Reputation HTTP 5274; the IIS default web site 80 / 443 / 80.
  - When another process already holds a port and the iSPS port record is calibrated (profile entries C(isps_port_*)),
    the collection's port rule picks the first free port above the FAQ default (never 4343 or 8080), moves the web
    server's port and the record together, then re-reads both and fails unless the record, the configuration and
    the listeners agree (RV(agreement)); an earlier move is kept.
  - "Never breaks smart scan silently: without a calibrated record, a port held by another process is B(not) moved -
    OSCE's own record would still name the old port and smart scan clients would query a port nobody serves. The task
    fails, in check mode too, naming every conflict and the port the rule would pick (RV(conflicts)), with the Fix:
    choose the port in the CP 5712r1 installer (FAQ Q8 note: conflicting ports can be changed during installation of
    the CP), free the port, or calibrate the record first. A port served off the FAQ default without a record (an
    earlier move) is kept with a warning: whether clients query it cannot be read without the record."
  - "What is changed: the port record, where calibrated (one profile entry per role, C(isps_port_frs_http),
    C(isps_port_frs_https), C(isps_port_wrs_http), each an INI key or a registry value; a former C(isps_ports)
    override is still accepted and split into the three); on Apache the C(Listen)
    lines of the configuration (profile entry C(apache_conf)), removing the C(Listen) line of a port now held by
    another process; on the IIS virtual web site the site's bindings (profile entry C(iis_site)). On the IIS
    default web site the FAQ ports are the site's own and nothing is bound."
  - Restarts only what must restart - the Apache service (first name of the profile entry C(server_web_services))
    when its configuration changed; IIS bindings apply without a restart.
  - Returns RV(endpoints) for M(osce.patching.pattern_verify) O(osce.patching.pattern_verify#module:sps_endpoints), which
    proves from each client that the ports answer.
  - "Round trips: 1 registry read (install path), 1 C(ansible.windows.win_service_info) when O(web_server=auto),
    1 C(ansible.windows.win_listen_ports_facts), 1 read of the port record when calibrated (per INI file or registry key of the C(isps_port_*) entries),
    1 read of the Apache configuration on Apache; when changing, 1 write per line or binding, 1 restart and 1
    C(ansible.windows.win_listen_ports_facts) to verify."
options:
  web_server:
    description:
      - The web server OSCE runs on; C(auto) finds Apache or IIS from the services and reads IIS as the virtual web
        site of the profile entry C(iis_site).
    type: str
    choices: [auto, apache, iis-virtual, iis-default]
    default: auto
  restart:
    description:
      - Restart the web server service after its configuration changed. With C(false) the new ports are not
        verified as listening.
    type: bool
    default: true
  preflight:
    description:
      - A check-mode result of this module registered earlier in the run (preflight's). When it found nothing
        to change and no conflict, for the same web server, and the server has not been re-read since (its
        C(server_read) matches the C(osce_server) fact now, so no step ran), it is returned as is, with
        C(reused) set and no round trip. Otherwise it is ignored and the ports are read and ensured.
    type: dict
extends_documentation_fragment:
  - osce.patching.common
  - osce.patching.attributes.server
  - osce.patching.attributes.diff
attributes:
  check_mode:
    description: Reads everything and reports the ports it would set; writes and restarts nothing.
  diff_mode:
    description: Ports per role, record and web server configuration before and after.
seealso:
  - module: osce.patching.pattern_verify
  - module: osce.patching.patch_chain
author:
  - osce.patching maintainers (@osce-patching)
"""

EXAMPLES = r"""
- name: Ensure the iSPS ports after CP 5712r1
  hosts: osce_server
  gather_facts: false
  tasks:
    - name: Read the server build (server_facts for pattern_verify)
      osce.patching.build_facts:

    - name: Ensure the iSPS ports
      osce.patching.sps_ports:
      register: isps

- name: Prove them from each client
  hosts: osce_clients
  gather_facts: false
  tasks:
    - name: Check that the iSPS endpoints answer from the client
      osce.patching.pattern_verify:
        server_facts: "{{ hostvars[groups.osce_server[0]].ansible_facts.osce_server }}"
        sps_endpoints: "{{ hostvars[groups.osce_server[0]].isps.endpoints }}"
        fail_on: []
"""

RETURN = r"""
web_server:
  description: The web server kind used.
  returned: success
  type: str
  sample: apache
ports:
  description: Port per role after the task (C(frs_http), C(frs_https), C(wrs_http)).
  returned: success
  type: dict
  sample: {frs_http: 8082, frs_https: 4345, wrs_http: 5274}
decisions:
  description: Per role C(port), C(action) (C(keep), C(set), C(move)), C(previous) and C(reason).
  returned: success
  type: dict
restarted:
  description: Services restarted.
  returned: success
  type: list
  elements: str
endpoints:
  description: C(host), C(port) and C(role) for each port, ready for pattern_verify's C(sps_endpoints).
  returned: success
  type: list
  elements: dict
conflicts:
  description: Every role whose port another process holds - C(role), C(port) (now), C(to) (the port the rule picks),
    C(reason). Also returned with the failure when there is no calibrated record.
  returned: always
  type: list
  elements: dict
  sample: [{role: frs_http, port: 8082, to: 8083, reason: port 8082 is held by java; moved to 8083 ...}]
would:
  description: In check mode, what the task would do (C(kind) C(record), C(listen), C(unlisten), C(binding) or
    C(restart), its C(target) and C(port)).
  returned: check mode, when something would change
  type: list
  elements: dict
agreement:
  description: What was re-read and found to agree after a change (record, configuration and listeners).
  returned: when something changed
  type: str
  sample: record, configuration and listeners agree
server_read:
  description: Fingerprint of the C(osce_server) fact this result was based on (empty when there was none); what
    I(preflight) compares.
  returned: when an osce_server fact was present
  type: str
reused:
  description: Why the I(preflight) result was returned without a round trip.
  returned: when I(preflight) was reused
  type: str
round_trips:
  description: Gateway round trips of this task, total and per module.
  returned: always
  type: dict
"""
