# Copyright: (c) 2026, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and write the collection's own record on the OSCE server (see ``module_utils.collection_state``).

One round trip reads every fact (run lock, reboot debt, applied steps); each write is one
``win_regedit``. The key comes from the profile entry ``collection_state``.

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import typing as t

from ansible_collections.osce.patching.plugins.module_utils import collection_state as cs
from ansible_collections.osce.patching.plugins.plugin_utils._locations import Locator


class CollectionState:
    """The record on one server, read once per task (``forget`` to re-read after a write)."""

    def __init__(self, locator: Locator) -> None:
        self.loc = locator
        self._record: dict[str, t.Any] | None = None

    @property
    def key(self) -> str:
        return self.loc.entry("collection_state").keys[0]

    def read(self) -> dict[str, t.Any]:
        if self._record is None:
            _key, values = self.loc.registry_key("collection_state")
            self._record = cs.parse_values(values)
        return self._record

    def forget(self) -> None:
        self._record = None
        self.loc.forget_key("collection_state")

    def put(self, name: str, payload: t.Mapping[str, t.Any]) -> None:
        """Store one fact (``cs.RUN_LOCK``, ``cs.applied_name(step)`` ...) as a JSON REG_SZ value."""
        self.loc.gateway.reg_set(self.key, name, cs.encode(payload))
        self.forget()

    def remove(self, name: str) -> None:
        self.loc.gateway.reg_delete(self.key, name)
        self.forget()
