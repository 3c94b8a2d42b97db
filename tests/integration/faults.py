"""Fault injection for the fault tests: tmpfs mounts (full, read-only), read-only bind mounts,
the processes a run left behind, a snapshot of a folder, an error output's shape, and an HTTP
proxy in front of moto that holds chosen requests (to stop a deploy halfway), and a CLI run
read as it goes (to signal it at the right moment).

Mounting needs root (CI runs as root); as another user the tests that mount are skipped with
the reason, never passed."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def _mount(*argv: str) -> None:
    done = subprocess.run(["mount", *argv], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"mount {' '.join(argv)} failed: {done.stderr.strip()}")


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "16m", *, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (read-only: a mounted then remounted ro, so root, who
    ignores permission bits, cannot write either)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    try:
        if read_only:
            _mount("-o", "remount,ro", str(path))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_view(source: Path, path: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``path`` (a bind mount remounted ro)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    _mount("-o", "remount,ro", str(path))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, hidden ones included, and its bytes (empty: no folder)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def kill_mentioning(text: str) -> None:
    """SIGKILL what a failed test left running (processes whose command line has ``text``)."""
    for line in processes_mentioning(text):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split(":", 1)[0]), 9)


def processes_mentioning(text: str) -> list[str]:
    """Live processes (zombies have no command line) whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            shown = cmdline.replace(b"\0", b" ")[:160].decode(errors="replace")
            found.append(f"{entry.name}: {shown}")
    return found


def assert_one_error(stderr: str, *fragments: str, tool_output: bool = False) -> str:
    """One ``error:`` line, then its ``fix:`` line, no traceback; the two lines returned.
    ``tool_output``: the failed tool's output (cargo's own ``error:`` lines) comes first, and
    rustlambda's error is the last one."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    if tool_output:
        errors = errors[-1:]
    assert len(errors) == 1, stderr
    assert lines[-1].startswith("fix: ") and errors[0] == len(lines) - 2, stderr
    assert errors[0] + 1 < len(lines) and lines[errors[0] + 1].startswith("fix: "), stderr
    text = lines[errors[0]] + "\n" + lines[errors[0] + 1]
    for fragment in fragments:
        assert fragment in text, (fragment, stderr)
    return text


class HoldingProxy:
    """Forwards HTTP requests to ``upstream``; a request ``hold`` matches is never answered
    (until the proxy closes): a deploy waits there as on a stalled AWS call."""

    def __init__(self, upstream: str, hold: Callable[[str, str], bool]) -> None:
        self.held = threading.Event()
        self.held_count = 0  # requests held so far
        count_lock = threading.Lock()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if hold(self.command, self.path):
                    with count_lock:
                        proxy.held_count += 1
                    proxy.held.set()
                    proxy._release.wait(120)
                    self.close_connection = True
                    return
                request = urllib.request.Request(upstream + self.path, body, method=self.command)
                for key, value in self.headers.items():
                    if key.lower() not in ("host", "connection", "content-length"):
                        request.add_header(key, value)
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, headers, data = response.status, response.headers, response.read()
                except urllib.error.HTTPError as exc:
                    status, headers, data = exc.code, exc.headers, exc.read()
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HoldingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


class Running:
    """``rustlambda ARGV`` started as a user's shell would, its stderr read as it comes."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], *, session: bool) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rustlambda", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=session,  # its own process group, as a terminal's foreground job
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"ended before {what}: {''.join(self.lines)}"
            assert time.monotonic() < deadline, f"no {what} in {timeout} s: {''.join(self.lines)}"
            time.sleep(0.1)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # a failed test leaves nothing running
            raise
        self._reader.join(10)
        return code, "".join(self.lines)
