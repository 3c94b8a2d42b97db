"""A one-shot Lambda Runtime API (2018-06-01) server for proving that a built
``bootstrap`` really answers an invocation.

``invoke_bootstrap`` serves exactly one event to the bootstrap, waits for its
``/response`` or ``/error`` (or for the process to exit), then kills the process
and stops the server. A second ``GET .../invocation/next`` blocks until the
server stops, as it would while Lambda keeps the sandbox frozen.

An arm64 bootstrap runs under ``qemu-aarch64 -L /`` on an x86_64 host when the host has the
arm64 loader itself (Debian multiarch, libc6:arm64), else ``-L /usr/aarch64-linux-gnu`` (a cross
sysroot's ld.so paired with the multiarch libc.so.6 hangs tokio programs); an x86_64 one runs
under ``qemu-x86_64`` on an arm64 host the same way.

Stdlib only. Self-check::

    python tests/runtime_api.py path/to/bootstrap '{"name": "world"}'
"""

from __future__ import annotations

import argparse
import contextlib
import json as _json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Literal

__all__ = [
    "InvocationResult",
    "Kind",
    "elf_arch",
    "invoke_bootstrap",
    "lambda_environment",
]

Kind = Literal["response", "error", "init_error", "exit", "timeout"]

RUNTIME_PREFIX = "/2018-06-01/runtime"
NEXT_PATH = f"{RUNTIME_PREFIX}/invocation/next"
QEMU_PREFIXES = {"arm64": "/usr/aarch64-linux-gnu", "x86_64": "/usr/x86_64-linux-gnu"}
QEMU_BINARIES = {"arm64": "qemu-aarch64", "x86_64": "qemu-x86_64"}
QEMU_LOADERS = {"arm64": "/lib/ld-linux-aarch64.so.1", "x86_64": "/lib64/ld-linux-x86-64.so.2"}
MAX_BODY = 64 * 1024 * 1024
ALREADY_ANSWERED = (
    b'{"errorMessage":"Invocation already answered","errorType":"InvalidStateTransition"}'
)
ACCOUNT = "123456789012"
REGION = "us-east-1"

_ELF_MACHINES = {62: "x86_64", 183: "arm64"}
_ARCH_ALIASES = {
    "arm64": "arm64",
    "aarch64": "arm64",
    "x86_64": "x86_64",
    "x86-64": "x86_64",
    "amd64": "x86_64",
}


@dataclass(frozen=True)
class InvocationResult:
    """What happened to the one invocation.

    ``kind``:
      * ``response``: the bootstrap posted ``/invocation/{id}/response``;
      * ``error``: it posted ``/invocation/{id}/error`` (``error_type`` holds the
        ``Lambda-Runtime-Function-Error-Type`` header, if any);
      * ``init_error``: it posted ``/runtime/init/error``;
      * ``exit``: the process exited without answering;
      * ``timeout``: none of the above within ``timeout`` seconds.

    ``returncode`` is the process's exit status: its own for ``exit``, usually
    ``-9`` otherwise (the process is killed once the answer is in).
    """

    kind: Kind
    body: bytes
    request_id: str
    returncode: int | None
    stderr: str
    stdout: str = ""
    error_type: str | None = None
    requests: tuple[str, ...] = field(default=())
    duration: float = 0.0

    def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _normalise_arch(arch: str) -> str:
    try:
        return _ARCH_ALIASES[arch.lower()]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}") from None


def elf_arch(path: Path) -> str | None:
    """``"x86_64"`` or ``"arm64"`` from an ELF header's ``e_machine``, else None."""
    with open(path, "rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    byteorder: Literal["little", "big"] = "little" if header[5] == 1 else "big"
    return _ELF_MACHINES.get(int.from_bytes(header[18:20], byteorder))


def _host_arch() -> str | None:
    return _ARCH_ALIASES.get(platform.machine().lower())


def _command(bootstrap: Path, arch: str | None) -> list[str]:
    target = _normalise_arch(arch) if arch is not None else elf_arch(bootstrap)
    host = _host_arch()
    if target is None or host is None or target == host:
        return [str(bootstrap)]
    qemu = shutil.which(QEMU_BINARIES[target])
    if qemu is None:
        raise FileNotFoundError(
            f"{QEMU_BINARIES[target]} not found: cannot run a {target} bootstrap on {host}"
        )
    loader = QEMU_LOADERS[target]
    prefix = "/" if Path(loader).exists() else QEMU_PREFIXES[target]
    return [qemu, "-L", prefix, str(bootstrap)]


def lambda_environment(runtime_api: str, function_name: str, task_root: Path) -> dict[str, str]:
    """The environment Lambda gives a custom runtime (credentials are dummies)."""
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{secrets.token_hex(16)}"
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "local-test-session-token",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": (
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib"
            ":/var/task:/var/task/lib:/opt/lib"
        ),
    }


@dataclass
class _Outcome:
    kind: Kind
    body: bytes
    error_type: str | None


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close(); every handler is bounded.
    daemon_threads = False
    block_on_close = True

    def __init__(self, event: bytes, request_id: str, headers: dict[str, str], wait: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.event = event
        self.request_id = request_id
        self.next_headers = headers
        self.max_wait = wait
        self.lock = threading.Lock()
        self.served = False
        self.outcome: _Outcome | None = None
        self.answered = threading.Event()
        self.stopping = threading.Event()
        self.requests: list[str] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed client breaks its connection; that is expected, not news.
        pass

    def record(self, outcome: _Outcome) -> bool:
        with self.lock:
            if self.outcome is not None:
                return False
            self.outcome = outcome
        self.answered.set()
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive clients work too

    def setup(self) -> None:
        super().setup()
        # Bound every socket read and write (a long-poll waits on an Event instead).
        self.connection.settimeout(self.server.max_wait + 5.0)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        for _ in range(MAX_BODY):  # each pass reads >= 1 byte or returns
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                for _ in range(256):  # trailers, up to the empty line
                    if self.rfile.readline(64 * 1024) in (b"\r\n", b"\n", b""):
                        break
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise ValueError("body too large")
            body += self.rfile.read(size)
            self.rfile.readline(1024)
        raise ValueError("too many chunks")

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")
        if self.path != NEXT_PATH:
            self._reply(404, b'{"errorMessage":"not found","errorType":"NotFound"}')
            return
        with self.server.lock:
            first = not self.server.served
            self.server.served = True
        if first:
            self._reply(200, self.server.event, self.server.next_headers)
            return
        # Later polls wait for the end, then get the connection closed unanswered.
        self.server.stopping.wait(self.server.max_wait)
        self.close_connection = True

    def do_POST(self) -> None:
        self.server.requests.append(f"POST {self.path}")
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._reply(413, b'{"errorMessage":"bad body","errorType":"RequestTooLarge"}')
            return
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        invocation = f"{RUNTIME_PREFIX}/invocation/{self.server.request_id}"
        outcome: _Outcome | None
        if self.path == f"{invocation}/response":
            outcome = _Outcome("response", body, None)
        elif self.path == f"{invocation}/error":
            outcome = _Outcome("error", body, error_type)
        elif self.path == f"{RUNTIME_PREFIX}/init/error":
            outcome = _Outcome("init_error", body, error_type)
        elif self.path.startswith(f"{RUNTIME_PREFIX}/invocation/"):
            self._reply(
                400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}'
            )
            return
        else:
            self._reply(404, b'{"errorMessage":"not found","errorType":"NotFound"}')
            return
        # Record before answering, so the process cannot exit ahead of the record.
        if self.server.record(outcome):
            self._reply(202, b'{"status":"OK"}')
        else:
            self._reply(400, ALREADY_ANSWERED)


def _event_bytes(event: bytes | str | Mapping[str, Any] | list[Any]) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return _json.dumps(event).encode("utf-8")


def _trace_id() -> str:
    return (
        f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
        f"Parent={secrets.token_hex(8)};Sampled=0"
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
        proc.kill()
        proc.wait(timeout=10)
    # Anything else left in the process group (the session we started) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _read_all(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", errors="replace")


def invoke_bootstrap(
    bootstrap: Path,
    event: bytes | str | Mapping[str, Any] | list[Any],
    *,
    arch: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    function_name: str = "rustlambda-test",
) -> InvocationResult:
    """Run ``bootstrap`` against a one-shot Runtime API serving ``event``.

    ``arch`` (``arm64``/``aarch64``/``x86_64``) overrides what the ELF header
    says. ``env`` is added to (and overrides) the Lambda environment. Waits at
    most ``timeout`` seconds for an answer; the process is always killed and
    the server's threads joined before returning.
    """
    bootstrap = Path(bootstrap).resolve()
    command = _command(bootstrap, arch)
    payload = _event_bytes(event)
    request_id = str(uuid.uuid4())
    headers = {
        "Lambda-Runtime-Aws-Request-Id": request_id,
        "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout) * 1000)),
        "Lambda-Runtime-Invoked-Function-Arn": (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        ),
        "Lambda-Runtime-Trace-Id": _trace_id(),
    }
    server = _Server(payload, request_id, headers, timeout)
    host, port = server.server_address[:2]
    runtime_api = f"{host!s}:{port}"
    serve = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    serve.start()

    full_env = lambda_environment(runtime_api, function_name, bootstrap.parent)
    full_env.update(env or {})
    started = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    exited = False
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                command,
                env=full_env,
                cwd=bootstrap.parent,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            deadline = started + timeout
            while time.monotonic() < deadline:
                if server.answered.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                    break
                if proc.poll() is not None:
                    exited = True
                    break
        finally:
            if proc is not None:
                _kill(proc)
            server.stopping.set()
            server.shutdown()
            server.server_close()
            serve.join(timeout=10)
        duration = time.monotonic() - started
        stdout, stderr = _read_all(out), _read_all(err)

    outcome = server.outcome
    returncode = proc.returncode if proc is not None else None
    if outcome is not None:
        kind: Kind = outcome.kind
        body, error_type = outcome.body, outcome.error_type
    else:
        kind = "exit" if exited else "timeout"
        body, error_type = b"", None
    return InvocationResult(
        kind=kind,
        body=body,
        request_id=request_id,
        returncode=returncode,
        stderr=stderr,
        stdout=stdout,
        error_type=error_type,
        requests=tuple(server.requests),
        duration=duration,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bootstrap", type=Path)
    parser.add_argument("event", nargs="?", default="{}", help="event JSON (default {})")
    parser.add_argument("--arch", help="arm64 or x86_64 (default: from the ELF header)")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.env)
    result = invoke_bootstrap(
        args.bootstrap, args.event, arch=args.arch, env=extra, timeout=args.timeout
    )
    print(f"kind:       {result.kind}")
    print(f"request_id: {result.request_id}")
    print(f"returncode: {result.returncode}")
    print(f"duration:   {result.duration:.3f}s")
    if result.error_type:
        print(f"error_type: {result.error_type}")
    print(f"body:       {result.text}")
    if result.stdout:
        print("stdout:\n" + result.stdout.rstrip())
    if result.stderr:
        print("stderr:\n" + result.stderr.rstrip())
    return 0 if result.kind == "response" else 1


if __name__ == "__main__":
    sys.exit(main())
