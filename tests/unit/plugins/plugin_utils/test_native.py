from __future__ import annotations

import yaml
from ansible._internal._datatag._tags import Origin

from ansible_collections.osce.patching.plugins.plugin_utils._native import plain


def test_plain_strips_ansible_tags_deeply():
    def tag(value):
        return Origin(description="x").tag(value)

    value = tag({tag("k"): tag([tag("s"), tag(5), tag(1.5), True, None, (1, 2)])})
    out = plain(value)
    assert out == {"k": ["s", 5, 1.5, True, None, [1, 2]]}
    assert [type(out), type(next(iter(out)))] == [dict, str]
    assert [type(v) for v in out["k"]] == [str, int, float, bool, type(None), list]
    assert yaml.safe_load(yaml.safe_dump(out)) == out
