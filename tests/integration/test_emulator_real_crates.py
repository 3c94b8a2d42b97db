"""The emulator against functions written with the crates users use — lambda_http (buffered and
streaming), lambda_runtime (streaming, run_concurrent), lambda-extension (logs and telemetry
processors), aws-sdk-rust — on both architectures (arm64 under qemu), with the clients users
use: HTTP requests to the function-URL front (http.client, as curl), boto3.

The fixtures are tests/fixtures/real-crates (README there), built once per session for both
architectures by conftest.py's ``real_crates_zig`` (shared with test_real_crates.py).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from rustlambda.emulator import EmulatorSettings, FunctionSpec, LogRecord, RunningEmulator, running
from rustlambda.emulator import client as invoke_client
from rustlambda.emulator.aws_env import resolve_aws_environment

from .conftest import Moto, RealCratesBuild, lambda_client

BOTH = pytest.mark.parametrize("arch", ["x86_64", "arm64"])
RUST_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
#: Upper bound for every wait here (arm64 runs under qemu).
WAIT = 60.0


def settings(**overrides: Any) -> EmulatorSettings:
    base: dict[str, Any] = {"port": 0, "ipv6_loopback": False, "environ": {"PATH": _path()}}
    base.update(overrides)
    return EmulatorSettings(**base)


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve(
    build: RealCratesBuild,
    arch: str,
    function: str,
    *,
    extension: Path | None = None,
    env: Mapping[str, str] | None = None,
    max_concurrency: int = 1,
    emulator_settings: EmulatorSettings | None = None,
    logs: list[LogRecord] | None = None,
) -> Iterator[RunningEmulator]:
    spec = FunctionSpec(
        function,
        build.bootstrap(arch, function),
        env=dict(env or {}),
        extensions=(extension,) if extension is not None else (),
        max_concurrency=max_concurrency,
        timeout=WAIT,
    )
    on_log = logs.append if logs is not None else None
    with running([spec], emulator_settings or settings(), on_log=on_log) as emu:
        yield emu


def request(
    emu: RunningEmulator,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=WAIT)
    conn.request(method, target, body=body, headers=dict(headers or {}))
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


# --------------------------------------------------------------------------- HTTP front


@BOTH
def test_http_get_with_query_and_cookies(real_crates_zig: RealCratesBuild, arch: str) -> None:
    with serve(real_crates_zig, arch, "http") as emu:
        response, data = request(
            emu,
            "GET",
            "/lambda-url/http/items/42?color=red&color=blue&size=L",
            headers={"Cookie": "session=abc; theme=dark", "User-Agent": "curl/8.5"},
        )
        assert response.status == 200, data
        answer = json.loads(data)
        assert answer["function"] == "http" and answer["arch"] == RUST_ARCH[arch]
        assert answer["method"] == "GET"
        assert answer["raw_path"] == "/items/42"
        assert answer["query"] == {"color": ["red", "blue"], "size": ["L"]}
        assert answer["cookies"] == ["session=abc", "theme=dark"]
        assert answer["user_agent"] == "curl/8.5"
        assert answer["body"] == {"kind": "empty"}
        assert response.getheader("x-fixture") == "http"
        assert response.getheader("content-type") == "application/json"
        assert response.getheader("set-cookie") == "fixture=http; Path=/"
        # With one function, any path the Invoke API does not own reaches it as well.
        teapot, data = request(emu, "GET", "/status/418")
        assert teapot.status == 418
        assert json.loads(data)["raw_path"] == "/status/418"


@BOTH
def test_http_post_with_a_binary_body(real_crates_zig: RealCratesBuild, arch: str) -> None:
    payload = bytes(range(256)) * 4
    with serve(real_crates_zig, arch, "http") as emu:
        response, data = request(
            emu,
            "POST",
            "/lambda-url/http/upload",
            body=payload,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status == 200, data
        body = json.loads(data)["body"]
        assert body["kind"] == "binary" and body["len"] == len(payload)
        assert bytes.fromhex(body["hex"]) == payload


@BOTH
def test_streaming_http_response_arrives_in_pieces(
    real_crates_zig: RealCratesBuild, arch: str
) -> None:
    chunks, delay_ms = 4, 300
    with serve(real_crates_zig, arch, "http-stream") as emu:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=WAIT)
        conn.request("GET", f"/lambda-url/http-stream/anything?chunks={chunks}&delay_ms={delay_ms}")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("content-type") == "text/plain"
        assert response.getheader("x-fixture") == "http-stream"
        assert response.getheader("set-cookie") == "stream=1; Path=/"
        assert response.getheader("transfer-encoding") == "chunked"
        arrivals: list[tuple[float, bytes]] = []
        while line := response.readline():  # each part is one line, sent 300 ms apart
            arrivals.append((time.monotonic(), line))
        conn.close()
    assert [line for _, line in arrivals] == [f"part {i}\n".encode() for i in range(chunks)]
    # The first part reached the client well before the last was written: relayed, not buffered.
    assert arrivals[-1][0] - arrivals[0][0] >= (chunks - 1) * delay_ms / 1000 * 0.8


# --------------------------------------------------------------------------- response streaming


@BOTH
def test_invoke_with_response_stream_on_a_lambda_runtime_function(
    real_crates_zig: RealCratesBuild, arch: str
) -> None:
    with serve(real_crates_zig, arch, "stream") as emu:
        client = lambda_client(emu.url)
        response = client.invoke_with_response_stream(
            FunctionName="stream", Payload=json.dumps({"chunks": 3, "delay_ms": 200}).encode()
        )
        # boto3 reads the function's own content type from the response.
        assert response["ResponseStreamContentType"] == (
            "application/vnd.awslambda.http-integration-response"
        )
        pieces: list[bytes] = []
        complete: dict[str, Any] = {}
        for event in response["EventStream"]:
            if "PayloadChunk" in event:
                pieces.append(event["PayloadChunk"]["Payload"])
            elif "InvokeComplete" in event:
                complete = dict(event["InvokeComplete"])
        assert "ErrorCode" not in complete, complete
        assert len(pieces) >= 3  # the prelude, then one piece per chunk
        prelude, body = invoke_client.split_http_integration_response(b"".join(pieces))
        assert prelude is not None and prelude["statusCode"] == 200
        rust = RUST_ARCH[arch]
        assert body == b"".join(f"chunk {i} of 3 from {rust}\n".encode() for i in range(3))
        # rustlambda invoke shows the body without the prelude.
        shown = invoke_client.invoke(emu.url, "stream", b'{"chunks": 2, "delay_ms": 1}')
        assert shown.body == f"chunk 0 of 2 from {rust}\nchunk 1 of 2 from {rust}\n".encode()
        assert shown.prelude is not None


@BOTH
def test_pretty_client_context_with_any_characters_reaches_lambda_runtime(
    real_crates_zig: RealCratesBuild, arch: str
) -> None:
    context = json.dumps({"custom": {"who": "Zoë ✓ 😀"}, "env": {"k": "v"}}, indent=4)
    with serve(real_crates_zig, arch, "concurrent") as emu:
        answer = invoke_client.invoke(
            emu.url, "concurrent", b'{"sleep_ms": 1}', client_context=context, timeout=WAIT
        )
        assert answer.function_error is None, answer.body
        assert json.loads(answer.body)["function"] == "concurrent"


# --------------------------------------------------------------------------- extensions


def as_layer(build: RealCratesBuild, arch: str, root: Path) -> Path:
    """The ``ext`` binary where a layer puts it, <layer>/extensions/ext: it registers under its
    file name."""
    layer = root / arch / "extensions"
    layer.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(build.bootstrap(arch, "ext"), layer / "ext"))


def ext_records(
    path: Path, timeout: float = WAIT, until: str | None = None
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        records = [json.loads(line) for line in lines]
        if until is None or any(until in json.dumps(r) for r in records):
            return records
        assert time.monotonic() < deadline, f"no {until!r} in {records}"
        time.sleep(0.1)


@BOTH
@pytest.mark.parametrize("processor", ["logs", "telemetry"])
def test_lambda_extension_processors_receive_events(
    real_crates_zig: RealCratesBuild, arch: str, processor: str, tmp_path: Path
) -> None:
    record_file = tmp_path / "ext.jsonl"
    env = {
        "EXT_RECORD_FILE": str(record_file),
        "EXT_PROCESSORS": processor,
        "EXT_LOGS_PORT": str(free_port()),
        "EXT_TELEMETRY_PORT": str(free_port()),
    }
    with serve(
        real_crates_zig,
        arch,
        "stream",
        extension=as_layer(real_crates_zig, arch, tmp_path),
        env=env,
    ) as emu:
        outcome = emu.invoke("stream", {"chunks": 2, "delay_ms": 1}, timeout=WAIT)
        assert outcome.status == "success", outcome.body
        ext_records(record_file, until="platform.report" if processor == "telemetry" else "Report")
    records = ext_records(record_file)
    registered = [r for r in records if r["source"] == "registered"]
    assert registered == [
        {
            "source": "registered",
            "function_name": "stream",
            "function_version": "$LATEST",
            "account_id": "123456789012",
        }
    ]
    events = [r for r in records if r["source"] == "event"]
    assert [e["type"] for e in events] == ["INVOKE", "SHUTDOWN"]
    assert events[0]["request_id"] == outcome.request_id
    assert events[1]["reason"] == "spindown"
    if processor == "telemetry":
        telemetry = [r["event"] for r in records if r["source"] == "telemetry"]
        types = [t["type"] for t in telemetry]
        for wanted in (
            "platform.initStart",
            "platform.initRuntimeDone",
            "platform.initReport",
            "platform.start",
            "platform.runtimeDone",
            "platform.report",
        ):
            assert wanted in types, types
        report = next(t for t in telemetry if t["type"] == "platform.report")
        assert report["record"]["requestId"] == outcome.request_id
        assert report["record"]["status"] == "success"
        assert report["record"]["metrics"]["maxMemoryUsedMB"] >= 1
    else:
        logs = [r["record"] for r in records if r["source"] == "logs"]
        assert any("PlatformStart" in r and outcome.request_id in r for r in logs), logs
        assert any("PlatformReport" in r and outcome.request_id in r for r in logs), logs


def test_both_log_apis_from_one_extension_fail_as_on_lambda(
    real_crates_zig: RealCratesBuild, tmp_path: Path
) -> None:
    """lambda-extension subscribes with the Logs API and the Telemetry API when asked for both
    processors; Lambda refuses the second, so the extension fails Init (and says why)."""
    env = {
        "EXT_RECORD_FILE": str(tmp_path / "ext.jsonl"),
        "EXT_PROCESSORS": "logs,telemetry",
        "EXT_LOGS_PORT": str(free_port()),
        "EXT_TELEMETRY_PORT": str(free_port()),
    }
    logs: list[LogRecord] = []
    layer = as_layer(real_crates_zig, "x86_64", tmp_path)
    with serve(real_crates_zig, "x86_64", "stream", extension=layer, env=env, logs=logs) as emu:
        outcome = emu.invoke("stream", {"chunks": 1, "delay_ms": 1}, timeout=WAIT)
        assert outcome.status in ("error", "crash")
        assert outcome.error_type in ("Extension.Crash", "Extension.InitError"), outcome.body
    assert any("subscription refused" in r.text for r in logs), [r.text for r in logs]


# --------------------------------------------------------------------------- the SDK


@pytest.fixture(scope="module")
def moto_url(moto: Moto) -> str:
    return moto.url


@BOTH
def test_sdk_call_with_credentials_only_in_a_profile_file(
    real_crates_zig: RealCratesBuild, arch: str, moto_url: str, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[dev]\naws_access_key_id = AKIAPROFILEONLY\naws_secret_access_key = profile-secret\n"
    )
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-west-3\n")
    files = {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config)}
    aws = resolve_aws_environment(profile="dev", environ=files)
    assert aws.region == "eu-west-3"
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_url,
        region_name="eu-west-3",
        aws_access_key_id="AKIAPROFILEONLY",
        aws_secret_access_key="profile-secret",
    )
    queue = f"rl-{arch}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    # Only the endpoint comes from the host; no AWS_* credentials exist there.
    host = {"PATH": _path(), "AWS_ENDPOINT_URL": moto_url, "HOME": str(tmp_path)}
    emulator = settings(environ=host, region=aws.region, credentials=aws.credentials)
    with serve(real_crates_zig, arch, "sdk", emulator_settings=emulator) as emu:
        outcome = emu.invoke("sdk", {"queue": queue, "message": "from the emulator"}, timeout=WAIT)
        assert outcome.status == "success", outcome.body
        answer = json.loads(outcome.body)
        assert answer["region"] == "eu-west-3"
        assert answer["queue_url"] == url
        assert answer["message_id"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert messages[0]["Body"] == "from the emulator"


# --------------------------------------------------------------------------- max concurrency


@BOTH
def test_max_concurrency_overlaps_invocations_in_one_process(
    real_crates_zig: RealCratesBuild, arch: str
) -> None:
    with serve(real_crates_zig, arch, "concurrent", max_concurrency=3) as emu:
        emu.invoke("concurrent", {"sleep_ms": 1}, timeout=WAIT)  # Init first

        def call(_: int) -> dict[str, Any]:
            outcome = emu.invoke("concurrent", {"sleep_ms": 1500}, timeout=WAIT)
            assert outcome.status == "success", outcome.body
            return dict(json.loads(outcome.body))

        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(call, range(3)))
    assert {a["pid"] for a in answers} == {answers[0]["pid"]}  # one instance
    assert {a["max_concurrency"] for a in answers} == {"3"}
    assert len({a["request_id"] for a in answers}) == 3
    # All three ran at the same time: each started before any finished.
    assert max(a["started_ms"] for a in answers) < min(a["finished_ms"] for a in answers)


def test_without_max_concurrency_one_instance_serves_one_at_a_time(
    real_crates_zig: RealCratesBuild,
) -> None:
    with serve(real_crates_zig, "x86_64", "concurrent") as emu:
        emu.invoke("concurrent", {"sleep_ms": 1}, timeout=WAIT)

        def call(_: int) -> dict[str, Any]:
            return dict(json.loads(emu.invoke("concurrent", {"sleep_ms": 300}, timeout=WAIT).body))

        with ThreadPoolExecutor(2) as pool:
            first, second = sorted(pool.map(call, range(2)), key=lambda a: a["started_ms"])
    assert first["max_concurrency"] is None
    assert second["started_ms"] >= first["finished_ms"]
