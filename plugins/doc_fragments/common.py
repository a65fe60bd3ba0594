# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every osce.patching module reads through its action base (plugin_utils/_action_base.py)."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  profile_overrides:
    description:
      - Profile entries replacing the ones shipped in C(data/profile.yml), keyed by entry name
        (for example the C(upgrade_privilege_root) entry printed by M(osce.patching.calibrate) in C(compare) mode).
      - Merged over the play variable C(osce_profile_overrides); this option wins for the keys it sets.
      - Every registry key, value, INI file and key this module reads or writes comes from the profile.
    type: dict
    default: {}
  installers:
    description:
      - The installers you downloaded from the vendor, keyed by catalog step id (C(sp3), C(sp3_patch1_1),
        C(cp5495), C(sp3_patch2), C(cp5712r1)); each with C(path) on the OSCE server and C(sha256), optionally
        C(arguments), C(success_codes), C(method) (C(package) or C(command)), C(log_path), C(client_build) and
        C(client_package_bytes) (C(x86), C(x64)).
      - Merged over the play variable C(osce_installers); this option wins for the steps it sets.
    type: dict
    default: {}
  build_map:
    description:
      - Service-pack build numbers that are not public (10.6 GM, SP1, SP2, SP3, SP3 Patch 1, Patch 1.1, Patch 2),
        keyed by level id, taken from the patch readmes you hold.
      - Merged over the play variable C(osce_build_map); this option wins for the keys it sets.
    type: dict
    default: {}
  timeout:
    description:
      - Seconds to wait for a long remote operation (installer, client upgrade, port wait) before failing.
    type: int
    default: 1800
notes:
  - Runs on the controller as an action plugin; every remote call is a real C(ansible.windows) or
    C(community.windows) module run over the host's connection (WinRM on a real estate).
  - Input errors (unknown option, wrong type, malformed profile or catalog, unknown build) fail with one
    line naming the field and the fix, before anything changes on any host.
"""
