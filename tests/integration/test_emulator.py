"""The local emulator against real bootstraps (x86_64 natively, arm64 under qemu-aarch64) and
real clients (boto3, urllib): answers, errors, crashes, timeouts, limits, concurrency,
extensions, REPORT lines, response streaming, the Runtime API's headers and environment.

The fixture functions act on special events (tests/fixtures/std-workspace/crates/shared/src/
fixture.rs): ``["crash"]`` exits 3, ``["error"]`` fails, ``["sleep"]`` never answers, ``["nap"]``
answers after 400 ms, ``["stream"]``/``["stream-error"]`` answer in streaming mode, ``["big"]``
answers over 6 MB, ``["alloc"]`` touches 64 MiB, ``["env"]``/``["context"]`` describe what the
function saw. Any quoted word in the event counts (``{"after": "crash"}`` crashes too), so
ordinary events here avoid those words as strings.

Every test has its own emulator (port 0, 127.0.0.1) and shares one build of the workspace.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from mypy_boto3_lambda import LambdaClient

import rustlambda
from rustlambda import Arch, BuildOptions, Target
from rustlambda.builder import Artifact
from rustlambda.emulator import (
    EmulatorSettings,
    FunctionSpec,
    LogRecord,
    RunningEmulator,
    running,
)
from rustlambda.emulator.protocol import REQUEST_LIMIT, RESPONSE_LIMIT
from rustlambda.errors import EmulatorError

from .conftest import copy_fixture, lambda_client

X86 = Target.for_arch(Arch.X86_64)
ARM = Target.for_arch(Arch.ARM64)
#: Lambda's architecture name → what the Rust program reports (std::env::consts::ARCH).
RUST_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
BOTH = pytest.mark.parametrize("arch", ["x86_64", "arm64"])
ACCOUNT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
#: Upper bound for every wait on something the emulator does after answering.
WAIT = 30.0

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\t"
    r"Duration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: (?P<memory>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB"
    r"(?:\tInit Duration: (?P<init>\d+\.\d{2}) ms)?"
    r"(?:\t.*)?$"
)


# --------------------------------------------------------------------------- the build
@dataclass(frozen=True)
class Built:
    """The fixture workspace built once for both architectures."""

    functions: Mapping[tuple[str, str], Artifact]  # (arch, function) → artifact
    extensions: Mapping[str, Path]  # arch → probe-ext

    def spec(
        self,
        arch: str,
        function: str = "hello",
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        extension: bool = False,
    ) -> FunctionSpec:
        artifact = self.functions[arch, function]
        return FunctionSpec(
            name=name or function,
            bootstrap=artifact.path,
            env={**artifact.env, **(env or {})},
            timeout=timeout,
            extensions=(self.extensions[arch],) if extension else (),
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Built:
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("emulator"))
    functions = rustlambda.build(
        BuildOptions(cwd=ws, targets=(X86, ARM), bins=("hello", "echo"), environ=build_env)
    )
    extensions = rustlambda.build(
        BuildOptions(
            cwd=ws, targets=(X86, ARM), bins=("probe-ext",), extension=True, environ=build_env
        )
    )
    by_function = {(a.arch.value, a.function): a for a in functions.artifacts}
    assert set(by_function) == {
        (arch, fn) for arch in ("x86_64", "arm64") for fn in ("hello", "echo")
    }
    by_arch = {a.arch.value: a.path for a in extensions.artifacts}
    assert by_arch == {
        "x86_64": ws / "target/lambda/x86_64/extensions/probe-ext",
        "arm64": ws / "target/lambda/arm64/extensions/probe-ext",
    }
    return Built(by_function, by_arch)


# --------------------------------------------------------------------------- helpers
class Logs:
    """Collects the emulator's log records (``on_log``) from its thread."""

    def __init__(self) -> None:
        self._records: list[LogRecord] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def __call__(self, record: LogRecord) -> None:
        with self._changed:
            self._records.append(record)
            self._changed.notify_all()

    def texts(self) -> list[str]:
        return [f"{r.source}#{r.instance} {r.text[:200]}" for r in self.records]

    @property
    def records(self) -> list[LogRecord]:
        with self._lock:
            return list(self._records)

    def wait_for(
        self, predicate: Callable[[LogRecord], bool], what: str, timeout: float = WAIT
    ) -> LogRecord:
        """The first record matching ``predicate``, waiting at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for record in self._records:
                    if predicate(record):
                        return record
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    texts = [r.text for r in self._records]
                    raise AssertionError(f"no log record for {what} in {timeout} s: {texts}")
                self._changed.wait(remaining)

    def platform(self, prefix: str, request_id: str) -> LogRecord:
        """The platform line (START, END, REPORT...) of ``request_id``."""
        return self.wait_for(
            lambda r: (
                r.source == "platform"
                and r.text.startswith(prefix)
                and f"RequestId: {request_id}" in r.text
            ),
            f"{prefix} {request_id}",
        )

    def report(self, request_id: str) -> re.Match[str]:
        record = self.platform("REPORT ", request_id)
        match = REPORT.match(record.text)
        assert match, record.text
        return match


def request_id(response: Mapping[str, Any]) -> str:
    rid = response["ResponseMetadata"].get("RequestId")
    assert isinstance(rid, str) and rid, response["ResponseMetadata"]
    return rid


def payload_json(response: Mapping[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def client_error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response.get("Error", {})
    return error.get("Code", ""), error.get("Message", "")


def json_string(size: int) -> bytes:
    """A valid JSON document (one string) of exactly ``size`` bytes."""
    return b'"' + b"x" * (size - 2) + b'"'


@contextlib.contextmanager
def serving(
    specs: list[FunctionSpec], settings: EmulatorSettings | None = None
) -> Iterator[tuple[RunningEmulator, LambdaClient, Logs]]:
    logs = Logs()
    with running(
        specs, settings or EmulatorSettings(port=0, ipv6_loopback=False), on_log=logs
    ) as emu:
        yield emu, lambda_client(emu.url), logs


# --------------------------------------------------------------------------- answers and errors
@BOTH
def test_boto3_invoke_gets_the_functions_answer(built: Built, arch: str) -> None:
    event = {"source": "emulator-test", "n": 7}
    with serving([built.spec(arch, "hello"), built.spec(arch, "echo")]) as (_, client, logs):
        response = client.invoke(FunctionName="hello", Payload=json.dumps(event).encode())
        answer = payload_json(response)
        rid = request_id(response)
        start = logs.platform("START ", rid)  # the response carries the invocation's id
        by_arn = client.invoke(FunctionName=ACCOUNT_ARN + "echo", Payload=b'{"to": "echo"}')
        echo_answer = payload_json(by_arn)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert answer["function"] == "hello"
    assert answer["arch"] == RUST_ARCH[arch]
    assert answer["event"] == event
    # [workspace.metadata.lambda.env] → artifact.env → FunctionSpec.env → the process
    assert built.functions[arch, "hello"].env["GREETING"] == "hello"
    assert answer["greeting"] == "hello"
    assert start.function == "hello" and start.instance == 1
    assert "FunctionError" not in by_arn
    assert echo_answer["function"] == "echo" and echo_answer["event"] == {"to": "echo"}


@BOTH
def test_handler_error_is_an_unhandled_function_error(built: Built, arch: str) -> None:
    with serving([built.spec(arch)]) as (_, client, _):
        response = client.invoke(FunctionName="hello", Payload=b'["error"]')
        body = payload_json(response)
    assert response["StatusCode"] == 200
    assert response.get("FunctionError") == "Unhandled"
    assert body == {"errorMessage": "asked to fail", "errorType": "HandlerError"}


@BOTH
def test_crash_is_an_exit_error_and_the_next_invoke_gets_a_fresh_instance(
    built: Built, arch: str
) -> None:
    with serving([built.spec(arch)]) as (_, client, logs):
        crash = client.invoke(FunctionName="hello", Payload=b'["crash"]')
        body = payload_json(crash)
        crash_id = request_id(crash)
        after = client.invoke(FunctionName="hello", Payload=b'{"after_crash": true}')
        answer = payload_json(after)
        after_id = request_id(after)
        crashed = logs.platform("START ", crash_id).instance
        fresh = logs.platform("START ", after_id).instance
        report = logs.report(after_id)
        told = logs.wait_for(lambda r: r.source == "function" and "status 3" in r.text, "stderr")
    assert crash.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    assert crash_id in body["errorMessage"]
    assert told.request_id == crash_id  # the function's own stderr, tied to its invocation
    assert "FunctionError" not in after, (answer, logs.texts())
    assert answer["event"] == {"after_crash": True}
    assert fresh != crashed
    assert report["init"] is not None  # a cold start


@BOTH
def test_timeout_answers_in_time_and_the_next_invoke_succeeds(built: Built, arch: str) -> None:
    with serving([built.spec(arch, timeout=2)]) as (_, client, logs):
        t0 = time.monotonic()
        response = client.invoke(FunctionName="hello", Payload=b'["sleep"]')
        body = payload_json(response)
        elapsed = time.monotonic() - t0
        timed_out = logs.platform("REPORT ", request_id(response)).text
        after = client.invoke(FunctionName="hello", Payload=b'{"after_timeout": true}')
        answer = payload_json(after)
        report = logs.report(request_id(after))
    assert response.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    assert 1.9 <= elapsed < 2 + 2, elapsed
    assert "Status: timeout" in timed_out
    assert "FunctionError" not in after, (answer, logs.texts())
    assert answer["event"] == {"after_timeout": True}
    assert report["init"] is not None  # the timed-out instance was replaced


# --------------------------------------------------------------------------- payload limits
def test_request_payload_limit_is_6_mb(built: Built) -> None:
    with serving([built.spec("x86_64")]) as (_, client, logs):
        with pytest.raises(ClientError) as too_big:
            client.invoke(FunctionName="hello", Payload=json_string(REQUEST_LIMIT + 1))
        exact = client.invoke(FunctionName="hello", Payload=json_string(REQUEST_LIMIT))
        answer = payload_json(exact)
        starts = [r for r in logs.records if r.text.startswith("START ")]
    code, message = client_error(too_big)
    assert code == "RequestEntityTooLargeException", message
    assert too_big.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert exact["StatusCode"] == 200
    assert "FunctionError" not in exact
    assert answer["event"] == "x" * (REQUEST_LIMIT - 2)
    assert len(starts) == 1  # the refused payload never reached the function


def test_response_payload_limit_both_ways(built: Built) -> None:
    """A 6 MB event echoed back: an answer of exactly RESPONSE_LIMIT bytes passes, one more
    byte is Function.ResponseSizeTooLarge (the GREETING's length sets the answer's size)."""
    with serving([built.spec("x86_64", env={"GREETING": "g"})]) as (_, client, _):
        small = client.invoke(FunctionName="hello", Payload=b'"ab"')["Payload"].read()
    overhead = len(small) - len(b'"ab"') - len("g")
    room = RESPONSE_LIMIT - REQUEST_LIMIT - overhead
    assert room > 0, (overhead, small)
    specs = [
        built.spec("x86_64", name="fits", env={"GREETING": "g" * room}),
        built.spec("x86_64", name="over", env={"GREETING": "g" * (room + 1)}),
    ]
    payload = json_string(REQUEST_LIMIT)
    with serving(specs) as (_, client, _):
        fits = client.invoke(FunctionName="fits", Payload=payload)
        fits_body = fits["Payload"].read()
        over = client.invoke(FunctionName="over", Payload=payload)
        over_body = payload_json(over)
    assert "FunctionError" not in fits
    assert len(fits_body) == RESPONSE_LIMIT
    assert json.loads(fits_body)["greeting"] == "g" * room
    assert over.get("FunctionError") == "Unhandled"
    assert over_body["errorType"] == "Function.ResponseSizeTooLarge"


@BOTH
def test_big_answer_is_refused_and_the_instance_keeps_working(built: Built, arch: str) -> None:
    with serving([built.spec(arch)]) as (_, client, logs):
        big = client.invoke(FunctionName="hello", Payload=b'["big"]')
        body = payload_json(big)
        big_id = request_id(big)
        after = client.invoke(FunctionName="hello", Payload=b'{"after_big": true}')
        answer = payload_json(after)
        after_id = request_id(after)
        served_big = logs.platform("START ", big_id).instance
        served_after = logs.platform("START ", after_id).instance
        report = logs.report(after_id)
    assert big.get("FunctionError") == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "FunctionError" not in after, (answer, logs.texts())
    assert answer["event"] == {"after_big": True}
    assert served_after == served_big
    assert report["init"] is None  # a warm invoke on the same instance


# --------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("concurrency", [4, 1])
def test_concurrency_from_timestamps(built: Built, concurrency: int) -> None:
    settings = EmulatorSettings(port=0, concurrency=concurrency, ipv6_loopback=False)
    with serving([built.spec("x86_64")], settings) as (emu, _, logs):
        clients = [lambda_client(emu.url) for _ in range(4)]
        barrier = threading.Barrier(4, timeout=WAIT)
        ids: list[str] = []
        failures: list[BaseException] = []

        def call(i: int) -> None:
            try:
                barrier.wait()
                response = clients[i].invoke(
                    FunctionName="hello", Payload=json.dumps(["nap", i]).encode()
                )
                answer = payload_json(response)
                assert "FunctionError" not in response, answer
                assert answer["event"] == ["nap", i]
                ids.append(request_id(response))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * WAIT)
        assert not any(t.is_alive() for t in threads)
        if failures:
            raise failures[0]
        starts = [logs.platform("START ", rid) for rid in ids]
        ends = [logs.platform("END ", rid) for rid in ids]
    instances = {s.instance for s in starts}
    if concurrency == 4:
        assert len(instances) == 4
        assert max(s.time for s in starts) < min(e.time for e in ends)  # all four overlap
    else:
        assert instances == {1}
        spans = sorted(zip((s.time for s in starts), (e.time for e in ends), strict=True))
        for (_, previous_end), (start, _) in itertools.pairwise(spans):
            assert start >= previous_end  # one at a time


# --------------------------------------------------------------------------- extensions
@BOTH
def test_extension_hears_invoke_and_shutdown(built: Built, arch: str, tmp_path: Path) -> None:
    log = tmp_path / "probe-ext.jsonl"
    spec = built.spec(arch, env={"PROBE_EXT_LOG": str(log)}, extension=True)
    with serving([spec]) as (emu, _, logs):
        outcome = emu.invoke("hello", {"with": "extension"}, timeout=WAIT)
        registered = logs.wait_for(
            lambda r: r.source == "extension:probe-ext" and "registered" in r.text, "register"
        )
    assert outcome.status == "success", outcome.body
    assert json.loads(outcome.body)["event"] == {"with": "extension"}
    assert registered.instance == outcome.instance
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["INVOKE", "SHUTDOWN"], events
    invoke, shutdown = events
    assert invoke["requestId"] == outcome.request_id
    assert invoke["invokedFunctionArn"] == ACCOUNT_ARN + "hello"
    assert invoke["deadlineMs"] > outcome.started * 1000
    assert shutdown["shutdownReason"] == "spindown"


def test_extension_hears_failure_when_the_runtime_crashes(built: Built, tmp_path: Path) -> None:
    log = tmp_path / "probe-ext.jsonl"
    spec = built.spec("x86_64", env={"PROBE_EXT_LOG": str(log)}, extension=True)
    with serving([spec]) as (emu, _, _):
        crash = emu.invoke("hello", ["crash"], timeout=WAIT)
        after = emu.invoke("hello", {"after_crash": True}, timeout=WAIT)
    assert crash.status == "crash" and after.status == "success", (crash, after)
    assert after.instance != crash.instance
    events = [json.loads(line) for line in log.read_text().splitlines()]
    # each instance has its own probe-ext (their lines may interleave in the shared log):
    # the crashed instance's is shut down with "failure", the other's with "spindown" at the end
    seen = sorted(
        (e["eventType"], e.get("requestId") or "", e.get("shutdownReason") or "") for e in events
    )
    assert seen == sorted(
        [
            ("INVOKE", crash.request_id, ""),
            ("SHUTDOWN", "", "failure"),
            ("INVOKE", after.request_id, ""),
            ("SHUTDOWN", "", "spindown"),
        ]
    )
    assert events[-1]["shutdownReason"] == "spindown"


# --------------------------------------------------------------------------- REPORT lines
@BOTH
def test_report_lines_cold_warm_and_measured_memory(built: Built, arch: str) -> None:
    with serving([built.spec(arch)]) as (_, client, logs):
        ids: list[str] = []
        for event in (b'{"n": 1}', b'{"n": 2}', b'["alloc"]'):
            response = client.invoke(FunctionName="hello", Payload=event)
            answer = payload_json(response)
            assert "FunctionError" not in response, answer
            ids.append(request_id(response))
        first, second, alloc = (logs.report(rid) for rid in ids)
    assert answer["allocated_mib"] == 64
    for report in (first, second, alloc):
        assert report["memory"] == "128"
        assert int(report["billed"]) >= float(report["duration"])
    assert first["init"] is not None and float(first["init"]) > 0
    assert second["init"] is None and alloc["init"] is None
    assert int(first["used"]) < 64 and int(second["used"]) < 64
    assert 64 <= int(alloc["used"]) <= 512


# --------------------------------------------------------------------------- streaming
@BOTH
def test_response_streaming(built: Built, arch: str) -> None:
    with serving([built.spec(arch)]) as (_, client, _):
        streamed = client.invoke_with_response_stream(FunctionName="hello", Payload=b'["stream"]')
        events = list(streamed["EventStream"])
        failing = client.invoke_with_response_stream(
            FunctionName="hello", Payload=b'["stream-error"]'
        )
        failing_events = list(failing["EventStream"])
        plain = client.invoke(FunctionName="hello", Payload=b'["stream"]')
        plain_body = plain["Payload"].read()
    assert streamed["StatusCode"] == 200
    chunks = [e["PayloadChunk"].get("Payload", b"") for e in events[:-1]]
    assert b"".join(chunks) == b"chunk-1\nchunk-2\nchunk-3\n"
    assert len(chunks) >= 2  # passed on as the function sent them, not in one piece
    assert "InvokeComplete" in events[-1]
    assert "ErrorCode" not in events[-1]["InvokeComplete"]

    assert [e["PayloadChunk"].get("Payload") for e in failing_events[:-1]] == [b"partial\n"]
    complete = failing_events[-1]["InvokeComplete"]
    assert complete.get("ErrorCode") == "StreamError"
    assert json.loads(complete.get("ErrorDetails", "{}")) == {
        "errorMessage": "stream failed",
        "errorType": "StreamError",
    }

    assert "FunctionError" not in plain
    assert plain_body == b"chunk-1\nchunk-2\nchunk-3\n"


# --------------------------------------------------------------------------- what a function sees
@BOTH
def test_runtime_api_headers_reach_the_function(built: Built, arch: str) -> None:
    context = {"client": {"installation_id": "emulator-test"}, "custom": {"k": "v"}, "env": {}}
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    with serving([built.spec(arch, timeout=30)]) as (_, client, logs):
        before_ms = time.time() * 1000
        response = client.invoke(
            FunctionName="hello", Payload=b'["context"]', ClientContext=encoded
        )
        after_ms = time.time() * 1000
        seen = payload_json(response)
        rid = request_id(response)
        start = logs.platform("START ", rid)
    assert "FunctionError" not in response, seen
    assert seen["request_id"] == rid
    assert start.request_id == rid
    assert after_ms < seen["deadline_ms"] <= after_ms + 30_000
    assert seen["deadline_ms"] >= before_ms + 30_000 - 1000  # the function's timeout ahead
    assert seen["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:hello"
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]", seen["trace_id"]
    ), seen["trace_id"]
    assert seen["xray_env"] == seen["trace_id"]
    assert seen["client_context"] == context
    assert seen["cognito_identity"] is None


@BOTH
def test_function_environment_and_reserved_variables(built: Built, arch: str) -> None:
    spec = built.spec(arch, env={"AWS_REGION": "xx", "CUSTOM_VAR": "custom"})
    with serving([spec]) as (emu, client, _):
        response = client.invoke(FunctionName="hello", Payload=b'["env"]')
        env = payload_json(response)
        warnings = list(emu.emulator.warnings)
    assert "FunctionError" not in response, env
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_REGION"] == "us-east-1"  # not the function's "xx"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["LAMBDA_TASK_ROOT"] == str(built.functions[arch, "hello"].path.resolve().parent)
    assert env["TZ"] == ":UTC"
    assert env["_HANDLER"]
    assert env["CUSTOM_VAR"] == "custom" and env["GREETING"] == "hello"
    assert "AWS_EXECUTION_ENV" not in env  # custom runtimes get none
    assert any("hello" in w and "AWS_REGION" in w for w in warnings), warnings


@BOTH
def test_init_error_is_reported_to_the_caller(built: Built, arch: str) -> None:
    spec = built.spec(arch, env={"FIXTURE_INIT_ERROR": "boom"})
    with serving([spec]) as (_, client, logs):
        response = client.invoke(FunctionName="hello", Payload=b'{"n": 1}')
        body = payload_json(response)
        init_reports = [r.text for r in logs.records if r.text.startswith("INIT_REPORT")]
        starts = [r for r in logs.records if r.text.startswith("START ")]
    assert response.get("FunctionError") == "Unhandled"
    assert body == {"errorMessage": "boom", "errorType": "Fixture.InitError"}
    assert init_reports == ["INIT_REPORT Status: error\tErrorType: Fixture.InitError"]
    assert not starts  # the event never reached a handler


# --------------------------------------------------------------------------- the Invoke API
def test_event_and_dry_run_invocations_and_log_tail(built: Built) -> None:
    with serving([built.spec("x86_64")]) as (_, client, logs):
        dry = client.invoke(FunctionName="hello", InvocationType="DryRun", Payload=b"{}")
        queued = client.invoke(FunctionName="hello", InvocationType="Event", Payload=b'{"a": 1}')
        queued_body = queued["Payload"].read()
        start = logs.wait_for(
            lambda r: r.source == "platform" and r.text.startswith("START "), "the Event's START"
        )
        assert start.request_id is not None
        event_report = logs.platform("REPORT ", start.request_id).text
        tail = client.invoke(FunctionName="hello", Payload=b'{"tail": true}', LogType="Tail")
        tail_answer = payload_json(tail)
        tail_id = request_id(tail)
        starts = [r.request_id for r in logs.records if r.text.startswith("START ")]
    assert dry["StatusCode"] == 204
    assert queued["StatusCode"] == 202
    assert queued_body == b""
    assert "Status:" not in event_report  # it ran to success, after the 202
    assert starts == [start.request_id, tail_id]  # DryRun ran nothing
    assert tail_answer["event"] == {"tail": True}
    lines = base64.b64decode(tail["LogResult"]).decode().splitlines()
    assert lines[0] == f"START RequestId: {tail_id} Version: $LATEST"
    assert f"END RequestId: {tail_id}" in lines
    report = REPORT.match(lines[-1])
    assert report is not None and report["id"] == tail_id, lines


def test_unknown_function_and_the_rie_path(built: Built) -> None:
    with serving([built.spec("x86_64")]) as (emu, client, _):
        with pytest.raises(ClientError) as missing:
            client.invoke(FunctionName="nope", Payload=b"{}")
        request = urllib.request.Request(
            f"{emu.url}/2015-03-31/functions/function/invocations",
            data=b'{"via": "rie"}',
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            status, answer = response.status, json.loads(response.read())
    code, message = client_error(missing)
    assert code == "ResourceNotFoundException"
    assert "nope" in message
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert status == 200
    assert answer["function"] == "hello" and answer["event"] == {"via": "rie"}

    # with two functions, "function" names none of them
    with serving([built.spec("x86_64", "hello"), built.spec("x86_64", "echo")]) as (emu, _, _):
        request = urllib.request.Request(
            f"{emu.url}/2015-03-31/functions/function/invocations", data=b"{}", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as ambiguous:
            urllib.request.urlopen(request, timeout=WAIT)
        ambiguous.value.close()
    assert ambiguous.value.code == 404


def test_missing_qemu_is_a_clear_error(built: Built) -> None:
    settings = EmulatorSettings(port=0, environ={"PATH": "/nonexistent"}, ipv6_loopback=False)
    with pytest.raises(EmulatorError) as missing:  # noqa: SIM117 - the with must raise
        with running([built.spec("arm64")], settings):
            pytest.fail("the emulator started an arm64 function without qemu")
    assert "qemu-aarch64" in missing.value.message
    assert "apt-get install qemu-user" in missing.value.fix
    # the host's own architecture needs no qemu
    with running([built.spec("x86_64")], settings) as emu:
        outcome = emu.invoke("hello", {"n": 1}, timeout=WAIT)
    assert outcome.status == "success", outcome.body
