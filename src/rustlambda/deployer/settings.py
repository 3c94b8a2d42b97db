"""What to deploy and how: `DeployOptions` (the caller's), ``[*.metadata.lambda.deploy]`` tables
(cargo-lambda's keys) and their layering into one `FunctionSettings` per deployed binary.

Layers, first wins: the caller's options, ``[package.metadata.lambda.bin.<bin>.deploy]``,
``[package.metadata.lambda.deploy]``, ``[workspace.metadata.lambda.bin.<bin>.deploy]``,
``[workspace.metadata.lambda.deploy]``, then the defaults. Environment variables merge instead:
``[*.metadata.lambda.env]`` (the function's own env, as for build), then every layer's
``env_file`` and ``env_var`` from the lowest layer up.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..config import parse_env_vars, read_env_file
from ..errors import ConfigError
from ..project import BinTarget, Workspace
from ..targets import Arch

DEFAULT_RUNTIME = "provided.al2023"


@dataclass(frozen=True)
class DeployOptions:
    """What the caller asks for. ``None`` means "not set here": metadata or the default decides,
    and for an existing function a setting nobody set is left as it is on Lambda."""

    #: The function (or extension layer) name on Lambda; default: the binary's name.
    name: str | None = None
    #: Deploy every binary that has a built artifact (functions, or extensions with `extension`).
    all: bool = False
    manifest_path: Path | None = None
    cwd: Path | None = None
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
    runtime: str | None = None
    memory: int | None = None
    timeout: int | None = None
    #: ``--env-var`` values, already parsed.
    env: Mapping[str, str] | None = None
    env_file: Path | None = None
    merge_env: bool | None = None
    tracing: str | None = None
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
    function_url_auth: str | None = None
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


@dataclass(frozen=True)
class FunctionSettings:
    """Everything decided for one deployed function or extension."""

    name: str
    binary: str
    extension: bool
    internal: bool
    runtime: str
    memory: int | None
    timeout: int | None
    #: None: nobody set any variable, leave the function's as they are.
    env: Mapping[str, str] | None
    merge_env: bool
    tracing: str | None  # Lambda's spelling: "Active" | "PassThrough"
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
    function_url: str | None  # "enable" | "disable" | None (leave it)
    function_url_auth: str  # "NONE" | "AWS_IAM"
    s3_bucket: str | None
    s3_key: str | None
    compatible_runtimes: tuple[str, ...] | None
    include: tuple[str, ...]
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_attempts: int | None = None
    dry_run: bool = False


# --- metadata keys -----------------------------------------------------------------------------

_TRACING = {"active": "Active", "passthrough": "PassThrough"}
_URL_AUTH = {"none": "NONE", "aws_iam": "AWS_IAM", "iam": "AWS_IAM"}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _where_error(where: str, key: str, value: object, hint: str) -> ConfigError:
    return ConfigError(f"{where}: {key} = {value!r} is not valid", hint)


def _as_str(value: object, where: str, key: str) -> str:
    if isinstance(value, str) and value:
        return value
    raise _where_error(where, key, value, f'a non-empty string, e.g. {key} = "..."')


def _as_bool(value: object, where: str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise _where_error(where, key, value, f"true or false, e.g. {key} = true")


def _as_int(lo: int, hi: int) -> Callable[[object, str, str], int]:
    def convert(value: object, where: str, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _where_error(where, key, value, f"a whole number from {lo} to {hi}")
        return value

    return convert


def _as_list(value: object, where: str, key: str) -> tuple[str, ...]:
    """A list of strings, or one comma-separated string (cargo-lambda accepts both)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise _where_error(where, key, value, f'a list of strings, e.g. {key} = ["a", "b"]')
    return tuple(i.strip() for i in items if i.strip())


def _as_tracing(value: object, where: str, key: str) -> str:
    mode = _TRACING.get(str(value).lower()) if isinstance(value, str) else None
    if mode is None:
        raise _where_error(where, key, value, 'use "active" or "passthrough"')
    return mode


def _as_url_auth(value: object, where: str, key: str) -> str:
    auth = _URL_AUTH.get(str(value).lower()) if isinstance(value, str) else None
    if auth is None:
        raise _where_error(where, key, value, 'use "NONE" (public) or "AWS_IAM"')
    return auth


def _as_tags(value: object, where: str, key: str) -> dict[str, str]:
    """``tag = ["team=lambda"]``, ``"a=b,c=d"`` or a table ``{ team = "lambda" }``."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return parse_tags(_as_list(value, where, key), f"{where}: {key}")


def _as_env_vars(value: object, where: str, key: str) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return parse_env_vars(_as_list(value, where, key), f"{where}: {key}")


def _as_path(value: object, where: str, key: str) -> Path:
    return Path(_as_str(value, where, key))


#: ``[*.metadata.lambda.deploy]`` keys (cargo-lambda's, with its aliases) → (field, converter).
DEPLOY_KEYS: Mapping[str, tuple[str, Callable[[object, str, str], Any]]] = {
    "name": ("name", _as_str),
    "memory": ("memory", _as_int(128, 10240)),
    "memory_size": ("memory", _as_int(128, 10240)),
    "timeout": ("timeout", _as_int(1, 900)),
    "env_var": ("env", _as_env_vars),
    "env_vars": ("env", _as_env_vars),
    "env_file": ("env_file", _as_path),
    "merge_env": ("merge_env", _as_bool),
    "tracing": ("tracing", _as_tracing),
    "role": ("role", _as_str),
    "iam_role": ("role", _as_str),
    "layer": ("layers", _as_list),
    "layers": ("layers", _as_list),
    "subnet_ids": ("subnet_ids", _as_list),
    "security_group_ids": ("security_group_ids", _as_list),
    "ipv6_allowed_for_dual_stack": ("ipv6_allowed_for_dual_stack", _as_bool),
    "runtime": ("runtime", _as_str),
    "description": ("description", _as_str),
    "log_retention": ("log_retention", _as_int(1, 3653)),
    "tag": ("tags", _as_tags),
    "tags": ("tags", _as_tags),
    "publish": ("publish", _as_bool),
    "alias": ("alias", _as_str),
    "enable_function_url": ("enable_function_url", _as_bool),
    "disable_function_url": ("disable_function_url", _as_bool),
    "function_url_auth": ("function_url_auth", _as_url_auth),
    "s3_bucket": ("s3_bucket", _as_str),
    "s3_key": ("s3_key", _as_str),
    "extension": ("extension", _as_bool),
    "internal": ("internal", _as_bool),
    "compatible_runtimes": ("compatible_runtimes", _as_list),
    "include": ("include", _as_list),
    "dry": ("dry_run", _as_bool),
    "lambda_dir": ("lambda_dir", _as_path),
    "binary_path": ("binary_path", _as_path),
    "profile": ("profile", _as_str),
    "region": ("region", _as_str),
    "endpoint_url": ("endpoint_url", _as_str),
    "retry_attempts": ("retry_attempts", _as_int(1, 20)),
}
#: Keys cargo-lambda reads that only steer its own CLI (output) and are accepted silently.
_ACCEPTED = ("output_format", "manifest_path")


def parse_tags(values: Sequence[str], where: str = "--tag") -> dict[str, str]:
    tags: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, rest = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(
                    f"{where} {item!r} is not KEY=VALUE", f"write it as {where} team=lambda"
                )
            tags[key.strip()] = rest.strip()
    return tags


Layer = dict[str, Any]


def _deploy_layer(table: Mapping[str, Any], where: str, base: Path, warnings: list[str]) -> Layer:
    layer: Layer = {}
    for key, value in table.items():
        if key in _ACCEPTED:
            continue
        if key not in DEPLOY_KEYS:
            close = difflib.get_close_matches(str(key), list(DEPLOY_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(f"unknown key {key!r} in {where}{hint}; it is ignored")
            continue
        name, convert = DEPLOY_KEYS[key]
        converted = convert(value, where, key)
        if name == "env":
            layer["env"] = {**layer.get("env", {}), **converted}
        elif name == "env_file":
            layer["env_file_vars"] = read_env_file(base / converted)
        elif name in ("lambda_dir", "binary_path"):
            layer[name] = base / converted
        else:
            layer[name] = converted
    return layer


def _table(metadata: Mapping[str, Any], *path: str) -> Mapping[str, Any] | None:
    node: Any = metadata.get("lambda")
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node if isinstance(node, Mapping) else None


def metadata_chain(
    workspace: Workspace | None, binary: BinTarget | None, warnings: list[str]
) -> list[Layer]:
    """The metadata layers for one binary, highest precedence first."""
    if workspace is None:
        return []
    sources: list[tuple[str, Path, Mapping[str, Any] | None]] = []
    package = workspace.package(binary.package) if binary else None
    if package is not None and binary is not None:
        base = package.manifest_path.parent
        sources += [
            (
                f"[package.metadata.lambda.bin.{binary.name}.deploy] of {package.name}",
                base,
                _table(package.metadata, "bin", binary.name, "deploy"),
            ),
            (
                f"[package.metadata.lambda.deploy] of {package.name}",
                base,
                _table(package.metadata, "deploy"),
            ),
        ]
    if binary is not None:
        sources.append(
            (
                f"[workspace.metadata.lambda.bin.{binary.name}.deploy]",
                workspace.root,
                _table(workspace.metadata, "bin", binary.name, "deploy"),
            )
        )
    sources.append(
        ("[workspace.metadata.lambda.deploy]", workspace.root, _table(workspace.metadata, "deploy"))
    )
    return [_deploy_layer(t, w, b, warnings) for w, b, t in sources if t is not None]


def cli_layer(options: DeployOptions, cwd: Path) -> Layer:
    layer: Layer = {}
    for f in fields(DeployOptions):
        if f.name in ("all", "manifest_path", "cwd", "environ", "arch", "env", "env_file"):
            continue
        value = getattr(options, f.name)
        if value is not None:
            layer[f.name] = value
    if options.env_file is not None:
        layer["env_file_vars"] = read_env_file(cwd / options.env_file)
    if options.env is not None:
        layer["env"] = dict(options.env)
    if options.tracing is not None:
        layer["tracing"] = _as_tracing(options.tracing, "--tracing", "tracing")
    if options.function_url_auth is not None:
        layer["function_url_auth"] = _as_url_auth(
            options.function_url_auth, "--function-url-auth", "function_url_auth"
        )
    return layer


def first(chain: Sequence[Layer], name: str, default: Any = None) -> Any:
    for layer in chain:
        if name in layer:
            return layer[name]
    return default


def resolve_function(
    chain: Sequence[Layer],
    *,
    binary: str,
    base_env: Mapping[str, str],
    build_include: tuple[str, ...],
    build_extension: bool,
    build_internal: bool,
) -> FunctionSettings:
    """One function's settings from its layers (see the module docstring)."""
    env: dict[str, str] | None = dict(base_env) if base_env else None
    for layer in reversed(chain):
        for key in ("env_file_vars", "env"):
            if key in layer:
                env = {**(env or {}), **layer[key]}
    enable = bool(first(chain, "enable_function_url", False))
    disable = bool(first(chain, "disable_function_url", False))
    if enable and disable:
        raise ConfigError(
            "both enable_function_url and disable_function_url are set",
            "pass only one of --enable-function-url and --disable-function-url",
        )
    name = first(chain, "name") or binary
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid Lambda function or layer name",
            "use 1 to 64 letters, digits, hyphens or underscores",
        )
    alias = first(chain, "alias")
    if alias is not None and (not re.match(r"^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$", alias)):
        raise ConfigError(
            f"{alias!r} is not a valid alias name",
            "use letters, digits, hyphens and underscores (not only digits)",
        )
    return FunctionSettings(
        name=name,
        binary=binary,
        extension=bool(first(chain, "extension", build_extension)),
        internal=bool(first(chain, "internal", build_internal)),
        runtime=first(chain, "runtime", DEFAULT_RUNTIME),
        memory=first(chain, "memory"),
        timeout=first(chain, "timeout"),
        env=env,
        merge_env=bool(first(chain, "merge_env", False)),
        tracing=first(chain, "tracing"),
        role=first(chain, "role"),
        layers=first(chain, "layers"),
        subnet_ids=first(chain, "subnet_ids"),
        security_group_ids=first(chain, "security_group_ids"),
        ipv6_allowed_for_dual_stack=first(chain, "ipv6_allowed_for_dual_stack"),
        description=first(chain, "description"),
        log_retention=first(chain, "log_retention"),
        tags=dict(first(chain, "tags", {})),
        publish=bool(first(chain, "publish", False)) or alias is not None,
        alias=alias,
        function_url="enable" if enable else "disable" if disable else None,
        function_url_auth=first(chain, "function_url_auth", "NONE"),
        s3_bucket=first(chain, "s3_bucket"),
        s3_key=first(chain, "s3_key"),
        compatible_runtimes=first(chain, "compatible_runtimes"),
        include=tuple(first(chain, "include", build_include)),
        profile=first(chain, "profile"),
        region=first(chain, "region"),
        endpoint_url=first(chain, "endpoint_url"),
        retry_attempts=first(chain, "retry_attempts"),
        dry_run=bool(first(chain, "dry_run", False)),
    )
