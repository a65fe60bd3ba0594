"""One voice for user-facing errors.

Every validation failure the collection reports is one line::

    <field>: <problem> (got <value>). Fix: <fix>

``schema_errors`` turns JSON Schema (Draft 2020-12) findings into such lines with a readable field
path (``catalog.steps[2].order``), never a raw jsonschema dump. ``validate_or_raise`` raises one
``OsceValidationError`` that lists every problem, one per line.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_MISSING = object()
_MAX_VALUE_CHARS = 80


def format_value(value: Any) -> str:
    """Render ``value`` compactly on one line (YAML-ish scalars, JSON for containers)."""
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        try:
            text = json.dumps(value, default=str, sort_keys=False)
        except (TypeError, ValueError):
            text = repr(value)
    text = " ".join(text.split())
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    return text


class OsceError(Exception):
    """A user-facing error: where, what is wrong, what was found, how to fix it."""

    def __init__(self, field: str, problem: str, value: Any = _MISSING, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        got = f" (got {format_value(self.value)})" if self.has_value else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        text = f"{self.field}: {self.problem}{got}.{fix}"
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.line()

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "problem": self.problem,
                "value": self.value, "fix": self.fix, "msg": self.line()}


class OsceValidationError(OsceError):
    """Several problems at once; ``str()`` is one line per problem."""

    def __init__(self, errors: Sequence[OsceError]) -> None:
        if not errors:
            raise ValueError("OsceValidationError needs at least one error")
        self.errors: tuple[OsceError, ...] = tuple(errors)
        first = self.errors[0]
        super().__init__(first.field, first.problem,
                         first.value if first.has_value else _MISSING, first.fix)

    def __str__(self) -> str:
        return "\n".join(e.line() for e in self.errors)


def _path(document: str, parts: Iterable[Any]) -> str:
    out = document
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _type_names(types: Any) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "a string",
             "integer": "an integer", "number": "a number", "boolean": "true or false",
             "null": "null"}
    if isinstance(types, str):
        types = [types]
    return " or ".join(names.get(t, t) for t in types)


def _from_schema_error(err: Any, document: str) -> OsceError:
    """Translate one ``jsonschema.ValidationError`` into an ``OsceError``."""
    where = _path(document, err.absolute_path)
    schema = err.schema if isinstance(err.schema, Mapping) else {}
    hint = schema.get("x-fix") if isinstance(schema, Mapping) else None
    kind = err.validator
    arg = err.validator_value
    inst = err.instance
    if kind == "required":
        missing = [k for k in arg if isinstance(inst, Mapping) and k not in inst]
        key = missing[0] if missing else arg[0]
        return OsceError(_path(where, [key]), "is required but missing", _MISSING,
                         hint or f"add `{key}`")
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in inst if k not in schema.get("properties", {})] if isinstance(inst, Mapping) else []
        key = extra[0] if extra else "?"
        fix = f"remove it or use one of: {', '.join(allowed)}" if allowed else "remove it"
        return OsceError(_path(where, [key]), "is not a known key", key, hint or fix)
    if kind == "type":
        return OsceError(where, f"must be {_type_names(arg)}", inst,
                         hint or f"give {_type_names(arg)}")
    if kind == "enum":
        choices = ", ".join(format_value(c) for c in arg)
        return OsceError(where, "is not an allowed value", inst, hint or f"use one of: {choices}")
    if kind == "const":
        return OsceError(where, f"must be {format_value(arg)}", inst, hint or f"set it to {format_value(arg)}")
    if kind == "pattern":
        problem = schema.get("x-problem", f"does not match the pattern {arg}")
        return OsceError(where, problem, inst, hint or "correct the value")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most",
                 "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}
        return OsceError(where, f"must be {words[kind]} {arg}", inst,
                         hint or f"give a value {words[kind]} {arg}")
    if kind in ("minItems", "maxItems", "minLength", "maxLength", "minProperties"):
        words = {"minItems": "at least {} item(s)", "maxItems": "at most {} item(s)",
                 "minLength": "at least {} character(s)", "maxLength": "at most {} character(s)",
                 "minProperties": "at least {} key(s)"}
        return OsceError(where, "must have " + words[kind].format(arg), inst, hint or "correct the value")
    if kind == "uniqueItems":
        return OsceError(where, "must not repeat items", inst, hint or "remove the duplicates")
    if kind == "propertyNames":
        return OsceError(where, "has a key that is not allowed", inst, hint or "check the key names")
    if kind in ("oneOf", "anyOf"):
        return OsceError(where, schema.get("x-problem", "does not have an accepted shape"), inst,
                         hint or "see the reference documentation for the accepted forms")
    if kind == "not":
        return OsceError(where, schema.get("x-problem", "has a value that is not allowed"), inst,
                         hint or "see the reference documentation")
    message = " ".join(str(err.message).split())
    return OsceError(where, schema.get("x-problem", f"is invalid ({kind})"), inst,
                     hint or message[:120])


def schema_errors(instance: Any, schema: Mapping[str, Any], document: str) -> list[OsceError]:
    """Validate ``instance`` against ``schema`` (Draft 2020-12) and return one-line errors.

    ``document`` is the name the user knows the data by (``catalog``, ``osce_installers``);
    it prefixes every field path. The list is sorted by field path; empty means valid.
    """
    from jsonschema import Draft202012Validator  # local: keep module import cheap

    validator = Draft202012Validator(schema)
    found: list[OsceError] = []
    seen: set[str] = set()
    for err in validator.iter_errors(instance):
        # if/then and allOf wrappers: report the innermost concrete problems
        leaves = _leaves(err)
        for leaf in leaves:
            osce = _from_schema_error(leaf, document)
            if osce.line() not in seen:
                seen.add(osce.line())
                found.append(osce)
    found.sort(key=lambda e: e.field)
    return found


def _leaves(err: Any) -> list[Any]:
    if err.validator in ("allOf",) and err.context:
        out: list[Any] = []
        for sub in err.context:
            out.extend(_leaves(sub))
        return out
    return [err]


def raise_all(errors: Sequence[OsceError]) -> None:
    """Raise the single error, or one ``OsceValidationError`` listing several; no-op when empty."""
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    raise OsceValidationError(errors)


def validate_or_raise(instance: Any, schema: Mapping[str, Any], document: str) -> None:
    """Raise ``OsceError`` (one problem) or ``OsceValidationError`` (one line per problem)."""
    raise_all(schema_errors(instance, schema, document))
