# Lab clock callback (tests/lab only; loaded by tests/lab/ansible-lab without being enabled): tells the
# lab's virtual clock that the controller is working on a host, from the moment a task is queued for it
# until its result is in. Without it the clock could jump while Ansible is between two module calls of
# one action plugin, or between one client's AutoPcc returning and the next client's starting under a
# throttle, and the download slot would sit idle in virtual time (docs/lab.md, "Virtual clock").
from __future__ import annotations

from pathlib import Path

from ansible import context
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: lab_clock
type: aggregate
short_description: Marks controller tasks in flight for the lab's virtual clock
description: [Writes <state>/lab/busy/task-<host> while a task runs on a lab host.]
"""

TASK_MARKER = "task-"  # the same name tests/lab/osce_lab/network.py reads


def lab_busy_dirs(inventories) -> list[Path]:
    """The busy/ folder of every lab fleet among the inventory sources (the inventory file's folder or
    its .state subfolder, the layouts make_fleet.py writes)."""
    found = []
    for source in inventories or ():
        base = Path(source).expanduser()
        base = base if base.is_dir() else base.parent
        for state in (base, base / ".state"):
            if (state / "lab" / "lab.json").is_file():
                found.append(state / "lab" / "busy")
    return found


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lab_clock"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dirs = lab_busy_dirs(context.CLIARGS.get("inventory"))
        for d in self._dirs:
            d.mkdir(exist_ok=True)
            self._clear(d)

    @staticmethod
    def _clear(busy: Path) -> None:
        for marker in busy.glob(f"{TASK_MARKER}*"):
            marker.unlink(missing_ok=True)

    def _mark(self, host: str) -> None:
        for d in self._dirs:
            (d / f"{TASK_MARKER}{host}").touch()  # a fresh time: the lab counts it as busy

    def _unmark(self, result) -> None:
        for d in self._dirs:
            (d / f"{TASK_MARKER}{result._host.get_name()}").unlink(missing_ok=True)

    def v2_runner_on_start(self, host, task):
        self._mark(host.get_name())

    def v2_runner_on_ok(self, result):
        self._unmark(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._unmark(result)

    def v2_runner_on_skipped(self, result):
        self._unmark(result)

    def v2_runner_on_unreachable(self, result):
        self._unmark(result)

    def v2_playbook_on_stats(self, stats):
        for d in self._dirs:
            self._clear(d)
