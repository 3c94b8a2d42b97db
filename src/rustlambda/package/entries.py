"""Zip entries: `ZipEntry`, and the layouts of a function's and an extension's zip (the
executable where Lambda looks for it, the includes around it, every parent directory)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import IncludeError
from ..layout import ArtifactKind, entry_name

EXECUTABLE = 0o755
REGULAR = 0o644


@dataclass(frozen=True)
class ZipEntry:
    """One entry: ``name`` is its posix path in the zip (no leading or trailing slash)."""

    name: str
    source: Path | None  # None: a directory entry
    mode: int = REGULAR

    def __post_init__(self) -> None:
        parts = self.name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not a normalized relative zip path: {self.name!r}")
        if self.mode not in (EXECUTABLE, REGULAR) or (self.is_dir and self.mode != EXECUTABLE):
            raise ValueError(f"mode {self.mode:o} of {self.name!r}: use 0o755 or 0o644")

    @property
    def is_dir(self) -> bool:
        return self.source is None

    @property
    def arcname(self) -> str:
        """The name as stored in the zip (directories end with ``/``)."""
        return self.name + "/" if self.is_dir else self.name


@dataclass(frozen=True)
class ZipResult:
    path: Path
    size: int
    unzipped_size: int
    sha256: str
    entries: tuple[str, ...]  # arcnames, in the zip's order


def directory(name: str) -> ZipEntry:
    return ZipEntry(name, None, EXECUTABLE)


def function_zip_entries(bootstrap: Path, includes: Sequence[ZipEntry] = ()) -> list[ZipEntry]:
    """A function zip: the executable as ``bootstrap`` at the root, mode 0755, then includes."""
    entry = ZipEntry(entry_name("", ArtifactKind.FUNCTION), bootstrap, EXECUTABLE)
    return _with_executable(entry, includes, entry.name)


def extension_zip_entries(
    binary: Path, name: str, *, internal: bool, includes: Sequence[ZipEntry] = ()
) -> list[ZipEntry]:
    """An extension zip: ``extensions/<name>`` (external, runs from /opt/extensions) or
    ``<name>`` at the root (internal), mode 0755, then includes."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"not an extension name: {name!r}")
    entry = ZipEntry(
        entry_name(name, ArtifactKind.EXTENSION, internal=internal), binary, EXECUTABLE
    )
    return _with_executable(entry, includes, "extension executable")


def _with_executable(
    executable: ZipEntry, includes: Sequence[ZipEntry], what: str
) -> list[ZipEntry]:
    for entry in includes:
        if entry.name == executable.name or entry.name.startswith(executable.name + "/"):
            raise IncludeError(
                f"an include would be stored as {entry.arcname} ({entry.source or 'a folder'}), "
                f"which collides with the {what} {executable.name} in the zip",
                "put it somewhere else with --include DEST:SRC",
            )
    return arrange([executable, *includes])


def arrange(entries: Sequence[ZipEntry]) -> list[ZipEntry]:
    """Entries deduplicated, with every parent directory, sorted; conflicts refused."""
    by_name: dict[str, ZipEntry] = {}

    def add(entry: ZipEntry) -> None:
        old = by_name.setdefault(entry.name, entry)
        if old == entry or (old.is_dir and entry.is_dir):
            return
        if old.is_dir or entry.is_dir:
            file = entry if old.is_dir else old
            raise IncludeError(
                f"{entry.name} would be both a file ({file.source}) and a folder in the zip",
                "give one of them another destination with --include DEST:SRC",
            )
        raise IncludeError(
            f"two files would be stored as {entry.name} in the zip: {old.source} and "
            f"{entry.source}",
            "give one of them another destination with --include DEST:SRC",
        )

    for entry in entries:
        add(entry)
    for name in list(by_name):
        parts = name.split("/")
        for end in range(1, len(parts)):
            add(directory("/".join(parts[:end])))
    return sorted(by_name.values(), key=lambda entry: entry.name.split("/"))
