"""The rows of ``[*.metadata.lambda.deploy]``: the function (or layer) ``rustlambda deploy``
puts on AWS."""

from __future__ import annotations

from pathlib import Path

from ...options import TracingMode, UrlAuth
from ...targets import Arch, Runtime
from ..convert import (
    Bool,
    Choice,
    EnvFile,
    EnvVars,
    FilePath,
    Int,
    PathType,
    RuntimeType,
    Split,
    Strings,
    Tags,
    Text,
)
from ..model import AnySetting, Combine, Flag, Scope, Section, Setting
from ._common import DEPLOYING, switch

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
        commands=DEPLOYING,
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
    flags=(switch("--all", help="Deploy every built binary."),),
    default=False,
    scope=Scope.INPUT,
)
MAX_PARALLEL: Setting[int] = Setting(
    "max_parallel",
    _D,
    Int(1, 64),
    8,
    "functions deployed at once (with --all)",
    keys=("max_parallel",),
    env_var="RUSTLAMBDA_DEPLOY_MAX_PARALLEL",
    flags=(
        Flag(
            ("--max-parallel",),
            "Functions deployed at once with --all [default: 8; 1: one after another].",
        ),
    ),
    commands=DEPLOYING,
    scope=Scope.BUILD_WIDE,
)
PROFILE_AWS: Setting[str | None] = _deploy(
    "profile",
    Text(),
    "AWS profile",
    keys=("profile", "remote_config.profile"),
    flags=(Flag(("-p", "--profile"), "AWS profile [default: boto3's chain, AWS_PROFILE]."),),
)
REGION: Setting[str | None] = _deploy(
    "region",
    Text(),
    "AWS region",
    keys=("region", "remote_config.region"),
    flags=(Flag(("-r", "--region"), "AWS region [default: AWS_REGION or the profile's]."),),
)
ENDPOINT_URL: Setting[str | None] = _deploy(
    "endpoint_url",
    Text(),
    "AWS endpoint",
    keys=("endpoint_url", "remote_config.endpoint_url"),
    flags=(Flag(("--endpoint-url",), "AWS endpoint [default: AWS_ENDPOINT_URL or AWS's]."),),
)
RETRY_ATTEMPTS: Setting[int | None] = _deploy(
    "retry_attempts",
    Int(1, 20),
    "attempts per AWS call",
    keys=("retry_attempts", "remote_config.retry_attempts"),
    flags=(Flag(("--retry-attempts",), "Attempts per AWS call."),),
)
ALIAS: Setting[str | None] = _deploy(
    "alias",
    Text(),
    "point this alias at the version (implies publish)",
    keys=("alias", "remote_config.alias"),
    flags=(Flag(("-a", "--alias"), "Point this alias at the version (implies --publish)."),),
)
PUBLISH: Setting[bool] = _deploy(
    "publish",
    Bool(),
    "publish a version",
    flags=(switch("--publish", help="Publish a version."),),
    default=False,
)
ENABLE_FUNCTION_URL: Setting[bool] = _deploy(
    "enable_function_url",
    Bool(),
    "enable the function URL",
    flags=(switch("--enable-function-url", help="Enable the function URL."),),
    default=False,
)
DISABLE_FUNCTION_URL: Setting[bool] = _deploy(
    "disable_function_url",
    Bool(),
    "disable the function URL",
    flags=(switch("--disable-function-url", help="Disable the function URL."),),
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
    keys=("env_var", "env_vars", "env"),
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
    flags=(switch("--merge-env", help="Keep variables set on Lambda."),),
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
    keys=("vpc.subnet_ids", "subnet_ids"),
    flags=(Flag(("--subnet-ids",), "Comma-separated VPC subnet IDs."),),
)
SECURITY_GROUP_IDS: Setting[tuple[str, ...] | None] = _deploy(
    "security_group_ids",
    Strings(),
    "VPC security group IDs",
    keys=("vpc.security_group_ids", "security_group_ids"),
    flags=(Flag(("--security-group-ids",), "Comma-separated VPC security group IDs."),),
)
IPV6_DUAL_STACK: Setting[bool | None] = _deploy(
    "ipv6_allowed_for_dual_stack",
    Bool(),
    "outbound IPv6 from dual-stack VPC subnets",
    keys=("vpc.ipv6_allowed_for_dual_stack", "ipv6_allowed_for_dual_stack"),
    flags=(switch("--ipv6-allowed-for-dual-stack"),),
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
    flags=(switch("--extension", help="Publish an extension as a layer."),),
)
DEPLOY_INTERNAL: Setting[bool | None] = _deploy(
    "internal",
    Bool(),
    "the extension is internal (default: the build's internal)",
    flags=(switch("--internal", help="The extension is internal."),),
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
        switch("--arm64", help="Take the arm64 build.", value=Arch.ARM64),
        switch("--x86-64", help="Take the x86_64 build.", value=Arch.X86_64),
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
    flags=(switch("--dry", "--dry-run", help="Plan only."),),
    default=False,
)
