"""Local bundling: each asset's hooks run around a shared build of the binaries the app uses
(`planner.BuildPlanner`), the asset gets a copy of its binary. One `AppBuilds` per CDK app holds
the shared state: ``cargo metadata`` answers, the planner, the deferred assets.

The builder is imported on the first build, not with the constructs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import jsii

from ..errors import ConfigError, RustLambdaError
from ..options import BuildOptions
from ..targets import Runtime
from ..toolchain import find_toolchain
from ..util.cmd import SubprocessRunner
from .options import CommandHooks, LogLevel
from .planner import BuildKey, BuildPlanner
from .project import MetadataRunner, Projects
from .reporter import CdkReporter

if TYPE_CHECKING:
    from ..builder import Artifact
    from .deferred import DeferredCode, MakeAssets


class AppBuilds:
    """One per CDK app: ``cargo metadata`` answers, the shared builds, the deferred assets."""

    def __init__(self) -> None:
        self.runner = MetadataRunner()
        self.projects = Projects(self.runner)
        self.planner: BuildPlanner[Artifact] = BuildPlanner()
        self.deferred: list[DeferredCode] = []
        self.aspect: MakeAssets | None = None
        #: the stacks whose synthesis makes the assets first (one aspect each suffices)
        self.stacks_with_aspect: set[str] = set()
        self._context: dict[str, bool] = {}

    def context(self, scope: Any, key: str) -> bool:
        """An app-wide context flag (``aws:cdk:enable-asset-metadata``...), read once."""
        if key not in self._context:
            self._context[key] = bool(scope.node.try_get_context(key))
        return self._context[key]

    @classmethod
    def of(cls, root: Any) -> AppBuilds:
        """The state of the app whose root construct is ``root``."""
        found = getattr(root, "_rustlambda_builds", None)
        if isinstance(found, AppBuilds):
            return found
        builds = cls()
        root._rustlambda_builds = builds
        return builds


@dataclass(frozen=True)
class ScopeInfo:
    app: AppBuilds
    #: jsii's id of the scope's stack
    stack: str
    #: whether CDK bundles the stack's assets (not when ``cdk synth`` selects other stacks)
    bundled: bool


def scope_info(scope: Any) -> ScopeInfo:
    """What a construct needs to know about its scope; kept on the scope (the functions of a
    stack share it, and each lookup is a round trip to node)."""
    found = getattr(scope, "_rustlambda_scope", None)
    if not isinstance(found, ScopeInfo):
        stack: Any = cdk.Stack.of(scope)
        found = ScopeInfo(
            AppBuilds.of(scope.node.root), stack.__jsii_ref__.ref, bool(stack.bundling_required)
        )
        scope._rustlambda_scope = found
    return found


@dataclass(frozen=True)
class LocalBuild:
    """One asset's local bundling: which build, which binary, where it goes."""

    key: BuildKey
    #: The shared build's options (binaries chosen when it runs; ``verify`` None: checked here).
    options: BuildOptions
    binary: str
    #: Where the binary goes in the asset: ``bootstrap`` or ``extensions/<name>``.
    destination: str
    environ: Mapping[str, str]
    hooks: CommandHooks | None
    log_level: LogLevel
    what: str

    @property
    def root(self) -> Path:
        return self.key.root


def run_hooks(commands: Sequence[str], build: LocalBuild, name: str, reporter: CdkReporter) -> None:
    if not commands:
        return
    script = " && ".join(commands)
    done = SubprocessRunner().run(["bash", "-c", script], env=build.environ, cwd=build.root)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise ConfigError(
            f"{build.what}: the {name} command hook failed (exit code {done.returncode}): {script}",
            "fix the command hook",
            details=output[-4000:],
        )
    if output.strip() and reporter.level is not LogLevel.SILENT:
        sys.stderr.write(output if output.endswith("\n") else output + "\n")


def shared_build(app: AppBuilds, build: LocalBuild, names: Sequence[str]) -> dict[str, Artifact]:
    """One cargo run for ``names`` (what the app wants of this build), verified once per
    bootstrap."""
    from ..builder import plan_build, run_plan
    from .verified import verify_cached

    reporter = CdkReporter(build.log_level)
    reporter.info(f"building {', '.join(names)} for {build.key.target} in {build.root}")
    options = replace(build.options, bins=tuple(names), verify=False)
    plan = plan_build(options, runner=app.runner)
    result = run_plan(plan, reporter=reporter, runner=app.runner)
    if build.options.verify is not False:
        verify_cached(result.artifacts, build.key.runtime, plan.lambda_dir, reporter)
    return {a.function: a for a in result.artifacts}


def _copy(source: Path, destination: Path) -> None:
    """Into the asset through a temporary file renamed into place."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bootstrap-", dir=destination.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def can_bundle_here(build: LocalBuild) -> bool:
    """A local cargo (else Docker bundling)."""
    try:
        find_toolchain(build.environ)
    except RustLambdaError:
        return False
    return True


def bundle_locally(app: AppBuilds, build: LocalBuild, output_dir: str) -> None:
    """One asset, in the seed's order: its before hooks, the shared build (again when a hook
    ran since), its binary copied into ``output_dir``, its after hooks."""
    reporter = CdkReporter(build.log_level)
    hooks = build.hooks
    try:
        if hooks is not None:
            before = list(hooks.before_bundling(str(build.root), output_dir))
            if before:
                run_hooks(before, build, "before_bundling", reporter)
                # the hook may have changed sources or manifests: the build runs again
                app.planner.stale(build.key)
                app.projects.forget()
        artifact = app.planner.artifact(
            build.key, build.binary, lambda names: shared_build(app, build, names)
        )
        _copy(artifact.path, Path(output_dir) / build.destination)
        if hooks is not None:
            after = list(hooks.after_bundling(str(build.root), output_dir))
            run_hooks(after, build, "after_bundling", reporter)
    except RustLambdaError as exc:
        # CDK shows only the exception's text: make it carry the fix and the diagnostics.
        text = "\n".join(p for p in (exc.details, exc.message, f"fix: {exc.fix}") if p)
        raise RuntimeError(text) from exc


@jsii.implements(cdk.ILocalBundling)
class LocalBundling:
    """CDK's local bundling: builds on this machine with rustlambda; declines (→ Docker) when
    forced or without a local cargo."""

    def __init__(self, app: AppBuilds, build: LocalBuild, *, force_docker: bool) -> None:
        self.app = app
        self.build = build
        self.force_docker = force_docker

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        if self.force_docker or not can_bundle_here(self.build):
            return False
        bundle_locally(self.app, self.build, output_dir)
        return True


def fingerprint_of(options: BuildOptions, environment: Mapping[str, str], runtime: Runtime) -> str:
    """What makes two assets' builds the same (besides the workspace and target)."""
    import hashlib

    text = repr(replace(options, environ=None)) + repr(sorted(environment.items())) + runtime
    return hashlib.sha256(text.encode()).hexdigest()[:12]
