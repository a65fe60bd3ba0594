# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One base class for the seven osce.patching action plugins.

:meth:`OsceAction.run` is a template method::

    validate the task arguments  (validate_argument_spec() against the stub's DOCUMENTATION)
    load the profile / catalog   (data/ + user overrides, validated by the core)
    check_input(ctx)             hook: input errors, before any remote call
    before = gather(ctx)         hook: evidence through the gateway (reads only)
    changes = plan(ctx, before)  hook: ask the core what to do; [] means nothing to do
    if changes:
        check mode: after = predict(ctx, before, changes)       (no gateway call at all)
        otherwise:  outcome = apply(ctx, before, changes)       hook: writes through the gateway
                    after = verify(ctx, before, changes, outcome)  hook: re-read, fail if not moved
    result = report(ctx, before, after, changes, outcome)       hook: facts and return values

``changed`` is ``bool(changes)`` and ``diff`` is built from the ``before`` / ``after`` snapshots
(their :meth:`diff_view`).  Every failure is an :class:`ActionFailure` carrying one line
``Failed to <verb> on <host>: <cause>. Fix: <fix>`` plus the partial result; gateway errors and
the core's :class:`OsceError` are converted into it in one place (:meth:`_failure`).

Unreachable: when the host cannot be reached (the gateway's :class:`HostUnreachable`, from a module
result with ``unreachable`` or a connection failure) the result carries ``unreachable: true`` and
**no** ``failed``, exactly as Ansible reports a connection failure itself, so the play sees the host
as UNREACHABLE: ``ignore_unreachable`` applies, ``rescue`` does not run, and the host does not count
against ``max_fail_percentage``. This holds for every module (one place: :meth:`OsceAction.run`).

Verbosity: ``-vv`` logs the plan, ``-vvv`` each gateway call (see ``_gateway``).

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import dataclasses
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.osce.patching.plugins.module_utils import prediction as prediction_core
from ansible_collections.osce.patching.plugins.module_utils.errors import OsceError
from ansible_collections.osce.patching.plugins.plugin_utils import _gateway, _spec
from ansible_collections.osce.patching.plugins.plugin_utils._gateway import Gateway, GatewayError
from ansible_collections.osce.patching.plugins.plugin_utils._native import plain

display = Display()


class ActionFailure(Exception):
    """A failure with its one-line message and the partial result gathered so far."""

    def __init__(self, cause: str, fix: str = "", *, field: str | None = None, extra: dict[str, t.Any] | None = None,
                 unreachable: bool = False) -> None:
        super().__init__(cause)
        self.cause = cause.rstrip(".")
        self.fix = fix.rstrip(".")
        self.field = field
        self.extra = dict(extra or {})
        self.unreachable = unreachable


@dataclasses.dataclass
class Change:
    """One thing the module will do (or would do in check mode)."""

    kind: str
    target: str
    data: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, t.Any]:
        return {"kind": self.kind, "target": self.target, **self.data}


@dataclasses.dataclass
class Context:
    """What the hooks share during one run."""

    args: dict[str, t.Any]
    task_vars: dict[str, t.Any]
    host: str
    check_mode: bool
    gateway: Gateway
    profile: t.Any = None
    catalog: t.Any = None
    notes: dict[str, t.Any] = dataclasses.field(default_factory=dict)


def _merged(var: t.Any, opt: t.Any) -> dict[str, t.Any]:
    """A play variable with the task option over it, as plain Python values (see ``_native``)."""
    out: dict[str, t.Any] = {}
    for source in (var, opt):
        if isinstance(source, dict):
            out.update(source)
    return plain(out)


class OsceAction(ActionBase):
    """Base of every osce.patching action plugin; subclasses set :attr:`MODULE` and :attr:`VERB`."""

    #: Name of the documentation stub in plugins/modules/ (the argument spec is derived from it).
    MODULE: str = ""
    #: Verb phrase for failure messages: "Failed to <VERB> on <host>: ...".
    VERB: str = "run"
    #: Extra constraints for validate_argument_spec() (documented in the stub's option text).
    MUTUALLY_EXCLUSIVE: list[list[str]] = []
    REQUIRED_IF: list[t.Any] = []
    REQUIRED_ONE_OF: list[list[str]] = []
    #: Whether the hooks need the patch catalog (loaded and validated before any remote call).
    NEEDS_CATALOG: bool = False
    #: Options whose values never appear in results (besides those documented with no_log).
    SECRET_OPTIONS: tuple[str, ...] = ()

    _gateway_factory: t.Callable[..., Gateway] = Gateway

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        # Runs when the strategy imports the plugin in the main process, before it forks the task
        # workers: they inherit the parsed stub documentation and the validated data (see _data).
        super().__init_subclass__(**kwargs)
        from ansible_collections.osce.patching.plugins.plugin_utils import _data

        if cls.MODULE:
            try:
                _spec.module_doc(cls.MODULE)
            except Exception:  # noqa: BLE001 - the task reports a broken stub itself
                pass
        _data.warm()

    # ------------------------------------------------------------------------------ hooks --
    def check_input(self, ctx: Context) -> None:
        """Validate option combinations against the profile / catalog. Default: nothing."""

    def gather(self, ctx: Context) -> dict[str, t.Any]:
        """Read the evidence through ``ctx.gateway`` (reads only). Default: empty state."""
        return {}

    def plan(self, ctx: Context, before: dict[str, t.Any]) -> list[Change]:
        """Decide what to change from ``before`` (ask the core). Default: nothing to change."""
        return []

    def predict(self, ctx: Context, before: dict[str, t.Any], changes: list[Change]) -> dict[str, t.Any]:
        """Check mode: the state after ``changes``, without touching the host. Default: ``before``."""
        return before

    def apply(self, ctx: Context, before: dict[str, t.Any], changes: list[Change]) -> dict[str, t.Any]:
        """Make the changes through the gateway; returns outcome data for :meth:`report`. Default: nothing."""
        return {}

    def verify(self, ctx: Context, before: dict[str, t.Any], changes: list[Change],
               outcome: dict[str, t.Any]) -> dict[str, t.Any]:
        """Re-read the state after :meth:`apply` and fail if it did not move. Default: :meth:`gather` again."""
        return self.gather(ctx)

    def diff_view(self, state: dict[str, t.Any]) -> dict[str, t.Any]:
        """The part of a state snapshot shown in ``diff``. Default: the whole snapshot."""
        return state

    def report(self, ctx: Context, before: dict[str, t.Any], after: dict[str, t.Any], changes: list[Change],
               outcome: dict[str, t.Any]) -> dict[str, t.Any]:
        """Return values besides changed / diff / round_trips. Default: nothing."""
        return {}

    # ------------------------------------------------------------------------- helpers --
    def run_id(self, ctx: Context) -> str:
        """This run's id (the play's ``osce_run_id``), ``""`` before lock.yml names the run."""
        value = ctx.task_vars.get("osce_run_id")
        if isinstance(value, str) and "{{" in value:
            value = self._templar.template(value)
        return "" if value is None else str(value)

    @staticmethod
    def predicting(ctx: Context) -> bool:
        """A ``--check`` run (``ansible_check_mode``), not a task with ``check_mode: true`` inside a real
        run (preflight's pre-checks): only such a run keeps and reads ``osce_prediction``."""
        return bool(ctx.check_mode) and ctx.task_vars.get("ansible_check_mode") is True

    def prediction(self, ctx: Context) -> dict[str, t.Any]:
        """What this ``--check`` run predicted so far (``osce_prediction``, module_utils/prediction.py);
        outside a check run always empty, so a real run never reads a prediction."""
        if not self.predicting(ctx):
            return {}
        return prediction_core.current(ctx.task_vars.get(prediction_core.FACT), self.run_id(ctx))

    def keep_prediction(self, ctx: Context, value: dict[str, t.Any]) -> None:
        """A ``--check`` run: return ``value`` as the host fact ``osce_prediction`` (set after :meth:`report`)."""
        if self.predicting(ctx):
            ctx.notes["prediction_out"] = value

    def _validate(self) -> dict[str, t.Any]:
        spec = _spec.argument_spec(self.MODULE)
        try:
            _result, args = self.validate_argument_spec(
                argument_spec=spec,
                mutually_exclusive=self.MUTUALLY_EXCLUSIVE or None,
                required_if=self.REQUIRED_IF or None,
                required_one_of=self.REQUIRED_ONE_OF or None,
            )
        except AnsibleActionFail as exc:
            message = " ".join(str(exc.message if hasattr(exc, "message") else exc).split())
            message = message.replace("Validation of arguments failed:", "").strip()
            raise ActionFailure(f"invalid arguments: {message}",
                                f"see ansible-doc osce.patching.{self.MODULE} for the accepted options",
                                field="task arguments") from None
        return plain(args)  # ansible-core 2.19 hands tagged str/int/dict/list subclasses

    def _load(self, ctx: Context) -> None:
        """Profile (and catalog) with the user's overrides; OsceError on bad data."""
        from ansible_collections.osce.patching.plugins.plugin_utils import _data

        tv = ctx.task_vars
        ctx.profile = _data.load_profile(_merged(tv.get("osce_profile_overrides"), ctx.args.get("profile_overrides")))
        if self.NEEDS_CATALOG:
            ctx.catalog = _data.load_catalog(
                _merged(tv.get("osce_installers"), ctx.args.get("installers")) or None,
                _merged(tv.get("osce_build_map"), ctx.args.get("build_map")) or None,
            )

    def _failure(self, ctx: Context | None, exc: BaseException) -> ActionFailure:
        host = ctx.host if ctx else "?"
        if isinstance(exc, ActionFailure):
            return exc
        if isinstance(exc, OsceError):
            return ActionFailure(f"{exc.field}: {exc.problem}" + (f" (got {exc.value!r})" if exc.has_value else ""),
                                 exc.fix, field=exc.field)
        if isinstance(exc, _gateway.HostUnreachable):
            return ActionFailure(f"host {exc.host} is unreachable ({exc.message})",
                                 "check the connection variables and that WinRM answers a ping",
                                 field=exc.host, unreachable=True)
        if isinstance(exc, _gateway.CheckModeWrite):
            return ActionFailure(f"internal error: {exc.message}", "report this bug to osce.patching")
        if isinstance(exc, GatewayError):
            return ActionFailure(f"{exc.module} failed on {exc.host}: {exc.message}",
                                 "check the host and the profile entry used for this read or write",
                                 field=exc.host, extra={"module_result": exc.result})
        raise exc

    def _secret_names(self) -> set[str]:
        options = _spec.module_doc(self.MODULE)["options"]
        names = {n for n, o in options.items() if (o or {}).get("no_log")}
        return names | set(self.SECRET_OPTIONS)

    def _invocation(self, args: dict[str, t.Any]) -> dict[str, t.Any]:
        secrets = self._secret_names()
        return {"module_args": {k: ("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" if k in secrets and v is not None else v)
                                for k, v in args.items()}}

    # ---------------------------------------------------------------------- the template --
    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        check_mode = bool(self._task.check_mode)
        host = str(task_vars.get("inventory_hostname") or getattr(self._play_context, "remote_addr", None) or "?")
        gateway = self._gateway_factory(self, task_vars, host, check_mode)
        ctx: Context | None = None
        self.gateway = gateway
        try:
            args = self._validate()
            ctx = Context(args=args, task_vars=task_vars, host=host, check_mode=check_mode, gateway=gateway)
            self._load(ctx)
            self.check_input(ctx)
            before = self.gather(ctx)
            changes = self.plan(ctx, before)
            display.vv(f"osce.patching.{self.MODULE}: {len(changes)} change(s) planned: "
                       f"{[c.as_dict() for c in changes]!r}", host=host)
            outcome: dict[str, t.Any] = {}
            if not changes:
                after = before
            elif check_mode:
                after = self.predict(ctx, before, changes)
            else:
                outcome = self.apply(ctx, before, changes)
                after = self.verify(ctx, before, changes, outcome)
            result.update(self.report(ctx, before, after, changes, outcome))
            if "prediction_out" in ctx.notes:
                facts = dict(result.get("ansible_facts") or {})
                facts[prediction_core.FACT] = ctx.notes["prediction_out"]
                result["ansible_facts"] = facts
            result["changed"] = bool(changes)
            if changes:
                result["diff"] = {"before": self.diff_view(before), "after": self.diff_view(after)}
        except Exception as exc:  # one voice for every failure; unexpected errors re-raise
            failure = self._failure(ctx, exc)
            msg = f"Failed to {self.VERB} on {host}: {failure.cause}."
            if failure.fix:
                msg += f" Fix: {failure.fix}."
            result.update(failure.extra)
            result.update({"changed": gateway.writes > 0, "msg": " ".join(msg.split())})
            if failure.unreachable:
                # UNREACHABLE, not FAILED: Ansible checks `failed` first, so it must not be set
                result.pop("failed", None)
                result["unreachable"] = True
            else:
                result["failed"] = True
            if failure.field:
                result["osce_error_field"] = failure.field
            # errors as data: roles and the report read this, never the message text
            result["osce_error"] = {"field": failure.field or "", "cause": failure.cause, "fix": failure.fix,
                                    "msg": result["msg"]}
        result["round_trips"] = gateway.stats()
        result["invocation"] = self._invocation(ctx.args if ctx else dict(self._task.args))
        return result
