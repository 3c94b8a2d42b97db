"""Find what ``rustlambda build`` made, zip it reproducibly, verify it: all before any AWS call.

The build is found where `rustlambda.layout` puts it (the single-target tree, or one
architecture's). The executable is zipped with the same reproducible writer as ``build
--output-format zip`` (same bytes for the same executable and includes); a zip given with
``--binary-path`` or left alone by the build is deployed as it is.

Deploy only reads the build: it never writes next to the executable (so it works from a
read-only folder, and a dry run or a failure leaves nothing behind). The zip it makes goes to a
temporary folder of the deploy (in TMPDIR), except that the build's own zip next to the
executable is used as it is when it holds byte for byte what would be written.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import layout
from ..elf import read_elf
from ..errors import ArtifactError, ConfigError
from ..layout import ArtifactKind
from ..package import (
    DIRECT_UPLOAD_LIMIT,
    extension_zip_entries,
    function_zip_entries,
    include_entries,
    matching_zip,
    write_zip,
)
from ..targets import Arch, GlibcVersion, Runtime
from ..util.fs import file_error
from ..util.hashing import digest_file
from ..verify import VerifyReport, is_zip, verify_artifacts
from .settings import DeploySettings


@dataclass(frozen=True)
class DeployPackage:
    """The verified zip one function or extension is deployed from."""

    binary: str
    kind: ArtifactKind
    source: Path  # the executable (or zip) that was found
    zip_path: Path
    size: int
    sha256: str  # hex
    arch: Arch  # read from the executable's ELF header
    max_glibc: GlibcVersion | None
    verification: VerifyReport
    #: The zip is rustlambda's temporary file, gone after the deploy.
    temporary: bool = False

    @property
    def shown_path(self) -> str | None:
        """The zip's path for the deploy's result: None for a temporary one."""
        return None if self.temporary else str(self.zip_path)

    @property
    def code_sha256(self) -> str:
        """Lambda's CodeSha256: the zip's SHA-256, base64."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


def candidates(
    lambda_dir: Path, binary: str, *, extension: bool, flatten: str | None
) -> list[tuple[Path, Arch | None]]:
    """Every build of ``binary`` in the lambda dir (its executable, else its zip), with the
    architecture its folder names."""
    kind = ArtifactKind.EXTENSION if extension else ArtifactKind.FUNCTION
    found: list[tuple[Path, Arch | None]] = []
    for place in layout.locations(lambda_dir, binary, kind, flatten=flatten == binary):
        if place.executable.is_file():
            found.append((place.executable, place.arch))
        elif place.zip.is_file():
            found.append((place.zip, place.arch))
    return found


def locate(
    lambda_dir: Path,
    binary: str,
    *,
    extension: bool,
    flatten: str | None,
    arch: Arch | None,
) -> Path:
    """The one build of ``binary`` to deploy, or a clear error.

    Each build's architecture is read from its ELF header (the folder's name for a zip). Builds
    of other architectures than ``arch`` are ignored; of the rest, several architectures are
    ambiguous (an error asking for ``--arm64``/``--x86-64``), while several builds of one
    architecture (a stale single-target layout next to a two-target one) resolve to the newest.
    """
    found = [
        (path, _arch_of(path) or folder)
        for path, folder in candidates(lambda_dir, binary, extension=extension, flatten=flatten)
    ]
    what = "extension" if extension else "function"
    if arch is not None:
        found = [(p, a) for p, a in found if a is arch or a is None]
    if not found:
        flag = " --extension" if extension else ""
        target = f" --{arch.value.replace('_', '-')}" if arch else ""
        raise ArtifactError(
            f"no {arch.value + ' ' if arch else ''}build of the {what} {binary!r} in {lambda_dir}",
            f"build it first: rustlambda build --release{flag}{target} --bin {binary} "
            "(or pass --binary-path to the bootstrap or zip to deploy)",
        )
    archs = {a for _, a in found}
    if len(archs) > 1:
        listing = ", ".join(f"{p} ({a.value if a else 'unknown'})" for p, a in found)
        raise ConfigError(
            f"{binary!r} is built for more than one architecture: {listing}",
            "pass --arm64 or --x86-64 to pick one, or --binary-path",
        )
    return max((p for p, _ in found), key=lambda p: p.stat().st_mtime_ns)


def _arch_of(path: Path) -> Arch | None:
    if path.suffix == layout.ZIP_SUFFIX:
        return None
    try:
        return read_elf(path).arch
    except ArtifactError:  # not an ELF: verification will say so
        return None


def package(
    source: Path,
    settings: DeploySettings,
    *,
    include_root: Path,
    arch: Arch | None,
    environ: dict[str, str],
    scratch: Path,
) -> DeployPackage:
    """Zip (unless ``source`` is a zip; into ``scratch``, a temporary folder, unless the build's
    zip is already what would be written) and verify; refuse what Lambda would not run."""
    kind = ArtifactKind.EXTENSION if settings.extension else ArtifactKind.FUNCTION
    zip_path, digest = _zipped(source, settings, kind, include_root, environ, scratch)
    report = verify_artifacts((zip_path,), runtime=_verify_runtime(settings), arch=arch)
    report.raise_on_failure()
    executables = [a for a in report.artifacts if a.arch is not None]
    if not executables:  # verify passed without an executable: cannot happen, be loud anyway
        raise ArtifactError(f"{zip_path} holds no Lambda executable", "rebuild it")
    found_kinds = {a.kind for a in executables}
    if found_kinds != {kind}:
        other = found_kinds.pop()
        extension = other is ArtifactKind.EXTENSION
        raise ConfigError(
            f"{source} is {'an' if extension else 'a'} {other.value}, "
            f"not {'a' if extension else 'an'} {kind.value}",
            "pass --extension to deploy an extension as a layer"
            if extension
            else "drop --extension to deploy a function",
        )
    first = executables[0]
    assert first.arch is not None  # executables are those with an architecture
    size = zip_path.stat().st_size
    if size > DIRECT_UPLOAD_LIMIT and settings.s3_bucket is None:
        raise ConfigError(
            f"{zip_path} is {size / 1024 / 1024:.1f} MB: over Lambda's 50 MB direct upload limit",
            "pass --s3-bucket BUCKET (in the function's region) to upload it through S3",
        )
    return DeployPackage(
        binary=settings.binary,
        kind=kind,
        source=source,
        zip_path=zip_path,
        size=size,
        sha256=digest,
        arch=first.arch,
        max_glibc=first.max_glibc,
        verification=report,
        temporary=zip_path.is_relative_to(scratch),
    )


def _zipped(
    source: Path,
    settings: DeploySettings,
    kind: ArtifactKind,
    include_root: Path,
    environ: dict[str, str],
    scratch: Path,
) -> tuple[Path, str]:
    """The zip to deploy and its SHA-256: ``source`` itself, the build's zip next to it when
    it is exactly what would be written, or a new one in ``scratch``."""
    if not source.exists():
        raise ArtifactError(f"{source} does not exist", "pass an existing bootstrap or zip")
    if not source.is_file():
        raise ArtifactError(
            f"{source} is not a file", "pass the bootstrap or zip itself, not a folder"
        )
    try:
        if is_zip(source):
            if settings.include:
                raise ConfigError(
                    f"include only applies when rustlambda zips the executable, and {source} "
                    "is already a zip",
                    "deploy the executable instead, or drop --include",
                )
            return source, digest_file(source).sha256
    except OSError as exc:
        raise file_error(exc, source, "read") from exc
    includes = include_entries(settings.include, include_root) if settings.include else []
    if settings.extension:
        entries = extension_zip_entries(
            source, settings.binary, internal=settings.internal, includes=includes
        )
    else:
        entries = function_zip_entries(source, includes)
    built = layout.zip_path(source, settings.binary, kind)
    kept = matching_zip(built, entries, environ=environ)
    if kept is not None:
        return kept.path, kept.sha256
    try:  # a folder of its own: every function's zip is named bootstrap.zip
        folder = Path(tempfile.mkdtemp(prefix=f"{settings.name}-", dir=scratch))
    except OSError as exc:
        raise file_error(exc, scratch, "create a folder in") from exc
    written = write_zip(
        folder / built.name,
        entries,
        environ=environ,
        hint="set TMPDIR to a folder on a disk with space (deploy zips there)",
    )
    return written.path, written.sha256


def _verify_runtime(settings: DeploySettings) -> Runtime:
    if not settings.extension:
        return settings.runtime
    provided = [r for r in Runtime if r.value in (settings.compatible_runtimes or ())]
    # the oldest glibc among the runtimes the layer claims to work on
    return min(provided, key=lambda r: r.glibc, default=Runtime.AL2023)


def layer_runtimes(package: DeployPackage, settings: DeploySettings) -> tuple[str, ...]:
    """Compatible runtimes: as given, else every OS-only runtime whose glibc runs the executable."""
    if settings.compatible_runtimes:
        return settings.compatible_runtimes
    needed = package.max_glibc
    return tuple(r.value for r in Runtime if needed is None or needed <= r.glibc)
