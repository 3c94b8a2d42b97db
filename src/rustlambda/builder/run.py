"""Run a plan: check the targets' std, run cargo once, install each binary into the lambda
dir (copied, never moved), zip it if asked, and verify everything against the runtime."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..cache import MAX_ENTRIES, CacheFile, fingerprint
from ..compilers.zigenv import direct_command
from ..diagnose import diagnose
from ..errors import ArtifactError, CompileError
from ..layout import ArtifactKind
from ..options import BuildOptions, Compiler
from ..package import extension_zip_entries, function_zip_entries, write_zip
from ..reporting import LoggingReporter, Reporter
from ..targets import Runtime
from ..toolchain import ensure_target_std, std_cache_key
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.hashing import digest_stream
from ..verify.report import ArtifactReport, VerifyReport
from .plan import BuildPlan, PlannedOutput, plan_build
from .result import Artifact, BuildResult


def run_plan(
    plan: BuildPlan, *, reporter: Reporter | None = None, runner: CommandRunner | None = None
) -> BuildResult:
    reporter = reporter or LoggingReporter()
    runner = runner or SubprocessRunner()
    for note in plan.notes:
        reporter.warning(note)
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
    argv, env, zig_key = _cargo_command(plan, runner)
    reporter.command(argv)
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        reporter.output(line)

    code = runner.stream(argv, env=env, cwd=plan.cwd, on_line=on_line)
    if code != 0:
        # whatever was cached about this build is looked up again next time: a std removed
        # since it was found, a recorded zig environment gone wrong in a way its key missed
        for triple in plan.triples:
            std_cache.discard(std_cache_key(plan.toolchain, triple, plan.env, plan.cwd))
        if zig_key is not None:
            _cache(plan, "zigbuild-env").discard(zig_key)
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
    installed = _cache(plan, "installed", max_entries=4096)
    artifacts = [_install(o, plan, installed) for o in plan.outputs]
    installed.write()
    warnings = list(plan.notes)
    for index, output in enumerate(plan.outputs):
        if output.zip_dest is not None:
            artifacts[index] = _pack(artifacts[index], output, plan)
    verification = None
    if plan.verify:
        cache = _cache(plan, "verified", max_entries=4096)
        verification = _verify(artifacts, plan.settings.runtime, cache)
        for report in verification.artifacts:
            for finding in report.warnings:
                warning = f"{report.label}: {finding.message}"
                reporter.warning(warning)
                warnings.append(warning)
        verification.raise_on_failure()
    return BuildResult(tuple(artifacts), plan.lambda_dir, plan.argv, tuple(warnings), verification)


def _cache(plan: BuildPlan, name: str, max_entries: int = MAX_ENTRIES) -> CacheFile:
    """One of rustlambda's caches in the target dir (a disabled one without a target dir)."""
    if plan.target_dir is None:
        return CacheFile(Path(os.devnull), enabled=False)
    return CacheFile.in_target_dir(plan.target_dir, name, plan.env, max_entries)


def _cargo_command(
    plan: BuildPlan, runner: CommandRunner
) -> tuple[Sequence[str], Mapping[str, str], str | None]:
    """What to run: with zig, cargo itself with cargo-zigbuild's environment, recorded once
    (`compilers.zigenv`; the third value is that record's cache key); cargo-zigbuild as such
    when that cannot be derived."""
    if plan.settings.compiler.kind is not Compiler.ZIG or plan.target_dir is None:
        return plan.argv, plan.env, None
    direct = direct_command(
        plan.argv,
        plan.env,
        cwd=plan.cwd,
        cargo=plan.toolchain.cargo,
        rustc=plan.toolchain.rustc,
        cache=_cache(plan, "zigbuild-env"),
        runner=runner,
    )
    if direct is None:
        return plan.argv, plan.env, None
    return direct.argv, direct.env, direct.key


def _verify(artifacts: Sequence[Artifact], runtime: Runtime, cache: CacheFile) -> VerifyReport:
    """Check every artifact (its zip when there is one) for its own architecture.

    Bytes verified before are not read again: the cache's key is the file's SHA-256 (computed
    while it was written just now), its path and mode, the runtime and the architecture; its
    value is the report, warnings included (they are shown again)."""
    reports: list[ArtifactReport] = []
    fresh = False
    for artifact in artifacts:
        path, sha256 = (
            (artifact.zip.path, artifact.zip.sha256)
            if artifact.zip
            else (
                artifact.path,
                artifact.sha256,
            )
        )
        key = fingerprint.key(
            "verify", str(path), sha256, _mode(path), runtime.value, artifact.arch.value
        )
        found = _cached_reports(cache.get(key), sha256 if artifact.zip is None else None)
        if found is None:
            from ..verify import verify_artifacts  # ELF parsing: only when something is new

            found = verify_artifacts([path], runtime=runtime, arch=artifact.arch).artifacts
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


def _diagnostics(lines: list[str], limit: int = 200) -> str:
    """cargo's diagnostics: from the first error on, or the tail."""
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("error")), None)
    chosen = lines[start:] if start is not None else lines
    return "\n".join(chosen[-limit:])


def _install(output: PlannedOutput, plan: BuildPlan, cache: CacheFile) -> Artifact:
    """Copy (never move: cargo must stay fresh) to a temp file, then rename into place.

    Skipped when both cargo's file and the installed copy are exactly as the last install left
    them (stamps: modification time, size, inode; and the copy's mode): a rebuilt binary gets
    a new stamp, and so does a copy changed by anything else."""
    key = fingerprint.key("install", str(output.source), str(output.dest))
    source_stamp = fingerprint.stamp(output.source)
    size, sha256 = _unchanged_copy(cache.get(key), source_stamp, output.dest)
    if not sha256:
        size, sha256 = _copy(output.source, output.dest)
        cache.put(
            key,
            {
                "source": source_stamp,
                "dest": fingerprint.stamp(output.dest),
                "mode": _mode(output.dest),
                "size": size,
                "sha256": sha256,
            },
            save=False,
        )
    function = plan.settings.functions.get(output.binary.name)
    return Artifact(
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


def _copy(source: Path, dest: Path) -> tuple[int, str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".bootstrap-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            copied = digest_stream(src, copy_to=out)
        os.chmod(tmp_name, 0o755)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return copied.size, copied.sha256


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
