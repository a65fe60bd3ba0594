# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain Python values from what Ansible hands an action plugin.

ansible-core 2.19 passes templated task arguments and variables as *tagged* subclasses of ``str``,
``int``, ``float``, ``dict`` and ``list`` (they carry their origin for error messages). The core and
``yaml.safe_dump`` want the plain types: ``safe_dump`` looks representers up by exact type and
fails with ``('cannot represent an object', 'upgrade_privilege_root')``. :func:`plain` is applied
where values enter the collection (``OsceAction`` validates the task arguments, loads the profile
and catalog overrides), so nothing past that point sees a tagged value.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import collections.abc
import typing as t


def plain(value: t.Any) -> t.Any:
    """A deep copy of ``value`` made of plain ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    Tuples and sets become lists, mappings dicts (keys made plain too); other objects are returned as they are.
    """
    if value is None:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, collections.abc.Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value
