"""The emulator's vocabulary: what to run (FunctionSpec), how (EmulatorSettings), what happened."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .protocol import Report


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the emulator runs it: its bootstrap, environment and limits."""

    name: str
    bootstrap: Path
    #: The function's own environment variables (metadata env, --env-var, --env-file).
    env: Mapping[str, str] = field(default_factory=dict)
    memory_size: int = 128
    #: Seconds an invocation may run before the instance is killed.
    timeout: float = 30.0
    #: External extension executables started with each instance (Lambda's /opt/extensions).
    extensions: tuple[Path, ...] = ()
    #: Identifies the build (e.g. the bootstrap's sha256): a new revision restarts instances.
    revision: str = ""
    #: Invocations one instance serves at once (Lambda Managed Instances: the runtime gets
    #: AWS_LAMBDA_MAX_CONCURRENCY and polls ``next`` that many times in parallel). 1: Lambda's
    #: usual one event at a time.
    max_concurrency: int = 1


@dataclass(frozen=True)
class EmulatorSettings:
    #: The Invoke API's address (the one in ``Emulator.url``).
    address: str = "127.0.0.1"
    #: 0 lets the OS choose (tests); the CLI's default is 9000, as cargo-lambda's.
    port: int = 9000
    #: With ``address`` 127.0.0.1, also listen on [::1] at the same port: ``cargo lambda
    #: invoke`` and clients resolving "localhost" to IPv6 first go there.
    ipv6_loopback: bool = True
    #: Instances per function, each serving one invocation at a time.
    concurrency: int = 1
    region: str = "us-east-1"
    account_id: str = "123456789012"
    #: Seconds allowed for extensions and the runtime to initialise.
    init_timeout: float = 10.0
    #: The host environment (PATH for qemu, AWS credentials passed to functions).
    environ: Mapping[str, str] | None = None
    #: The function's AWS credentials, asked for when an instance starts (see
    #: ``aws_env.resolve_aws_environment``); None: the credential variables of ``environ``.
    credentials: Callable[[], Mapping[str, str]] | None = None
    #: Serve the Runtime API without starting the functions: the user starts each bootstrap
    #: (e.g. under a debugger) with ``Emulator.lambda_api_environment(function)``.
    only_lambda_apis: bool = False
    #: Answer browsers' CORS requests on the function-URL front permissively (``emulator.cors``;
    #: rustlambda watch turns it on, as cargo lambda watch does, unless --disable-cors).
    cors: bool = False

    @property
    def listen_addresses(self) -> tuple[str, ...]:
        if self.ipv6_loopback and self.address == "127.0.0.1":
            return (self.address, "::1")
        return (self.address,)


@dataclass(frozen=True)
class LogRecord:
    """One line of output: a function's or extension's stdout/stderr, or a platform line."""

    function: str
    instance: int
    #: "function", "extension:<name>" or "platform" (START, END, REPORT, errors).
    source: str
    text: str
    time: float = field(default_factory=time.time)
    request_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What an invocation produced, as the caller of ``Invoke`` sees it."""

    request_id: str
    function: str
    #: "success" | "error" | "timeout" | "crash"
    status: str
    body: bytes
    #: Set for every failure: the errorType (e.g. "Runtime.ExitError").
    error_type: str | None = None
    report: Report | None = None
    #: The instance that served it (1-based per function) and when (epoch seconds).
    instance: int = 0
    started: float = 0.0
    finished: float = 0.0
    #: The invocation's log lines (START..REPORT), for ``LogType=Tail``.
    logs: tuple[str, ...] = ()
    #: The Content-Type the function answered with (None if it did not answer).
    content_type: str | None = None

    @property
    def function_error(self) -> bool:
        return self.status != "success"
