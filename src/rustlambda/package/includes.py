"""``--include`` / ``include``: ``PATH`` and ``DEST:SRC`` specs turned into checked zip entries
(directories walked, symlinks inside the project followed, anything escaping refused)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import IncludeError
from .entries import EXECUTABLE, REGULAR, ZipEntry, arrange, directory


def include_entries(specs: Sequence[str], root: Path) -> list[ZipEntry]:
    """The entries ``--include`` specs add, checked and sorted (directories walked)."""
    root_real = Path(os.path.realpath(root))
    found: list[ZipEntry] = []
    for spec in specs:
        try:
            found.extend(_spec_entries(spec, root_real))
        except OSError as exc:  # unreadable folders, files that vanish while we look
            raise IncludeError(
                f"--include {spec}: cannot read {exc.filename}: {exc.strerror or exc}",
                "check the permissions of the included files",
            ) from exc
    return arrange(found)


def _spec_entries(spec: str, root: Path) -> Iterator[ZipEntry]:
    dest_text, src_text = spec.split(":", 1) if ":" in spec else (None, spec)
    if not src_text:
        raise IncludeError(
            f"--include {spec!r} names no file", "write --include PATH or --include DEST:SRC"
        )
    if dest_text is None and os.path.isabs(src_text):
        inside = Path(os.path.realpath(src_text)).is_relative_to(root)
        relative = os.path.relpath(os.path.realpath(src_text), root) if inside else None
        raise IncludeError(
            f"--include {spec}: an absolute path has no place in the zip",
            f"give the path relative to the project root {root}: --include {relative}"
            if relative
            else _copy_in(src_text, root),
        )
    dest = _dest_parts(spec, src_text if dest_text is None else dest_text)
    candidate = root / src_text
    if not os.path.lexists(candidate):
        raise IncludeError(
            f"--include {spec}: {candidate} does not exist",
            f"include paths are relative to the project root {root}; check the spelling, "
            "or create the file before building",
        )
    real = _resolve(candidate, spec, root)
    mode = os.stat(real).st_mode
    if stat.S_ISDIR(mode):
        yield from _walk(real, dest, root, spec, ())
    elif stat.S_ISREG(mode):
        if not dest:
            raise IncludeError(
                f"--include {spec}: a file needs a name in the zip, not its root",
                f"give it one: --include NAME:{src_text}",
            )
        yield _file_entry(dest, real, mode, spec)
    else:
        raise _not_regular(candidate, spec)


def _dest_parts(spec: str, dest: str) -> tuple[str, ...]:
    """A destination as path components; an empty tuple is the zip root."""
    if dest.startswith("/"):
        raise IncludeError(
            f"--include {spec}: the destination {dest} is absolute; it would land outside "
            "the zip root",
            "give a destination relative to the zip root, e.g. --include config:SRC",
        )
    parts = tuple(p for p in dest.split("/") if p not in ("", "."))
    if ".." in parts:
        raise IncludeError(
            f"--include {spec}: {dest} contains '..', which would land outside the zip root",
            "include files from inside the project; to choose where they land in the zip "
            "use --include DEST:SRC with a DEST without '..'",
        )
    return parts


def _resolve(path: Path, spec: str, root: Path) -> Path:
    """Where ``path`` really is: it must exist and be inside the project."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IncludeError(
                f"--include {spec}: {path} is a symlink loop",
                "remove the link or point it at a real file",
            ) from exc
        raise IncludeError(
            f"--include {spec}: {path} is a symlink to something that does not exist "
            f"({os.readlink(path) if os.path.islink(path) else exc.strerror})",
            "fix or remove the broken link",
        ) from exc
    if not real.is_relative_to(root):
        raise IncludeError(
            f"--include {spec}: {path} resolves to {real}, outside the project root {root}",
            "include only files inside the project: "
            + (
                "replace the symlink with the file itself"
                if path != real and os.path.islink(path)
                else _copy_in(str(real), root)
            ),
        )
    return real


def _copy_in(source: str, root: Path) -> str:
    """The fix for a file outside the project: copy it in and include the copy."""
    name = Path(source).name or "file"
    return (
        f"copy it into the project and include the copy: cp -r {source} {root / name}, "
        f"then --include {name}"
    )


def _walk(
    directory_path: Path,
    dest: tuple[str, ...],
    root: Path,
    spec: str,
    ancestors: tuple[Path, ...],
) -> Iterator[ZipEntry]:
    """``directory_path`` (a real path) and everything under it, symlinks followed safely."""
    ancestors = (*ancestors, directory_path)
    if dest:
        yield directory(_zip_name(dest, directory_path, spec))
    with os.scandir(directory_path) as listing:
        children = sorted(listing, key=lambda child: child.name)
    for child in children:
        path = Path(child.path)
        real = _resolve(path, spec, root) if child.is_symlink() else path
        mode = os.stat(real).st_mode
        if stat.S_ISDIR(mode):
            if any(a.is_relative_to(real) for a in ancestors):
                raise IncludeError(
                    f"--include {spec}: {path} links to {real}, which contains it; following "
                    "it would recurse forever",
                    "remove the link, or include the directory it points to explicitly",
                )
            yield from _walk(real, (*dest, child.name), root, spec, ancestors)
        elif stat.S_ISREG(mode):
            yield _file_entry((*dest, child.name), real, mode, spec)
        else:
            raise _not_regular(path, spec)


def _file_entry(dest: tuple[str, ...], source: Path, mode: int, spec: str) -> ZipEntry:
    executable = mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return ZipEntry(_zip_name(dest, source, spec), source, EXECUTABLE if executable else REGULAR)


def _zip_name(dest: tuple[str, ...], source: Path, spec: str) -> str:
    name = "/".join(dest)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise IncludeError(
            f"--include {spec}: the name of {source!s} is not valid UTF-8, which a zip needs",
            "rename the file",
        ) from exc
    return name


def _not_regular(path: Path, spec: str) -> IncludeError:
    return IncludeError(
        f"--include {spec}: {path} is neither a regular file nor a directory "
        "(a FIFO, socket or device)",
        "include only regular files and directories",
    )
