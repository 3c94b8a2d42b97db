"""``rustlambda watch`` as a user runs it: a real process, both architectures, a source edit,
boto3 and ``rustlambda invoke`` as clients, Ctrl-C at the end."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mypy_boto3_lambda import LambdaClient

from .conftest import copy_fixture, lambda_client, run_cli


class Watch:
    """A running ``rustlambda watch`` whose output lines are collected by reader threads."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rustlambda", "watch", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: queue.Queue[str] = queue.Queue()
        self.err_lines: list[str] = []
        self.out_lines: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stderr, True), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stdout, False), daemon=True).start()

    def _read(self, stream: object, is_err: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            line = line.rstrip("\n")
            if is_err:
                self.err_lines.append(line)
                self.err.put(line)
            else:
                self.out_lines.append(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first new stderr line matching ``pattern``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.proc.poll() is not None and self.err.empty()):
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout} s; exit "
                    f"{self.proc.poll()}; stderr:\n" + "\n".join(self.err_lines[-40:])
                )
            try:
                line = self.err.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                continue
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise
        return self.proc.returncode


@pytest.fixture
def workspace(tmp_path: Path, build_env: dict[str, str]) -> Path:
    ws = copy_fixture("std-workspace", tmp_path)
    # The extension is built first, as a user would ship it in a layer; watch starts it.
    built = run_cli(
        "build", "--extension", "--bin", "probe-ext", "--arm64", "--x86-64", cwd=ws, env=build_env
    )
    assert built.returncode == 0, built.stderr
    return ws


@pytest.fixture
def watching(
    workspace: Path, build_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[Watch, str, Path]]:
    ext_log = tmp_path / "probe-ext.log"
    watch = Watch(
        [
            "--arm64",
            "--x86-64",
            "--bin",
            "hello",
            "--bin",
            "echo",
            "-P",
            "0",
            "--timeout",
            "5",
            "--env-var",
            f"GREETING=hi,PROBE_EXT_LOG={ext_log}",
        ],
        workspace,
        build_env,
    )
    try:
        url = watch.wait_for(r"invoke at (http://127\.0\.0\.1:\d+)/", timeout=600)[1]
        watch.wait_for(r"watching .* for changes", timeout=30)
        yield watch, url, ext_log
    finally:
        watch.stop()


def invoke(client: LambdaClient, name: str, payload: object) -> tuple[dict[str, Any], str | None]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_watch_serves_both_architectures_reloads_an_edit_and_shuts_down(
    watching: tuple[Watch, str, Path], workspace: Path, build_env: dict[str, str]
) -> None:
    watch, url, ext_log = watching
    client = lambda_client(url)

    for name, arch in (("hello-x86_64", "x86_64"), ("hello-arm64", "aarch64"), ("hello", "x86_64")):
        body, error = invoke(client, name, {"n": 1})
        assert error is None, body
        assert body["function"] == "hello" and body["arch"] == arch
        assert body["greeting"] == "hi"  # --env-var reaches the function
        assert body["event"] == {"n": 1}
    body, error = invoke(client, "echo-arm64", ["error"])
    assert error == "Unhandled" and body["errorType"] == "HandlerError"

    # rustlambda invoke against the same server
    port = url.rsplit(":", 1)[1]
    ok = run_cli(
        "invoke",
        "hello-arm64",
        "-P",
        port,
        "--data-ascii",
        '{"k": 2}',
        cwd=workspace,
        env=build_env,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["event"] == {"k": 2}
    failed = run_cli(
        "invoke",
        "echo",
        "-P",
        port,
        "--data-ascii",
        '["error"]',
        cwd=workspace,
        env=build_env,
        timeout=60,
    )
    assert failed.returncode == 20 and "HandlerError" in failed.stderr

    # A source edit: only hello's bootstraps change, so only hello gets new instances.
    main_rs = workspace / "functions/hello/src/main.rs"
    main_rs.write_text(main_rs.read_text().replace('handle("hello"', 'handle("hello-edited"'))
    assert "hello-edited" in main_rs.read_text()
    restarted = watch.wait_for(r"new instances for: (.*)", timeout=600)[1]
    assert set(restarted.split(", ")) == {"hello-x86_64", "hello-arm64"}
    for name in ("hello-x86_64", "hello-arm64"):
        body, error = invoke(client, name, {"n": 2})
        assert error is None and body["function"] == "hello-edited", body
    body, _ = invoke(client, "echo-x86_64", {"n": 3})
    assert body["function"] == "echo"

    # Ctrl-C: SHUTDOWN reaches the extension of every live instance, and watch exits 0.
    assert watch.stop() == 0, "\n".join(watch.err_lines[-20:])
    events = [json.loads(line) for line in ext_log.read_text().splitlines()]
    shutdowns = [e for e in events if e["eventType"] == "SHUTDOWN"]
    assert shutdowns and all(e["shutdownReason"] == "spindown" for e in shutdowns)
    assert any(e["eventType"] == "INVOKE" for e in events)

    reports = [line for line in watch.out_lines if "\tMax Memory Used: " in line]
    assert reports, watch.out_lines[-20:]
    for line in reports:
        used = int(re.search(r"Max Memory Used: (\d+) MB", line)[1])  # type: ignore[index]
        assert 1 <= used <= 512, line


def test_watch_refuses_a_busy_port(workspace: Path, build_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "watch",
            "--bin",
            "hello",
            "-P",
            str(port),
            "--ignore-changes",
            cwd=workspace,
            env=build_env,
            timeout=600,
        )
    assert result.returncode == 17, result.stderr
    assert "already in use" in result.stderr and "--invoke-port" in result.stderr
    assert "Traceback" not in result.stderr
