"""AWS CDK constructs: ``RustFunction`` and ``RustExtension``, bundled by rustlambda's own build.

Needs the ``[cdk]`` extra (aws-cdk-lib v2 and constructs). Props follow the CDK RustFunction
construct (cdklabs/aws-lambda-rust) in Python's snake_case.

Bundling is local by default, through ``rustlambda.build()`` (zig comes from the Python
environment). All functions and extensions of one workspace, architecture and build settings in
one app share ONE cargo build: the first asset to bundle builds every binary of the workspace,
the others copy theirs from it. Assets are hashed from their output (the bootstrap), so an
unchanged binary keeps its asset hash and a code change re-uploads only the functions it touched.
Docker bundling (forced, or when no local toolchain is found) builds with rustlambda inside the
image.

Modules: `options` (the bundling props), `project` (entry and binary), `bundling` (shared
local builds and hooks), `docker` (the Docker command).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .. import layout
from ..errors import ConfigError
from ..layout import ArtifactKind
from ..targets import Arch, Runtime
from .bundling import (
    BuildKey,
    LocalBundling,
    SharedBuilds,
    build_options,
    fingerprint_of,
    target_of,
)
from .docker import DEFAULT_DOCKER_IMAGE, cargo_cache_volumes, docker_bundling_command
from .options import BundlingOptions, CommandHooks
from .project import choose_binary, manifest

__all__ = [
    "DEFAULT_DOCKER_IMAGE",
    "BundlingOptions",
    "CommandHooks",
    "RustExtension",
    "RustFunction",
]


def _asset_code(
    scope: Construct,
    what: str,
    *,
    manifest: Path,
    binary_name: str | None,
    arch: Arch,
    runtime: Runtime,
    bundling: BundlingOptions,
    extension: bool,
) -> tuple[lambda_.Code, cdk.BundlingOptions, str]:
    """The asset of one binary, bundled locally through the app's shared builds, or in Docker."""
    shared = SharedBuilds.of(scope)
    project = shared.project(manifest)
    binary = choose_binary(project, binary_name, what)
    target = target_of(bundling, arch, what)
    options = build_options(bundling, project, target, runtime)
    # The environment enters the fingerprint through the bundling's own variables only.
    fingerprint = fingerprint_of(replace(options, environ=None), bundling.environment)
    key = BuildKey(project.root, target, runtime, fingerprint)
    target_dir = (
        project.workspace.target_directory if project.workspace else project.root / "target"
    )
    options = replace(options, lambda_dir=layout.cdk_lambda_dir(target_dir, fingerprint))
    kind = ArtifactKind.EXTENSION if extension else ArtifactKind.FUNCTION
    destination = layout.entry_name(binary, kind)
    relative_manifest = (project.root / "Cargo.toml").relative_to(project.root)
    docker = cdk.BundlingOptions(
        image=bundling.docker_image or cdk.DockerImage.from_registry(DEFAULT_DOCKER_IMAGE),
        command=docker_bundling_command(
            binary=binary,
            destination=destination,
            target=target,
            runtime=runtime,
            manifest_in_container=f"{cdk.AssetStaging.BUNDLING_INPUT_DIR}/{relative_manifest}",
            bundling=bundling,
        ),
        environment=dict(bundling.environment),
        volumes=[*cargo_cache_volumes(), *bundling.volumes],
        volumes_from=list(bundling.volumes_from) or None,
        network=bundling.network,
        security_opt=bundling.security_opt,
        user=bundling.user,
        working_directory=bundling.working_directory or cdk.AssetStaging.BUNDLING_INPUT_DIR,
        platform=bundling.platform or ("linux/arm64" if arch is Arch.ARM64 else "linux/amd64"),
        bundling_file_access=bundling.bundling_file_access,
        local=LocalBundling(shared, key, options, binary, destination, bundling),
    )
    hash_type = bundling.asset_hash_type or (
        cdk.AssetHashType.CUSTOM if bundling.asset_hash else cdk.AssetHashType.OUTPUT
    )
    code = lambda_.Code.from_asset(
        str(project.root),
        bundling=docker,
        asset_hash_type=hash_type,
        asset_hash=bundling.asset_hash,
    )
    return code, docker, binary


def _lambda_arch(architecture: lambda_.Architecture | None) -> Arch:
    if architecture is None:
        return Arch.X86_64
    name = architecture.name
    if name == "arm64":
        return Arch.ARM64
    if name == "x86_64":
        return Arch.X86_64
    raise ConfigError(f"unsupported architecture {name!r}", "use Architecture.X86_64 or ARM_64")


def _custom_runtime(runtime: lambda_.Runtime | None, what: str) -> tuple[lambda_.Runtime, Runtime]:
    runtime = runtime or lambda_.Runtime.PROVIDED_AL2023
    try:
        return runtime, Runtime.parse(runtime.name)
    except ConfigError as exc:
        raise ConfigError(
            f"{what}: runtime {runtime.name} is not an OS-only custom runtime; a Rust bootstrap "
            "runs on provided.al2023 or provided.al2",
            "drop runtime= (provided.al2023 is the default) or pass Runtime.PROVIDED_AL2",
        ) from exc


@dataclass(frozen=True)
class _RustAsset:
    """What a construct needs from its Rust binary: the code asset and how it was resolved."""

    code: lambda_.Code
    bundling: cdk.BundlingOptions
    binary: str
    runtime: lambda_.Runtime
    lambda_runtime: Runtime

    @classmethod
    def resolve(
        cls,
        scope: Construct,
        construct_id: str,
        what: str,
        entry: str | None,
        manifest_path: str | None,
        binary_name: str | None,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
        bundling: BundlingOptions | None,
        *,
        extension: bool,
    ) -> _RustAsset:
        cdk_runtime, lambda_runtime = _custom_runtime(runtime, what)
        code, docker, binary = _asset_code(
            scope,
            what,
            manifest=manifest(construct_id, entry, manifest_path),
            binary_name=binary_name,
            arch=_lambda_arch(architecture),
            runtime=lambda_runtime,
            bundling=bundling or BundlingOptions(),
            extension=extension,
        )
        return cls(code, docker, binary, cdk_runtime, lambda_runtime)


class RustFunction(lambda_.Function):
    """A Lambda function from a Rust binary: handler ``bootstrap`` on provided.al2023.

    Every other ``lambda.Function`` prop passes through (memory_size, timeout, environment...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: str | None = None,
        manifest_path: str | None = None,
        binary_name: str | None = None,
        bundling: BundlingOptions | None = None,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        **function_props: Any,
    ) -> None:
        what = f"RustFunction {construct_id!r}"
        for reserved in ("code", "handler"):
            if reserved in function_props:
                raise ConfigError(
                    f"{what}: {reserved}= is set by RustFunction",
                    "drop it: the code is the bundled bootstrap, the handler 'bootstrap'",
                )
        asset = _RustAsset.resolve(
            scope,
            construct_id,
            what,
            entry,
            manifest_path,
            binary_name,
            runtime,
            architecture,
            bundling,
            extension=False,
        )
        super().__init__(
            scope,
            construct_id,
            code=asset.code,
            handler=layout.BOOTSTRAP,
            runtime=asset.runtime,
            architecture=architecture or lambda_.Architecture.X86_64,
            **function_props,
        )
        #: The binary this function runs, and the bundling options CDK received.
        self.binary_name = asset.binary
        self.bundling_options = asset.bundling


class RustExtension(lambda_.LayerVersion):
    """A Lambda layer with the Rust binary at ``extensions/<name>`` (an external extension)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: str | None = None,
        manifest_path: str | None = None,
        binary_name: str | None = None,
        bundling: BundlingOptions | None = None,
        architecture: lambda_.Architecture | None = None,
        runtime: lambda_.Runtime | None = None,
        **layer_props: Any,
    ) -> None:
        what = f"RustExtension {construct_id!r}"
        if "code" in layer_props:
            raise ConfigError(f"{what}: code= is set by RustExtension", "drop it")
        asset = _RustAsset.resolve(
            scope,
            construct_id,
            what,
            entry,
            manifest_path,
            binary_name,
            runtime,
            architecture,
            bundling,
            extension=True,
        )
        layer_props.setdefault(
            "compatible_architectures", [architecture or lambda_.Architecture.X86_64]
        )
        layer_props.setdefault(
            "compatible_runtimes",
            [lambda_.Runtime.PROVIDED_AL2023, lambda_.Runtime.PROVIDED_AL2]
            if asset.lambda_runtime is Runtime.AL2023
            else [asset.runtime],
        )
        super().__init__(scope, construct_id, code=asset.code, **layer_props)
        self.binary_name = asset.binary
        self.bundling_options = asset.bundling
