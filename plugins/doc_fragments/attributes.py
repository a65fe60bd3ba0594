# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``attributes`` every osce.patching module shares; a module states only what is its own.

Use one target variant (``server`` or ``client``: the platform) and one change variant (``diff``: check
and diff mode supported, or ``read_only``: check mode supported, nothing to diff):

    extends_documentation_fragment:
      - osce.patching.common
      - osce.patching.attributes.server
      - osce.patching.attributes.diff

The module's own ``attributes`` entries (usually the ``check_mode`` and ``diff_mode`` descriptions)
win over these.
"""
from __future__ import annotations


class ModuleDocFragment:
    SERVER = r"""
attributes:
  platform:
    support: full
    platforms: windows
    description: Target is the OfficeScan server.
"""

    CLIENT = r"""
attributes:
  platform:
    support: full
    platforms: windows
    description: Target is an OfficeScan client.
"""

    DIFF = r"""
attributes:
  check_mode:
    support: full
    description: Reads everything and reports what it would change; writes nothing.
  diff_mode:
    support: full
    description: The state before and after.
"""

    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; the same in check mode.
  diff_mode:
    support: none
    description: Never changes anything.
"""
