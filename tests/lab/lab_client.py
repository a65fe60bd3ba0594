"""The lab interpreter's client side (tests/lab only; docs/lab.md "Cost of a module call").

The per-host launcher (``<fleet>/lab-python``) runs this file with ``python -S -I`` instead of the real
interpreter: it hands its argv, working directory, environment and its stdin/stdout/stderr (as file
descriptors) to the lab's fork server (``osce_lab.forkserver``), which runs the module in a child forked
from a process that has already imported ``ansible.module_utils.basic``, and exits with the child's status.
The module reads and writes this process's own pipes, so Ansible sees exactly what it would see from a
plain interpreter.

Standard library only and nothing imported it does not need: it runs once per module call. Whatever goes
wrong here (no server can be started, an interpreter option it does not handle), it ``exec``s the real
interpreter instead, which is what the launcher did before the fork server existed.
"""
import os
import socket
import struct
import sys
import time

PYTHON = os.environ.get("OSCE_LAB_PYTHON") or sys.executable
LIB = os.environ.get("OSCE_LAB_LIB", os.path.dirname(os.path.abspath(__file__)))


def plain_interpreter():
    os.execv(PYTHON, [PYTHON, *sys.argv[1:]])


def address() -> bytes:
    """One server per interpreter, lab library, module search path and version of the lab code it preloads
    (an edited osce_lab module gets a new server, never the old code; abstract socket: no path limit)."""
    import hashlib
    code = sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(os.path.join(LIB, "osce_lab"))
                  if e.name.endswith((".py", ".json")))
    key = "\0".join([PYTHON, LIB, os.environ.get("PYTHONPATH", ""), os.environ.get("OSCE_LAB_PYCACHE", ""),
                     repr(code)])
    return b"\0osce-lab-forkserver-" + hashlib.sha1(key.encode()).hexdigest()[:24].encode()


def start_server(addr: bytes) -> None:
    import subprocess
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (LIB, os.environ.get("PYTHONPATH", "")) if p))
    subprocess.Popen([PYTHON, "-m", "osce_lab.forkserver", addr[1:].decode()], env=env, cwd="/",
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)


def try_connect(addr: bytes) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(addr)
        return sock
    except OSError:
        sock.close()
        return None


def connect(addr: bytes) -> socket.socket:
    sock = try_connect(addr)
    if sock is not None:
        return sock
    start_server(addr)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sock = try_connect(addr)
        if sock is not None:
            return sock
        time.sleep(0.01)
    raise OSError("the lab fork server did not start")


def main() -> None:
    args = sys.argv[1:]
    # Ansible runs the interpreter with no argument (pipelining: the module on stdin) or with a script path;
    # anything else (an interpreter option) goes to the real interpreter.
    if os.environ.get("OSCE_LAB_FORKSERVER", "1") == "0" or (args and args[0].startswith("-")):
        plain_interpreter()
    try:
        sock = connect(address())
        header = repr({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(sock, [struct.pack("!I", len(header)) + header], [0, 1, 2])
    except OSError:
        plain_interpreter()
    # The server answers with the module's exit status once the module has ended; until then this process
    # stands for it (Ansible waits on this pid; a kill of this pid ends the module too, see the server).
    data = b""
    while len(data) < 8:
        chunk = sock.recv(8 - len(data))
        if not chunk:
            sys.exit(255)
        data += chunk
    code, signum = struct.unpack("!ii", data)
    if signum:
        os.kill(os.getpid(), signum)
    sys.exit(code)


main()
