# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback ``osce.patching.rollout_report``: rollout.json, junit.xml and report.html per run."""
from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_report
type: notification
short_description: Write the OfficeScan rollout report (JSON, JUnit, HTML) and show progress per batch
version_added: 0.1.0
author:
  - osce.patching maintainers (@osce-patching)
description:
  - Records what a run of the osce.patching playbooks did and writes C(<report_dir>/<run_id>/) with
    C(rollout.json) (validates against C(data/schemas/rollout-report.schema.json) in the collection),
    C(junit.xml) (one test case per host, for CI systems) and C(report.html) (self-contained, with a batch
    timeline, bandwidth over time against the budget, verdict counts, per-site and per-batch summaries,
    and a host table with failed, held and offline clients first and a filter box).
  - Per host - level before and after, the steps applied, the client verdict, bytes downloaded,
    timings, reboot need and errors. Per client batch (each C(serial) batch of a play in which a
    client ran M(osce.patching.client_upgrade)) - hosts, bytes, start and end, failures. For the fleet -
    counts per verdict, the physical floor C(lower_bound_s), C(makespan_s) and C(efficiency).
  - While the run goes, prints one line when a client batch ends - batch n/N of the play, hosts,
    failures in the batch and so far.
  - With O(ledger) (the lab's transfer ledger), times and bytes come from the ledger and the report
    says C(source=lab-ledger); otherwise from the task timings and the sizes the modules report (the
    catalog's package sizes), C(source=task-timings).
  - Enable it with C(callbacks_enabled = osce.patching.rollout_report) in C(ansible.cfg) or
    C(ANSIBLE_CALLBACKS_ENABLED=osce.patching.rollout_report). See C(docs/report.md) in the collection.
requirements:
  - enabled in the configuration (C(callbacks_enabled))
options:
  report_dir:
    description:
      - Directory that receives one sub-directory per run. Relative paths are relative to the
        directory C(ansible-playbook) runs in.
    type: path
    default: reports
    env:
      - name: OSCE_REPORT_DIR
    ini:
      - section: osce_rollout_report
        key: report_dir
  run_id:
    description:
      - Name of this run's sub-directory (letters, digits, C(.), C(_), C(-)). Default - the UTC start
        time, for example C(20151120T090000Z).
    type: str
    env:
      - name: OSCE_REPORT_RUN_ID
    ini:
      - section: osce_rollout_report
        key: run_id
  ledger:
    description:
      - The lab's transfer ledger - the C(ledger.jsonl) file, or a lab fleet directory holding
        C(lab/ledger.jsonl) (or C(.state/lab/ledger.jsonl)). Only the records this run adds are
        read. A C(bandwidth.jsonl) next to it gives the measured bandwidth series.
      - Leave it unset on a real estate.
    type: path
    env:
      - name: OSCE_REPORT_LEDGER
    ini:
      - section: osce_rollout_report
        key: ledger
  budget_bps:
    description:
      - Bandwidth budget in bytes per second for the report's floor and budget line. Default - the
        budget the rollout planner was given in this run (C(osce_bandwidth_budget_bps)).
    type: float
    env:
      - name: OSCE_REPORT_BUDGET_BPS
    ini:
      - section: osce_rollout_report
        key: budget_bps
  progress:
    description: Print one line per finished client batch.
    type: bool
    default: true
    env:
      - name: OSCE_REPORT_PROGRESS
    ini:
      - section: osce_rollout_report
        key: progress
"""

import datetime as _dt
import os
import re

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.osce.patching.plugins.module_utils import report as core
from ansible_collections.osce.patching.plugins.module_utils.chain import DONE_LEVELS
from ansible_collections.osce.patching.plugins.module_utils.levels import LEVELS
from ansible_collections.osce.patching.plugins.module_utils.verdicts import VERDICTS
from ansible_collections.osce.patching.plugins.plugin_utils import _report_recorder as recorder
from ansible_collections.osce.patching.plugins.plugin_utils import _report_render as render

RUN_ID_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def _timestamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class CallbackModule(CallbackBase):
    """Records the run and writes the rollout report at the end of each playbook."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "osce.patching.rollout_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._rec: recorder.Recorder | None = None
        self._disabled = False

    def _recorder(self) -> recorder.Recorder:
        if self._rec is None:
            run_id = self.get_option("run_id") or _timestamp()
            if not RUN_ID_RE.match(str(run_id)):
                self._display.warning(f"osce.patching.rollout_report: run_id {run_id!r} may only hold letters, digits, "
                                      "'.', '_' and '-'; using a timestamp")
                run_id = _timestamp()
            budget = self.get_option("budget_bps")
            progress = self.get_option("progress")
            self._rec = recorder.Recorder(run_id=str(run_id), ledger=recorder.find_ledger(self.get_option("ledger")),
                                          budget_bps=float(budget) if budget else None,
                                          display=self._display.display if progress else None)
            self._rec.check_mode = bool((context.CLIARGS or {}).get("check", False))
        return self._rec

    def _guard(self, fn, *args, **kwargs) -> None:
        if self._disabled:
            return
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # the report never breaks a rollout
            self._disabled = True
            self._display.warning(f"osce.patching.rollout_report: stopped recording ({type(exc).__name__}: {exc}); "
                                  "the run goes on without a report")

    # ------------------------------------------------------------------ playbook and plays
    def v2_playbook_on_start(self, playbook):
        self._guard(self._recorder)

    def v2_playbook_on_play_start(self, play):
        self._guard(lambda: recorder.play_start(self._recorder(), play))

    # ------------------------------------------------------------------ tasks
    def v2_runner_on_start(self, host, task):
        self._guard(lambda: self._recorder().task_started(host.get_name(), getattr(task, "_uuid", id(task))))

    def v2_runner_on_ok(self, result):
        self._guard(lambda: recorder.task_result(self._recorder(), result, "ok"))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._guard(lambda: recorder.task_result(self._recorder(), result, "failed", ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._guard(lambda: recorder.task_result(self._recorder(), result, "skipped"))

    def v2_runner_on_unreachable(self, result):
        self._guard(lambda: recorder.task_result(self._recorder(), result, "unreachable"))

    # ------------------------------------------------------------------ the end
    def v2_playbook_on_stats(self, stats):
        self._guard(self._write)

    def _write(self) -> None:
        rec = self._recorder()
        run = rec.finish()
        report = core.build_report(run, rec.source(), levels=LEVELS, verdicts=VERDICTS, done_levels=DONE_LEVELS)
        directory = os.path.join(self.get_option("report_dir") or "reports", rec.run_id)
        render.write_report(report, directory)
        self._display.display(f"rollout_report: {directory}/ (rollout.json, junit.xml, report.html): "
                              f"{report['fleet']['hosts']} host(s), {len(report['batches'])} client batch(es), "
                              f"source {report['fleet']['source']}")
        self._rec = None
