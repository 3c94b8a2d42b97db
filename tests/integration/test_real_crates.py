"""Functions written with the crates users use (tests/fixtures/real-crates, from crates.io):
built once per compiler (zig, cargo) for x86_64 and arm64 in one `rustlambda build` each, and
every bootstrap executed on the local emulator — x86_64 natively, arm64 under qemu — with real
boto3 clients, and a real AWS SDK call to moto's server.

Debug builds: what is tested is that the code cross-compiles, links and answers; the release
options have their own tests (test_build.py), and a release build of aws-sdk-rust with
lto + codegen-units=1 takes several times longer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from rustlambda.emulator import EmulatorSettings, FunctionSpec, LogRecord, running

from .conftest import (
    REAL_CRATES,
    REAL_CRATES_BINS,
    RealCratesBuild,
    lambda_client,
    real_crates_target_dir,
    run_cli,
)

ARCHES = ("x86_64", "arm64")
RUST_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
BUILDS = pytest.mark.parametrize("compiler", ["zig", "cargo"])
BOTH = pytest.mark.parametrize("arch", ARCHES)
#: Upper bound for every wait on the emulator.
WAIT = 60.0


@pytest.fixture
def build(
    compiler: str, request: pytest.FixtureRequest
) -> RealCratesBuild:  # the session build for the parametrized compiler
    built = request.getfixturevalue(f"real_crates_{compiler}")
    assert isinstance(built, RealCratesBuild)
    return built


def spec(
    built: RealCratesBuild, arch: str, name: str, env: Mapping[str, str] | None = None
) -> FunctionSpec:
    return FunctionSpec(name=name, bootstrap=built.bootstrap(arch, name), env=dict(env or {}))


def chunks_of(events: list[Any]) -> list[bytes]:
    """The PayloadChunk payloads of an InvokeWithResponseStream event stream, after checking
    it ends with a clean InvokeComplete."""
    assert "InvokeComplete" in events[-1], events[-1]
    assert "ErrorCode" not in events[-1]["InvokeComplete"], events[-1]
    return [e["PayloadChunk"]["Payload"] for e in events[:-1] if "PayloadChunk" in e]


def split_prelude(body: bytes) -> tuple[dict[str, Any], bytes]:
    """lambda_runtime's streaming body: JSON prelude, eight NUL bytes, then the payload."""
    prelude, sep, rest = body.partition(b"\0" * 8)
    assert sep, body[:200]
    parsed = json.loads(prelude)
    assert isinstance(parsed, dict)
    return parsed, rest


# --------------------------------------------------------------------------- the builds
@BUILDS
def test_one_build_makes_every_bootstrap_for_both_architectures(build: RealCratesBuild) -> None:
    artifacts = build.result["artifacts"]
    assert sorted((a["arch"], a["function"]) for a in artifacts) == sorted(
        (arch, name) for arch in ARCHES for name in REAL_CRATES_BINS
    )
    for artifact in artifacts:
        path = build.bootstrap(artifact["arch"], artifact["function"])
        assert Path(artifact["path"]).resolve() == path.resolve()
    verification = build.result["verification"]
    assert verification["ok"] is True
    for report in verification["artifacts"]:
        # statically nothing beyond glibc: aws-lc, ring and the C of `native` are inside
        assert not [lib for lib in report["needed"] if "ssl" in lib or "crypto" in lib], report


# --------------------------------------------------------------------------- lambda_runtime
@BUILDS
@BOTH
def test_typed_function_answers_and_fails_with_its_error_type(
    build: RealCratesBuild, arch: str
) -> None:
    with running([spec(build, arch, "typed")], EmulatorSettings(port=0)) as emu:
        client = lambda_client(emu.url)
        ok = client.invoke(FunctionName="typed", Payload=b'{"name": "Ada", "count": 21}')
        answer = json.loads(ok["Payload"].read())
        failed = client.invoke(FunctionName="typed", Payload=b'{"name": "Bob", "fail": true}')
        error = json.loads(failed["Payload"].read())
        bad = client.invoke(FunctionName="typed", Payload=b'{"count": "many"}')
        bad_error = json.loads(bad["Payload"].read())
    assert "FunctionError" not in ok
    assert answer["greeting"] == "hello Ada" and answer["doubled"] == 42
    assert answer["arch"] == RUST_ARCH[arch]
    assert answer["request_id"] == ok["ResponseMetadata"]["RequestId"]
    assert failed["FunctionError"] == "Unhandled"
    assert error == {"errorType": "TypedError", "errorMessage": "asked to fail for Bob"}
    # an event that does not fit the request type: lambda_runtime's own error
    assert bad["FunctionError"] == "Unhandled"
    assert "DeserializeError" in bad_error["errorType"], bad_error
    assert 'invalid type: string "many", expected u32' in bad_error["errorMessage"], bad_error


@BUILDS
@BOTH
def test_streaming_function_sends_several_chunks(build: RealCratesBuild, arch: str) -> None:
    with running([spec(build, arch, "stream")], EmulatorSettings(port=0)) as emu:
        client = lambda_client(emu.url)
        streamed = client.invoke_with_response_stream(
            FunctionName="stream", Payload=b'{"chunks": 5, "delay_ms": 40}'
        )
        chunks = chunks_of(list(streamed["EventStream"]))
    prelude, body = split_prelude(b"".join(chunks))
    assert prelude["statusCode"] == 200
    rust_arch = RUST_ARCH[arch]
    assert body == b"".join(f"chunk {i} of 5 from {rust_arch}\n".encode() for i in range(5))
    assert len(chunks) >= 5, chunks  # relayed as sent, not collected into one


@BUILDS
@BOTH
def test_concurrent_function_runs_sequentially_without_max_concurrency(
    build: RealCratesBuild, arch: str
) -> None:
    with running([spec(build, arch, "concurrent")], EmulatorSettings(port=0)) as emu:
        first = emu.invoke("concurrent", {"sleep_ms": 150}, timeout=WAIT)
        second = emu.invoke("concurrent", {"sleep_ms": 10}, timeout=WAIT)
    answers = [json.loads(o.body) for o in (first, second)]
    assert [o.status for o in (first, second)] == ["success", "success"]
    assert answers[0]["finished_ms"] - answers[0]["started_ms"] >= 150
    assert answers[0]["pid"] == answers[1]["pid"]  # one process, run_concurrent's fallback
    assert answers[0]["max_concurrency"] is None
    assert answers[1]["request_id"] == second.request_id


@BUILDS
@BOTH
def test_c_code_is_built_for_the_target_not_this_machine(build: RealCratesBuild, arch: str) -> None:
    payload = b'{"hash": "me"}'
    with running([spec(build, arch, "native")], EmulatorSettings(port=0)) as emu:
        response = lambda_client(emu.url).invoke(FunctionName="native", Payload=payload)
        answer = json.loads(response["Payload"].read())
    assert answer["arch"] == RUST_ARCH[arch]
    assert answer["sha256"] == hashlib.sha256(payload).hexdigest()  # ring's C and assembly
    c = answer["c"]
    # zig cc is clang; the cargo compiler uses gcc (aarch64-linux-gnu-gcc for arm64)
    assert c["compiler"].startswith("Clang") == (build.compiler == "zig"), c
    assert not any(c[flag] for flag in ("avx2", "avx512f", "bmi2", "sha", "sve", "sha3")), c


# --------------------------------------------------------------------------- lambda_http
def function_url_event(body: bytes) -> dict[str, Any]:
    """A function URL (payload format 2.0) POST with a binary body, query and cookies."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/items/42",
        "rawQueryString": "tag=a&tag=b&q=rust",
        "cookies": ["session=abc", "theme=dark"],
        "headers": {
            "content-type": "application/octet-stream",
            "host": "abc.lambda-url.us-east-1.on.aws",
            "user-agent": "test-real-crates",
        },
        "queryStringParameters": {"tag": "a,b", "q": "rust"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc",
            "http": {
                "method": "POST",
                "path": "/items/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test-real-crates",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "30/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1796040000000,
        },
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


@BUILDS
@BOTH
def test_http_function_answers_a_function_url_event(build: RealCratesBuild, arch: str) -> None:
    body = bytes(range(256))
    with running([spec(build, arch, "http")], EmulatorSettings(port=0)) as emu:
        response = lambda_client(emu.url).invoke(
            FunctionName="http", Payload=json.dumps(function_url_event(body)).encode()
        )
        answer = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, answer
    assert answer["statusCode"] == 200
    assert answer["headers"]["x-fixture"] == "http"
    assert answer["cookies"] == ["fixture=http; Path=/"]  # payload 2.0: Set-Cookie → cookies
    seen = json.loads(answer["body"])
    assert seen["method"] == "POST" and seen["raw_path"] == "/items/42"
    assert seen["query"] == {"tag": ["a", "b"], "q": ["rust"]}
    assert seen["cookies"] == ["session=abc", "theme=dark"]
    assert seen["user_agent"] == "test-real-crates"
    assert seen["body"] == {"kind": "binary", "len": 256, "hex": body.hex()}
    assert seen["arch"] == RUST_ARCH[arch]


@BUILDS
@BOTH
def test_http_streaming_function_sends_its_body_in_pieces(
    build: RealCratesBuild, arch: str
) -> None:
    event = function_url_event(b"")
    event.update(
        rawPath="/stream",
        rawQueryString="chunks=4&delay_ms=50",
        queryStringParameters={"chunks": "4", "delay_ms": "50"},
        body=None,
        isBase64Encoded=False,
    )
    with running([spec(build, arch, "http-stream")], EmulatorSettings(port=0)) as emu:
        streamed = lambda_client(emu.url).invoke_with_response_stream(
            FunctionName="http-stream", Payload=json.dumps(event).encode()
        )
        chunks = chunks_of(list(streamed["EventStream"]))
    prelude, body = split_prelude(b"".join(chunks))
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["x-fixture"] == "http-stream"
    assert prelude["headers"]["content-type"] == "text/plain"
    assert prelude["cookies"] == ["stream=1; Path=/"]
    assert body == b"part 0\npart 1\npart 2\npart 3\n"
    assert len(chunks) >= 4, chunks


# --------------------------------------------------------------------------- aws-sdk-rust
@dataclass(frozen=True)
class Moto:
    url: str
    region: str = "eu-west-1"  # not the emulator's default: the region must come through


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()


MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@BUILDS
@BOTH
def test_sdk_function_calls_moto(build: RealCratesBuild, arch: str, moto: Moto) -> None:
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto.url,
        region_name=moto.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"real-crates-{build.compiler}-{arch}-{time.time_ns()}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    settings = EmulatorSettings(
        port=0, region=moto.region, environ={**os.environ, **MOTO_CREDENTIALS}
    )
    function = spec(build, arch, "sdk", env={"AWS_ENDPOINT_URL": moto.url})
    with running([function], settings) as emu:
        outcome = emu.invoke("sdk", {"queue": name, "message": f"hello from {arch}"}, timeout=WAIT)
    assert outcome.status == "success", outcome.body
    answer = json.loads(outcome.body)
    assert answer["region"] == moto.region
    assert queue_url in answer["queues"] and answer["queue_url"] == queue_url
    received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in received] == [
        (answer["message_id"], f"hello from {arch}")
    ]


# --------------------------------------------------------------------------- lambda-extension
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert isinstance(port, int)
        return port


def as_layer(build: RealCratesBuild, arch: str, root: Path) -> Path:
    """The `ext` binary as a layer puts it: <layer>/extensions/ext (it registers by file name)."""
    layer = root / build.compiler / arch / "extensions"
    layer.mkdir(parents=True)
    return Path(shutil.copy2(build.bootstrap(arch, "ext"), layer / "ext"))


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@BUILDS
@BOTH
def test_extension_registers_and_hears_invoke_and_shutdown(
    build: RealCratesBuild, arch: str, tmp_path: Path
) -> None:
    recording = tmp_path / "ext.jsonl"
    function = FunctionSpec(
        name="typed",
        bootstrap=build.bootstrap(arch, "typed"),
        env={"EXT_RECORD_FILE": str(recording), "EXT_PROCESSORS": "none"},
        extensions=(as_layer(build, arch, tmp_path),),
    )
    lines: list[LogRecord] = []
    with running([function], EmulatorSettings(port=0), on_log=lines.append) as emu:
        outcome = emu.invoke("typed", {"name": "ext"}, timeout=WAIT)
    assert outcome.status == "success", outcome.body
    seen = records(recording)
    assert [r["source"] for r in seen] == ["registered", "event", "event"], seen
    registered, invoke, shutdown = seen
    assert registered["function_name"] == "typed"
    assert (invoke["type"], invoke["request_id"]) == ("INVOKE", outcome.request_id)
    # lower case, as Lambda sends it (see emulator/protocol.py)
    assert (shutdown["type"], shutdown["reason"]) == ("SHUTDOWN", "spindown")
    # its stdout is the extension's log, under its registered name
    assert any(r.source == "extension:ext" and r.text.startswith("[ext] ") for r in lines)


@pytest.mark.parametrize("processor", ["logs", "telemetry"])
def test_extension_logs_and_telemetry_processors_receive_events(
    real_crates_zig: RealCratesBuild, tmp_path: Path, processor: str
) -> None:
    """One processor per run: Lambda refuses an extension's subscription to the second of the
    two APIs ("After subscribing using one of these APIs, any attempt to subscribe using the
    other API returns an error", Lambda Logs API guide), and so does the emulator
    (test_emulator_real_crates.py checks that refusal)."""
    recording = tmp_path / "ext.jsonl"
    function = FunctionSpec(
        name="typed",
        bootstrap=real_crates_zig.bootstrap("x86_64", "typed"),
        env={
            "EXT_RECORD_FILE": str(recording),
            "EXT_PROCESSORS": processor,
            "EXT_LOGS_PORT": str(free_port()),
            "EXT_TELEMETRY_PORT": str(free_port()),
        },
        extensions=(as_layer(real_crates_zig, "x86_64", tmp_path),),
    )
    wanted = "platform.runtimeDone" if processor == "telemetry" else "PlatformReport"
    with running([function], EmulatorSettings(port=0, init_timeout=10)) as emu:
        outcome = emu.invoke("typed", {"name": "telemetry"}, timeout=WAIT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if recording.exists() and wanted in recording.read_text(errors="replace"):
                break
            time.sleep(0.1)
    assert outcome.status == "success", outcome.body
    seen = records(recording)
    if processor == "telemetry":
        telemetry = {r["event"]["type"] for r in seen if r["source"] == "telemetry"}
        assert {"platform.initStart", "platform.start", "platform.runtimeDone"} <= telemetry, seen
    else:
        assert any(r["source"] == "logs" and "PlatformReport" in r["record"] for r in seen), seen


# --------------------------------------------------------------------------- openssl (tls)
def test_openssl_from_the_system_fails_verification_and_vendored_passes(
    real_crates_cargo: RealCratesBuild, tmp_path: Path, build_env: dict[str, str]
) -> None:
    """`tls` links libssl.so.3 unless built with its `vendored` feature.

    Built into the session's cargo target dir with `--workspace`, so cargo resolves the same
    features as the session build and only openssl's crates compile here.
    """
    common = (
        "build",
        "--x86-64",
        "--compiler",
        "cargo",
        "--workspace",
        "--bin",
        "tls",
        "--target-dir",
        str(real_crates_cargo.target_dir),
        "--manifest-path",
        str(REAL_CRATES / "Cargo.toml"),
        "--locked",
    )
    system = tmp_path / "system"
    done = run_cli(*common, "--lambda-dir", str(system), cwd=REAL_CRATES, env=build_env)
    assert done.returncode == 15, done.stderr[-4000:]
    # the loader names the first missing library in DT_NEEDED order: libssl or libcrypto
    assert re.search(r"lib(ssl|crypto)\.so\.3: cannot open shared object file", done.stderr), (
        done.stderr[-4000:]
    )
    assert "rustls" in done.stderr and "vendored" in done.stderr
    report = run_cli("verify", "--json", str(system), cwd=tmp_path, env=build_env)
    assert report.returncode == 15, report.stderr
    [artifact] = json.loads(report.stdout)["artifacts"]
    assert "libssl.so.3" in artifact["needed"] and artifact["ok"] is False

    vendored = tmp_path / "vendored"
    done = run_cli(
        *common,
        "--features",
        "tls/vendored",
        "--lambda-dir",
        str(vendored),
        "--json",
        cwd=REAL_CRATES,
        env=build_env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    [built] = json.loads(done.stdout)["artifacts"]
    needed = json.loads(done.stdout)["verification"]["artifacts"][0]["needed"]
    assert not [lib for lib in needed if "ssl" in lib or "crypto" in lib], needed
    function = FunctionSpec(name="tls", bootstrap=Path(built["path"]))
    with running([function], EmulatorSettings(port=0)) as emu:
        outcome = emu.invoke("tls", {"tls": True}, timeout=WAIT)
    assert outcome.status == "success", outcome.body
    answer = json.loads(outcome.body)
    # openssl-src's OpenSSL (3.6.x), not Debian's libssl3 (3.0.x)
    assert re.match(r"OpenSSL 3\.6\.\d+ ", answer["openssl"]), answer


def test_openssl_sys_cross_build_is_diagnosed(
    real_crates_zig: RealCratesBuild, tmp_path: Path, build_env: dict[str, str]
) -> None:
    done = run_cli(
        "build",
        "--arm64",
        "--workspace",
        "--bin",
        "tls",
        "--target-dir",
        str(real_crates_zig.target_dir),
        "--lambda-dir",
        str(tmp_path / "lambda"),
        "--manifest-path",
        str(REAL_CRATES / "Cargo.toml"),
        "--locked",
        cwd=REAL_CRATES,
        env=build_env,
    )
    assert done.returncode == 12, done.stderr[-4000:]
    assert "openssl-sys could not find an OpenSSL for aarch64-unknown-linux-gnu" in done.stderr
    assert "rustls" in done.stderr and '"vendored"' in done.stderr and "musl" in done.stderr
    assert "failed to run custom build command for `openssl-sys" in done.stderr
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------- no host CPU
NATIVE_CONFIG = """\
[target.'cfg(target_os = "linux")']
rustflags = ["-C", "target-cpu=native", "--cfg", "fixture_flag"]

[env]
CFLAGS = "-O1 -march=native"
CXXFLAGS = { value = "-march=native", force = true }
"""


HOST_CPU = re.compile(r"-m(arch|cpu|tune)=native|target-cpu=native")


def host_has_avx2() -> bool:
    return " avx2" in Path("/proc/cpuinfo").read_text()


@BUILDS
def test_native_cpu_flags_never_reach_rustc_or_the_c_compiler(
    compiler: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    build_env: dict[str, str],
) -> None:
    """target-cpu=native in a config's cfg rustflags table (the other rustflags places have
    unit tests), -march=native in the config's [env] and in C flags variables: the build of
    `native` (ring + its own C through cc) must pass neither on, and its C must not use this
    machine's CPU extensions."""
    if not host_has_avx2():
        pytest.skip("this machine has no AVX2: a leaked -march=native would not show")
    ws = tmp_path / "real-crates"
    # new file times: `native` and its build script run again even in a kept target dir
    shutil.copytree(
        REAL_CRATES, ws, ignore=shutil.ignore_patterns("target"), copy_function=shutil.copy
    )
    (ws / ".cargo").mkdir()
    (ws / ".cargo/config.toml").write_text(NATIVE_CONFIG)
    target_dir = real_crates_target_dir(tmp_path_factory, f"real-crates-native-{compiler}")
    env = {
        **build_env,
        "CFLAGS_x86_64_unknown_linux_gnu": "-mcpu=native",
        "HOST_CFLAGS": "-march=native",
        "CC_ENABLE_DEBUG_OUTPUT": "1",  # the cc crate prints every compiler command
    }
    done = run_cli(
        "build",
        "--x86-64",
        "--compiler",
        compiler,
        "-p",
        "native",
        "--target-dir",
        str(target_dir),
        "--locked",
        "-vv",
        cwd=ws,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    output = done.stdout + done.stderr
    for what in (
        "from [env] CFLAGS",
        "from [env] CXXFLAGS",
        "from CFLAGS_x86_64_unknown_linux_gnu",
        "from HOST_CFLAGS",
        "target.'cfg(...)'.rustflags",
    ):
        assert what in output, what  # one warning per place
    rustc_lines = [line for line in output.splitlines() if "--crate-name native " in line]
    assert rustc_lines, output[-3000:]
    for line in rustc_lines:
        assert "--cfg fixture_flag" in line  # the user's other rustflags are kept
        cpus = re.findall(r"target-cpu=([\w-]+)", line)
        assert cpus and cpus[-1] != "native", line  # rustc keeps the last one
    # what the build scripts of ring and `native` saw and ran (the cc crate logs both)
    # (the newest run of each package's build script: a kept target dir holds older ones)
    newest: dict[str, Path] = {}
    for path in (target_dir / "x86_64-unknown-linux-gnu/debug/build").glob("*/output"):
        package = path.parent.name.rsplit("-", 1)[0]
        if package not in newest or path.stat().st_mtime > newest[package].stat().st_mtime:
            newest[package] = path
    assert {"ring", "native"} <= set(newest), newest
    texts = [p.read_text() for p in newest.values()]
    commands = [line for text in texts for line in text.splitlines() if "cpu.c" in line]
    assert commands, "the cc crate printed no compiler command for c/cpu.c"
    for text in texts:
        for line in text.splitlines():
            assert not HOST_CPU.search(line), line
            if compiler == "zig" and re.match(r"CC_x86_64_unknown_linux_gnu = Some\(", line):
                wrapper = Path(line.split("Some(", 1)[1].rstrip(")")).read_text()
                assert "-target x86_64-linux-gnu" in wrapper and not HOST_CPU.search(wrapper)
    bootstrap = target_dir / "lambda/native/bootstrap"
    with running([FunctionSpec("native", bootstrap)], EmulatorSettings(port=0)) as emu:
        outcome = emu.invoke("native", {"cpu": "check"}, timeout=WAIT)
    assert outcome.status == "success", outcome.body
    c = json.loads(outcome.body)["c"]
    assert not any(c[flag] for flag in ("avx2", "avx512f", "bmi2", "sha")), c
