"""What to deploy and how: `DeployOptions` (the caller's) resolved with the
``[*.metadata.lambda.deploy]`` tables into one `DeploySettings` per deployed binary.

Layers, first wins: the caller's options, environment variables (the rows that have one:
``RUSTLAMBDA_DEPLOY_MAX_PARALLEL``), ``[package.metadata.lambda.bin.<bin>.deploy]``,
``[package.metadata.lambda.deploy]``, ``[workspace.metadata.lambda.bin.<bin>.deploy]``,
``[workspace.metadata.lambda.deploy]``, ``CargoLambda.toml``'s ``[<context>.deploy]`` and
``[deploy]``, ``CARGO_LAMBDA_DEPLOY.<KEY>`` variables, then the defaults (the rows of
`rustlambda.settings.table`). Environment variables merge instead: ``[*.metadata.lambda.env]``
(the function's own env, as for build), then every layer's ``env_file`` and ``env_var`` from the
lowest layer up.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..options import TracingMode, UrlAuth
from ..project import BinTarget, Workspace
from ..settings import table as t
from ..settings.metadata import ConfigSources, Metadata
from ..settings.model import Scope, Section
from ..settings.resolve import Chain, environment_layers, options_layer
from ..targets import Arch, Runtime

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ALIAS = re.compile(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class DeployOptions:
    """What the caller asks for. ``None`` means "not set here": metadata or the default decides,
    and for an existing function a setting nobody set is left as it is on Lambda. Each field is
    a row of `rustlambda.settings.table` (same name); strings are accepted where the field is
    an enum, as the command line writes them."""

    #: The function (or extension layer) name on Lambda; default: the binary's name.
    name: str | None = None
    #: Deploy every binary that has a built artifact (functions, or extensions with `extension`).
    all: bool = False
    #: How many functions are deployed at once (default 8; 1: one after another).
    max_parallel: int | None = None
    manifest_path: Path | None = None
    cwd: Path | None = None
    #: cargo-lambda's global configuration: ``--global``, ``--context``, ``--admerge``.
    global_config: Path | None = None
    context: str | None = None
    admerge: bool | None = None
    lambda_dir: Path | None = None
    binary_name: str | None = None
    #: A bootstrap, extension executable or zip to deploy instead of the lambda dir's.
    binary_path: Path | None = None
    #: Which build to take when the lambda dir holds both architectures.
    arch: Arch | None = None
    extension: bool | None = None
    internal: bool | None = None
    compatible_runtimes: tuple[str, ...] | None = None
    include: tuple[str, ...] | None = None
    # function configuration
    runtime: Runtime | str | None = None
    memory: int | None = None
    timeout: int | None = None
    #: ``--env-var`` values, already parsed.
    env: Mapping[str, str] | None = None
    env_file: Path | None = None
    merge_env: bool | None = None
    tracing: TracingMode | str | None = None
    role: str | None = None
    layers: tuple[str, ...] | None = None
    subnet_ids: tuple[str, ...] | None = None
    security_group_ids: tuple[str, ...] | None = None
    ipv6_allowed_for_dual_stack: bool | None = None
    description: str | None = None
    log_retention: int | None = None
    tags: Mapping[str, str] | None = None
    # after the code is in place
    publish: bool | None = None
    alias: str | None = None
    enable_function_url: bool | None = None
    disable_function_url: bool | None = None
    function_url_auth: UrlAuth | str | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    dry_run: bool | None = None
    # where and as whom (boto3's chain fills what is unset)
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_attempts: int | None = None
    #: The environment cargo, zipping and ``AWS_REGION`` are read from instead of ``os.environ``
    #: (never modified). boto3 reads its own variables (credentials, profile, endpoint) from the
    #: process environment; pass a ``session`` to `deploy` to choose them in code.
    environ: Mapping[str, str] | None = None


class UrlChange(enum.StrEnum):
    """What to do about the function URL (nothing, when neither is asked)."""

    ENABLE = "enable"
    DISABLE = "disable"


@dataclass(frozen=True)
class DeploySettings:
    """Everything decided for one deployed function or extension."""

    name: str
    binary: str
    extension: bool
    internal: bool
    runtime: Runtime
    memory: int | None
    timeout: int | None
    #: None: nobody set any variable, leave the function's as they are.
    env: Mapping[str, str] | None
    merge_env: bool
    tracing: TracingMode | None
    role: str | None
    layers: tuple[str, ...] | None
    subnet_ids: tuple[str, ...] | None
    security_group_ids: tuple[str, ...] | None
    ipv6_allowed_for_dual_stack: bool | None
    description: str | None
    log_retention: int | None
    tags: Mapping[str, str]
    publish: bool
    alias: str | None
    function_url: UrlChange | None
    function_url_auth: UrlAuth
    s3_bucket: str | None
    s3_key: str | None
    compatible_runtimes: tuple[str, ...] | None
    include: tuple[str, ...]
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_attempts: int | None = None
    dry_run: bool = False
    max_parallel: int = 8


#: The rows a deploy resolves per function (the others are read from the options directly).
ROWS = tuple(r for r in t.rows(Section.DEPLOY) if r.scope is not Scope.INPUT)


def function_chain(
    options: DeployOptions,
    cwd: Path,
    metadata: Metadata | None,
    binary: BinTarget | None,
    sources: ConfigSources | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Chain:
    """The caller's options, the environment, then the binary's metadata layers (see the
    module docstring), then the global configuration's (``sources``, without a workspace:
    metadata's own)."""
    top = [options_layer(options, ROWS, cwd), *environment_layers(environ or {}, ROWS, cwd)]
    if metadata is None:
        bottom = sources.layers(Section.DEPLOY) if sources is not None else ()
        return Chain((*top, *bottom), sources is not None and sources.admerge)
    workspace: Workspace = metadata.workspace
    package = workspace.package(binary.package) if binary is not None else None
    name = binary.name if binary is not None else None
    return metadata.chain((Section.DEPLOY,), package, name, top)


def resolve_function(
    chain: Chain,
    *,
    binary: str,
    base_env: Mapping[str, str],
    build_include: tuple[str, ...],
    build_extension: bool,
    build_internal: bool,
) -> DeploySettings:
    """One function's settings from its chain; ``build_*``: what its build settings say, for
    the deploy settings that default to them."""
    env = chain.merged(t.DEPLOY_ENV_FILE, t.DEPLOY_ENV_VARS)
    if base_env or env is not None:
        env = {**base_env, **(env or {})}
    enable, disable = chain.get(t.ENABLE_FUNCTION_URL), chain.get(t.DISABLE_FUNCTION_URL)
    if enable and disable:
        raise ConfigError(
            "both enable_function_url and disable_function_url are set",
            "pass only one of --enable-function-url and --disable-function-url",
        )
    name, alias = chain.get(t.NAME) or binary, chain.get(t.ALIAS)
    _check_names(name, alias)
    tags = chain.get(t.TAGS)
    include = chain.get_or(t.DEPLOY_INCLUDE, build_include)
    return DeploySettings(
        name=name,
        binary=binary,
        extension=bool(chain.get_or(t.DEPLOY_EXTENSION, build_extension)),
        internal=bool(chain.get_or(t.DEPLOY_INTERNAL, build_internal)),
        runtime=chain.get(t.DEPLOY_RUNTIME),
        memory=chain.get(t.MEMORY),
        timeout=chain.get(t.TIMEOUT),
        env=env,
        merge_env=chain.get(t.MERGE_ENV),
        tracing=chain.get(t.TRACING),
        role=chain.get(t.ROLE),
        layers=chain.get(t.LAYERS),
        subnet_ids=chain.get(t.SUBNET_IDS),
        security_group_ids=chain.get(t.SECURITY_GROUP_IDS),
        ipv6_allowed_for_dual_stack=chain.get(t.IPV6_DUAL_STACK),
        description=chain.get(t.DESCRIPTION),
        log_retention=chain.get(t.LOG_RETENTION),
        tags=dict(tags),
        publish=chain.get(t.PUBLISH) or alias is not None,
        alias=alias,
        function_url=UrlChange.ENABLE if enable else UrlChange.DISABLE if disable else None,
        function_url_auth=chain.get(t.FUNCTION_URL_AUTH),
        s3_bucket=chain.get(t.S3_BUCKET),
        s3_key=chain.get(t.S3_KEY),
        compatible_runtimes=chain.get(t.COMPATIBLE_RUNTIMES),
        include=tuple(include or ()),
        profile=chain.get(t.PROFILE_AWS),
        region=chain.get(t.REGION),
        endpoint_url=chain.get(t.ENDPOINT_URL),
        retry_attempts=chain.get(t.RETRY_ATTEMPTS),
        dry_run=chain.get(t.DRY_RUN),
        max_parallel=chain.get(t.MAX_PARALLEL),
    )


def _check_names(name: str, alias: str | None) -> None:
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid Lambda function or layer name",
            "use 1 to 64 letters, digits, hyphens or underscores",
        )
    if alias is not None and not _ALIAS.match(alias):
        raise ConfigError(
            f"{alias!r} is not a valid alias name",
            "use letters, digits, hyphens and underscores (not only digits)",
        )
