# Copyright: (c) 2025, osce.patching contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway: the only code in osce.patching that names Windows modules.

Every remote read or write of the collection goes through one :class:`Gateway` bound to the
action plugin running the task.  Each method runs exactly one real module through
``ActionBase._execute_module`` (one WinRM round trip on a real estate), counts it, and returns
plain Python data (``dict`` / ``list`` / ``str``), never an Ansible runtime object.

Failures come back as typed exceptions:

* :class:`HostUnreachable` -- the connection failed: ``unreachable`` in the module result, or the
  connection plugin raised ``AnsibleConnectionFailure`` (WinRM refused, timed out, host down).
  The action base turns it into an UNREACHABLE task result (``unreachable: true``, not ``failed``),
  so ``ignore_unreachable`` works and the host does not count against ``max_fail_percentage``;
* :class:`RemoteCallFailed` -- the module ran and failed; ``.result`` holds its raw result.

Check mode: reads run in check mode too (every read module listed here supports it).  Writes are
refused in check mode with :class:`CheckModeWrite` -- the action base must predict instead of
calling them; the refusal is a safety net, never a code path users see.  A module that comes back
``skipped`` (no check-mode support) is returned as ``{"skipped": True, ...}``; callers read that as
"would change".

Verbosity: ``-vvv`` logs every call with its module name and the round-trip count; ``-vvvv``
adds the arguments (with ``no_log`` values masked by Ansible itself).

FOR INTERNAL COLLECTION USE ONLY; the interface may change in any release.
"""
from __future__ import annotations

import base64
import collections
import typing as t

from ansible.errors import AnsibleConnectionFailure
from ansible.utils.display import Display

display = Display()

#: Exactly the modules agreed in docs/development.md ("The gateway's module list"); the lab
#: implements these and the contract tests compare both lists with the real collections.
GATEWAY_MODULES: tuple[str, ...] = (
    "ansible.windows.win_reg_stat",
    "ansible.windows.win_regedit",
    "ansible.windows.slurp",
    "ansible.windows.win_stat",
    "ansible.windows.win_find",
    "ansible.windows.win_package",
    "ansible.windows.win_command",
    "ansible.windows.win_service",
    "ansible.windows.win_service_info",
    "ansible.windows.win_listen_ports_facts",
    "ansible.windows.win_wait_for",
    "community.windows.win_file_version",
    "community.windows.win_disk_facts",
    "community.windows.win_lineinfile",
    "community.windows.win_iis_webbinding",
)

#: Modules that change the host: never called in check mode.
WRITE_MODULES: frozenset[str] = frozenset(
    {
        "ansible.windows.win_regedit",
        "ansible.windows.win_package",
        "ansible.windows.win_command",
        "ansible.windows.win_service",
        "community.windows.win_lineinfile",
        "community.windows.win_iis_webbinding",
    }
)

#: Installer runs, counted separately for the "0 installer calls on a rerun" budget.
INSTALLER_MODULES: frozenset[str] = frozenset({"ansible.windows.win_package", "ansible.windows.win_command"})

_BY_SHORT = {name.rsplit(".", 1)[1]: name for name in GATEWAY_MODULES}


class GatewayError(Exception):
    """A remote call did not give a usable answer."""

    def __init__(self, host: str, module: str, message: str, result: dict[str, t.Any] | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.module = module
        self.message = message
        self.result = dict(result or {})


class HostUnreachable(GatewayError):
    """The host could not be reached (WinRM / connection failure)."""


class RemoteCallFailed(GatewayError):
    """The module ran on the host and reported a failure."""


class CheckModeWrite(GatewayError):
    """A write was attempted in check mode (a bug in the caller, refused here)."""


class _Executor(t.Protocol):
    def _execute_module(
        self,
        module_name: str | None = None,
        module_args: dict[str, t.Any] | None = None,
        task_vars: dict[str, t.Any] | None = None,
        **kwargs: t.Any,
    ) -> dict[str, t.Any]: ...


def _first_line(text: t.Any) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


class Gateway:
    """Run the gateway modules on the task's host and count the round trips.

    Args:
        action: the action plugin (anything with ``_execute_module``).
        task_vars: the task variables passed to ``run``.
        host: the host name used in messages (``inventory_hostname``).
        check_mode: whether the task runs in check mode (writes are refused).
    """

    def __init__(self, action: _Executor, task_vars: dict[str, t.Any], host: str, check_mode: bool = False) -> None:
        self._action = action
        self._task_vars = task_vars
        self.host = host
        self.check_mode = check_mode
        self.round_trips = 0
        self.per_module: collections.Counter[str] = collections.Counter()
        self.calls: list[tuple[str, dict[str, t.Any]]] = []

    # -- accounting -----------------------------------------------------------------------------
    @property
    def writes(self) -> int:
        """Round trips spent on modules that change the host."""
        return sum(n for m, n in self.per_module.items() if m in WRITE_MODULES)

    @property
    def installer_calls(self) -> int:
        """Round trips spent running installers or commands."""
        return sum(n for m, n in self.per_module.items() if m in INSTALLER_MODULES)

    def stats(self) -> dict[str, t.Any]:
        """Plain summary for results: total and per-module round trips."""
        return {"round_trips": self.round_trips, "per_module": dict(sorted(self.per_module.items()))}

    # -- the one call -----------------------------------------------------------------------------
    def call(self, module: str, args: dict[str, t.Any], *, allow_failure: bool = False) -> dict[str, t.Any]:
        """Run one gateway module (short or full name) and return its result as a plain dict.

        Raises:
            HostUnreachable: the connection failed (module result ``unreachable`` or ``AnsibleConnectionFailure``).
            RemoteCallFailed: the module failed (unless ``allow_failure``).
            CheckModeWrite: a write module was requested in check mode.
        """
        fqcn = _BY_SHORT.get(module, module)
        if fqcn not in GATEWAY_MODULES:
            raise ValueError(f"{fqcn} is not in GATEWAY_MODULES")
        if self.check_mode and fqcn in WRITE_MODULES:
            raise CheckModeWrite(self.host, fqcn, f"refused to run {fqcn} in check mode")
        args = {k: v for k, v in args.items() if v is not None}
        self.round_trips += 1
        self.per_module[fqcn] += 1
        self.calls.append((fqcn, dict(args)))
        display.vvv(f"osce.patching gateway: {fqcn} (round trip {self.round_trips})", host=self.host)
        display.vvvv(f"osce.patching gateway: {fqcn} args {args!r}", host=self.host)
        try:
            result = self._action._execute_module(module_name=fqcn, module_args=args, task_vars=self._task_vars)
        except AnsibleConnectionFailure as exc:
            raise HostUnreachable(self.host, fqcn, _first_line(getattr(exc, "message", None) or exc)
                                  or "host unreachable", {"unreachable": True}) from None
        result = dict(result or {})
        result.pop("invocation", None)
        if result.get("unreachable"):
            raise HostUnreachable(self.host, fqcn, _first_line(result.get("msg")) or "host unreachable", result)
        if result.get("skipped"):
            # no check-mode support on the far side: the module did nothing; read it as "would change"
            result.setdefault("changed", True)
            return result
        if result.get("failed") and not allow_failure:
            raise RemoteCallFailed(self.host, fqcn, _first_line(result.get("msg")) or "module failed", result)
        return result

    # -- registry ---------------------------------------------------------------------------------
    def reg_key(self, path: str) -> dict[str, t.Any] | None:
        """All values of one registry key as ``{name: value}``; ``None`` when the key is missing."""
        res = self.call("win_reg_stat", {"path": path})
        if not res.get("exists", False):
            return None
        props = res.get("properties") or {}
        values = {name: (p.get("value") if isinstance(p, dict) else p) for name, p in props.items()}
        values["__sub_keys__"] = list(res.get("sub_keys") or [])
        return values

    def reg_set(self, path: str, name: str, data: t.Any, type: str = "string") -> dict[str, t.Any]:
        """Set one registry value (creates the key); returns ``{"changed": bool}``."""
        return self.call("win_regedit", {"path": path, "name": name, "data": data, "type": type})

    def reg_delete(self, path: str, name: str | None = None) -> dict[str, t.Any]:
        """Remove one value (or the whole key when ``name`` is None)."""
        args: dict[str, t.Any] = {"path": path, "state": "absent"}
        if name is not None:
            args["name"] = name
        else:
            args["delete_key"] = True
        return self.call("win_regedit", args)

    # -- files ------------------------------------------------------------------------------------
    def slurp(self, path: str, *, missing_ok: bool = False) -> str | None:
        """Text of one file (decoded as UTF-8, falling back to latin-1); ``None`` if missing and allowed."""
        res = self.call("slurp", {"src": path}, allow_failure=True)
        if res.get("failed"):
            msg = _first_line(res.get("msg"))
            if missing_ok and "not found" in msg.lower():
                return None
            raise RemoteCallFailed(self.host, "ansible.windows.slurp", msg or "cannot read file", res)
        raw = base64.b64decode(res.get("content") or "")
        if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
            return raw.decode("utf-16")
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    def stat(self, path: str, *, checksum_algorithm: str | None = "sha256") -> dict[str, t.Any]:
        """``stat`` dict of one file (``exists`` False when missing); checksum with the algorithm given."""
        args: dict[str, t.Any] = {"path": path, "get_checksum": checksum_algorithm is not None}
        if checksum_algorithm:
            args["checksum_algorithm"] = checksum_algorithm
        return dict(self.call("win_stat", args).get("stat") or {"exists": False})

    def find(
        self, paths: list[str], patterns: list[str] | None = None, *, recurse: bool = False, get_checksum: bool = False
    ) -> list[dict[str, t.Any]]:
        """Files matching ``patterns`` under ``paths`` in one round trip."""
        args: dict[str, t.Any] = {"paths": list(paths), "recurse": recurse, "get_checksum": get_checksum}
        if patterns:
            args["patterns"] = list(patterns)
        if get_checksum:
            args["checksum_algorithm"] = "sha256"
        return list(self.call("win_find", args).get("files") or [])

    def file_version(self, path: str) -> dict[str, t.Any]:
        """``win_file_version`` dict of one binary (``file_version``, ``product_version``, ...)."""
        return dict(self.call("win_file_version", {"path": path}).get("win_file_version") or {})

    def disk_volumes(self) -> list[dict[str, t.Any]]:
        """Volumes with ``drive_letter``, ``size`` and ``size_remaining``, flattened from win_disk_facts."""
        res = self.call("win_disk_facts", {"filter": ["partitions", "volumes"]})
        volumes: list[dict[str, t.Any]] = []
        for disk in (res.get("ansible_facts") or {}).get("ansible_disks") or []:
            for part in disk.get("partitions") or []:
                for vol in part.get("volumes") or []:
                    entry = dict(vol)
                    entry.setdefault("drive_letter", part.get("drive_letter"))
                    volumes.append(entry)
        return volumes

    def lineinfile(self, path: str, regex: str, line: str | None, **extra: t.Any) -> dict[str, t.Any]:
        """Ensure one line (INI / httpd.conf edit); ``state="absent"`` removes the lines matching ``regex``."""
        return self.call("win_lineinfile", {"path": path, "regex": regex, "line": line, **extra})

    # -- processes and services ---------------------------------------------------------------------
    def package(
        self, path: str, arguments: str | list[str] | None, expected_return_code: list[int], log_path: str | None = None
    ) -> dict[str, t.Any]:
        """Run an installer; the result (``rc``, ``reboot_required``, ``failed``, ``msg``) is returned even on failure."""
        args = {"path": path, "arguments": arguments, "expected_return_code": list(expected_return_code), "log_path": log_path}
        return self.call("win_package", args, allow_failure=True)

    def command(self, argv: list[str] | None = None, cmd: str | None = None, **extra: t.Any) -> dict[str, t.Any]:
        """Run a command; the result (``rc``, ``stdout``, ``stderr``) is returned even on non-zero rc."""
        return self.call("win_command", {"argv": argv, "cmd": cmd, **extra}, allow_failure=True)

    def service_restart(self, name: str) -> dict[str, t.Any]:
        """Restart one service."""
        return self.call("win_service", {"name": name, "state": "restarted"})

    def services(self, name: str | None = None) -> list[dict[str, t.Any]]:
        """Services (all, or those matching ``name``) with ``name``, ``display_name``, ``state``, ``path``."""
        return list(self.call("win_service_info", {"name": name}).get("services") or [])

    def listen_ports(self) -> list[dict[str, t.Any]]:
        """TCP listeners (``port``, ``name`` of the process, ``pid``, ``local_address``)."""
        res = self.call("win_listen_ports_facts", {})
        facts = res.get("ansible_facts") or res
        return list(facts.get("tcp_listen") or [])

    def wait_for(self, host: str, port: int, timeout: int) -> dict[str, t.Any]:
        """Wait until ``host:port`` answers from this host; ``failed`` set on timeout (not raised)."""
        return self.call(
            "win_wait_for", {"host": host, "port": int(port), "timeout": int(timeout), "state": "started"}, allow_failure=True
        )

    def iis_binding(self, site: str, port: int, protocol: str, state: str = "present", ip: str = "*") -> dict[str, t.Any]:
        """Ensure one IIS site binding."""
        return self.call("win_iis_webbinding", {"name": site, "port": int(port), "protocol": protocol, "state": state, "ip": ip})
