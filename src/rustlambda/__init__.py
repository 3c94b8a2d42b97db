"""rustlambda: build, package, verify, run and deploy Rust AWS Lambda functions.

The public API. Fronts (the CLI, the CDK constructs) call these; nothing here prints. Names are
imported on first use (PEP 562), so ``rustlambda --version`` and the CLI's start-up do not pay
for modules a command does not need. ``build`` and ``deploy`` are functions only: their modules
are ``rustlambda.builder`` and ``rustlambda.deployer``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Arch": ".targets",
    "Artifact": ".builder",
    "ArtifactReport": ".verify",
    "BuildOptions": ".options",
    "BuildPlan": ".builder",
    "BuildResult": ".builder",
    "Compiler": ".options",
    "CompilerSettings": ".options",
    "DeployOptions": ".deployer",
    "DeployResult": ".deployer",
    "OutputFormat": ".options",
    "Reporter": ".reporting",
    "Runtime": ".targets",
    "RustLambdaError": ".errors",
    "Target": ".targets",
    "VerifyReport": ".verify",
    "build": ".builder",
    "deploy": ".deployer",
    "plan_build": ".builder",
    "verify_artifacts": ".verify",
    "verify_path": ".verify",
}

if TYPE_CHECKING:
    from .builder import Artifact, BuildPlan, BuildResult, build, plan_build
    from .deployer import DeployOptions, DeployResult, deploy
    from .errors import RustLambdaError
    from .options import BuildOptions, Compiler, CompilerSettings, OutputFormat
    from .reporting import Reporter
    from .targets import Arch, Runtime, Target
    from .verify import ArtifactReport, VerifyReport, verify_artifacts, verify_path


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rustlambda' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Arch",
    "Artifact",
    "ArtifactReport",
    "BuildOptions",
    "BuildPlan",
    "BuildResult",
    "Compiler",
    "CompilerSettings",
    "DeployOptions",
    "DeployResult",
    "OutputFormat",
    "Reporter",
    "Runtime",
    "RustLambdaError",
    "Target",
    "VerifyReport",
    "__version__",
    "build",
    "deploy",
    "plan_build",
    "verify_artifacts",
    "verify_path",
]
