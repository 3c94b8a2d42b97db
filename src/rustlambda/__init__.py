"""rustlambda: build, package, verify, run and deploy Rust AWS Lambda functions.

The public API. Fronts (the CLI, the CDK constructs, deploy) call these; nothing here prints.
"""

from __future__ import annotations

from .build import Artifact, BuildPlan, BuildResult, build, plan_build
from .config import BuildOptions, Compiler, CompilerSettings, OutputFormat
from .deploy import DeployOptions, DeployResult, deploy
from .errors import RustLambdaError
from .reporting import Reporter
from .targets import Arch, Runtime, Target
from .verify import ArtifactReport, VerifyReport, verify_artifacts, verify_path

__version__ = "0.1.0"

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
