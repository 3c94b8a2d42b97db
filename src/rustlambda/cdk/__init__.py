"""AWS CDK constructs: ``RustFunction`` and ``RustExtension``, bundled by rustlambda's own build.

Needs the ``[cdk]`` extra (aws-cdk-lib v2 and constructs). Props follow the CDK RustFunction
construct (cdklabs/aws-lambda-rust) in Python's snake_case, as the TypeScript package
(typescript/) follows them in camelCase.

Bundling is local by default, through rustlambda's builder (zig comes from the Python
environment). Assets are made after the app is declared (`deferred`), so all functions and
extensions of one workspace, architecture and build settings share ONE cargo run that builds
exactly the binaries the app uses; the others copy theirs. Assets are hashed from their output
(the bootstrap), so an unchanged binary keeps its asset hash. Docker bundling (forced, or when no
local cargo is found) builds with the same rustlambda inside the image.

Modules: `functions` (the constructs), `options` (the bundling props), `project` (entry and
binary), `args` (extra build args), `planner` (which binaries each build makes), `bundling`
(local bundling and hooks), `verified` (verification once per bootstrap), `deferred` (assets
made before synthesis), `asset` (one binary's asset), `docker` and `image` (Docker bundling),
`wheel` (this rustlambda for the container). Only `functions`, `asset`, `bundling`,
`deferred` and `image` import aws-cdk-lib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name → the module that defines it (imported on first use: the props and their
#: enums need no aws-cdk-lib).
_EXPORTS = {
    "DEFAULT_DOCKER_IMAGE": ".docker",
    "BundlingOptions": ".options",
    "CommandHooks": ".options",
    "LogLevel": ".options",
    "PackageManagerType": ".options",
    "RustExtension": ".functions",
    "RustFunction": ".functions",
}

if TYPE_CHECKING:
    from .docker import DEFAULT_DOCKER_IMAGE
    from .functions import RustExtension, RustFunction
    from .options import BundlingOptions, CommandHooks, LogLevel, PackageManagerType


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rustlambda.cdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "DEFAULT_DOCKER_IMAGE",
    "BundlingOptions",
    "CommandHooks",
    "LogLevel",
    "PackageManagerType",
    "RustExtension",
    "RustFunction",
]
