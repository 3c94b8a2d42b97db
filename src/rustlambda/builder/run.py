"""Run a plan: check the targets' std, run cargo once, stage each binary (copied, never moved)
and its zip if asked, verify everything against the runtime, and only then install them all
into the lambda dir (`install`): a failed build leaves the previous artifacts untouched."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import MAX_ENTRIES, CacheFile, fingerprint
from ..compilers.zigenv import direct_command, for_compile_cache
from ..errors import ArtifactError, CompileError, Interrupted, VerifyError
from ..layout import ArtifactKind
from ..options import BuildOptions, Compiler
from ..reporting import LoggingReporter, Reporter, Stage, report_stage
from ..targets import Runtime
from ..toolchain import ensure_target_std, std_cache_key
from ..util import signals
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.fs import file_error
from ..util.hashing import digest_stream
from ..verify.report import ArtifactReport, VerifyReport
from .inputs import describe
from .install import Staging
from .plan import BuildPlan, PlannedOutput, plan_build
from .result import Artifact, BuildResult

if TYPE_CHECKING:  # imported when used: a no-op build without --cache or zips needs neither
    from ..compilecache import CacheSession, CacheStats
    from ..package import ZipResult


def run_plan(
    plan: BuildPlan, *, reporter: Reporter | None = None, runner: CommandRunner | None = None
) -> BuildResult:
    reporter = reporter or LoggingReporter()
    runner = runner or SubprocessRunner()
    for note in plan.notes:
        reporter.warning(note)
    untouched = f"nothing was installed: the previous artifacts in {plan.lambda_dir} are untouched"
    try:
        cache, cargo = _compile(plan, reporter, runner)
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
    installed = _cache(plan, "installed", max_entries=4096)
    try:
        with staging:
            copies = [_stage(o, plan, staging, installed) for o in plan.outputs]
            artifacts = [artifact for artifact, _ in copies]
            verification = None
            if plan.verify:
                checked = f"{_count(len(artifacts), 'artifact')} for {plan.settings.runtime.value}"
                report_stage(reporter, Stage.VERIFYING, checked)
                verified = _cache(plan, "verified", max_entries=4096)
                verification = _verify(artifacts, plan.settings.runtime, verified, staging)
                for report in verification.artifacts:
                    for finding in report.warnings:
                        warning = f"{report.label}: {finding.message}"
                        reporter.warning(warning)
                        warnings.append(warning)
                _raise_on_failure(verification, untouched)
            staging.commit()
            _remember_copies(installed, copies)
    except signals.Signalled as exc:
        stopped = f"stopped by {signals.signal_name(exc.signum)}"
        message = (
            f"{stopped} after the new artifacts were installed"
            if staging.committed
            else f"{stopped}; {untouched}"
        )
        raise signals.interrupted(exc.signum, message) from exc
    inputs = describe(plan, artifacts, warnings, cargo)
    return BuildResult(
        tuple(artifacts), plan.lambda_dir, plan.argv, tuple(warnings), verification, cache, inputs
    )


def _compile(
    plan: BuildPlan, reporter: Reporter, runner: CommandRunner
) -> tuple[CacheStats | None, tuple[Sequence[str], Mapping[str, str]]]:
    """The one cargo run: the compile cache's statistics for it (with ``--cache``), and the
    command and environment it ran with; a failure becomes the error that says what it is."""
    std_cache = _cache(plan, "std")
    if not plan.settings.skip_target_check:
        ensure_target_std(
            plan.toolchain,
            plan.triples,
            env=plan.env,
            cwd=plan.cwd,
            runner=runner,
            reporter=reporter,
            cache=std_cache,
        )
    report_stage(reporter, Stage.COMPILING, _targets(plan))
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        reporter.output(line)

    # with --cache, everything that may run rustc (recording cargo-zigbuild's environment too)
    # runs inside the build's private sccache server: a wrapper started outside it would start
    # sccache's default server, which would outlive the build
    with _compile_cache(plan, runner) as session:
        argv, env, zig_key = _cargo_command(plan, session.env if session else plan.env, runner)
        reporter.command(argv)
        code = runner.stream(argv, env=env, cwd=plan.cwd, on_line=on_line)
        cache = _cache_stats(plan, session)
    if cache is not None:
        reporter.info(cache.summary())
    if code != 0:
        # whatever was cached about this build is looked up again next time: a std removed
        # since it was found, a recorded zig environment gone wrong in a way its key missed
        for triple in plan.triples:
            std_cache.discard(std_cache_key(plan.toolchain, triple, plan.env, plan.cwd))
        if zig_key is not None:
            _cache(plan, "zigbuild-env").discard(zig_key)
        from ..diagnose import diagnose

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
    return cache, (argv, env)


def _raise_on_failure(verification: VerifyReport, untouched: str) -> None:
    try:
        verification.raise_on_failure()
    except VerifyError as exc:
        exc.add_context(f" ({untouched})")
        raise


def _compile_cache(
    plan: BuildPlan, runner: CommandRunner
) -> AbstractContextManager[CacheSession | None]:
    """The build's private sccache server with ``--cache`` (`compilecache.sccache_server`)."""
    if plan.cache is None:
        return nullcontext()
    from ..compilecache import sccache_server

    return sccache_server(plan.cache, plan.env, runner)


def _cache_stats(plan: BuildPlan, session: CacheSession | None) -> CacheStats | None:
    """The compile cache's statistics for this build (also kept for ``rustlambda system``)."""
    stats = session.stats() if session else None
    if stats is not None:
        from ..compilecache import write_last_build

        write_last_build(stats, plan.workspace.root, time.time(), plan.env)
    return stats


def _cache(plan: BuildPlan, name: str, max_entries: int = MAX_ENTRIES) -> CacheFile:
    """One of rustlambda's caches in the target dir (a disabled one without a target dir)."""
    if plan.target_dir is None:
        return CacheFile(Path(os.devnull), enabled=False)
    return CacheFile.in_target_dir(plan.target_dir, name, plan.env, max_entries)


def _cargo_command(
    plan: BuildPlan, env: Mapping[str, str], runner: CommandRunner
) -> tuple[Sequence[str], Mapping[str, str], str | None]:
    """What to run: with zig, cargo itself with cargo-zigbuild's environment, recorded once
    (`compilers.zigenv`; the third value is that record's cache key); cargo-zigbuild as such
    when that cannot be derived."""
    if plan.settings.compiler.kind is not Compiler.ZIG or plan.target_dir is None:
        return plan.argv, env, None
    direct = direct_command(
        plan.argv,
        env,
        cwd=plan.cwd,
        cargo=plan.toolchain.cargo,
        rustc=plan.toolchain.rustc,
        cache=_cache(plan, "zigbuild-env"),
        runner=runner,
    )
    if direct is None:
        return plan.argv, env, None
    if plan.cache is not None:  # the same cache entries whichever targets are selected
        argv, cargo_env = for_compile_cache(direct.argv, direct.env)
        return argv, cargo_env, direct.key
    return direct.argv, direct.env, direct.key


def _verify(
    artifacts: Sequence[Artifact],
    runtime: Runtime,
    cache: CacheFile,
    staging: Staging | None = None,
) -> VerifyReport:
    """Check every staged artifact (its zip when there is one) for its own architecture; the
    report names the paths they are installed at.

    Bytes verified before are not read again: the cache's key is the file's SHA-256 (computed
    while it was staged just now), its installed path and mode, the runtime and the
    architecture; its value is the report, warnings included (they are shown again)."""
    reports: list[ArtifactReport] = []
    fresh = False
    for artifact in artifacts:
        final, sha256 = (
            (artifact.zip.path, artifact.zip.sha256)
            if artifact.zip
            else (artifact.path, artifact.sha256)
        )
        staged = staging.staged(final) if staging else final
        key = fingerprint.key(
            "verify", str(final), sha256, _mode(staged), runtime.value, artifact.arch.value
        )
        found = _cached_reports(cache.get(key), sha256 if artifact.zip is None else None)
        if found is None:
            from ..verify import verify_artifacts  # ELF parsing: only when something is new

            checked = verify_artifacts([staged], runtime=runtime, arch=artifact.arch).artifacts
            found = tuple(replace(r, path=final) if r.path == staged else r for r in checked)
            cache.put(key, [r.to_dict() for r in found], save=False)
            fresh = True
        reports += found
    if fresh:
        cache.write()
    return VerifyReport(tuple(reports), runtime)


def _mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except OSError:
        return None


def _cached_reports(value: Any, sha256: str | None) -> tuple[ArtifactReport, ...] | None:
    """The reports stored in the verification cache, or None when absent or malformed."""
    try:
        reports = tuple(ArtifactReport.from_dict(r) for r in value)
    except (TypeError, KeyError, ValueError):
        return None
    if not reports or (sha256 is not None and reports[0].sha256 != sha256):
        return None
    return reports


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


def _stage(
    output: PlannedOutput, plan: BuildPlan, staging: Staging, cache: CacheFile
) -> tuple[Artifact, _Copy | None]:
    """Copy (never move: cargo must stay fresh) into the staging folder, and zip it if asked;
    the copy to remember once installed (None when the installed one was kept).

    The copy is skipped when both cargo's file and the installed copy are exactly as the last
    install left them (stamps: modification time, size, inode; and the copy's mode): a rebuilt
    binary gets a new stamp, and so does a copy changed by anything else."""
    key = fingerprint.key("install", str(output.source), str(output.dest))
    source_stamp = fingerprint.stamp(output.source)
    size, sha256 = _unchanged_copy(cache.get(key), source_stamp, output.dest)
    copy = None
    if sha256:
        staged = output.dest
    else:
        staged = staging.place(output.dest)
        size, sha256 = _copy(output.source, staged, output.dest)
        copy = _Copy(key, source_stamp, staged, output.dest, size, sha256)
    function = plan.settings.functions.get(output.binary.name)
    artifact = Artifact(
        function=output.binary.name,
        kind=output.kind,
        package=output.binary.package,
        target=output.target,
        arch=output.target.arch,
        path=output.dest,
        size=size,
        sha256=sha256,
        env=dict(function.env) if function else {},
        include=function.include if function else (),
    )
    if output.zip_dest is not None:
        artifact = replace(artifact, zip=_pack(staged, artifact, output, plan, staging))
    return artifact, copy


def _unchanged_copy(value: Any, source_stamp: fingerprint.Stamp, dest: Path) -> tuple[int, str]:
    """(size, sha256) of the installed copy when nothing changed since it was made, else
    (0, "")."""
    try:
        same = (
            source_stamp is not None
            and list(value["source"]) == list(source_stamp)
            and value["dest"] is not None
            and list(value["dest"]) == list(fingerprint.stamp(dest) or ())
            and value["mode"] == _mode(dest)
        )
        if same and isinstance(value["size"], int) and isinstance(value["sha256"], str):
            return value["size"], value["sha256"]
    except (TypeError, KeyError):
        pass
    return 0, ""


@dataclass(frozen=True)
class _Copy:
    """A staged copy of cargo's file, remembered once it is installed (`_remember_copies`)."""

    key: str
    source_stamp: fingerprint.Stamp
    staged: Path
    dest: Path
    size: int
    sha256: str


def _copy(source: Path, staged: Path, dest: Path) -> tuple[int, str]:
    """Copy ``source`` to ``staged`` (executable); errors name ``dest``."""
    try:
        with staged.open("xb") as out, source.open("rb") as src:
            copied = digest_stream(src, copy_to=out)
        os.chmod(staged, 0o755)
    except OSError as exc:
        raise file_error(
            exc, dest, "install", hint="build into another folder (--lambda-dir DIR)"
        ) from exc
    return copied.size, copied.sha256


def _remember_copies(cache: CacheFile, copies: Sequence[tuple[Artifact, _Copy | None]]) -> None:
    """Record each installed copy's stamps (a rename keeps the staged file's inode and
    modification time), so an unchanged one is not copied again."""
    for _, copy in copies:
        if copy is None:
            continue
        cache.put(
            copy.key,
            {
                "source": copy.source_stamp,
                "dest": fingerprint.stamp(copy.dest),
                "mode": _mode(copy.dest),
                "size": copy.size,
                "sha256": copy.sha256,
            },
            save=False,
        )
    cache.write()


def _pack(
    staged: Path, artifact: Artifact, output: PlannedOutput, plan: BuildPlan, staging: Staging
) -> ZipResult:
    """The reproducible zip next to the executable: the one there if it is already exactly
    that, else a new one, staged."""
    from ..package import extension_zip_entries, function_zip_entries, matching_zip, write_zip

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
