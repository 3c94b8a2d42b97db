"""Run a plan: check the targets' std, run cargo once, stage each binary (copied, never moved)
and its zip if asked, verify everything against the runtime, and only then install them all
into the lambda dir (`install`): a failed build leaves the previous artifacts untouched."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..diagnose import diagnose
from ..errors import ArtifactError, CompileError, Interrupted, VerifyError
from ..layout import ArtifactKind
from ..options import BuildOptions
from ..package import (
    ZipResult,
    extension_zip_entries,
    function_zip_entries,
    matching_zip,
    write_zip,
)
from ..reporting import LoggingReporter, Reporter, Stage, report_stage
from ..targets import Runtime
from ..toolchain import ensure_target_std
from ..util import signals
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.fs import file_error
from ..util.hashing import digest_stream
from ..verify import ArtifactReport, VerifyReport, verify_artifacts
from .install import Staging
from .plan import BuildPlan, PlannedOutput, plan_build
from .result import Artifact, BuildResult


def run_plan(
    plan: BuildPlan, *, reporter: Reporter | None = None, runner: CommandRunner | None = None
) -> BuildResult:
    reporter = reporter or LoggingReporter()
    runner = runner or SubprocessRunner()
    for note in plan.notes:
        reporter.warning(note)
    untouched = f"nothing was installed: the previous artifacts in {plan.lambda_dir} are untouched"
    try:
        if not plan.settings.skip_target_check:
            ensure_target_std(
                plan.toolchain,
                plan.triples,
                env=plan.env,
                cwd=plan.cwd,
                runner=runner,
                reporter=reporter,
            )
        _compile(plan, reporter, runner)
    except Interrupted as exc:
        exc.add_context(f"; {untouched}")
        raise
    missing = [o.source for o in plan.outputs if not o.source.is_file()]
    if missing:
        raise ArtifactError(
            "cargo succeeded but did not leave " + ", ".join(map(str, missing)),
            "check for a custom build.target-dir or a compiler subcommand that puts binaries "
            "elsewhere",
        )
    warnings = list(plan.notes)
    zips = sum(1 for o in plan.outputs if o.zip_dest is not None)
    packed = _count(zips, "zip") if zips else _count(len(plan.outputs), "bootstrap")
    report_stage(reporter, Stage.PACKAGING, packed)
    staging = Staging(plan.lambda_dir)
    try:
        with staging:
            artifacts = [_stage(o, plan, staging) for o in plan.outputs]
            verification = None
            if plan.verify:
                checked = f"{_count(len(artifacts), 'artifact')} for {plan.settings.runtime.value}"
                report_stage(reporter, Stage.VERIFYING, checked)
                verification = _verify(artifacts, plan.settings.runtime, staging)
                for report in verification.artifacts:
                    for finding in report.warnings:
                        warning = f"{report.label}: {finding.message}"
                        reporter.warning(warning)
                        warnings.append(warning)
                _raise_on_failure(verification, untouched)
            staging.commit()
    except signals.Signalled as exc:
        stopped = f"stopped by {signals.signal_name(exc.signum)}"
        message = (
            f"{stopped} after the new artifacts were installed"
            if staging.committed
            else f"{stopped}; {untouched}"
        )
        raise signals.interrupted(exc.signum, message) from exc
    return BuildResult(tuple(artifacts), plan.lambda_dir, plan.argv, tuple(warnings), verification)


def _compile(plan: BuildPlan, reporter: Reporter, runner: CommandRunner) -> None:
    """The one cargo run; a failure becomes the error that says what it is."""
    report_stage(reporter, Stage.COMPILING, _targets(plan))
    reporter.command(plan.argv)
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        reporter.output(line)

    code = runner.stream(plan.argv, env=plan.env, cwd=plan.cwd, on_line=on_line)
    if code != 0:
        names = ", ".join(sorted({b.name for b in plan.selected}))
        known = diagnose(lines, plan.triples, code)
        if known is not None:
            raise known.error(
                f"cargo failed (exit code {code}) building {names}: {known.message}",
                known.fix,
                details=_diagnostics(lines),
            )
        raise CompileError(
            f"cargo failed (exit code {code}) building {names}",
            "fix the errors cargo reports above, then build again",
            details=_diagnostics(lines),
        )


def _raise_on_failure(verification: VerifyReport, untouched: str) -> None:
    try:
        verification.raise_on_failure()
    except VerifyError as exc:
        exc.add_context(f" ({untouched})")
        raise


def _verify(artifacts: Sequence[Artifact], runtime: Runtime, staging: Staging) -> VerifyReport:
    """Check every staged artifact (its zip when there is one) for its own architecture; the
    report names the paths they are installed at."""
    reports: list[ArtifactReport] = []
    for arch in dict.fromkeys(a.arch for a in artifacts):
        finals = [a.zip.path if a.zip else a.path for a in artifacts if a.arch is arch]
        by_staged = {staging.staged(final): final for final in finals}
        found = verify_artifacts(list(by_staged), runtime=runtime, arch=arch).artifacts
        reports += [replace(r, path=by_staged.get(r.path, r.path)) for r in found]
    return VerifyReport(tuple(reports), runtime)


def _targets(plan: BuildPlan) -> str:
    """What the build makes, for its stage line: ``hello, echo for arm64, x86_64``."""
    names = list(dict.fromkeys(o.binary.name for o in plan.outputs))
    arches = ", ".join(dict.fromkeys(o.target.arch.value for o in plan.outputs))
    shown = ", ".join(names) if len(names) <= 3 else f"{len(names)} binaries"
    return f"{shown} for {arches}" if names else ""


def _count(n: int, noun: str) -> str:
    """``2 zips``; ``1 bootstrap``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _diagnostics(lines: list[str], limit: int = 200) -> str:
    """cargo's diagnostics: from the first error on, or the tail."""
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("error")), None)
    chosen = lines[start:] if start is not None else lines
    return "\n".join(chosen[-limit:])


def _stage(output: PlannedOutput, plan: BuildPlan, staging: Staging) -> Artifact:
    """Copy (never move: cargo must stay fresh) into the staging folder, and zip it if asked."""
    staged = staging.place(output.dest)
    try:
        with staged.open("xb") as out, output.source.open("rb") as src:
            copied = digest_stream(src, copy_to=out)
        os.chmod(staged, 0o755)
    except OSError as exc:
        raise file_error(
            exc, output.dest, "install", hint="build into another folder (--lambda-dir DIR)"
        ) from exc
    function = plan.settings.functions.get(output.binary.name)
    artifact = Artifact(
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
    if output.zip_dest is None:
        return artifact
    return replace(artifact, zip=_pack(staged, artifact, output, plan, staging))


def _pack(
    staged: Path, artifact: Artifact, output: PlannedOutput, plan: BuildPlan, staging: Staging
) -> ZipResult:
    """The reproducible zip next to the executable: the one there if it is already exactly
    that, else a new one, staged."""
    assert output.zip_dest is not None
    if output.kind is ArtifactKind.EXTENSION:
        entries = extension_zip_entries(
            staged,
            artifact.function,
            internal=plan.settings.internal,
            includes=output.includes,
        )
    else:
        entries = function_zip_entries(staged, output.includes)
    kept = matching_zip(output.zip_dest, entries, environ=plan.env)
    if kept is not None:
        return kept
    written = write_zip(staging.place(output.zip_dest), entries, environ=plan.env)
    return replace(written, path=output.zip_dest)


def build(
    options: BuildOptions,
    *,
    reporter: Reporter | None = None,
    runner: CommandRunner | None = None,
) -> BuildResult:
    """Build the selected Lambda binaries for every target in one cargo run."""
    runner = runner or SubprocessRunner()
    if reporter is not None:
        report_stage(reporter, Stage.RESOLVING, "the workspace, toolchain and targets")
    return run_plan(plan_build(options, runner=runner), reporter=reporter, runner=runner)
