"""Build Lambda functions and extensions: plan (settings resolved, one cargo command, where
every output goes), run cargo once, collect the executables into the lambda dir.

    plan.py      select_binaries, plan_build -> BuildPlan
    run.py       run_plan, build -> BuildResult
    result.py    Artifact, BuildResult (``build --json``)
    settings.py  the build's resolved settings
"""

from __future__ import annotations

from .plan import BuildPlan, PlannedOutput, plan_build, select_binaries
from .result import Artifact, BuildResult
from .run import build, run_plan

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
