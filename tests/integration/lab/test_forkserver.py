"""The lab interpreter (launcher -> tests/lab/lab_client.py -> osce_lab.forkserver) behaves as a plain
Python interpreter would for the module it runs: streams, exit status, environment, working directory,
atexit hooks, uncaught exceptions, a script path; and a killed client takes its module process with it
(a controller killed mid-call leaves no module running behind its back)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "tests" / "lab"
CLIENT = LAB / "lab_client.py"


def lab_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OSCE_LAB_LIB=str(LAB), OSCE_LAB_PYTHON=sys.executable,
               PYTHONPATH=str(LAB / "lab_site"), OSCE_LAB_FORKSERVER="1")
    env.update(extra)
    return env


def run(source: str, *args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-S", "-I", str(CLIENT), *args], input=source, text=True,
                          capture_output=True, env=lab_env(**extra), cwd=cwd, timeout=60, check=False)


@pytest.mark.parametrize("served", ["1", "0"], ids=["fork-server", "plain-interpreter"])
def test_streams_status_environment_and_atexit_as_a_plain_interpreter(tmp_path, served):
    source = ("import atexit, os, sys\n"
              "atexit.register(lambda: print('atexit ran', flush=True))\n"
              "print(os.environ['LAB_TEST_VALUE'], os.getcwd(), sys.stdin.read() == '', sep='|')\n"
              "print('to stderr', file=sys.stderr)\n"
              "sys.exit(3)\n")
    done = run(source, cwd=tmp_path, LAB_TEST_VALUE="from-the-client", OSCE_LAB_FORKSERVER=served)
    assert done.returncode == 3, done.stderr
    assert done.stdout.splitlines() == [f"from-the-client|{tmp_path}|True", "atexit ran"]
    assert done.stderr.strip() == "to stderr"


def test_uncaught_exception_and_script_path(tmp_path):
    done = run("raise ValueError('boom')\n")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ValueError: boom" in done.stderr
    script = tmp_path / "module.py"
    script.write_text("import sys\nprint(sys.argv[1:], __name__)\n")
    done = run("", str(script), "arg")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['arg'] __main__"


def test_a_killed_client_takes_its_module_process_with_it(tmp_path):
    pid_file = tmp_path / "module.pid"
    source = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    client = subprocess.Popen([sys.executable, "-S", "-I", str(CLIENT)], stdin=subprocess.PIPE, text=True,
                              env=lab_env())
    client.stdin.write(source)
    client.stdin.close()
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the module process never started"
        time.sleep(0.05)
    module_pid = int(pid_file.read_text())
    assert module_pid != client.pid   # it runs in a forked child, not in the client
    client.send_signal(signal.SIGKILL)
    client.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        try:
            os.kill(module_pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the module process outlived its killed client"
        time.sleep(0.05)
