"""Build Lambda functions and extensions: plan (settings resolved, one cargo command, where
every output goes), run cargo once, collect the executables into the lambda dir.

    select.py    select_binaries: the binaries a build packages
    plan.py      plan_build -> BuildPlan
    run.py       run_plan, build -> BuildResult
    result.py    Artifact, BuildResult (``build --json``)
    settings.py  the build's resolved settings
"""

from __future__ import annotations

from .plan import BuildPlan, PlannedOutput, plan_build
from .result import Artifact, BuildResult
from .run import build, run_plan
from .select import select_binaries

__all__ = [
    "Artifact",
    "BuildPlan",
    "BuildResult",
    "PlannedOutput",
    "build",
    "plan_build",
    "run_plan",
    "select_binaries",
]
