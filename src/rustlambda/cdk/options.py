"""The constructs' bundling props (the CDK RustFunction construct's, in snake_case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import aws_cdk as cdk


class CommandHooks(Protocol):
    """Commands run around the build, locally and in Docker alike (chained with ``&&``).

    ``input_dir`` is the workspace root, ``output_dir`` the asset's directory.
    """

    def before_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...

    def after_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...


@dataclass(frozen=True)
class BundlingOptions:
    """How a RustFunction or RustExtension is built (the seed construct's bundling props)."""

    #: Environment variables for cargo (and the container).
    environment: Mapping[str, str] = field(default_factory=dict)
    #: More ``rustlambda build`` / ``cargo lambda build`` flags, e.g. ``["--all-features"]``.
    extra_build_args: Sequence[str] = ()
    command_hooks: CommandHooks | None = None
    force_docker_bundling: bool = False
    #: zig (default), cargo or cross; cargo-lambda's names and aliases.
    compiler: str | None = None
    #: A target triple; must agree with the construct's ``architecture``.
    target: str | None = None
    #: provided.al2023 glibc unless the function's runtime is provided.al2.
    release: bool = True
    profile: str | None = None
    asset_hash_type: cdk.AssetHashType | None = None
    asset_hash: str | None = None
    # Docker bundling
    docker_image: cdk.DockerImage | None = None
    network: str | None = None
    security_opt: str | None = None
    user: str | None = None
    volumes: Sequence[cdk.DockerVolume] = ()
    volumes_from: Sequence[str] = ()
    working_directory: str | None = None
    platform: str | None = None
    bundling_file_access: cdk.BundlingFileAccess | None = None
