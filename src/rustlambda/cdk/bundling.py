"""Local bundling: one shared cargo build per workspace, target and settings for the whole app
(the first asset builds every binary, the others copy theirs), with the command hooks run
around it through `rustlambda.util.cmd`."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import click
import jsii
from constructs import Construct

from ..builder import BuildResult, plan_build, run_plan
from ..errors import ConfigError, RustLambdaError, UnknownBinaryError
from ..flags import parse_build_args
from ..options import BuildOptions, CompilerSettings
from ..project import load_workspace
from ..reporting import LoggingReporter, Reporter
from ..settings import table
from ..settings.model import Context
from ..settings.resolve import convert
from ..targets import Arch, Runtime, Target
from ..toolchain import find_toolchain
from ..util.cmd import SubprocessRunner
from .options import BundlingOptions
from .project import Project

_SHARED_ID = "RustLambdaSharedBuilds"


@dataclass(frozen=True)
class BuildKey:
    """What makes two assets share a build: workspace, target, runtime and every setting."""

    root: Path
    target: Target
    runtime: Runtime
    fingerprint: str


class SharedBuilds(Construct):
    """One per app: the builds made so far, so every asset of a workspace and architecture
    reuses one cargo run."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.results: dict[BuildKey, BuildResult | RustLambdaError] = {}
        self.projects: dict[Path, Project] = {}
        self.reporter: Reporter = LoggingReporter()

    @classmethod
    def of(cls, scope: Construct) -> SharedBuilds:
        root = scope.node.root
        found = root.node.try_find_child(_SHARED_ID)
        if isinstance(found, SharedBuilds):
            return found
        assert isinstance(root, Construct)
        return cls(root, _SHARED_ID)

    def project(self, manifest: Path) -> Project:
        manifest = manifest.resolve()
        cached = self.projects.get(manifest)
        if cached is not None:
            return cached
        environ = dict(os.environ)
        try:
            cargo = find_toolchain(environ).cargo
        except RustLambdaError:
            project = Project(manifest, None)
        else:
            workspace = load_workspace(
                manifest, cargo=cargo, env=environ, runner=SubprocessRunner()
            )
            project = Project(manifest, workspace)
        self.projects[manifest] = project
        return project

    def build(self, key: BuildKey, options: BuildOptions) -> BuildResult:
        cached = self.results.get(key)
        if isinstance(cached, RustLambdaError):
            raise cached
        if cached is not None:
            return cached
        try:
            result = run_plan(plan_build(options), reporter=self.reporter)
        except RustLambdaError as exc:
            self.results[key] = exc
            raise
        self.results[key] = result
        return result


def build_options(
    bundling: BundlingOptions, project: Project, target: Target, runtime: Runtime
) -> BuildOptions:
    """The shared build: every binary of the workspace, for one target, with these settings."""
    try:
        extra = parse_build_args(bundling.extra_build_args)
    except click.ClickException as exc:
        raise ConfigError(
            f"bundling.extra_build_args {list(bundling.extra_build_args)}: {exc}",
            "use rustlambda build / cargo lambda build flags, e.g. ['--all-features']",
        ) from exc
    if extra.bins or extra.packages or extra.examples or extra.targets:
        raise ConfigError(
            "bundling.extra_build_args may not select binaries or targets "
            f"({list(bundling.extra_build_args)})",
            "use binary_name= and architecture= on the construct",
        )
    compiler = bundling_compiler(bundling, project.root)
    environ = {**os.environ, **bundling.environment}
    return replace(
        extra,
        manifest_path=project.root / "Cargo.toml",
        cwd=project.root,
        workspace=True,
        targets=(target,),
        runtime=runtime,
        release=bundling.release if bundling.profile is None else None,
        profile=bundling.profile,
        compiler=compiler or extra.compiler,
        environ=environ,
        verify=True,
    )


def bundling_compiler(bundling: BundlingOptions, root: Path) -> CompilerSettings | None:
    """``bundling.compiler`` through the settings table's compiler converter."""
    if bundling.compiler is None:
        return None
    return convert(
        table.COMPILER, bundling.compiler, Context("bundling.compiler", root, "compiler")
    )


def target_of(bundling: BundlingOptions, arch: Arch, what: str) -> Target:
    if bundling.target is None:
        return Target.for_arch(arch)
    target = Target.parse(bundling.target)
    if target.arch is not arch:
        raise ConfigError(
            f"{what}: bundling target {bundling.target} is {target.arch.value} but the "
            f"architecture is {arch.value}",
            "make them agree: drop bundling.target, or change architecture=",
        )
    return target


def _run_hooks(commands: Sequence[str], cwd: Path, environ: Mapping[str, str], what: str) -> None:
    if not commands:
        return
    script = " && ".join(commands)
    completed = SubprocessRunner().run(["bash", "-c", script], env=environ, cwd=cwd)
    if completed.returncode != 0:
        raise ConfigError(
            f"{what} hook failed with exit code {completed.returncode}: {script}",
            "fix the command hook",
            details=(completed.stdout + completed.stderr)[-4000:],
        )


@jsii.implements(cdk.ILocalBundling)
class LocalBundling:
    """Builds on this machine with rustlambda; declines (→ Docker) when forced or no cargo."""

    def __init__(
        self,
        shared: SharedBuilds,
        key: BuildKey,
        options: BuildOptions,
        binary: str,
        destination: str,
        bundling: BundlingOptions,
    ) -> None:
        self.shared = shared
        self.key = key
        self.options = options
        self.binary = binary
        self.destination = destination
        self.bundling = bundling

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        if self.bundling.force_docker_bundling:
            return False
        environ = dict(self.options.environ or os.environ)
        try:
            find_toolchain(environ)
        except RustLambdaError:
            return False  # no local cargo: Docker bundling
        root = self.key.root
        hooks = self.bundling.command_hooks
        if hooks is not None:
            commands = hooks.before_bundling(str(root), output_dir)
            _run_hooks(commands, root, environ, "before_bundling")
        try:
            result = self.shared.build(self.key, self.options)
        except RustLambdaError as exc:
            # CDK shows only the exception's text: make it carry the fix and the diagnostics.
            text = "\n".join(p for p in (exc.details, exc.message, f"fix: {exc.fix}") if p)
            raise RuntimeError(text) from exc
        matches = [a for a in result.artifacts if a.function == self.binary]
        if not matches:
            built = ", ".join(sorted(a.function for a in result.artifacts))
            raise UnknownBinaryError(
                f"{self.binary} was not among the built binaries ({built})",
                "pass binary_name= one of them",
            )
        destination = Path(output_dir) / self.destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(matches[0].path, destination)
        destination.chmod(0o755)
        if hooks is not None:
            commands = hooks.after_bundling(str(root), output_dir)
            _run_hooks(commands, root, environ, "after_bundling")
        return True


def fingerprint_of(options: BuildOptions, environment: Mapping[str, str]) -> str:
    text = repr(options) + repr(sorted(environment.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
