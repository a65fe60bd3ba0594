"""Make the repository importable as ``ansible_collections.osce.patching`` for pytest.

The repository root *is* the collection, so tests import it through a symlinked
collections tree in ``.build/collections`` (created here, never committed).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COLLECTIONS = ROOT / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "osce" / "patching"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(ROOT, target_is_directory=True)
    except FileExistsError:  # another xdist worker or a parallel run won the race
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
