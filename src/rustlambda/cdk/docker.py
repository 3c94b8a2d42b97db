"""Docker bundling (forced, or when no local toolchain is found): the command that installs
rustlambda in the image and builds one binary, and the cargo caches it mounts."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import aws_cdk as cdk

from .. import __version__, layout
from ..layout import ArtifactKind
from ..targets import Runtime, Target
from .bundling import bundling_compiler
from .options import BundlingOptions

DEFAULT_DOCKER_IMAGE = "public.ecr.aws/docker/library/rust:1-bookworm"
_CONTAINER_CARGO_HOME = "/usr/local/cargo"
_CONTAINER_LAMBDA_DIR = Path("/tmp/rustlambda-lambda")


def docker_bundling_command(
    *,
    binary: str,
    destination: str,
    target: Target,
    runtime: Runtime,
    manifest_in_container: str,
    bundling: BundlingOptions,
) -> list[str]:
    """The command Docker bundling runs: install rustlambda in the image, build one binary."""
    flags = ["--release"] if bundling.release and bundling.profile is None else []
    if bundling.profile is not None:
        flags += ["--profile", bundling.profile]
    compiler = bundling_compiler(bundling, Path.cwd())
    if compiler is not None:
        flags += ["--compiler", compiler.kind.value]
    build = [
        "/tmp/rustlambda-venv/bin/rustlambda",
        "build",
        *flags,
        "--target",
        bundling.target or target.triple,
        "--runtime",
        runtime.value,
        "--bin",
        binary,
        "--manifest-path",
        manifest_in_container,
        "--target-dir",
        "/tmp/rustlambda-target",
        "--lambda-dir",
        str(_CONTAINER_LAMBDA_DIR),
        *bundling.extra_build_args,
    ]
    built = layout.LambdaDir(_CONTAINER_LAMBDA_DIR).executable(
        binary, ArtifactKind.FUNCTION, target.arch, flatten=False
    )
    output = f"{cdk.AssetStaging.BUNDLING_OUTPUT_DIR}/{destination}"
    steps: list[str] = []
    hooks = bundling.command_hooks
    if hooks is not None:
        steps += hooks.before_bundling(
            cdk.AssetStaging.BUNDLING_INPUT_DIR, cdk.AssetStaging.BUNDLING_OUTPUT_DIR
        )
    steps += [
        "(command -v python3 >/dev/null && python3 -m venv --help >/dev/null 2>&1 || "
        "(apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null))",
        "python3 -m venv /tmp/rustlambda-venv",
        f"/tmp/rustlambda-venv/bin/pip install --quiet rustlambda=={__version__}",
        shlex.join(build),
        f"mkdir -p {shlex.quote(str(Path(output).parent))}",
        f"cp {shlex.quote(str(built))} {shlex.quote(output)}",
        f"chmod 755 {shlex.quote(output)}",
    ]
    if hooks is not None:
        steps += hooks.after_bundling(
            cdk.AssetStaging.BUNDLING_INPUT_DIR, cdk.AssetStaging.BUNDLING_OUTPUT_DIR
        )
    return ["bash", "-c", " && ".join(steps)]


def cargo_cache_volumes() -> list[cdk.DockerVolume]:
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    return [
        cdk.DockerVolume(host_path=str(home / sub), container_path=f"{_CONTAINER_CARGO_HOME}/{sub}")
        for sub in ("registry", "git")
    ]
