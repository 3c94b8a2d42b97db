"""Run a plan: check the targets' std, run cargo once, install each binary into the lambda
dir (copied, never moved), zip it if asked, and verify everything against the runtime."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..compilecache import CacheStats, sccache_server, write_last_build
from ..diagnose import diagnose
from ..errors import ArtifactError, CompileError
from ..layout import ArtifactKind
from ..options import BuildOptions
from ..package import extension_zip_entries, function_zip_entries, write_zip
from ..reporting import LoggingReporter, Reporter
from ..targets import Runtime
from ..toolchain import ensure_target_std
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.hashing import digest_stream
from ..verify import ArtifactReport, VerifyReport, verify_artifacts
from .plan import BuildPlan, PlannedOutput, plan_build
from .result import Artifact, BuildResult


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

    code, cache = _cargo(plan, runner, on_line)
    if cache is not None:
        reporter.info(cache.summary())
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
    return BuildResult(
        tuple(artifacts), plan.lambda_dir, plan.argv, tuple(warnings), verification, cache
    )


def _cargo(
    plan: BuildPlan, runner: CommandRunner, on_line: Callable[[str], None]
) -> tuple[int, CacheStats | None]:
    """Run the cargo command; with a compile cache, inside its own sccache server, whose
    statistics are this build's (also kept for ``rustlambda system``)."""
    if plan.cache is None:
        return runner.stream(plan.argv, env=plan.env, cwd=plan.cwd, on_line=on_line), None
    with sccache_server(plan.cache, plan.env, runner) as session:
        code = runner.stream(plan.argv, env=session.env, cwd=plan.cwd, on_line=on_line)
        stats = session.stats()
    if stats is not None:
        write_last_build(stats, plan.workspace.root, time.time(), plan.env)
    return code, stats


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
    runner = runner or SubprocessRunner()
    return run_plan(plan_build(options, runner=runner), reporter=reporter, runner=runner)
