"""The lab's fork server: module processes forked from one that has imported Ansible's module code already.

Every lab module call used to start a Python interpreter that executed ``ansible.module_utils.basic`` and
what it imports (~0.2 CPU s, most of a lab call's cost; docs/lab.md "Cost of a module call"). On Windows
that code never runs: a real module is PowerShell. Here the launcher's client (``tests/lab/lab_client.py``)
hands the call to this server, which forks a child per call from a process that imported that code once.

Per call the server forks a *handler*, which forks the *module* process:

- the module process takes the client's stdin/stdout/stderr (received as file descriptors), argv, working
  directory and environment, and runs the payload as ``__main__`` (from stdin when argv is empty, as
  Ansible's pipelining does, else the script in argv[0]); ``sys.exit`` codes, ``atexit`` hooks (the
  stand-ins' busy markers and CPU log) and uncaught exceptions behave as in a plain interpreter;
- the handler waits for it and sends the exit status back to the client; when the client goes away first
  (the controller was killed, Ansible timed the call out) it SIGKILLs the module process, as killing a
  plain interpreter process would have.

The server exits after ``IDLE_S`` seconds without a call. It is started by the first client that finds no
server at its address (one per interpreter, lab library and module search path); a second one started at
the same time cannot bind the address and exits.
"""
from __future__ import annotations

import ast
import os
import select
import signal
import socket
import struct
import sys

IDLE_S = 120

# What every stand-in imports: executed once here, inherited by every module process.
PRELOAD = ("ansible.module_utils.basic", "ansible.module_utils.common.text.converters",
           "ansible.module_utils._internal._ansiballz._loader", "json", "fcntl", "zipfile", "tempfile", "shutil",
           "ansible.module_utils._internal._json._profiles._module_legacy_m2c",
           "ansible.module_utils._internal._json._profiles._module_legacy_c2m",
           "ansible.module_utils._internal._json._profiles._module_modern_m2c",
           "ansible.module_utils._internal._json._profiles._module_modern_c2m",
           "runpy", "osce_lab.state", "osce_lab.network", "osce_lab.osce", "osce_lab.reboot")


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    (size,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise OSError("client went away")
        body += chunk
    return ast.literal_eval(body.decode()), fds


def _run_module(request: dict, fds: list[int]) -> None:
    """In the module process: become the plain interpreter the client stands for, run, exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGPIPE else signal.SIG_IGN)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    import tempfile
    tempfile.tempdir = None   # recomputed from this call's TMPDIR
    # the process's own standard streams, as a plain interpreter opens them
    sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)    # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)   # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False,   # noqa: SIM115
                      buffering=1)
    argv = list(request["argv"])
    code = 0
    try:
        import runpy
        import types
        if argv:
            sys.argv = argv
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
        else:
            sys.argv = [""]
            sys.path[0] = ""
            main = types.ModuleType("__main__")
            main.__dict__["__builtins__"] = __builtins__
            sys.modules["__main__"] = main
            exec(compile(sys.stdin.buffer.read(), "<stdin>", "exec"), main.__dict__)   # noqa: S102 - the payload
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:   # noqa: BLE001 - what a plain interpreter does with an uncaught exception
        import traceback
        traceback.print_exc()
        code = 1
    try:
        import atexit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code & 0xFF)


def _client_gone(conn: socket.socket) -> bool:
    try:
        return not conn.recv(1, socket.MSG_PEEK)
    except OSError:
        return True


def _handle(conn: socket.socket) -> None:
    """In the handler process: fork the module process, wait, answer the client."""
    request, fds = _receive(conn)
    pid = os.fork()
    if pid == 0:
        conn.close()
        _run_module(request, fds)
    for fd in fds:
        os.close(fd)
    try:
        ended = os.pidfd_open(pid)
    except (AttributeError, OSError):
        ended = None
    while True:
        ready, _w, _x = select.select([conn] + ([ended] if ended is not None else []), [], [],
                                      None if ended is not None else 0.02)
        if conn in ready and _client_gone(conn):
            os.kill(pid, signal.SIGKILL)   # the client is gone: so is the process it stood for
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    code = os.waitstatus_to_exitcode(status)
    answer = struct.pack("!ii", code, 0) if code >= 0 else struct.pack("!ii", 1, -code)
    try:
        conn.sendall(answer)
    except OSError:
        pass


def serve(name: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(b"\0" + name.encode())
    except OSError:
        return   # another server took the address first
    listener.listen(64)
    for module in PRELOAD:
        __import__(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # handlers are reaped by the kernel
    listener.settimeout(IDLE_S)
    while True:
        try:
            conn, _addr = listener.accept()
        except socket.timeout:
            return
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)   # the handler waits for its module process
            try:
                _handle(conn)
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
