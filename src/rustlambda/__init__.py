"""rustlambda: build, package, verify, run and deploy Rust AWS Lambda functions.

The public API. Fronts (the CLI, the CDK constructs, deploy) call these; nothing here prints.
Names are imported on first use (PEP 562), so ``rustlambda --version`` and the CLI's start-up
do not pay for modules a command does not need.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Arch": ".targets",
    "Artifact": ".build",
    "ArtifactReport": ".verify",
    "BuildOptions": ".config",
    "BuildPlan": ".build",
    "BuildResult": ".build",
    "Compiler": ".config",
    "CompilerSettings": ".config",
    "DeployOptions": ".deploy",
    "DeployResult": ".deploy",
    "OutputFormat": ".config",
    "Reporter": ".reporting",
    "Runtime": ".targets",
    "RustLambdaError": ".errors",
    "Target": ".targets",
    "VerifyReport": ".verify",
    "build": ".build",
    "deploy": ".deploy",
    "plan_build": ".build",
    "verify_artifacts": ".verify",
    "verify_path": ".verify",
}

if TYPE_CHECKING:
    from .build import Artifact, BuildPlan, BuildResult, build, plan_build
    from .config import BuildOptions, Compiler, CompilerSettings, OutputFormat
    from .deploy import DeployOptions, DeployResult, deploy
    from .errors import RustLambdaError
    from .reporting import Reporter
    from .targets import Arch, Runtime, Target
    from .verify import ArtifactReport, VerifyReport, verify_artifacts, verify_path


class _Package(types.ModuleType):
    """``build`` and ``deploy`` name both a submodule and the function the API exports; importing
    the submodule would make ``rustlambda.build`` the module. Keep the function, as the eager
    ``from .build import build`` did (the submodules stay importable through sys.modules)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("build", "deploy") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
