"""Put a rendered project on disk: nothing half-written, nothing of the user's overwritten.

``new`` renders every file into a temporary directory next to the destination and renames
that directory into place in one step. ``init`` fills an existing directory (cargo init's
semantics): files already there are kept as they are, ``.gitignore`` gets the lines it lacks,
and each new file is staged in a temporary directory and linked into place without replacing
anything; if one fails, the files placed so far are removed again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ProjectPathError
from .options import TemplateOptions
from .render import ProjectFile, invoke_command, render

_GITIGNORE = PurePosixPath(".gitignore")


@dataclass(frozen=True)
class ScaffoldResult:
    """What ``new``/``init`` did. Paths in ``written``, ``kept`` and ``updated`` are relative
    to ``root``."""

    root: Path
    options: TemplateOptions
    #: Files created.
    written: tuple[PurePosixPath, ...]
    #: Files that were already there and were left as they are (``init``).
    kept: tuple[PurePosixPath, ...] = ()
    #: Files that were there and got lines added (``init``: ``.gitignore``).
    updated: tuple[PurePosixPath, ...] = ()

    @property
    def invoke_command(self) -> str | None:
        """How to invoke the function once ``rustlambda watch`` serves it (None: extension)."""
        return invoke_command(self.options)


def _failure(action: str, path: Path, exc: OSError) -> ProjectPathError:
    return ProjectPathError(
        f"cannot {action} {path}: {exc.strerror or exc}",
        "check the path and its permissions",
    )


def _write(root: Path, files: Sequence[ProjectFile]) -> None:
    for file in files:
        target = root.joinpath(*file.path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text, encoding="utf-8")


@contextlib.contextmanager
def _staging(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary directory in ``parent`` (same filesystem: renames stay atomic), removed
    afterwards if it is still there."""
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def new_project(options: TemplateOptions, path: Path) -> ScaffoldResult:
    """Create the project in ``path``, which must not exist or be an empty directory."""
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise ProjectPathError(
            f"{path} exists and is not a directory", "choose another name or path"
        )
    if path.resolve() == Path.cwd().resolve():
        # new replaces the directory it creates in; the working directory stays as it is
        raise ProjectPathError(
            f"{path} is the current directory", "fill it with `rustlambda init` instead"
        )
    if path.is_dir() and any(path.iterdir()):
        raise ProjectPathError(
            f"{path} already exists and is not empty",
            f"choose another name, or fill an existing directory with `rustlambda init {path}`",
        )
    files = render(options, command="new")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _staging(path.parent, f".{path.name}.rustlambda-") as staging:
            _write(staging, files)
            staging.chmod(0o777 & ~_umask())
            if path.is_dir():
                path.rmdir()  # empty (checked above): the staged tree takes its place
            staging.rename(path)
    except OSError as exc:
        raise _failure("create the project in", path, exc) from exc
    return ScaffoldResult(root=path, options=options, written=tuple(f.path for f in files))


def init_project(options: TemplateOptions, path: Path) -> ScaffoldResult:
    """Add the project's files to ``path`` (created if missing), keeping the files there."""
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise ProjectPathError(f"{path} is not a directory", "pass a directory to init")
    if (path / "Cargo.toml").exists():
        raise ProjectPathError(
            f"{path} already holds a Cargo.toml",
            "`rustlambda init` starts a new package: run it in a directory without a "
            "Cargo.toml, or `rustlambda new NAME` for a new directory",
        )
    files = render(options, command="init")
    new = [f for f in files if not path.joinpath(*f.path.parts).exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        with _staging(path, ".rustlambda-init-") as staging:
            _write(staging, new)
            _place(staging, path, [f.path for f in new])
        updated = _extend_gitignore(path, files)
    except OSError as exc:
        raise _failure("write the project into", path, exc) from exc
    kept = [f.path for f in files if f not in new and f.path not in updated]
    return ScaffoldResult(
        root=path,
        options=options,
        written=tuple(f.path for f in new),
        kept=tuple(kept),
        updated=updated,
    )


def _place(staging: Path, root: Path, paths: Sequence[PurePosixPath]) -> None:
    """Link each staged file into ``root`` without replacing anything; undo on failure."""
    placed: list[Path] = []
    created_dirs: list[Path] = []
    try:
        for relative in paths:
            target = root.joinpath(*relative.parts)
            for parent in reversed(target.relative_to(root).parents[:-1]):
                directory = root / parent
                if not directory.exists():
                    directory.mkdir()
                    created_dirs.append(directory)
            os.link(staging.joinpath(*relative.parts), target)  # fails if target exists
            placed.append(target)
    except OSError:
        for target in placed:
            target.unlink(missing_ok=True)
        for directory in reversed(created_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _extend_gitignore(root: Path, files: Sequence[ProjectFile]) -> tuple[PurePosixPath, ...]:
    """Add the lines of our .gitignore that an existing one lacks (cargo init does so too)."""
    existing = root / ".gitignore"
    if not existing.is_file():
        return ()
    ours = next(f.text for f in files if f.path == _GITIGNORE).splitlines()
    text = existing.read_text(encoding="utf-8", errors="replace")
    missing = [line for line in ours if line and line not in text.splitlines()]
    if not missing:
        return ()
    if text and not text.endswith("\n"):
        text += "\n"
    text += "\n".join(missing) + "\n"
    staged = existing.with_name(f".gitignore.rustlambda-{os.getpid()}")
    staged.write_text(text, encoding="utf-8")
    shutil.copymode(existing, staged)
    staged.replace(existing)
    return (_GITIGNORE,)


def _umask() -> int:
    """The process's umask (mkdtemp makes 0700 directories; a new project gets the usual
    mode)."""
    current = os.umask(0)
    os.umask(current)
    return current
