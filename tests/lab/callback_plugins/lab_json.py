# Lab test callback (tests/lab only): the whole run as one JSON document on stdout, shaped like
# ansible.posix.json ({"plays": [{"play": .., "tasks": [{"task": {"name"}, "hosts": {host: result}}]}],
# "stats": {...}}). ansible.posix is not on the sealed lab collections path, hence this copy.
from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: lab_json
type: stdout
short_description: JSON run document for the lab tests
description: [The whole run as one JSON document.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "lab_json"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name()}, "hosts": {}})

    def _record(self, result, **extra):
        res = dict(result._result)
        res.update(extra)
        res.pop("invocation", None)
        self.plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = res

    def v2_runner_on_ok(self, result, **kw):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kw):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result, **kw):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result, **kw):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        summary = {h: stats.summarize(h) for h in sorted(stats.processed)}
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, default=str))
