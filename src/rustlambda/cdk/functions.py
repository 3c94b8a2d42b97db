"""The constructs: ``RustFunction`` (a ``lambda.Function``) and ``RustExtension`` (a
``lambda.LayerVersion``), each holding one Rust binary's `asset.RustAsset`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .. import layout
from ..errors import ConfigError, RustLambdaError
from ..targets import Arch, Runtime
from .asset import AssetRequest, RustAsset
from .deferred import make_assets_before_synthesis
from .options import BundlingOptions, coerce_bundling

_PathLike = str | os.PathLike[str]


#: jsii object ref → its ``name`` (Architecture.ARM_64, Runtime.PROVIDED_AL2: static objects;
#: reading a property is a round trip to node)
_NAMES: dict[str, str] = {}
_STATICS: dict[str, Any] = {}


def _static(name: str, read: Callable[[], Any]) -> Any:
    """A static CDK value (Runtime.PROVIDED_AL2023...), read from node once."""
    if name not in _STATICS:
        _STATICS[name] = read()
    return _STATICS[name]


def _name(value: Any) -> str:
    ref = getattr(getattr(value, "__jsii_ref__", None), "ref", None)
    name = _NAMES.get(ref) if ref is not None else None
    if name is None:
        name = str(value.name)
        if ref is not None:
            _NAMES[ref] = name
    return name


def _lambda_arch(architecture: lambda_.Architecture | None, what: str) -> Arch:
    if architecture is None:
        return Arch.X86_64
    name = _name(architecture)
    if name == "arm64":
        return Arch.ARM64
    if name == "x86_64":
        return Arch.X86_64
    raise ConfigError(
        f"{what}: unsupported architecture {name!r}", "use Architecture.X86_64 or ARM_64"
    )


def _custom_runtime(runtime: lambda_.Runtime | None, what: str) -> tuple[lambda_.Runtime, Runtime]:
    if runtime is None:
        runtime = _static("al2023", lambda: lambda_.Runtime.PROVIDED_AL2023)
    name = _name(runtime)
    try:
        return runtime, Runtime.parse(name)
    except ConfigError as exc:
        raise ConfigError(
            f"{what}: runtime {name} is not an OS-only custom runtime; a Rust bootstrap "
            "runs on provided.al2023 or provided.al2",
            "drop runtime= (provided.al2023 is the default) or pass Runtime.PROVIDED_AL2",
        ) from exc


def _shown(exc: RustLambdaError) -> RustLambdaError:
    """The error with its details and fix in its text: CDK, jsii and Python's traceback show
    only ``str(exc)``. Same class, same ``fix``."""
    exc.add_context("".join(f"\n{part}" for part in (exc.details, f"fix: {exc.fix}") if part))
    return exc


def _asset(
    scope: Construct,
    construct_id: str,
    what: str,
    *,
    entry: _PathLike | None,
    manifest_path: _PathLike | None,
    binary_name: str | None,
    project_root: _PathLike | None,
    bundling: object,
    runtime: lambda_.Runtime | None,
    architecture: lambda_.Architecture | None,
    extension: bool,
) -> tuple[RustAsset, lambda_.Runtime, Runtime]:
    """The construct's asset, or its first error with the fix in the text."""
    try:
        cdk_runtime, lambda_runtime = _custom_runtime(runtime, what)
        request = AssetRequest(
            construct_id=construct_id,
            what=what,
            entry=entry,
            manifest_path=manifest_path,
            binary_name=binary_name,
            project_root=project_root,
            arch=_lambda_arch(architecture, what),
            runtime=lambda_runtime,
            bundling=coerce_bundling(bundling, what),
            extension=extension,
        )
        return RustAsset(scope, request), cdk_runtime, lambda_runtime
    except RustLambdaError as exc:
        raise _shown(exc) from None


class RustFunction(lambda_.Function):
    """A Lambda function from a Rust binary: handler ``bootstrap`` on provided.al2023.

    Every other ``lambda.Function`` prop passes through (memory_size, timeout, environment...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: _PathLike | None = None,
        manifest_path: _PathLike | None = None,
        binary_name: str | None = None,
        project_root: _PathLike | None = None,
        bundling: BundlingOptions | dict[str, Any] | None = None,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        **function_props: Any,
    ) -> None:
        what = f"RustFunction {construct_id!r}"
        for reserved in ("code", "handler"):
            if reserved in function_props:
                raise _shown(
                    ConfigError(
                        f"{what}: {reserved}= is set by RustFunction",
                        "drop it: the code is the bundled bootstrap, the handler 'bootstrap'",
                    )
                )
        asset, cdk_runtime, _ = _asset(
            scope,
            construct_id,
            what,
            entry=entry,
            manifest_path=manifest_path,
            binary_name=binary_name,
            project_root=project_root,
            bundling=bundling,
            runtime=runtime,
            architecture=architecture,
            extension=False,
        )
        super().__init__(
            scope,
            construct_id,
            code=asset.code,
            handler=layout.BOOTSTRAP,
            runtime=cdk_runtime,
            architecture=architecture or _static("x86_64", lambda: lambda_.Architecture.X86_64),
            **function_props,
        )
        make_assets_before_synthesis(asset.app, asset.scope.stack, self)
        #: The binary this function runs.
        self.binary_name = asset.project.binary
        self._asset = asset

    @property
    def bundling_options(self) -> cdk.BundlingOptions:
        """The bundling options CDK receives (Docker image, command, local bundling)."""
        return self._asset.bundling_options


class RustExtension(lambda_.LayerVersion):
    """A Lambda layer with the Rust binary at ``extensions/<name>`` (an external extension)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: _PathLike | None = None,
        manifest_path: _PathLike | None = None,
        binary_name: str | None = None,
        project_root: _PathLike | None = None,
        bundling: BundlingOptions | dict[str, Any] | None = None,
        architecture: lambda_.Architecture | None = None,
        runtime: lambda_.Runtime | None = None,
        **layer_props: Any,
    ) -> None:
        what = f"RustExtension {construct_id!r}"
        if "code" in layer_props:
            raise _shown(ConfigError(f"{what}: code= is set by RustExtension", "drop it"))
        asset, cdk_runtime, lambda_runtime = _asset(
            scope,
            construct_id,
            what,
            entry=entry,
            manifest_path=manifest_path,
            binary_name=binary_name,
            project_root=project_root,
            bundling=bundling,
            runtime=runtime,
            architecture=architecture,
            extension=True,
        )
        layer_props.setdefault(
            "compatible_architectures",
            [architecture or _static("x86_64", lambda: lambda_.Architecture.X86_64)],
        )
        layer_props.setdefault(
            "compatible_runtimes",
            [lambda_.Runtime.PROVIDED_AL2023, lambda_.Runtime.PROVIDED_AL2]
            if lambda_runtime is Runtime.AL2023
            else [cdk_runtime],
        )
        super().__init__(scope, construct_id, code=asset.code, **layer_props)
        make_assets_before_synthesis(asset.app, asset.scope.stack, self)
        self.binary_name = asset.project.binary
        self._asset = asset

    @property
    def bundling_options(self) -> cdk.BundlingOptions:
        """The bundling options CDK receives (Docker image, command, local bundling)."""
        return self._asset.bundling_options
