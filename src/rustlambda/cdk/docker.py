"""Docker bundling's plain data: the bash script the container runs (the before hooks,
rustlambda building the one binary, the copy into the asset, the after hooks), the build args of
the default image and the cargo caches mounted. The jsii side (the images) is `image.py`.

No Docker engine on the machines these tests run on: tests assert this script, the options CDK
receives and the docker argv CDK runs (through a fake docker CLI), never a container.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import layout
from ..layout import ArtifactKind
from ..targets import Runtime, Target
from .args import docker_build_flags
from .options import BundlingOptions
from .wheel import wheel_name

#: The base of the default bundling image (its ``IMAGE`` build arg).
DEFAULT_DOCKER_IMAGE = "public.ecr.aws/docker/library/rust:1-bookworm"
#: CDK's mount points (cdk.AssetStaging.BUNDLING_INPUT_DIR / _OUTPUT_DIR; fixed by CDK).
INPUT_DIR = "/asset-input"
OUTPUT_DIR = "/asset-output"
#: Where this rustlambda's wheel is (copied into the default image, mounted into others).
WHEEL_DIR = "/tmp/rustlambda-wheel"
_CONTAINER_CARGO_HOME = "/usr/local/cargo"
_CONTAINER_VENV = "/tmp/rustlambda-venv"
_CONTAINER_TARGET_DIR = "/tmp/rustlambda-target"
_CONTAINER_LAMBDA_DIR = Path("/tmp/rustlambda-lambda")


@dataclass(frozen=True)
class DockerBuild:
    """One binary built in the container."""

    binary: str
    #: Where it goes inside the asset: ``bootstrap`` or ``extensions/<name>``.
    destination: str
    target: Target
    runtime: Runtime
    #: The workspace root relative to the mounted project root ('' when they are the same).
    root_in_project: str
    what: str


def input_dir(root_in_project: str) -> str:
    return str(PurePosixPath(INPUT_DIR) / root_in_project)


def default_build_args(user: Mapping[str, str]) -> dict[str, str]:
    """The default image's build args: ours, then the user's over them."""
    return {
        "IMAGE": DEFAULT_DOCKER_IMAGE,
        "RUSTLAMBDA_SPEC": f"{WHEEL_DIR}/{wheel_name()}",
        **user,
    }


def _install_wheel() -> str:
    """For an image that is not ours: this rustlambda from the mounted wheel, in a venv."""
    venv = _CONTAINER_VENV
    return (
        "(python3 -m venv --help >/dev/null 2>&1 || "
        "(apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)) && "
        f"python3 -m venv {venv} && "
        f"{venv}/bin/pip install --quiet {WHEEL_DIR}/{wheel_name()} && "
        f"export PATH={venv}/bin:$PATH"
    )


def docker_script(build: DockerBuild, bundling: BundlingOptions, *, own_image: bool) -> str:
    """The bash script Docker bundling runs, steps chained with ``&&``.

    ``own_image``: the default image, which has this rustlambda already; any other image gets
    it installed from the mounted wheel first.
    """
    source = input_dir(build.root_in_project)
    argv = [
        "rustlambda",
        "build",
        "--bin",
        build.binary,
        "--manifest-path",
        f"{source}/Cargo.toml",
        "--target",
        bundling.target or build.target.triple,
        "--runtime",
        build.runtime.value,
        "--lambda-dir",
        str(_CONTAINER_LAMBDA_DIR),
        "--target-dir",
        _CONTAINER_TARGET_DIR,
        *docker_build_flags(bundling, build.what),
    ]
    built = layout.LambdaDir(_CONTAINER_LAMBDA_DIR).executable(
        build.binary, ArtifactKind.FUNCTION, build.target.arch, flatten=False
    )
    output = f"{OUTPUT_DIR}/{build.destination}"
    hooks = bundling.command_hooks
    steps: list[str] = []
    if hooks is not None:
        steps += hooks.before_bundling(source, OUTPUT_DIR)
    if not own_image:
        steps.append(_install_wheel())
    steps += [
        shlex.join(argv),
        f"mkdir -p {shlex.quote(str(PurePosixPath(output).parent))}",
        f"cp {shlex.quote(str(built))} {shlex.quote(output)}",
        f"chmod 755 {shlex.quote(output)}",
    ]
    if hooks is not None:
        steps += hooks.after_bundling(source, OUTPUT_DIR)
    return " && ".join(step for step in steps if step)


def cargo_cache_mounts(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(host, container) paths of the cargo registry and git caches, so containers reuse
    downloads."""
    home = Path(environ.get("CARGO_HOME") or Path(environ.get("HOME") or Path.home()) / ".cargo")
    return [(str(home / sub), f"{_CONTAINER_CARGO_HOME}/{sub}") for sub in ("registry", "git")]


def platform_of(arch_value: str, given: str | None) -> str:
    return given or ("linux/arm64" if arch_value == "arm64" else "linux/amd64")
