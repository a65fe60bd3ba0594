from __future__ import annotations

import pytest

from ansible_collections.osce.patching.plugins.module_utils.errors import (
    OsceError, OsceValidationError, format_value, raise_all, schema_errors, validate_or_raise,
)

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["steps"],
    "properties": {"steps": {"type": "array", "items": {
        "type": "object", "required": ["order"], "additionalProperties": False,
        "properties": {"order": {"type": "integer", "minimum": 1},
                       "kind": {"enum": ["a", "b"]},
                       "sha": {"type": "string", "pattern": "^[0-9a-f]{4}$", "x-problem": "must be 4 hex digits"}}}}},
}


def test_str_is_one_line_in_the_agreed_format():
    err = OsceError("osce_installers.cp5712r1.sha256", "must be 64 hex", "abc", "paste the hash")
    assert str(err) == "osce_installers.cp5712r1.sha256: must be 64 hex (got 'abc'). Fix: paste the hash"
    assert (err.field, err.problem, err.value, err.fix) == ("osce_installers.cp5712r1.sha256", "must be 64 hex", "abc", "paste the hash")


def test_multiline_values_are_flattened_and_long_values_cut():
    err = OsceError("f", "p", "a\nb" * 100, "x")
    assert "\n" not in str(err)
    assert len(format_value("x" * 500)) <= 80


def test_no_value_omits_got():
    assert str(OsceError("f", "is required", fix="add it")) == "f: is required. Fix: add it"


@pytest.mark.parametrize("value,text", [(None, "null"), (True, "true"), (3, "3"), ([1], "[1]"), ({"a": 1}, '{"a": 1}')])
def test_format_value(value, text):
    assert format_value(value) == text


def test_schema_errors_name_the_field_path():
    errs = schema_errors({"steps": [{"order": 1}, {"order": 2}, {"order": "x"}]}, SCHEMA, "catalog")
    assert [e.field for e in errs] == ["catalog.steps[2].order"]
    assert str(errs[0]) == "catalog.steps[2].order: must be an integer (got 'x'). Fix: give an integer"


def test_schema_errors_required_unknown_enum_pattern_minimum():
    errs = schema_errors({"steps": [{"kind": "c", "sha": "zz", "bogus": 1}, {"order": 0}]}, SCHEMA, "doc")
    lines = {e.field: str(e) for e in errs}
    assert "doc.steps[0].order" in lines and "is required" in lines["doc.steps[0].order"]
    assert "doc.steps[0].bogus" in lines and "not a known key" in lines["doc.steps[0].bogus"]
    assert "use one of: 'a', 'b'" in lines["doc.steps[0].kind"]
    assert "must be 4 hex digits" in lines["doc.steps[0].sha"]
    assert "at least 1" in lines["doc.steps[1].order"]
    for line in lines.values():
        assert "\n" not in line and "Failed validating" not in line and "Fix:" in line


def test_valid_instance_has_no_errors_and_does_not_raise():
    assert schema_errors({"steps": []}, SCHEMA, "doc") == []
    validate_or_raise({"steps": []}, SCHEMA, "doc")


def test_validate_or_raise_lists_every_problem_one_per_line():
    with pytest.raises(OsceValidationError) as info:
        validate_or_raise({"steps": [{"order": "x"}, {"order": "y"}]}, SCHEMA, "doc")
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("doc.steps[0].order:") and lines[1].startswith("doc.steps[1].order:")
    assert isinstance(info.value, OsceError) and len(info.value.errors) == 2


def test_validate_or_raise_single_problem_is_plain_osce_error():
    with pytest.raises(OsceError) as info:
        validate_or_raise({}, SCHEMA, "doc")
    assert not isinstance(info.value, OsceValidationError)
    assert str(info.value) == "doc.steps: is required but missing. Fix: add `steps`"


def test_raise_all_empty_is_noop():
    raise_all([])
