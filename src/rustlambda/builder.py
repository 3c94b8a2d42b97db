"""Plan a build, run cargo once for every selected binary and target, collect the bootstraps
into the lambda dir (its layout: see `rustlambda.layout`)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import layout
from .compilers import backend_for
from .config import BuildOptions, OutputFormat, ResolvedSettings, resolve
from .diagnose import diagnose
from .errors import (
    ArtifactError,
    CompileError,
    ConfigError,
    NoBinaryTargetsError,
    UnknownBinaryError,
)
from .layout import ArtifactKind
from .optimize import plan_overrides
from .package import (
    ZipEntry,
    ZipResult,
    extension_zip_entries,
    function_zip_entries,
    include_entries,
    write_zip,
)
from .project import BinKind, BinTarget, Workspace, load_workspace, locate_manifest
from .reporting import LoggingReporter, Reporter
from .targets import Arch, Runtime, Target, default_target
from .toolchain import Toolchain, ensure_target_std, find_toolchain
from .util.cmd import CommandRunner, SubprocessRunner
from .util.hashing import digest_stream
from .verify import ArtifactReport, VerifyReport, verify_artifacts


@dataclass(frozen=True)
class Artifact:
    """One bootstrap (or extension executable) in the Lambda layout."""

    function: str
    kind: ArtifactKind
    package: str
    target: Target
    arch: Arch
    path: Path
    size: int
    sha256: str
    env: Mapping[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    #: The reproducible zip, with ``--output-format zip``.
    zip: ZipResult | None = None

    def to_dict(self) -> dict[str, Any]:
        packed = self.zip
        return {
            "function": self.function,
            "kind": self.kind.value,
            "package": self.package,
            "target": str(self.target),
            "arch": self.arch.value,
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "env": dict(self.env),
            "include": list(self.include),
            "zip": None
            if packed is None
            else {
                "path": str(packed.path),
                "size": packed.size,
                "unzipped_size": packed.unzipped_size,
                "sha256": packed.sha256,
                "entries": list(packed.entries),
            },
        }


@dataclass(frozen=True)
class BuildResult:
    artifacts: tuple[Artifact, ...]
    lambda_dir: Path
    command: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    #: The checks of every artifact against its runtime (None with ``verify=False``).
    verification: VerifyReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lambda_dir": str(self.lambda_dir),
            "command": list(self.command),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "warnings": list(self.warnings),
            "verification": self.verification.to_dict() if self.verification else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass(frozen=True)
class PlannedOutput:
    binary: BinTarget
    target: Target
    source: Path  # where cargo leaves it
    dest: Path  # where Lambda's layout wants it
    kind: ArtifactKind
    zip_dest: Path | None = None  # with zip output
    includes: tuple[ZipEntry, ...] = ()  # checked while planning, before anything runs


@dataclass(frozen=True)
class BuildPlan:
    """Everything decided before anything runs: the one cargo command and where outputs go."""

    workspace: Workspace
    toolchain: Toolchain
    selected: tuple[BinTarget, ...]
    settings: ResolvedSettings
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    lambda_dir: Path
    outputs: tuple[PlannedOutput, ...]
    triples: tuple[str, ...]  # the rustc triples whose std must exist
    notes: tuple[str, ...]
    verify: bool = True


def select_binaries(workspace: Workspace, options: BuildOptions) -> tuple[BinTarget, ...]:
    """The binaries this build packages: exactly what was asked for, nothing stale."""
    if options.workspace and options.packages:
        raise ConfigError(
            "--workspace and --package conflict", "use one: all members, or the listed packages"
        )
    for name in options.packages:
        if workspace.package(name) is None:
            known = ", ".join(p.name for p in workspace.packages)
            raise UnknownBinaryError(
                f"no package named {name!r} in the workspace", f"packages: {known}"
            )
    scope = [p for p in workspace.packages if not options.packages or p.name in options.packages]
    candidates = [b for p in scope for b in p.bins]
    chosen: list[BinTarget] = []
    for name in options.bins:
        match = [b for b in candidates if b.name == name]
        if not match:
            known = ", ".join(sorted({b.name for b in candidates})) or "(none)"
            raise UnknownBinaryError(
                f"no binary named {name!r}"
                + (" in the selected packages" if options.packages else ""),
                f"binaries: {known}",
            )
        chosen += match
    for name in options.examples:
        match = [e for e in workspace.examples if e.name == name]
        if not match:
            known = ", ".join(sorted(e.name for e in workspace.examples)) or "(none)"
            raise UnknownBinaryError(f"no example named {name!r}", f"examples: {known}")
        chosen += match
    if not options.bins and not options.examples:
        if options.packages or options.workspace:
            chosen = candidates
        else:
            defaults = set(workspace.default_members)
            chosen = [b for p in workspace.packages if p.name in defaults for b in p.bins]
    if not chosen:
        where = ", ".join(options.packages) if options.packages else str(workspace.root)
        raise NoBinaryTargetsError(
            f"no binary targets to build in {where}",
            "a Lambda function is a binary: add src/main.rs or a [[bin]] section, "
            "or select one with --bin, --package or --example",
        )
    return tuple(dict.fromkeys(chosen))


def _profile_dir(settings: ResolvedSettings) -> tuple[str, str]:
    """(profile name for cargo, the directory cargo writes it to)."""
    profile = settings.profile or ("release" if settings.release else "dev")
    directory = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}
    return profile, directory.get(profile, profile)


def _check_conflicts(options: BuildOptions, settings: ResolvedSettings) -> None:
    if settings.release and settings.profile not in (None, "release"):
        raise ConfigError(
            f"--release and --profile {settings.profile} conflict",
            "give one of them (--release is --profile release)",
        )
    if settings.internal and not settings.extension:
        raise ConfigError("--internal only applies with --extension", "add --extension")
    arches = [t.arch for t in settings.targets]
    if len(set(arches)) != len(arches):
        listing = ", ".join(str(t) for t in settings.targets)
        raise ConfigError(
            f"two targets for the same architecture ({listing}) would share one output folder",
            "build them in separate runs with different --lambda-dir values",
        )


def plan_build(options: BuildOptions, *, runner: CommandRunner | None = None) -> BuildPlan:
    runner = runner or SubprocessRunner()
    environ = dict(options.environ if options.environ is not None else os.environ)
    cwd = (options.cwd or Path.cwd()).resolve()
    manifest = locate_manifest(options.manifest_path, cwd)
    toolchain = find_toolchain(environ)
    workspace = load_workspace(manifest, cargo=toolchain.cargo, env=environ, runner=runner)
    selected = select_binaries(workspace, options)
    settings = resolve(options, environ, workspace, selected, (default_target(),))
    _check_conflicts(options, settings)
    if settings.flatten and settings.flatten not in {b.name for b in selected}:
        raise UnknownBinaryError(
            f"--flatten {settings.flatten}: that binary is not part of this build",
            "name one of: " + ", ".join(b.name for b in selected),
        )

    backend = backend_for(settings.compiler.kind)
    invocation = backend.invocation(
        settings.compiler, settings.targets, settings.runtime, toolchain, environ
    )
    profile, profile_dir = _profile_dir(settings)
    optimize = profile == "release" and not settings.disable_optimizations
    overrides = plan_overrides(
        optimize=optimize,
        profile=profile,
        targets=settings.targets,
        workspace_manifest=workspace.root / "Cargo.toml",
        cwd=workspace.root,
        environ=environ,
    )

    argv = [*invocation.head]
    for triple in invocation.triples:
        argv += ["--target", triple]
    argv += ["--release"] if profile == "release" else ["--profile", profile]
    argv += ["--manifest-path", str(manifest)]
    if options.packages:
        for name in options.packages:
            argv += ["--package", name]
    elif options.workspace or len({b.package for b in selected}) > 1:
        argv += ["--workspace"]
    else:
        argv += ["--package", selected[0].package]
    for binary in selected:
        argv += [f"--{binary.kind.value}", binary.name]
    if settings.features:
        argv += ["--features", ",".join(settings.features)]
    if settings.all_features:
        argv += ["--all-features"]
    if settings.no_default_features:
        argv += ["--no-default-features"]
    target_dir = workspace.target_directory
    if options.target_dir is not None:
        target_dir = (cwd / options.target_dir).resolve()
        argv += ["--target-dir", str(target_dir)]
    argv += [
        flag
        for flag, on in (
            ("--locked", options.locked),
            ("--offline", options.offline),
            ("--frozen", options.frozen),
        )
        if on
    ]
    if options.jobs:
        argv += ["--jobs", str(options.jobs)]
    argv += ["-v"] * options.verbose
    argv += overrides.args()
    argv += [*settings.compiler.extra_args, *options.cargo_args]

    notes = list(settings.warnings) + list(invocation.notes) + list(overrides.notes)
    build_env = dict(environ)
    build_env.update(_function_env(settings, notes))
    build_env.update(invocation.env)
    build_env.update(overrides.env)

    lambda_dir = (
        (cwd / settings.lambda_dir).resolve()
        if settings.lambda_dir
        else layout.default_lambda_dir(target_dir)
    )
    zipped = settings.output_format is OutputFormat.ZIP
    includes: dict[str, tuple[ZipEntry, ...]] = {}
    for name, function in settings.functions.items():
        if function.include and not zipped:
            notes.append(f"include for {name} only applies to zip output (--output-format zip)")
        elif zipped:
            includes[name] = tuple(include_entries(function.include, workspace.root))
    outputs = []
    tree = layout.LambdaDir(lambda_dir, per_arch=len(settings.targets) > 1)
    kind = ArtifactKind.EXTENSION if settings.extension else ArtifactKind.FUNCTION
    for target in settings.targets:
        built = target_dir / target.triple / profile_dir
        for binary in selected:
            examples = "examples" if binary.kind is BinKind.EXAMPLE else ""
            source = built / examples / binary.name
            flat = settings.flatten == binary.name
            dest = tree.executable(binary.name, kind, target.arch, flatten=flat)
            zip_dest = layout.zip_path(dest, binary.name, kind, flatten=flat) if zipped else None
            outputs.append(
                PlannedOutput(
                    binary, target, source, dest, kind, zip_dest, includes.get(binary.name, ())
                )
            )

    return BuildPlan(
        workspace=workspace,
        toolchain=toolchain,
        selected=selected,
        settings=settings,
        argv=tuple(argv),
        env=build_env,
        cwd=workspace.root,
        lambda_dir=lambda_dir,
        outputs=tuple(outputs),
        triples=tuple(dict.fromkeys(t.triple for t in settings.targets)),
        notes=tuple(notes),
        verify=options.verify,
    )


def _function_env(settings: ResolvedSettings, notes: list[str]) -> dict[str, str]:
    """The metadata ``env`` values every selected function agrees on (passed to cargo)."""
    tables = list(settings.functions.values())
    if not tables:
        return {}
    agreed: dict[str, str] = {}
    for key in sorted({k for t in tables for k in t.env}):
        values = {t.env.get(key) for t in tables}
        if len(values) == 1 and None not in values:
            agreed[key] = tables[0].env[key]
        else:
            notes.append(f"env {key} differs between the selected functions; not passed to cargo")
    return agreed


def run_plan(
    plan: BuildPlan, *, reporter: Reporter | None = None, runner: CommandRunner | None = None
) -> BuildResult:
    reporter = reporter or LoggingReporter()
    runner = runner or SubprocessRunner()
    for note in plan.notes:
        reporter.warning(note)
    if not plan.settings.skip_target_check:
        ensure_target_std(
            plan.toolchain,
            plan.triples,
            env=plan.env,
            cwd=plan.cwd,
            runner=runner,
            reporter=reporter,
        )
    reporter.command(plan.argv)
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        reporter.output(line)

    code = runner.stream(plan.argv, env=plan.env, cwd=plan.cwd, on_line=on_line)
    if code != 0:
        names = ", ".join(sorted({b.name for b in plan.selected}))
        known = diagnose(lines, plan.triples)
        raise CompileError(
            f"cargo failed (exit code {code}) building {names}"
            + (f": {known.message}" if known else ""),
            known.fix if known else "fix the errors cargo reports above, then build again",
            details=_diagnostics(lines),
        )
    missing = [o.source for o in plan.outputs if not o.source.is_file()]
    if missing:
        raise ArtifactError(
            "cargo succeeded but did not leave " + ", ".join(map(str, missing)),
            "check for a custom build.target-dir or a compiler subcommand that puts binaries "
            "elsewhere",
        )
    artifacts = [_install(o, plan) for o in plan.outputs]
    warnings = list(plan.notes)
    for index, output in enumerate(plan.outputs):
        if output.zip_dest is not None:
            artifacts[index] = _pack(artifacts[index], output, plan)
    verification = None
    if plan.verify:
        verification = _verify(artifacts, plan.settings.runtime)
        for report in verification.artifacts:
            for finding in report.warnings:
                warning = f"{report.label}: {finding.message}"
                reporter.warning(warning)
                warnings.append(warning)
        verification.raise_on_failure()
    return BuildResult(tuple(artifacts), plan.lambda_dir, plan.argv, tuple(warnings), verification)


def _verify(artifacts: Sequence[Artifact], runtime: Runtime) -> VerifyReport:
    """Check every artifact (its zip when there is one) for its own architecture."""
    reports: list[ArtifactReport] = []
    for arch in dict.fromkeys(a.arch for a in artifacts):
        paths = [a.zip.path if a.zip else a.path for a in artifacts if a.arch is arch]
        reports += verify_artifacts(paths, runtime=runtime, arch=arch).artifacts
    return VerifyReport(tuple(reports), runtime)


def _diagnostics(lines: list[str], limit: int = 200) -> str:
    """cargo's diagnostics: from the first error on, or the tail."""
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("error")), None)
    chosen = lines[start:] if start is not None else lines
    return "\n".join(chosen[-limit:])


def _install(output: PlannedOutput, plan: BuildPlan) -> Artifact:
    """Copy (never move: cargo must stay fresh) to a temp file, then rename into place."""
    output.dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".bootstrap-", dir=output.dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, output.source.open("rb") as src:
            copied = digest_stream(src, copy_to=out)
        os.chmod(tmp_name, 0o755)
        os.replace(tmp_name, output.dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    function = plan.settings.functions.get(output.binary.name)
    return Artifact(
        function=output.binary.name,
        kind=output.kind,
        package=output.binary.package,
        target=output.target,
        arch=output.target.arch,
        path=output.dest,
        size=copied.size,
        sha256=copied.sha256,
        env=dict(function.env) if function else {},
        include=function.include if function else (),
    )


def _pack(artifact: Artifact, output: PlannedOutput, plan: BuildPlan) -> Artifact:
    """The reproducible zip next to the executable."""
    assert output.zip_dest is not None
    if output.kind is ArtifactKind.EXTENSION:
        entries = extension_zip_entries(
            artifact.path,
            artifact.function,
            internal=plan.settings.internal,
            includes=output.includes,
        )
    else:
        entries = function_zip_entries(artifact.path, output.includes)
    packed = write_zip(output.zip_dest, entries, environ=plan.env)
    return replace(artifact, zip=packed)


def build(
    options: BuildOptions,
    *,
    reporter: Reporter | None = None,
    runner: CommandRunner | None = None,
) -> BuildResult:
    """Build the selected Lambda binaries for every target in one cargo run."""
    return run_plan(plan_build(options, runner=runner), reporter=reporter, runner=runner)
