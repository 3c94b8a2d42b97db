"""Where Lambda artifacts live: the one module that knows the lambda dir's layout, the zip names
and where an executable sits inside a zip (and so on Lambda).

A lambda dir (cargo-lambda's layout for one target; ``<target-dir>/lambda`` by default)::

    <lambda-dir>/<bin>/bootstrap              a function          (zip: <bin>/bootstrap.zip)
    <lambda-dir>/extensions/<bin>             an extension        (zip: extensions/<bin>.zip)
    <lambda-dir>/bootstrap                    the flattened binary (zip: bootstrap.zip)
    <lambda-dir>/<arch>/...                   the same per architecture, after a build for
                                              several targets (<arch>: x86_64 or arm64)

Inside a zip (a function's code, a layer, a CDK asset): a function's executable is ``bootstrap``
at the root (Lambda runs /var/task/bootstrap); an external extension is ``extensions/<name>``
(run as /opt/extensions/<name>); an internal extension is ``<name>`` at the root.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .targets import Arch

BOOTSTRAP = "bootstrap"
EXTENSIONS = "extensions"
ZIP_SUFFIX = ".zip"
#: The folder of each architecture in a lambda dir built for several targets.
ARCH_DIRS: Mapping[str, Arch] = {arch.value: arch for arch in Arch}


class ArtifactKind(enum.StrEnum):
    """What an executable is to Lambda."""

    FUNCTION = "function"
    EXTENSION = "extension"


def default_lambda_dir(target_dir: Path) -> Path:
    return target_dir / "lambda"


def cdk_lambda_dir(target_dir: Path, fingerprint: str) -> Path:
    """The CDK constructs' own lambda dir for one set of build settings: never the one
    ``rustlambda build`` writes, so a synth does not replace a user's artifacts."""
    return target_dir / "lambda-cdk" / fingerprint


@dataclass(frozen=True)
class LambdaDir:
    """One lambda dir, laid out for one build (``per_arch``: several targets, a tree each)."""

    root: Path
    per_arch: bool = False

    def tree(self, arch: Arch) -> Path:
        return self.root / arch.value if self.per_arch else self.root

    def executable(self, binary: str, kind: ArtifactKind, arch: Arch, *, flatten: bool) -> Path:
        """Where ``binary`` goes; ``flatten``: it is the binary named by ``--flatten``."""
        tree = self.tree(arch)
        if flatten:
            return tree / BOOTSTRAP
        if kind is ArtifactKind.EXTENSION:
            return tree / EXTENSIONS / binary
        return tree / binary / BOOTSTRAP

    def extensions(self, arch: Arch) -> Path:
        """The folder of the extensions built for ``arch``."""
        return self.tree(arch) / EXTENSIONS


def zip_path(executable: Path, binary: str, kind: ArtifactKind, *, flatten: bool = False) -> Path:
    """The zip written next to an executable: ``<bin>.zip`` for an extension, else
    ``<executable's name>.zip`` (``bootstrap.zip`` next to a bootstrap, flattened or not)."""
    if flatten:
        return executable.with_name(BOOTSTRAP + ZIP_SUFFIX)
    name = binary if kind is ArtifactKind.EXTENSION else executable.name
    return executable.with_name(name + ZIP_SUFFIX)


@dataclass(frozen=True)
class Location:
    """A place a build of one binary may be: the executable, its zip, and the architecture
    the folder names (None: the single-target tree)."""

    executable: Path
    zip: Path
    arch: Arch | None


def locations(
    lambda_dir: Path, binary: str, kind: ArtifactKind, *, flatten: bool
) -> Iterator[Location]:
    """Every place a build of ``binary`` may be: the single-target tree first, then each
    architecture's; ``flatten``: it may also be the flattened ``bootstrap``."""
    trees: list[tuple[Path, Arch | None]] = [(lambda_dir, None)]
    trees += [(lambda_dir / arch.value, arch) for arch in Arch]
    for tree, arch in trees:
        layout = LambdaDir(tree)
        places = [layout.executable(binary, kind, Arch.X86_64, flatten=False)]
        if flatten and kind is ArtifactKind.FUNCTION:
            places.append(layout.executable(binary, kind, Arch.X86_64, flatten=True))
        for flat, executable in enumerate(places):
            yield Location(executable, zip_path(executable, binary, kind, flatten=bool(flat)), arch)


def folder_arch(file: Path) -> Arch | None:
    """The architecture a file's place in a lambda dir names (``<arch>/bootstrap``,
    ``<arch>/<bin>/bootstrap``, ``<arch>/extensions/<bin>``): only where the layout puts that
    folder, so an unrelated ``arm64`` folder higher up says nothing."""
    for folder in (file.parent, file.parent.parent):
        if folder.name in ARCH_DIRS:
            return ARCH_DIRS[folder.name]
    return None


def kind_of(file: Path) -> ArtifactKind:
    """An executable in an ``extensions`` folder is an extension; anything else a function."""
    return ArtifactKind.EXTENSION if file.parent.name == EXTENSIONS else ArtifactKind.FUNCTION


@dataclass(frozen=True)
class Found:
    """An artifact found in a lambda dir: an executable or a zip."""

    path: Path
    kind: ArtifactKind
    arch: Arch | None  # the architecture its folder names


def scan(folder: Path) -> list[Found]:
    """The artifacts of a lambda dir (or any folder laid out like one): ``bootstrap``,
    ``bootstrap.zip``, ``*/bootstrap``, ``*/bootstrap.zip``, ``extensions/*``, and the same
    inside the architecture folders. Hidden files and folders are skipped."""
    found: list[Found] = []
    _scan(folder, ARCH_DIRS.get(folder.name), found)
    return found


SCANNED = (
    "bootstrap, bootstrap.zip, */bootstrap, */bootstrap.zip and extensions/*, also under "
    + " and ".join(f"{name}/" for name in ARCH_DIRS)
)
"""What `scan` looks for, in words (for messages)."""


def _scan(folder: Path, arch: Arch | None, found: list[Found]) -> None:
    def add(path: Path, kind: ArtifactKind) -> None:
        if path.is_file() and not path.name.startswith("."):
            found.append(Found(path, kind, arch))

    add(folder / BOOTSTRAP, ArtifactKind.FUNCTION)
    add(folder / (BOOTSTRAP + ZIP_SUFFIX), ArtifactKind.FUNCTION)
    # hidden folders are skipped: a build's staging folder is not an artifact
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name in ARCH_DIRS and arch is None:
            _scan(sub, ARCH_DIRS[sub.name], found)
        elif sub.name == EXTENSIONS:
            for item in sorted(sub.iterdir()):
                add(item, ArtifactKind.EXTENSION)
        else:
            add(sub / BOOTSTRAP, ArtifactKind.FUNCTION)
            add(sub / (BOOTSTRAP + ZIP_SUFFIX), ArtifactKind.FUNCTION)


# --- inside a zip, a layer or an asset -------------------------------------------------------


def entry_name(binary: str, kind: ArtifactKind, *, internal: bool = False) -> str:
    """The executable's path inside a zip: ``bootstrap``, ``extensions/<bin>`` or, for an
    internal extension, ``<bin>``."""
    if kind is ArtifactKind.FUNCTION:
        return BOOTSTRAP
    return binary if internal else f"{EXTENSIONS}/{binary}"


def entry_kind(name: str) -> ArtifactKind | None:
    """What a zip entry at ``name`` is to Lambda, if it is where Lambda looks for one."""
    if name == BOOTSTRAP:
        return ArtifactKind.FUNCTION
    parts = name.split("/")
    if len(parts) == 2 and parts[0] == EXTENSIONS and parts[1]:
        return ArtifactKind.EXTENSION
    return None


def run_path(name: str, kind: ArtifactKind, *, in_zip: bool) -> str:
    """Where Lambda runs an executable: ``name`` is its zip entry (``in_zip``) or its file name."""
    if kind is ArtifactKind.FUNCTION and (not in_zip or name == BOOTSTRAP):
        return f"/var/task/{BOOTSTRAP}"
    if in_zip:
        return f"/opt/{name}"
    return f"/opt/{EXTENSIONS}/{name}"
