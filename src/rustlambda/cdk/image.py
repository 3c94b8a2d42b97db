"""The images Docker bundling runs, both bringing the rustlambda this app runs (its wheel, made
by `wheel.bundle_dir` only when Docker bundling actually runs, never at construct time):

- `BundlingImage`, the default: built from rustlambda's Dockerfile with the wheel in the build
  context (``build_args``: ``IMAGE``, ``RUSTLAMBDA_SPEC``) on its first run;
- `WheelMountingImage`: a user's ``docker_image``, run with the wheel mounted at
  ``/tmp/rustlambda-wheel`` (the script installs it in a venv).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

from .. import __version__
from .docker import WHEEL_DIR
from .wheel import bundle_dir

_RUN_OPTIONS = (
    "command",
    "entrypoint",
    "environment",
    "network",
    "platform",
    "security_opt",
    "user",
    "volumes",
    "volumes_from",
    "working_directory",
)


def _run_kwargs(options: cdk.DockerRunOptions | None, given: dict[str, Any]) -> dict[str, Any]:
    """jsii hands an overridden ``run`` the options struct, Python callers keywords: both as
    keyword arguments."""
    found = {name: getattr(options, name, None) for name in _RUN_OPTIONS} if options else {}
    return {name: value for name, value in {**found, **given}.items() if value is not None}


class BundlingImage(cdk.DockerImage):
    """The default bundling image, built on its first use (a synth bundling locally never
    needs Docker)."""

    def __init__(self, build_args: Mapping[str, str], platform: str) -> None:
        args = dict(build_args)
        digest = hashlib.sha256(
            json.dumps([__version__, args, platform], sort_keys=True).encode()
        ).hexdigest()[:16]
        super().__init__(f"rustlambda-cdk-bundling:{digest}")
        self.build_args = args
        self.build_platform = platform
        self._built: cdk.DockerImage | None = None

    def _image(self) -> cdk.DockerImage:
        if self._built is None:
            self._built = cdk.DockerImage.from_build(
                str(bundle_dir()), build_args=self.build_args, platform=self.build_platform
            )
        return self._built

    def run(self, options: cdk.DockerRunOptions | None = None, /, **given: Any) -> None:
        self._image().run(**_run_kwargs(options, given))

    def cp(self, image_path: str, output_path: str | None = None) -> str:
        return self._image().cp(image_path, output_path)


class WheelMountingImage(cdk.DockerImage):
    """A user's image (by name), run with this rustlambda's wheel mounted."""

    def __init__(self, image: cdk.DockerImage) -> None:
        super().__init__(image.image)

    def run(self, options: cdk.DockerRunOptions | None = None, /, **given: Any) -> None:
        kwargs = _run_kwargs(options, given)
        mount = cdk.DockerVolume(host_path=str(bundle_dir()), container_path=WHEEL_DIR)
        kwargs["volumes"] = [*kwargs.get("volumes", ()), mount]
        super().run(**kwargs)
