"""The settings table: every setting rustlambda reads, once.

Each row names its cargo-lambda metadata keys (with aliases), environment variable, command-line
flags, converter (the type), the fronts that use it, its scope and its default. The flags module
builds the command lines from these rows, the resolver reads Cargo.toml metadata and the
environment through them, and README's key tables are generated from them.
"""

from __future__ import annotations

from pathlib import Path

from ..options import CompilerSettings, OutputFormat, TracingMode, UrlAuth
from ..targets import Arch, Runtime, Target
from .convert import (
    ArchSwitch,
    Bool,
    Choice,
    CompilerType,
    EnvFile,
    EnvTable,
    EnvVars,
    FilePath,
    Int,
    PathType,
    RuntimeType,
    Seconds,
    Split,
    Strings,
    Tags,
    Targets,
    Text,
)
from .model import AnySetting, Combine, Command, Flag, Scope, Section, Setting

_BUILDING = frozenset({Command.BUILD, Command.WATCH, Command.CDK})
_EVERYWHERE = frozenset({Command.BUILD, Command.WATCH, Command.DEPLOY, Command.CDK})
_DEPLOY = frozenset({Command.DEPLOY})
_WATCH = frozenset({Command.WATCH})
_B = Section.BUILD


def _switch(*decls: str, help: str = "", value: object = True) -> Flag:
    return Flag(decls, help, switch=True, value=value)


# --- [*.metadata.lambda] ---------------------------------------------------------------------
ENV: Setting[dict[str, str]] = Setting(
    "env",
    Section.LAMBDA,
    EnvTable(),
    {},
    "the functions' environment; also passed to the build",
    keys=("env",),
    commands=_EVERYWHERE,
    merge=True,
)

# --- [*.metadata.lambda.build]: what cargo builds ----------------------------------------------
RELEASE: Setting[bool] = Setting(
    "release",
    _B,
    Bool(),
    False,
    "build with the release profile",
    keys=("release",),
    flags=(_switch("-r", "--release", help="Build with the release profile."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
PROFILE: Setting[str | None] = Setting(
    "profile",
    _B,
    Text(),
    None,
    "cargo profile",
    keys=("profile",),
    flags=(Flag(("--profile",), "Build with this cargo profile."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
TARGETS: Setting[tuple[Target, ...] | None] = Setting(
    "targets",
    _B,
    Targets(),
    None,
    "targets; default: the host's architecture (x86_64 elsewhere)",
    keys=("target", "arm64", "x86_64"),
    flags=(
        _switch("--x86-64", help="Build for Lambda x86_64.", value=(Target.for_arch(Arch.X86_64),)),
        _switch(
            "--arm64",
            help="Build for Lambda arm64 (aarch64-unknown-linux-gnu).",
            value=(Target.for_arch(Arch.ARM64),),
        ),
        Flag(("--target",), "Target triple (repeatable).", repeat=True),
    ),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
    combine=Combine.CONCAT,
    key_converters={"arm64": ArchSwitch(Arch.ARM64), "x86_64": ArchSwitch(Arch.X86_64)},
)
RUNTIME: Setting[Runtime] = Setting(
    "runtime",
    _B,
    RuntimeType(),
    Runtime.AL2023,
    "the Lambda runtime, whose glibc gnu targets are linked against (rustlambda's addition)",
    keys=("runtime",),
    env_var="RUSTLAMBDA_RUNTIME",
    flags=(Flag(("--runtime",), "provided.al2023 (default) or provided.al2: pins glibc."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
COMPILER: Setting[CompilerSettings] = Setting(
    "compiler",
    _B,
    CompilerType(),
    CompilerSettings(),
    "zig (default), cargo or cross; the table form sets the cargo compiler's subcommand and "
    "extra_args",
    keys=("compiler",),
    env_var="CARGO_LAMBDA_COMPILER",
    flags=(Flag(("--compiler",), "zig (default), cargo or cross. Env: CARGO_LAMBDA_COMPILER."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
EXTENSION: Setting[bool] = Setting(
    "extension",
    _B,
    Bool(),
    False,
    "build Lambda extensions",
    keys=("extension",),
    flags=(_switch("--extension", help="Build Lambda extensions."),),
    commands=_EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
INTERNAL: Setting[bool] = Setting(
    "internal",
    _B,
    Bool(),
    False,
    "the extension is internal",
    keys=("internal",),
    flags=(_switch("--internal", help="The extension is internal."),),
    commands=_EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
OUTPUT_FORMAT: Setting[OutputFormat] = Setting(
    "output_format",
    _B,
    Choice(OutputFormat),
    OutputFormat.BINARY,
    "binary, or zip (a reproducible zip next to each executable)",
    keys=("output_format",),
    env_var="CARGO_LAMBDA_OUTPUT_FORMAT",
    flags=(Flag(("-o", "--output-format"), "Artifact format."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
LAMBDA_DIR: Setting[Path | None] = Setting(
    "lambda_dir",
    _B,
    PathType(),
    None,
    "output base directory (default: `<target-dir>/lambda`)",
    keys=("lambda_dir",),
    env_var="CARGO_LAMBDA_LAMBDA_DIR",
    flags=(Flag(("-l", "--lambda-dir"), "Output base directory."),),
    commands=_EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
FLATTEN: Setting[str | None] = Setting(
    "flatten",
    _B,
    Text(),
    None,
    "put this binary's bootstrap directly in the lambda dir",
    keys=("flatten",),
    flags=(Flag(("--flatten",), "Put this binary's bootstrap directly in the lambda dir."),),
    commands=_EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
INCLUDE: Setting[tuple[str, ...]] = Setting(
    "include",
    _B,
    Strings(Split.PATHS),
    (),
    "files and folders for the zip (PATH or DEST:SRC)",
    keys=("include",),
    flags=(Flag(("--include",), "Extra file for the zip (repeatable).", repeat=True),),
    commands=_EVERYWHERE,
)
DISABLE_OPTIMIZATIONS: Setting[bool] = Setting(
    "disable_optimizations",
    _B,
    Bool(),
    False,
    "no release tuning",
    keys=("disable_optimizations",),
    flags=(
        _switch(
            "--disable-optimizations",
            help="No release tuning (strip, LTO, codegen-units, panic, target-cpu).",
        ),
    ),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
FEATURES: Setting[tuple[str, ...]] = Setting(
    "features",
    _B,
    Strings(Split.FEATURES),
    (),
    "cargo features to activate",
    keys=("features",),
    flags=(Flag(("-F", "--features"), "Features to activate.", repeat=True),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
ALL_FEATURES: Setting[bool] = Setting(
    "all_features",
    _B,
    Bool(),
    False,
    "activate every feature",
    keys=("all_features",),
    flags=(_switch("--all-features"),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
NO_DEFAULT_FEATURES: Setting[bool] = Setting(
    "no_default_features",
    _B,
    Bool(),
    False,
    "do not activate the default feature",
    keys=("no_default_features",),
    flags=(_switch("--no-default-features"),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
SKIP_TARGET_CHECK: Setting[bool] = Setting(
    "skip_target_check",
    _B,
    Bool(),
    False,
    "don't check that the target's std is installed",
    keys=("skip_target_check",),
    flags=(_switch("--skip-target-check", help="Don't check that the target's std is installed."),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
# command line only: what to build, and cargo's own switches
MANIFEST_PATH: Setting[Path | None] = Setting(
    "manifest_path",
    _B,
    PathType(),
    None,
    "path to Cargo.toml",
    flags=(Flag(("--manifest-path",), "Path to Cargo.toml."),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
BINS: Setting[tuple[str, ...]] = Setting(
    "bins",
    _B,
    Strings(Split.PATHS),
    (),
    "build only these binaries",
    flags=(Flag(("--bin",), "Build only this binary (repeatable).", repeat=True),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
PACKAGES: Setting[tuple[str, ...]] = Setting(
    "packages",
    _B,
    Strings(Split.PATHS),
    (),
    "build these packages' binaries",
    flags=(Flag(("-p", "--package"), "Build this package's binaries.", repeat=True),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
WORKSPACE: Setting[bool] = Setting(
    "workspace",
    _B,
    Bool(),
    False,
    "build every binary of the workspace",
    flags=(_switch("--workspace", help="Build every binary of the workspace."),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
EXAMPLES: Setting[tuple[str, ...]] = Setting(
    "examples",
    _B,
    Strings(Split.PATHS),
    (),
    "build these examples",
    flags=(Flag(("--example",), "Build this example (repeatable).", repeat=True),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
TARGET_DIR: Setting[Path | None] = Setting(
    "target_dir",
    _B,
    PathType(),
    None,
    "cargo's target directory",
    flags=(Flag(("--target-dir",), "Cargo's target directory."),),
    commands=_BUILDING,
    scope=Scope.INPUT,
)
LOCKED: Setting[bool] = Setting(
    "locked",
    _B,
    Bool(),
    False,
    "cargo --locked",
    flags=(_switch("--locked"),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
OFFLINE: Setting[bool] = Setting(
    "offline",
    _B,
    Bool(),
    False,
    "cargo --offline",
    flags=(_switch("--offline"),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
FROZEN: Setting[bool] = Setting(
    "frozen",
    _B,
    Bool(),
    False,
    "cargo --frozen",
    flags=(_switch("--frozen"),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
JOBS: Setting[int | None] = Setting(
    "jobs",
    _B,
    Int(),
    None,
    "cargo --jobs",
    flags=(Flag(("-j", "--jobs")),),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)
VERIFY: Setting[bool] = Setting(
    "verify",
    _B,
    Bool(),
    True,
    "check the artifacts against the runtime after building",
    flags=(
        _switch("--no-verify", help="Don't check the artifacts against the runtime.", value=False),
    ),
    commands=_BUILDING,
    scope=Scope.BUILD_WIDE,
)

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
    commands=_WATCH,
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
    commands=_WATCH,
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
    commands=_WATCH,
    scope=Scope.SERVED,
)
WATCH_TIMEOUT: Setting[float] = Setting(
    "timeout",
    _W,
    Seconds(),
    30.0,
    "seconds an invocation may run",
    keys=("timeout",),
    flags=(
        Flag(
            ("--timeout",),
            "Seconds an invocation may run before its instance is killed [default: 30].",
        ),
    ),
    commands=_WATCH,
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
        _switch("--ignore-changes", "--no-reload", help="Serve the first build; don't rebuild."),
    ),
    commands=_WATCH,
    scope=Scope.SERVED,
)
WATCH_ENV_VARS: Setting[dict[str, str]] = Setting(
    "env",
    _W,
    EnvVars(),
    {},
    "function environment (KEY=VALUE), over env_file's",
    keys=("env_var",),
    flags=(
        Flag(
            ("--env-var", "--env-vars"),
            "KEY=VALUE for the functions (repeatable, or KEY=VALUE,OTHER=VALUE).",
            repeat=True,
        ),
    ),
    commands=_WATCH,
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
    commands=_WATCH,
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
    commands=_WATCH,
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
    commands=_WATCH,
    scope=Scope.SERVED,
)

# --- [*.metadata.lambda.deploy]: the function on AWS ------------------------------------------
_D = Section.DEPLOY


def _deploy(
    name: str,
    convert: object,
    help: str,
    *,
    keys: tuple[str, ...] | None = None,
    flags: tuple[Flag, ...] = (),
    default: object = None,
    scope: Scope = Scope.FUNCTION,
    merge: bool = False,
    combine: Combine = Combine.LAST,
) -> AnySetting:
    """A deploy row (most have no default: a setting nobody gave is left as it is on Lambda)."""
    return Setting(
        name,
        _D,
        convert,  # type: ignore[arg-type]
        default,
        help,
        keys=(name,) if keys is None else keys,
        flags=flags,
        commands=_DEPLOY,
        scope=scope,
        merge=merge,
        combine=combine,
    )


NAME: Setting[str | None] = _deploy(
    "name",
    Text(),
    "the function's (or layer's) name on Lambda; default: the binary's",
    flags=(Flag(("name",), argument=True),),
)
ALL: Setting[bool] = _deploy(
    "all",
    Bool(),
    "deploy every built binary",
    keys=(),
    flags=(_switch("--all", help="Deploy every built binary."),),
    default=False,
    scope=Scope.INPUT,
)
PROFILE_AWS: Setting[str | None] = _deploy(
    "profile",
    Text(),
    "AWS profile",
    flags=(Flag(("-p", "--profile"), "AWS profile [default: boto3's chain, AWS_PROFILE]."),),
)
REGION: Setting[str | None] = _deploy(
    "region",
    Text(),
    "AWS region",
    flags=(Flag(("-r", "--region"), "AWS region [default: AWS_REGION or the profile's]."),),
)
ENDPOINT_URL: Setting[str | None] = _deploy(
    "endpoint_url",
    Text(),
    "AWS endpoint",
    flags=(Flag(("--endpoint-url",), "AWS endpoint [default: AWS_ENDPOINT_URL or AWS's]."),),
)
RETRY_ATTEMPTS: Setting[int | None] = _deploy(
    "retry_attempts",
    Int(1, 20),
    "attempts per AWS call",
    flags=(Flag(("--retry-attempts",), "Attempts per AWS call."),),
)
ALIAS: Setting[str | None] = _deploy(
    "alias",
    Text(),
    "point this alias at the version (implies publish)",
    flags=(Flag(("-a", "--alias"), "Point this alias at the version (implies --publish)."),),
)
PUBLISH: Setting[bool] = _deploy(
    "publish",
    Bool(),
    "publish a version",
    flags=(_switch("--publish", help="Publish a version."),),
    default=False,
)
ENABLE_FUNCTION_URL: Setting[bool] = _deploy(
    "enable_function_url",
    Bool(),
    "enable the function URL",
    flags=(_switch("--enable-function-url", help="Enable the function URL."),),
    default=False,
)
DISABLE_FUNCTION_URL: Setting[bool] = _deploy(
    "disable_function_url",
    Bool(),
    "disable the function URL",
    flags=(_switch("--disable-function-url", help="Disable the function URL."),),
    default=False,
)
FUNCTION_URL_AUTH: Setting[UrlAuth] = _deploy(
    "function_url_auth",
    Choice(UrlAuth, {"iam": UrlAuth.AWS_IAM}),
    "the function URL's auth type",
    flags=(
        Flag(("--function-url-auth",), "The function URL's auth type [default: NONE, public]."),
    ),
    default=UrlAuth.NONE,
)
MEMORY: Setting[int | None] = _deploy(
    "memory",
    Int(128, 10240),
    "memory in MB",
    keys=("memory", "memory_size"),
    flags=(Flag(("--memory", "--memory-size"), "Memory in MB."),),
)
TIMEOUT: Setting[int | None] = _deploy(
    "timeout",
    Int(1, 900),
    "function timeout in seconds",
    flags=(Flag(("--timeout",), "Function timeout in seconds."),),
)
DEPLOY_ENV_VARS: Setting[dict[str, str]] = _deploy(
    "env",
    EnvVars(),
    "the function's environment (KEY=VALUE); replaces Lambda's unless merge_env",
    keys=("env_var", "env_vars"),
    flags=(
        Flag(
            ("--env-var", "--env-vars"),
            "KEY=VALUE for the function (repeatable, or KEY=VALUE,OTHER=VALUE).",
            repeat=True,
        ),
    ),
    merge=True,
    combine=Combine.MERGE,
)
DEPLOY_ENV_FILE: Setting[dict[str, str]] = _deploy(
    "env_file",
    EnvFile(),
    "file of KEY=VALUE lines, relative to its Cargo.toml",
    flags=(Flag(("--env-file",), "File of KEY=VALUE lines."),),
    merge=True,
)
MERGE_ENV: Setting[bool] = _deploy(
    "merge_env",
    Bool(),
    "keep variables set on Lambda",
    flags=(_switch("--merge-env", help="Keep variables set on Lambda."),),
    default=False,
)
TRACING: Setting[TracingMode | None] = _deploy(
    "tracing",
    Choice(TracingMode, spelling=("active", "passthrough")),
    "X-Ray tracing",
    flags=(Flag(("--tracing",), "X-Ray tracing mode."),),
)
ROLE: Setting[str | None] = _deploy(
    "role",
    Text(),
    "execution role ARN (or name)",
    keys=("role", "iam_role"),
    flags=(Flag(("--role", "--iam-role"), "Execution role ARN (or name)."),),
)
LAYERS: Setting[tuple[str, ...] | None] = _deploy(
    "layers",
    Strings(),
    "layer ARNs",
    keys=("layer", "layers"),
    flags=(Flag(("--layer", "--layer-arn"), "Layer ARN (repeatable, or a,b).", repeat=True),),
)
SUBNET_IDS: Setting[tuple[str, ...] | None] = _deploy(
    "subnet_ids",
    Strings(),
    "VPC subnet IDs",
    flags=(Flag(("--subnet-ids",), "Comma-separated VPC subnet IDs."),),
)
SECURITY_GROUP_IDS: Setting[tuple[str, ...] | None] = _deploy(
    "security_group_ids",
    Strings(),
    "VPC security group IDs",
    flags=(Flag(("--security-group-ids",), "Comma-separated VPC security group IDs."),),
)
IPV6_DUAL_STACK: Setting[bool | None] = _deploy(
    "ipv6_allowed_for_dual_stack",
    Bool(),
    "outbound IPv6 from dual-stack VPC subnets",
    flags=(_switch("--ipv6-allowed-for-dual-stack"),),
)
DEPLOY_RUNTIME: Setting[Runtime] = _deploy(
    "runtime",
    RuntimeType(),
    "the function's runtime",
    flags=(Flag(("--runtime",), "provided.al2023 (default) or provided.al2."),),
    default=Runtime.AL2023,
)
DESCRIPTION: Setting[str | None] = _deploy(
    "description",
    Text(),
    "the function's (or layer version's) description",
    flags=(Flag(("--description",), "The function's (or layer version's) description."),),
)
LOG_RETENTION: Setting[int | None] = _deploy(
    "log_retention",
    Int(1, 3653),
    "days to keep the logs",
    flags=(Flag(("--log-retention",), "Days to keep the logs."),),
)
TAGS: Setting[dict[str, str]] = _deploy(
    "tags",
    Tags(),
    "tags to add (KEY=VALUE)",
    keys=("tag", "tags"),
    flags=(Flag(("--tag", "--tags"), "KEY=VALUE tag (repeatable).", repeat=True),),
    default={},
)
S3_BUCKET: Setting[str | None] = _deploy(
    "s3_bucket",
    Text(),
    "upload the zip through this S3 bucket",
    flags=(Flag(("--s3-bucket",), "Upload the zip through this S3 bucket."),),
)
S3_KEY: Setting[str | None] = _deploy(
    "s3_key",
    Text(),
    "the S3 key for the zip (default: the function's name)",
    flags=(Flag(("--s3-key",), "The S3 key for the zip [default: the function's name]."),),
)
DEPLOY_EXTENSION: Setting[bool | None] = _deploy(
    "extension",
    Bool(),
    "publish an extension as a layer (default: the build's extension)",
    flags=(_switch("--extension", help="Publish an extension as a layer."),),
)
DEPLOY_INTERNAL: Setting[bool | None] = _deploy(
    "internal",
    Bool(),
    "the extension is internal (default: the build's internal)",
    flags=(_switch("--internal", help="The extension is internal."),),
)
COMPATIBLE_RUNTIMES: Setting[tuple[str, ...] | None] = _deploy(
    "compatible_runtimes",
    Strings(),
    "runtimes of the extension layer (default: those whose glibc runs it)",
    flags=(Flag(("--compatible-runtimes",), "Comma-separated runtimes of the extension layer."),),
)
DEPLOY_LAMBDA_DIR: Setting[Path | None] = _deploy(
    "lambda_dir",
    FilePath(),
    "where the builds are (default: the build's lambda dir)",
    flags=(Flag(("-l", "--lambda-dir"), "Where builds are."),),
)
DEPLOY_MANIFEST_PATH: Setting[Path | None] = _deploy(
    "manifest_path",
    PathType(),
    "path to Cargo.toml",
    keys=(),
    flags=(Flag(("--manifest-path",), "Path to Cargo.toml."),),
    scope=Scope.INPUT,
)
BINARY_NAME: Setting[str | None] = _deploy(
    "binary_name",
    Text(),
    "the binary to deploy, when NAME is another name",
    keys=(),
    flags=(Flag(("--binary-name",), "The binary to deploy, when NAME is another name."),),
    scope=Scope.INPUT,
)
BINARY_PATH: Setting[Path | None] = _deploy(
    "binary_path",
    FilePath(),
    "a bootstrap or zip to deploy instead of the lambda dir's",
    flags=(Flag(("--binary-path",), "A bootstrap or zip to deploy."),),
)
ARCH: Setting[Arch | None] = _deploy(
    "arch",
    Choice(Arch),
    "which build to take when the lambda dir holds both architectures",
    keys=(),
    flags=(
        _switch("--arm64", help="Take the arm64 build.", value=Arch.ARM64),
        _switch("--x86-64", help="Take the x86_64 build.", value=Arch.X86_64),
    ),
    scope=Scope.INPUT,
)
DEPLOY_INCLUDE: Setting[tuple[str, ...] | None] = _deploy(
    "include",
    Strings(Split.PATHS),
    "extra files for the zip (default: the build's include)",
    flags=(Flag(("-i", "--include"), "Extra file for the zip (repeatable).", repeat=True),),
)
DRY_RUN: Setting[bool] = _deploy(
    "dry_run",
    Bool(),
    "plan only: change nothing",
    keys=("dry",),
    flags=(_switch("--dry", "--dry-run", help="Plan only."),),
    default=False,
)

#: Every row, in the table's order.
ROWS: tuple[AnySetting, ...] = tuple(
    value for value in globals().values() if isinstance(value, Setting)
)


def rows(section: Section) -> tuple[AnySetting, ...]:
    return tuple(row for row in ROWS if row.section is section)
