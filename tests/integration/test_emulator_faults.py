"""Faults injected into running instances: functions and extensions that daemonise a child
(``setsid``), crash or hang after doing so, a 10 MiB log line, and SIGTERM to ``rustlambda
watch``. Every process an instance started ends with it, shutdown is quick and prints nothing,
and no log byte is lost.

The functions here are ``tests/fixtures/script-runtime`` (stdlib Python, no build), except
for the watch test, which builds ``hello`` from the std workspace as a user would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rustlambda.emulator import EmulatorSettings, FunctionSpec, LogRecord, running
from rustlambda.emulator.logs import MAX_LINE_BYTES

from .conftest import FIXTURES, copy_fixture, lambda_client
from .test_watch import Watch

SCRIPTS = FIXTURES / "script-runtime"
BOOTSTRAP = SCRIPTS / "bootstrap"
EXTENSION = SCRIPTS / "extension"
#: Upper bound for every wait in this module.
WAIT = 30.0


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for_file(path: Path, timeout: float = WAIT) -> int:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)
    return int(path.read_text())


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """Pids the test expects to be gone; any still alive at the end is killed (and fails)."""
    pids: list[int] = []
    yield pids
    survivors = [pid for pid in pids if alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], f"processes outlived their instance: {survivors}"


def settings() -> EmulatorSettings:
    return EmulatorSettings(port=0, environ=dict(os.environ), ipv6_loopback=False)


def test_a_daemonised_child_ends_with_its_instance_and_shutdown_is_quick(
    tmp_path: Path, daemons: list[int]
) -> None:
    pidfile = tmp_path / "daemon.pid"
    with running([FunctionSpec("f", BOOTSTRAP)], settings()) as emu:
        runtime = json.loads(emu.invoke("f", {"pid": True}, timeout=WAIT).body)
        outcome = emu.invoke("f", {"daemonise": str(pidfile)}, timeout=WAIT)
        assert outcome.status == "success", outcome.body
        daemon = wait_for_file(pidfile)
        daemons.append(daemon)
        assert json.loads(outcome.body) == {"daemon": daemon}
        assert alive(daemon)
        # It left the instance's process group and session: a group signal misses it.
        assert os.getsid(daemon) != runtime["sid"]
        assert os.getpgid(daemon) != runtime["pgid"]
        started = time.monotonic()
    took = time.monotonic() - started
    assert wait_gone(daemon, timeout=1.0)
    assert took < 2.0, f"shutdown took {took:.1f} s"


@pytest.mark.parametrize(
    ("event", "status", "error_type"),
    [
        ({"exit": 3}, "crash", "Runtime.ExitError"),
        ({"hang": True}, "timeout", "Sandbox.Timedout"),
    ],
)
def test_a_daemonised_child_ends_when_its_runtime_crashes_or_times_out(
    tmp_path: Path,
    daemons: list[int],
    event: dict[str, object],
    status: str,
    error_type: str,
) -> None:
    pidfile = tmp_path / "daemon.pid"
    spec = FunctionSpec("f", BOOTSTRAP, timeout=2.0)
    with running([spec], settings()) as emu:
        outcome = emu.invoke("f", {"daemonise": str(pidfile), **event}, timeout=WAIT)
        daemon = wait_for_file(pidfile)
        daemons.append(daemon)
        assert (outcome.status, outcome.error_type) == (status, error_type), outcome.body
        if status == "crash":
            assert b"Runtime exited with error: exit status 3" in outcome.body
        # The instance is gone, and so is everything it started, while the emulator serves on.
        assert wait_gone(daemon), "the daemon survived its instance"
        again = emu.invoke("f", {"n": 1}, timeout=WAIT)
        assert json.loads(again.body) == {"event": {"n": 1}}


def test_an_extension_daemonised_child_ends_with_the_instance(
    tmp_path: Path, daemons: list[int]
) -> None:
    pidfile = tmp_path / "ext-daemon.pid"
    spec = FunctionSpec(
        "f", BOOTSTRAP, env={"SCRIPT_EXTENSION_DAEMON": str(pidfile)}, extensions=(EXTENSION,)
    )
    with running([spec], settings()) as emu:
        assert emu.invoke("f", {"n": 1}, timeout=WAIT).status == "success"
        daemons.append(wait_for_file(pidfile))
        assert alive(daemons[0])
    assert wait_gone(daemons[0], timeout=1.0)


def test_shutdown_prints_nothing(tmp_path: Path) -> None:
    """In a process of its own, as ``rustlambda watch`` runs it: before, the pipe the daemon
    kept open made shutdown take ~7 s and the interpreter print "Event loop is closed"."""
    pidfile = tmp_path / "daemon.pid"
    driver = f"""
import os, sys
from pathlib import Path
from rustlambda.emulator import EmulatorSettings, FunctionSpec, running
spec = FunctionSpec("f", Path({str(BOOTSTRAP)!r}))
settings = EmulatorSettings(port=0, environ=dict(os.environ), ipv6_loopback=False)
with running([spec], settings) as emu:
    print(emu.invoke("f", {{"daemonise": {str(pidfile)!r}}}, timeout=30).status)
"""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", driver], capture_output=True, text=True, timeout=60, check=False
    )
    took = time.monotonic() - started
    daemon = int(pidfile.read_text())
    if alive(daemon):
        os.kill(daemon, signal.SIGKILL)
        pytest.fail("the daemon outlived the emulator")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "success"
    assert done.stderr == ""
    assert took < 10.0


def test_a_10_mib_log_line_arrives_whole_in_lambda_sized_pieces() -> None:
    records: list[LogRecord] = []
    size = 10 * 1024 * 1024
    with running([FunctionSpec("f", BOOTSTRAP)], settings(), on_log=records.append) as emu:
        event = {"log_bytes": size, "chunk": 1024 * 1024, "newline": True}
        outcome = emu.invoke("f", event, timeout=WAIT)
        assert json.loads(outcome.body) == {"written": size}
    pieces = [r.text for r in records if r.source == "function"]
    letters = b"abcdefghijklmnopqrstuvwxyz"
    expected = (letters * (size // len(letters) + 1))[:size]
    assert "".join(pieces).encode() == expected
    assert [len(p) for p in pieces[:-1]] == [MAX_LINE_BYTES] * (len(pieces) - 1)
    assert len(pieces) == -(-size // MAX_LINE_BYTES)
    # The pieces belong to the invocation (LogType=Tail shows its end).
    assert {r.request_id for r in records if r.source == "function"} == {outcome.request_id}


def test_sigterm_to_watch_ends_every_instance_process_and_exits_143(
    tmp_path: Path, build_env: dict[str, str], daemons: list[int]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    ext_dir = tmp_path / "extensions"
    ext_dir.mkdir()
    (ext_dir / "script-ext").write_bytes(EXTENSION.read_bytes())
    (ext_dir / "script-ext").chmod(0o755)
    pidfile = tmp_path / "ext-daemon.pid"
    watch = Watch(
        [
            "--bin",
            "hello",
            "-P",
            "0",
            "--ignore-changes",
            "--extensions-dir",
            str(ext_dir),
            "--env-var",
            f"SCRIPT_EXTENSION_DAEMON={pidfile}",
        ],
        ws,
        build_env,
    )
    try:
        url = watch.wait_for(r"invoke at (http://127\.0\.0\.1:\d+)/", timeout=600)[1]
        response = lambda_client(url).invoke(FunctionName="hello", Payload=b'{"n": 1}')
        assert "FunctionError" not in response, response["Payload"].read()
        daemons.append(wait_for_file(pidfile))
        runtime = _children_named(watch.proc.pid, "bootstrap")
        assert runtime, "no bootstrap process found under rustlambda watch"
        daemons += runtime
        started = time.monotonic()
        watch.proc.send_signal(signal.SIGTERM)
        code = watch.proc.wait(timeout=WAIT)
        took = time.monotonic() - started
    finally:
        watch.stop()
    assert code == 128 + signal.SIGTERM, "\n".join(watch.err_lines[-20:])
    assert took < 5.0, f"watch took {took:.1f} s to stop"
    for pid in daemons:
        assert wait_gone(pid, timeout=1.0), f"{pid} outlived rustlambda watch"
    output = "\n".join(watch.err_lines + watch.out_lines)
    assert "Traceback" not in output and "Event loop is closed" not in output, output


def _children_named(root: int, name: str) -> list[int]:
    """Descendants of ``root`` whose executable is called ``name``."""
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                todo.append(child)
                try:
                    if Path(f"/proc/{child}/exe").resolve().name == name:
                        found.append(child)
                except OSError:
                    pass
    return found
