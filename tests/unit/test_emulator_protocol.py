"""The emulator's wire formats, launch planning, process environment and construction checks.

Nothing here starts a process: bootstraps are copies of /bin/true (read, never run), and an
arm64 one is /bin/true with its ELF e_machine patched to EM_AARCH64.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import botocore.session
import pytest
from botocore.eventstream import ChecksumMismatch, EventStream, EventStreamBuffer
from botocore.model import StructureShape
from botocore.parsers import EventStreamJSONParser

from rustlambda.elf import read_elf
from rustlambda.emulator import Emulator, EmulatorSettings, FunctionSpec, protocol
from rustlambda.emulator import process as process_mod
from rustlambda.emulator.environment import RESERVED_ENV, process_env
from rustlambda.emulator.httpserver import Request
from rustlambda.emulator.invoke_api import function_name
from rustlambda.emulator.process import Launch, plan_launch
from rustlambda.emulator.protocol import Report
from rustlambda.emulator.routes import error_report
from rustlambda.errors import EmulatorError
from rustlambda.targets import Arch

from .fakes import REAL_ELF

EM_AARCH64 = 183
X86_INTERP = b"/lib64/ld-linux-x86-64.so.2\0"
ARM_INTERP = b"/lib/ld-linux-aarch64.so.1\0\0"  # same length as X86_INTERP


# --------------------------------------------------------------------------- helpers


def host_elf(path: Path) -> Path:
    """A copy of /bin/true (an x86_64 ELF on this host), executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(REAL_ELF)
    path.chmod(0o755)
    return path


def arm64_elf(path: Path) -> Path:
    """/bin/true with e_machine = EM_AARCH64 and an aarch64 loader as its interpreter."""
    data = bytearray(REAL_ELF)
    data[18:20] = struct.pack("<H", EM_AARCH64)
    start = data.find(X86_INTERP)
    assert start > 0, "expected /bin/true to be a dynamically linked x86_64 executable"
    data[start : start + len(X86_INTERP)] = ARM_INTERP
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    path.chmod(0o755)
    return path


def fake_qemu(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    qemu = bin_dir / "qemu-aarch64"
    qemu.write_text("#!/bin/sh\nexit 0\n")
    qemu.chmod(0o755)
    return qemu


@pytest.fixture(autouse=True)
def _x86_64_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # The ELF copies are x86_64; the expectations below assume that is the host's arch.
    monkeypatch.setattr(process_mod, "host_arch", lambda: Arch.X86_64)


# --------------------------------------------------------------------------- REPORT line


def test_report_line_cold_start_fields_tab_separated() -> None:
    report = Report(
        request_id="8f3b1c2a-0000-4000-8000-000000000001",
        function="hello",
        duration_ms=1.234,
        memory_size=128,
        max_memory_used_mb=17,
        init_duration_ms=4.561,
    )
    assert report.line.split("\t") == [
        "REPORT RequestId: 8f3b1c2a-0000-4000-8000-000000000001",
        "Duration: 1.23 ms",
        "Billed Duration: 6 ms",  # ceil(1.234 + 4.561)
        "Memory Size: 128 MB",
        "Max Memory Used: 17 MB",
        "Init Duration: 4.56 ms",
    ]


def test_report_line_warm_start_has_no_init_duration() -> None:
    report = Report("rid", "hello", duration_ms=2.0, memory_size=256, max_memory_used_mb=30)
    assert report.line == (
        "REPORT RequestId: rid\tDuration: 2.00 ms\tBilled Duration: 2 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 30 MB"
    )
    assert "Init Duration" not in report.line
    assert "Status" not in report.line


@pytest.mark.parametrize(
    ("duration", "init", "billed"),
    [
        (0.01, None, 1),  # never less than 1 ms
        (1.0, None, 1),
        (1.001, None, 2),
        (10.5, 0.5, 11),
        (10.5, 0.6, 12),
        (100.0, 250.2, 351),
    ],
)
def test_billed_duration_is_ceil_of_duration_plus_init(
    duration: float, init: float | None, billed: int
) -> None:
    report = Report("r", "f", duration, 128, 10, init_duration_ms=init)
    assert report.billed_duration_ms == billed
    assert f"\tBilled Duration: {billed} ms\t" in report.line


@pytest.mark.parametrize(
    ("status", "error_type", "tail"),
    [
        ("success", None, []),
        ("error", "HandlerError", []),
        ("timeout", "Sandbox.Timedout", ["Status: timeout"]),
        ("crash", "Runtime.ExitError", ["Status: error", "Error Type: Runtime.ExitError"]),
    ],
)
def test_report_status_only_for_timeout_and_crash(
    status: str, error_type: str | None, tail: list[str]
) -> None:
    report = Report(
        "r", "f", 3000.0, 128, 10, init_duration_ms=1.0, status=status, error_type=error_type
    )
    fields = report.line.split("\t")
    assert fields[len(fields) - len(tail) :] == tail
    assert fields[len(fields) - len(tail) - 1] == "Init Duration: 1.00 ms"
    if not tail:
        assert not any(f.startswith("Status:") for f in fields)


# --------------------------------------------------------------------------- messages


def test_timeout_message() -> None:
    assert protocol.timeout_message("abc", 3) == (
        "RequestId: abc Error: Task timed out after 3.00 seconds"
    )
    assert protocol.timeout_message("abc", 0.5).endswith("Task timed out after 0.50 seconds")


@pytest.mark.parametrize(
    ("code", "how"),
    [
        (1, "exit status 1"),
        (0, "exit status 0"),
        (101, "exit status 101"),  # a Rust panic in main
        (-9, "signal: killed"),
        (-11, "signal: segmentation fault"),
        (-6, "signal: aborted"),
        (None, "unknown"),
    ],
)
def test_exit_message(code: int | None, how: str) -> None:
    assert protocol.exit_message("rid", code) == (
        f"RequestId: rid Error: Runtime exited with error: {how}"
    )


def test_exit_message_sigterm_uses_go_name() -> None:
    assert protocol.exit_message("rid", -15).endswith(
        "Runtime exited with error: signal: terminated"
    )


def test_exit_message_unknown_signal_number() -> None:
    assert protocol.exit_message("rid", -200).endswith("signal: signal 200")  # as Go words it


def test_error_body() -> None:
    assert json.loads(protocol.error_body("Runtime.ExitError", "boom")) == {
        "errorMessage": "boom",
        "errorType": "Runtime.ExitError",
    }
    with_stack = json.loads(protocol.error_body("E", "m", stack=["a", "b"]))
    assert with_stack == {"errorMessage": "m", "errorType": "E", "stackTrace": ["a", "b"]}
    # An empty stack is still a stack (Lambda sends [] rather than omitting it).
    assert json.loads(protocol.error_body("E", "m", stack=[]))["stackTrace"] == []


_TRACE = re.compile(r"^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")


def test_new_trace_id_shape() -> None:
    trace = protocol.new_trace_id()
    match = _TRACE.match(trace)
    assert match, trace
    assert abs(int(match.group(1), 16) - time.time()) < 60
    assert protocol.new_trace_id() != trace


def test_new_trace_id_root_carries_the_epoch_in_hex() -> None:
    match = _TRACE.match(protocol.new_trace_id(now=1_700_000_000.9))
    assert match
    assert match.group(1) == "6553f100"


def test_new_request_id_is_a_uuid4() -> None:
    rid = protocol.new_request_id()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rid)


def test_function_arn() -> None:
    assert protocol.function_arn("hello", "eu-west-1", "123456789012") == (
        "arn:aws:lambda:eu-west-1:123456789012:function:hello"
    )


def test_log_stream_name() -> None:
    name = protocol.log_stream_name(now=1_700_000_000.0)
    assert re.fullmatch(r"2023/11/14/\[\$LATEST\][0-9a-f]{32}", name), name


# --------------------------------------------------------------------------- event stream


def _decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    # botocore-stubs types ``headers`` as int; it is the decoded header mapping.
    return [(dict(cast("Mapping[str, object]", m.headers)), m.payload) for m in buffer]


def test_payload_chunk_event_decodes_with_botocore() -> None:
    data = protocol.payload_chunk_event(b"abc")
    (headers, payload), *rest = _decode(data)
    assert rest == []
    assert headers == {
        ":event-type": "PayloadChunk",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    assert payload == b"abc"
    total, headers_len = struct.unpack("!II", data[:8])
    assert total == len(data)
    assert headers_len == len(data) - 12 - 3 - 4


def test_invoke_complete_event_decodes_with_botocore() -> None:
    ((headers, payload),) = _decode(protocol.invoke_complete_event("E", "d"))
    assert headers[":event-type"] == "InvokeComplete"
    assert headers[":content-type"] == "application/json"
    assert headers[":message-type"] == "event"
    assert json.loads(payload) == {"ErrorCode": "E", "ErrorDetails": "d"}


def test_invoke_complete_event_without_error_is_empty_object() -> None:
    ((_, payload),) = _decode(protocol.invoke_complete_event())
    assert json.loads(payload) == {}
    ((_, payload),) = _decode(protocol.invoke_complete_event(log_result="TG9n"))
    assert json.loads(payload) == {"LogResult": "TG9n"}


@pytest.mark.parametrize("where", [5, 9, 20, -2])
def test_event_stream_crcs_are_checked(where: int) -> None:
    data = bytearray(protocol.payload_chunk_event(b"abcdef"))
    data[where] ^= 0x01
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(data))


class _RawStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def stream(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        pass


def test_event_stream_parses_as_boto3_invoke_with_response_stream() -> None:
    """What boto3's ``invoke_with_response_stream`` hands its caller, split across reads."""
    model = botocore.session.get_session().get_service_model("lambda")
    output = model.operation_model("InvokeWithResponseStream").output_shape
    assert output is not None
    shape = output.members["EventStream"]
    assert isinstance(shape, StructureShape)
    data = (
        protocol.payload_chunk_event(b'{"a":')
        + protocol.payload_chunk_event(b"1}")
        + protocol.invoke_complete_event("Unhandled", '{"errorType":"X"}')
    )
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    stream: EventStream[dict[str, Any]] = EventStream(
        _RawStream(chunks), shape, EventStreamJSONParser(), "InvokeWithResponseStream"
    )
    assert list(stream) == [
        {"PayloadChunk": {"Payload": b'{"a":'}},
        {"PayloadChunk": {"Payload": b"1}"}},
        {"InvokeComplete": {"ErrorCode": "Unhandled", "ErrorDetails": '{"errorType":"X"}'}},
    ]


def test_decode_error_body_base64_and_plain_json() -> None:
    body = b'{"errorType":"Boom","errorMessage":"it broke"}'
    assert protocol.decode_error_body(base64.b64encode(body).decode()) == body
    assert protocol.decode_error_body(body.decode()) == body
    assert protocol.decode_error_body("not base64!") == b"not base64!"


# --------------------------------------------------------------------------- error reports


def _error_post(error_type: str | None = None) -> Request:
    headers = {} if error_type is None else {"lambda-runtime-function-error-type": error_type}
    return Request("POST", "/2018-06-01/runtime/invocation/x/error", headers)


def test_error_report_header_wins_body_kept() -> None:
    body = b'{"errorType":"FromBody","errorMessage":"m","stackTrace":[]}'
    assert error_report(_error_post("Custom.Err"), body) == ("Custom.Err", body)


def test_error_report_type_from_body() -> None:
    body = b'{"errorType":"OrderNotFound","errorMessage":"no order 7"}'
    assert error_report(_error_post(), body) == ("OrderNotFound", body)


def test_error_report_json_without_type() -> None:
    body = b'{"errorMessage":"m"}'
    assert error_report(_error_post(), body) == ("Runtime.Unknown", body)


@pytest.mark.parametrize("raw", [b"thread 'main' panicked", b"", b"[1, 2]"])
def test_error_report_wraps_a_non_object_body(raw: bytes) -> None:
    error_type, body = error_report(_error_post(), raw)
    assert error_type == "Runtime.Unknown"
    assert json.loads(body) == {"errorMessage": raw.decode(), "errorType": "Runtime.Unknown"}
    error_type, body = error_report(_error_post("Rust.Panic"), raw)
    assert error_type == "Rust.Panic"
    assert json.loads(body)["errorType"] == "Rust.Panic"


# --------------------------------------------------------------------------- function_name


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("hello", "hello"),
        ("hello:prod", "hello"),
        ("hello:$LATEST", "hello"),
        ("arn:aws:lambda:us-east-1:123456789012:function:hello", "hello"),
        ("arn:aws:lambda:us-east-1:123456789012:function:hello:7", "hello"),
        ("arn:aws:lambda:us-east-1:123456789012:function:my-fn-arm64:$LATEST", "my-fn-arm64"),
    ],
)
def test_function_name(raw: str, name: str) -> None:
    assert function_name(raw) == name


def test_function_name_partial_arn() -> None:
    assert function_name("123456789012:function:hello") == "hello"


# --------------------------------------------------------------------------- plan_launch


def test_host_elf_runs_directly(tmp_path: Path) -> None:
    bootstrap = host_elf(tmp_path / "fn" / "bootstrap")
    launch = plan_launch(bootstrap, environ={"PATH": str(tmp_path / "empty")})
    assert launch == Launch((str(bootstrap.resolve()),), Arch.X86_64, emulated=False)


def test_missing_bootstrap(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError) as info:
        plan_launch(tmp_path / "nope" / "bootstrap", environ={})
    assert "does not exist" in info.value.message
    assert "rustlambda build" in info.value.fix


def test_non_executable_bootstrap(tmp_path: Path) -> None:
    bootstrap = host_elf(tmp_path / "bootstrap")
    bootstrap.chmod(0o644)
    with pytest.raises(EmulatorError) as info:
        plan_launch(bootstrap, environ={})
    assert info.value.exit_code == 16
    assert "not executable" in info.value.message
    assert "Runtime.InvalidEntrypoint" in info.value.message
    assert f"chmod +x {bootstrap}" in info.value.fix


def test_script_runs_directly(tmp_path: Path) -> None:
    script = tmp_path / "bootstrap"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    launch = plan_launch(script, environ={})
    assert launch.argv == (str(script.resolve()),)
    assert launch.arch is None and not launch.emulated


def test_neither_elf_nor_script(tmp_path: Path) -> None:
    junk = tmp_path / "bootstrap"
    junk.write_bytes(b"MZ\x90\x00 not an elf")
    junk.chmod(0o755)
    with pytest.raises(EmulatorError) as info:
        plan_launch(junk, environ={})
    assert "neither an ELF executable nor a script" in info.value.message


def test_elf_of_a_non_lambda_architecture(tmp_path: Path) -> None:
    data = bytearray(REAL_ELF)
    data[18:20] = struct.pack("<H", 243)  # EM_RISCV
    exe = tmp_path / "bootstrap"
    exe.write_bytes(bytes(data))
    exe.chmod(0o755)
    with pytest.raises(EmulatorError) as info:
        plan_launch(exe, environ={})
    assert "x86_64 or arm64 only" in info.value.message


def test_arm64_runs_under_qemu_with_sysroot(tmp_path: Path) -> None:
    bootstrap = arm64_elf(tmp_path / "fn" / "bootstrap")
    interpreter = read_elf(bootstrap).interpreter
    assert interpreter is not None
    sysroot = tmp_path / "sysroot"
    loader = sysroot / interpreter.lstrip("/")
    loader.parent.mkdir(parents=True)
    loader.write_bytes(b"")
    qemu = fake_qemu(tmp_path / "bin")
    environ = {"PATH": str(tmp_path / "bin"), "QEMU_LD_PREFIX": str(sysroot)}

    launch = plan_launch(bootstrap, environ=environ)

    assert launch.argv == (str(qemu), "-L", str(sysroot), str(bootstrap.resolve()))
    assert launch.arch is Arch.ARM64
    assert launch.emulated


def test_arm64_prefers_a_multiarch_libc_over_the_cross_sysroot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both present: the cross sysroot's ld.so would load the multiarch libc.so.6 listed in
    # the host's ld.so.cache, a different build: take the multiarch set whole.
    bootstrap = arm64_elf(tmp_path / "fn" / "bootstrap")
    interpreter = read_elf(bootstrap).interpreter
    assert interpreter is not None
    roots = {name: tmp_path / name for name in ("multiarch", "cross")}
    for root in roots.values():
        loader = root / interpreter.lstrip("/")
        loader.parent.mkdir(parents=True)
        loader.write_bytes(b"")
    monkeypatch.setattr(process_mod, "_HOST_ROOT", str(roots["multiarch"]))
    monkeypatch.setitem(process_mod._SYSROOTS, Arch.ARM64, str(roots["cross"]))
    qemu = fake_qemu(tmp_path / "bin")
    launch = plan_launch(bootstrap, environ={"PATH": str(tmp_path / "bin")})
    assert launch.argv[:3] == (str(qemu), "-L", str(roots["multiarch"]))


def test_arm64_without_qemu_on_path(tmp_path: Path) -> None:
    bootstrap = arm64_elf(tmp_path / "bootstrap")
    (tmp_path / "bin").mkdir()
    with pytest.raises(EmulatorError) as info:
        plan_launch(bootstrap, environ={"PATH": str(tmp_path / "bin")})
    assert info.value.exit_code == 16
    assert "qemu-aarch64" in info.value.message
    assert "arm64" in info.value.message and "x86_64" in info.value.message
    assert "qemu-user" in info.value.fix
    assert "--x86-64" in info.value.fix


def test_qemu_that_is_not_executable_does_not_count(tmp_path: Path) -> None:
    bootstrap = arm64_elf(tmp_path / "bootstrap")
    fake_qemu(tmp_path / "bin").chmod(0o644)
    with pytest.raises(EmulatorError, match="qemu-aarch64"):
        plan_launch(bootstrap, environ={"PATH": str(tmp_path / "bin")})


def test_arm64_without_sysroot_names_the_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host may have a real /usr/aarch64-linux-gnu; point the default somewhere empty.
    monkeypatch.setitem(process_mod._SYSROOTS, Arch.ARM64, str(tmp_path / "no-sysroot"))
    monkeypatch.setattr(process_mod, "_HOST_ROOT", str(tmp_path / "no-multiarch"))
    bootstrap = arm64_elf(tmp_path / "bootstrap")
    interpreter = read_elf(bootstrap).interpreter
    assert interpreter is not None
    fake_qemu(tmp_path / "bin")
    empty_prefix = tmp_path / "prefix"
    empty_prefix.mkdir()
    environ = {"PATH": str(tmp_path / "bin"), "QEMU_LD_PREFIX": str(empty_prefix)}
    with pytest.raises(EmulatorError) as info:
        plan_launch(bootstrap, environ=environ)
    assert interpreter in info.value.message
    assert "libc6-arm64-cross" in info.value.fix
    assert "QEMU_LD_PREFIX" in info.value.fix


# --------------------------------------------------------------------------- process_env

#: What LAMBDA.md lists for the function process (credentials aside).
LAMBDA_ENV = (
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
)


def test_process_env_has_every_lambda_variable(tmp_path: Path) -> None:
    bootstrap = host_elf(tmp_path / "lambda" / "hello" / "bootstrap")
    spec = FunctionSpec("hello", bootstrap, env={"GREETING": "hi"}, memory_size=512)
    settings = EmulatorSettings(region="eu-central-1", environ={})
    env = process_env(spec, settings, "127.0.0.1:41234", "2024/01/01/[$LATEST]abc")

    missing = [k for k in LAMBDA_ENV if k not in env]
    assert missing == []
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:41234"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) == 512
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/hello"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == "2024/01/01/[$LATEST]abc"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] == str((tmp_path / "lambda" / "hello").resolve())
    assert env["LD_LIBRARY_PATH"].split(":")[0] == env["LAMBDA_TASK_ROOT"]
    assert env["GREETING"] == "hi"
    # A custom runtime gets no AWS_EXECUTION_ENV, and no credentials unless the host has some.
    assert "AWS_EXECUTION_ENV" not in env
    assert "AWS_ACCESS_KEY_ID" not in env


def test_process_env_ignores_reserved_keys_keeps_user_keys(tmp_path: Path) -> None:
    bootstrap = host_elf(tmp_path / "bootstrap")
    user = {
        "AWS_LAMBDA_FUNCTION_NAME": "spoofed",
        "AWS_REGION": "mars-1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_ACCESS_KEY_ID": "from-spec",
        "LAMBDA_TASK_ROOT": "/elsewhere",
        "RUST_LOG": "debug",
        "DATABASE_URL": "postgres://x",
    }
    spec = FunctionSpec("real", bootstrap, env=user)
    env = process_env(spec, EmulatorSettings(environ={}), "h:1", "s")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "real"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path.resolve())
    assert "AWS_EXECUTION_ENV" not in env
    assert "AWS_ACCESS_KEY_ID" not in env
    assert env["RUST_LOG"] == "debug"
    assert env["DATABASE_URL"] == "postgres://x"
    assert {"AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV"} <= RESERVED_ENV


def test_process_env_passes_host_credentials_only_when_set(tmp_path: Path) -> None:
    bootstrap = host_elf(tmp_path / "bootstrap")
    spec = FunctionSpec("f", bootstrap, env={"AWS_SECRET_ACCESS_KEY": "from-spec"})
    host = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "",
        "HOME": "/home/me",
        "AWS_PROFILE": "dev",
    }
    env = process_env(spec, EmulatorSettings(environ=host), "h:1", "s")
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert env["AWS_SECRET_ACCESS_KEY"] == "secret"
    assert "AWS_SESSION_TOKEN" not in env
    # The rest of the host environment stays out.
    assert "HOME" not in env and "AWS_PROFILE" not in env
    assert env["PATH"] != "/home/me"

    no_host = process_env(spec, EmulatorSettings(environ=None), "h:1", "s")
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(no_host)


# --------------------------------------------------------------------------- Emulator(...)


def settings(
    tmp_path: Path, *, concurrency: int = 1, address: str = "127.0.0.1"
) -> EmulatorSettings:
    return EmulatorSettings(
        address=address,
        port=0,
        concurrency=concurrency,
        environ={"PATH": str(tmp_path / "empty-bin")},
    )


def test_emulator_serves_distinct_functions(tmp_path: Path) -> None:
    a = FunctionSpec("a", host_elf(tmp_path / "a" / "bootstrap"))
    b = FunctionSpec("b", host_elf(tmp_path / "b" / "bootstrap"))
    emu = Emulator([a, b], settings(tmp_path))
    assert emu.function_names == ["a", "b"]
    assert emu.functions == [a, b]
    assert emu.warnings == []


def test_emulator_duplicate_names(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    with pytest.raises(EmulatorError) as info:
        Emulator([FunctionSpec("same", boot), FunctionSpec("same", boot)], settings(tmp_path))
    assert "'same'" in info.value.message
    assert info.value.exit_code == 16


def test_emulator_bad_bootstrap_fails_at_construction(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    boot.chmod(0o600)
    with pytest.raises(EmulatorError, match="not executable"):
        Emulator([FunctionSpec("f", boot)], settings(tmp_path))


def test_emulator_arm64_without_qemu_fails_at_construction(tmp_path: Path) -> None:
    boot = arm64_elf(tmp_path / "bootstrap")
    with pytest.raises(EmulatorError, match="qemu-aarch64"):
        Emulator([FunctionSpec("f", boot)], settings(tmp_path))


def test_emulator_bad_extension_fails_at_construction(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    ext = host_elf(tmp_path / "extensions" / "ext")
    ext.chmod(0o644)
    with pytest.raises(EmulatorError, match="not executable"):
        Emulator([FunctionSpec("f", boot, extensions=(ext,))], settings(tmp_path))


def test_emulator_reserved_env_warns(tmp_path: Path) -> None:
    spec = FunctionSpec(
        "f",
        host_elf(tmp_path / "bootstrap"),
        env={"AWS_REGION": "x", "_HANDLER": "y", "MINE": "z"},
    )
    emu = Emulator([spec], settings(tmp_path))
    assert len(emu.warnings) == 1
    warning = emu.warnings[0]
    assert warning.startswith("f: ")
    assert "AWS_REGION" in warning and "_HANDLER" in warning
    assert "MINE" not in warning


def test_emulator_env_over_4kb_warns(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    small = FunctionSpec("small", boot, env={"A": "x" * 4000})
    big = FunctionSpec("big", boot, env={"A": "x" * 3000, "B": "y" * 1200})
    emu = Emulator([small, big], settings(tmp_path))
    assert len(emu.warnings) == 1
    assert emu.warnings[0].startswith("big: ")
    assert "4202 bytes" in emu.warnings[0]
    assert "4096" in emu.warnings[0]


@pytest.mark.parametrize("concurrency", [0, -1])
def test_emulator_concurrency_below_one(tmp_path: Path, concurrency: int) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    with pytest.raises(EmulatorError) as info:
        Emulator([FunctionSpec("f", boot)], settings(tmp_path, concurrency=concurrency))
    assert f"not {concurrency}" in info.value.message
    assert "--concurrency" in info.value.fix


@pytest.mark.parametrize("timeout", [0.0, -1.0])
def test_emulator_timeout_must_be_positive(tmp_path: Path, timeout: float) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    with pytest.raises(EmulatorError, match="timeout must be positive"):
        Emulator([FunctionSpec("f", boot, timeout=timeout)], settings(tmp_path))


def test_emulator_alias_to_unknown_target(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    with pytest.raises(EmulatorError) as info:
        Emulator(
            [FunctionSpec("hello-x86_64", boot)],
            settings(tmp_path),
            aliases={"hello": "hello-arm64"},
        )
    assert "'hello'" in info.value.message and "'hello-arm64'" in info.value.message
    assert "hello-x86_64" in info.value.fix


def test_emulator_resolve_names_and_aliases(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    emu = Emulator(
        [FunctionSpec("hello-x86_64", boot), FunctionSpec("bye", boot)],
        settings(tmp_path),
        aliases={"hello": "hello-x86_64"},
    )
    assert emu.resolve("hello-x86_64") == "hello-x86_64"
    assert emu.resolve("hello") == "hello-x86_64"
    assert emu.resolve("bye") == "bye"
    assert emu.resolve("nope") is None
    assert emu.resolve("hello-arm64") is None
    assert emu.aliases == {"hello": "hello-x86_64"}


def test_emulator_url_before_start(tmp_path: Path) -> None:
    boot = host_elf(tmp_path / "bootstrap")
    emu = Emulator([FunctionSpec("f", boot)], settings(tmp_path, address="::1"))
    assert emu.url == "http://[::1]:0"


# --------------------------------------------------------------------------- the JSON check

BIG_STRING = b'{"data":"' + b"x" * (5 * 1024 * 1024 - 11) + b'"}'
BIG_RECORDS = json.dumps([{"id": i, "tags": ["a", "b"], "v": i * 1.5} for i in range(90_000)])


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"  \n",
        b"{}",
        b'"just a string"',
        b"42",
        b"null",
        b'{"a": [1, 2.5e3, true, null], "b": "\\u00e9\\ud83d\\ude00 \xc3\xa9"}',
        b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
        b"1e999",  # too big for a double: simdjson refuses it, Lambda's parser does not
        b'"\\ud800"',  # a lone surrogate escape: the same
        BIG_STRING,
        BIG_RECORDS.encode(),
    ],
)
def test_json_payloads_lambda_accepts(payload: bytes) -> None:
    assert protocol.json_problem(payload) is None


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'{"a": 1', "line 1 column 8"),
        (b"[1,]", "Expecting value"),
        (b'{"a": 1}{"b": 2}', "Extra data"),
        (b"NaN", "NaN is not a JSON value"),
        (b"\xff{}", "not UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
        (BIG_STRING[:-1], "line 1"),
        (BIG_RECORDS.encode()[:-1] + b",]", "line 1"),
    ],
)
def test_json_payloads_lambda_refuses_whatever_their_size(payload: bytes, words: str) -> None:
    problem = protocol.json_problem(payload)
    assert problem is not None and words in problem, problem


@pytest.mark.parametrize("size", [100, 5 * 1024 * 1024])
def test_the_invoke_api_refuses_a_payload_that_is_not_json(tmp_path: Path, size: int) -> None:
    """Checked before any instance starts (the bootstrap here is never run)."""
    import urllib.error
    import urllib.request

    from rustlambda.emulator import running

    spec = FunctionSpec("f", host_elf(tmp_path / "bootstrap"))
    with running([spec], settings(tmp_path)) as emu:
        request = urllib.request.Request(
            f"{emu.url}/2015-03-31/functions/f/invocations",
            data=b'{"data": "' + b"x" * size + b'"',  # the closing brace is missing
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 400
    assert info.value.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert "Could not parse request body into json" in info.value.read().decode()
