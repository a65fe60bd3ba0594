"""OSCE INI text: case-insensitive lookup, minimal-change edits, and the patch history.

``hotfix_history.ini``'s real format is NOT known (OSCE-FACTS.md). ``parse_hotfix_history`` reads
the format the lab writes, a guess: one section per installed patch, named by its display name,
with ``Build=<int>`` and ``InstallDate=YYYY-MM-DD HH:MM:SS``. Calibrate against a real server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_SECTION = re.compile(r"^\s*\[([^\]]*)\]\s*$")
_KEY = re.compile(r"^(\s*)([^=;#\[][^=]*?)(\s*=\s*)(.*?)(\s*)$")


@dataclass(frozen=True)
class IniDocument:
    """Sections in file order; keys before the first section live in section ``""``."""

    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    def section_names(self) -> tuple[str, ...]:
        return tuple(name for name, _body in self.sections)

    def items(self, section: str) -> tuple[tuple[str, str], ...]:
        for name, items in self.sections:
            if name.lower() == section.lower():
                return items
        return ()

    def has_section(self, section: str) -> bool:
        return any(name.lower() == section.lower() for name, _body in self.sections)

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        for k, v in self.items(section):
            if k.lower() == key.lower():
                return v
        return default


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def parse_ini(text: str) -> IniDocument:
    """Parse INI text (``;`` / ``#`` comments; a repeated section's keys join the first one)."""
    order: list[str] = []
    data: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    current = ""
    for line in _lines(text.lstrip("\ufeff")):
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        match = _SECTION.match(line)
        if match:
            name = match.group(1).strip()
            current = names.setdefault(name.lower(), name)
            if current not in data:
                data[current] = []
                order.append(current)
            continue
        match = _KEY.match(line)
        if match:
            if current not in data:
                data[current] = []
                order.append(current)
            data[current].append((match.group(2).strip(), match.group(4)))
    return IniDocument(tuple((name, tuple(data[name])) for name in order))


def set_value(text: str, section: str, key: str, value: Any) -> str:
    """Return ``text`` with ``[section] key=value``, changing as little as possible.

    An existing key (case-insensitive) keeps its spelling, indentation and ``=`` spacing; a new key
    goes after the section's last key; a missing section is appended at the end. Line endings
    (CRLF or LF) are kept. Unchanged text is returned as is.
    """
    nl = _newline(text)
    lines = _lines(text)
    trailing = text.endswith(("\n", "\r")) or not text
    value = str(value)
    headers = [(i, m.group(1).strip()) for i, line in enumerate(lines) if (m := _SECTION.match(line))]
    start: int | None = None
    end = len(lines)
    if section == "":
        start = 0
        end = headers[0][0] if headers else len(lines)
    else:
        for n, (i, name) in enumerate(headers):
            if name.lower() == section.lower():
                start = i + 1
                end = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
                break
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.extend([f"[{section}]", f"{key}={value}"])
        return nl.join(lines) + (nl if trailing else "")
    insert_at = start
    for i in range(start, end):
        line = lines[i]
        if not line.strip() or line.strip()[0] in ";#":
            continue
        km = _KEY.match(line)
        if not km:
            continue
        insert_at = i + 1
        if km.group(2).strip().lower() == key.lower():
            if km.group(4) == value:
                return text
            lines[i] = f"{km.group(1)}{km.group(2)}{km.group(3)}{value}{km.group(5)}"
            return nl.join(lines) + (nl if trailing else "")
    lines.insert(insert_at, f"{key}={value}")
    return nl.join(lines) + (nl if trailing else "")


@dataclass(frozen=True)
class HistoryEntry:
    name: str
    build: int | None
    installed_on: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "build": self.build,
                "installed_on": self.installed_on.isoformat(sep=" ") if self.installed_on else None}


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_hotfix_history(text: str) -> tuple[HistoryEntry, ...]:
    """Entries of the (guessed) ``hotfix_history.ini`` format, in file order.

    Sections without ``Build`` / ``InstallDate`` keep ``None`` there; unreadable values are ``None``.
    """
    out: list[HistoryEntry] = []
    for name, _body in parse_ini(text).sections:
        if name == "":
            continue
        doc_items = {k.lower(): v for k, v in parse_ini(text).items(name)}
        raw_build = (doc_items.get("build") or "").strip()
        build = int(raw_build) if raw_build.isdigit() else None
        out.append(HistoryEntry(name, build, _parse_datetime(doc_items.get("installdate"))))
    return tuple(out)
