"""The rows of ``[*.metadata.lambda.watch]``: the local Lambda ``rustlambda watch`` serves."""

from __future__ import annotations

from pathlib import Path

from ..convert import (
    Bool,
    EnvFile,
    EnvVars,
    Int,
    PathType,
    Seconds,
    Text,
)
from ..model import Combine, Flag, Scope, Section, Setting
from ._common import WATCHING, switch

# --- [*.metadata.lambda.watch]: the local Lambda ------------------------------------------------
_W = Section.WATCH
INVOKE_ADDRESS: Setting[str | None] = Setting(
    "invoke_address",
    _W,
    Text(),
    None,
    "address of the Invoke API (default 127.0.0.1)",
    keys=("invoke_address",),
    flags=(
        Flag(
            ("-a", "-A", "--invoke-address"),
            "Address to listen on for invoke requests [default: 127.0.0.1].",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
INVOKE_PORT: Setting[int | None] = Setting(
    "invoke_port",
    _W,
    Int(0, 65535),
    None,
    "its port (default 9000; 0: any free port)",
    keys=("invoke_port",),
    flags=(Flag(("-P", "--invoke-port"), "Port for invokes [default: 9000; 0: any free port]."),),
    commands=WATCHING,
    scope=Scope.SERVED,
)
CONCURRENCY: Setting[int | None] = Setting(
    "concurrency",
    _W,
    Int(1, 65535),
    None,
    "instances per function (default 1)",
    keys=("concurrency",),
    flags=(
        Flag(
            ("--concurrency",),
            "Instances per function, each serving one invocation at a time [default: 1].",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
WATCH_TIMEOUT: Setting[float] = Setting(
    "timeout",
    _W,
    Seconds(),
    30.0,
    "seconds an invocation may run",
    keys=("timeout", "invoke_timeout"),
    flags=(
        Flag(
            ("--timeout", "--invoke-timeout"),
            "Seconds an invocation may run before its instance is killed [default: 30].",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
IGNORE_CHANGES: Setting[bool] = Setting(
    "ignore_changes",
    _W,
    Bool(),
    False,
    "serve the first build only",
    keys=("ignore_changes",),
    flags=(
        switch("--ignore-changes", "--no-reload", help="Serve the first build; don't rebuild."),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
WATCH_ENV_VARS: Setting[dict[str, str]] = Setting(
    "env",
    _W,
    EnvVars(),
    {},
    "function environment (KEY=VALUE), over env_file's",
    keys=("env_var", "env_vars", "env"),
    flags=(
        Flag(
            ("--env-var", "--env-vars"),
            "KEY=VALUE for the functions (repeatable, or KEY=VALUE,OTHER=VALUE).",
            repeat=True,
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
    merge=True,
    combine=Combine.MERGE,
)
WATCH_ENV_FILE: Setting[dict[str, str]] = Setting(
    "env_file",
    _W,
    EnvFile(),
    {},
    "file of KEY=VALUE lines, relative to its Cargo.toml",
    keys=("env_file",),
    flags=(Flag(("--env-file",), "File of KEY=VALUE lines for the functions."),),
    commands=WATCHING,
    scope=Scope.SERVED,
    merge=True,
)
MEMORY_SIZE: Setting[int] = Setting(
    "memory_size",
    _W,
    Int(128, 10240),
    128,
    "memory size in MB reported to the function and in REPORT lines",
    flags=(
        Flag(
            ("--memory",),
            "Memory size in MB reported to the function and in REPORT lines.",
            show_default=True,
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
EXTENSIONS_DIR: Setting[Path | None] = Setting(
    "extensions_dir",
    _W,
    PathType(),
    None,
    "external extensions started with each instance (default: `<lambda-dir>/extensions`)",
    flags=(
        Flag(
            ("--extensions-dir",),
            "External extensions to start with each instance (default: <lambda-dir>/extensions).",
            directory=True,
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
MAX_CONCURRENCY: Setting[int] = Setting(
    "max_concurrency",
    _W,
    Int(1, 65535),
    1,
    "invocations one instance serves at once (Lambda Managed Instances: the runtime gets "
    "`AWS_LAMBDA_MAX_CONCURRENCY`)",
    keys=("max_concurrency",),
    flags=(
        Flag(
            ("--max-concurrency",),
            "Invocations one instance serves at once, as on Lambda Managed Instances (the "
            "runtime gets AWS_LAMBDA_MAX_CONCURRENCY) [default: 1].",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
ONLY_LAMBDA_APIS: Setting[bool] = Setting(
    "only_lambda_apis",
    _W,
    Bool(),
    False,
    "serve only the Runtime API: nothing is built, you start each function (e.g. under a "
    "debugger) with the environment watch prints",
    keys=("only_lambda_apis",),
    flags=(
        switch(
            "--only-lambda-apis",
            help="Build nothing and start no function: serve the Runtime API for functions you "
            "start yourself (e.g. under a debugger), and print the environment to export.",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
WAIT: Setting[bool] = Setting(
    "wait",
    _W,
    Bool(),
    False,
    "invokes that arrive during the first build wait for it (else they are answered "
    "ResourceConflictException: state Pending)",
    keys=("wait",),
    flags=(
        switch(
            "-w",
            "--wait",
            help="Invokes that arrive during the first build wait for it instead of failing.",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
AWS_PROFILE: Setting[str | None] = Setting(
    "aws_profile",
    _W,
    Text(),
    None,
    "AWS profile whose credentials (and region) the functions get (default: `AWS_PROFILE`, "
    "then boto3's default chain)",
    keys=("aws_profile",),
    flags=(
        Flag(
            ("--aws-profile",),
            "AWS profile whose credentials and region the functions get [default: AWS_PROFILE, "
            "then the default chain]. (--profile is cargo's build profile.)",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
WATCH_REGION: Setting[str | None] = Setting(
    "region",
    _W,
    Text(),
    None,
    "AWS region of the functions (default: `AWS_REGION`, the profile's, then us-east-1)",
    keys=("region",),
    flags=(
        Flag(
            ("--region",),
            "AWS region the functions run in [default: AWS_REGION, the profile's, us-east-1].",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
DISABLE_CORS: Setting[bool] = Setting(
    "disable_cors",
    _W,
    Bool(),
    False,
    "no CORS on the function-URL front (by default a browser page of any origin may call it)",
    keys=("disable_cors",),
    flags=(
        switch(
            "--disable-cors",
            help="Send no CORS headers on function URLs (by default any origin may call them).",
        ),
    ),
    commands=WATCHING,
    scope=Scope.SERVED,
)
