"""The asset of one Rust binary, as a construct declares it: the project resolved, the build it
shares with the app's other assets, the bundling options CDK will receive (local bundling,
Docker otherwise) and the deferred code that makes the asset before synthesis."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from .. import layout
from ..errors import ConfigError
from ..layout import ArtifactKind
from ..targets import Arch, Runtime, Target
from .args import build_options
from .bundling import (
    LocalBuild,
    LocalBundling,
    bundle_locally,
    can_bundle_here,
    fingerprint_of,
    scope_info,
)
from .deferred import DeferredCode
from .docker import (
    DockerBuild,
    cargo_cache_mounts,
    default_build_args,
    docker_script,
    input_dir,
    platform_of,
)
from .options import BundlingOptions, LogLevel
from .planner import BuildKey
from .project import Project, resolve_project


def target_of(bundling: BundlingOptions, arch: Arch, what: str) -> Target:
    if bundling.target is None:
        return Target.for_arch(arch)
    target = Target.parse(bundling.target)
    if target.arch is not arch:
        raise ConfigError(
            f"{what}: bundling target {bundling.target} is {target.arch.value} but the "
            f"architecture is {arch.value}",
            "make them agree: drop bundling.target, or change architecture=",
        )
    return target


@dataclass(frozen=True)
class AssetRequest:
    """What the construct asks for."""

    construct_id: str
    what: str
    entry: str | os.PathLike[str] | None
    manifest_path: str | os.PathLike[str] | None
    binary_name: str | None
    project_root: str | os.PathLike[str] | None
    arch: Arch
    runtime: Runtime
    bundling: BundlingOptions
    extension: bool


class RustAsset:
    """A construct's binary: resolved now (errors at construct time), bundled before synthesis."""

    def __init__(self, scope: Construct, request: AssetRequest) -> None:
        self.request = request
        bundling, what = request.bundling, request.what
        self.scope = scope_info(scope)
        self.app = self.scope.app
        self.environ = {**os.environ, **bundling.environment}
        self.project: Project = resolve_project(
            request.construct_id,
            what,
            entry=request.entry,
            manifest_path=request.manifest_path,
            binary_name=request.binary_name,
            projects=self.app.projects,
            environ=self.environ,
        )
        self.project_root = self._project_root()
        target = target_of(bundling, request.arch, what)
        options = build_options(bundling, self.project.root, target, request.runtime, what)
        fingerprint = fingerprint_of(options, bundling.environment, request.runtime)
        options = replace(
            options,
            lambda_dir=layout.cdk_lambda_dir(self.project.target_directory, fingerprint),
        )
        kind = ArtifactKind.EXTENSION if request.extension else ArtifactKind.FUNCTION
        self.local = LocalBuild(
            key=BuildKey(self.project.root, target, request.runtime, fingerprint),
            options=options,
            binary=self.project.binary,
            destination=layout.entry_name(self.project.binary, kind),
            environ=self.environ,
            hooks=bundling.command_hooks,
            log_level=bundling.log_level or LogLevel.INFO,
            what=what,
        )
        if bundling.build_args and bundling.docker_image is not None:
            raise ConfigError(
                f"{what}: bundling build_args only apply to the default bundling image, and "
                "docker_image replaces it",
                "drop build_args, or docker_image",
            )
        if self.scope.bundled:
            self.app.planner.want(self.local.key, self.project.binary)
        self.code = DeferredCode(self.app, self.make_asset)

    def _project_root(self) -> Path:
        given = self.request.project_root
        root = Path(given).resolve() if given is not None else self.project.root
        if not self.project.root.is_relative_to(root):
            raise ConfigError(
                f"{self.request.what}: project_root {root} does not contain the workspace "
                f"{self.project.root}",
                "drop project_root (the workspace root is the default), or pass a directory "
                "above it",
            )
        return root

    @cached_property
    def bundling_options(self) -> cdk.BundlingOptions:
        """The bundling options CDK receives: Docker's image, command and options, and local
        bundling."""
        from .image import BundlingImage, WheelMountingImage

        request, bundling, local = self.request, self.request.bundling, self.local
        root_in_project = self.project.root.relative_to(self.project_root).as_posix()
        root_in_project = "" if root_in_project == "." else root_in_project
        platform = platform_of(request.arch.value, bundling.platform)
        given = bundling.docker_image
        image: cdk.DockerImage = (
            WheelMountingImage(given)
            if given is not None
            else BundlingImage(default_build_args(bundling.build_args), platform)
        )
        build = DockerBuild(
            local.binary,
            local.destination,
            local.key.target,
            request.runtime,
            root_in_project,
            request.what,
        )
        script = docker_script(build, bundling, own_image=given is None)
        mounts = [
            cdk.DockerVolume(host_path=host, container_path=container)
            for host, container in cargo_cache_mounts(self.environ)
        ]
        return cdk.BundlingOptions(
            image=image,
            command=list(bundling.command) if bundling.command else ["bash", "-c", script],
            entrypoint=list(bundling.entrypoint) if bundling.entrypoint else None,
            environment=dict(bundling.environment),
            volumes=[*mounts, *bundling.volumes],
            volumes_from=list(bundling.volumes_from) or None,
            network=bundling.network,
            security_opt=bundling.security_opt,
            user=bundling.user,
            working_directory=bundling.working_directory or input_dir(root_in_project),
            platform=platform,
            bundling_file_access=bundling.bundling_file_access,
            local=LocalBundling(self.app, local, force_docker=bundling.force_docker_bundling),
        )

    def make_asset(self, scope: Construct) -> tuple[s3_assets.Asset, bool]:
        """The asset, under ``scope``: bundled here and handed to CDK as a directory when a
        local build makes it and its hash is the output's (no bundling callbacks and options
        through jsii: each is a round trip to node), else through CDK's bundling (Docker,
        a SOURCE or CUSTOM hash, a stack CDK does not bundle, staging disabled)."""
        bundling = self.request.bundling
        hash_type = bundling.asset_hash_type or (
            cdk.AssetHashType.CUSTOM if bundling.asset_hash else cdk.AssetHashType.OUTPUT
        )
        if (
            self.scope.bundled
            and hash_type == cdk.AssetHashType.OUTPUT
            and not bundling.force_docker_bundling
            and not self.app.context(scope, "aws:cdk:disable-asset-staging")
            and can_bundle_here(self.local)
        ):
            # CDK copies the directory into cdk.out as it creates the asset
            with tempfile.TemporaryDirectory(prefix="rustlambda-asset-") as output:
                bundle_locally(self.app, self.local, output)
                return s3_assets.Asset(scope, "Code", path=output, deploy_time=True), True
        target_dir = self.project.target_directory
        exclude = (
            [target_dir.relative_to(self.project_root).as_posix()]
            if target_dir.is_relative_to(self.project_root)
            else None
        )  # a SOURCE hash must not change with every build
        asset = s3_assets.Asset(
            scope,
            "Code",
            path=str(self.project_root),
            deploy_time=True,
            bundling=self.bundling_options,
            asset_hash_type=hash_type,
            asset_hash=bundling.asset_hash,
            exclude=exclude,
        )
        return asset, False
