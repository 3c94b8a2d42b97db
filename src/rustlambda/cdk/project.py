"""Which workspace and binary a construct builds: ``entry`` / ``manifest_path`` or the defining
file's ``<file>.<id>/Cargo.toml``, and ``binary_name`` or the crate's own binary."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ManifestNotFoundError, UnknownBinaryError
from ..project import Workspace, locate_manifest


@dataclass(frozen=True)
class Project:
    manifest: Path
    workspace: Workspace | None  # None when cargo is not available here (Docker bundling)

    @property
    def root(self) -> Path:
        return self.workspace.root if self.workspace is not None else self.manifest.parent


def _defining_file() -> Path | None:
    """The Python file that instantiated the construct (outside rustlambda, jsii and CDK)."""
    here = Path(__file__).resolve().parent
    for frame in inspect.stack()[2:]:
        path = Path(frame.filename)
        if path.resolve().parent == here or not path.is_file():
            continue
        parts = set(path.parts)
        if {"jsii", "aws_cdk", "constructs"} & parts:
            continue
        return path.resolve()
    return None


def manifest(construct_id: str, entry: str | None, manifest_path: str | None) -> Path:
    if entry is not None and manifest_path is not None:
        raise ConfigError(
            "RustFunction: entry and manifest_path both name the project",
            "pass only one of them",
        )
    given = entry if entry is not None else manifest_path
    if given is not None:
        return locate_manifest(Path(given), Path.cwd())
    defining = _defining_file()
    if defining is None:
        raise ManifestNotFoundError(
            "RustFunction: no entry given and the defining file cannot be found",
            "pass entry= (a Cargo.toml or its directory)",
        )
    default = defining.with_suffix("").with_name(f"{defining.stem}.{construct_id}") / "Cargo.toml"
    if not default.is_file():
        raise ManifestNotFoundError(
            f"RustFunction {construct_id!r}: no entry given and no {default}",
            "pass entry= (a Cargo.toml or its directory), or put the crate at "
            f"{default.parent.name}/ next to {defining.name}",
        )
    return default


def choose_binary(project: Project, binary_name: str | None, what: str) -> str:
    workspace = project.workspace
    if workspace is None:
        if binary_name is None:
            raise ConfigError(
                f"{what}: binary_name is needed when cargo is not available to read the project",
                "pass binary_name=",
            )
        return binary_name
    package = next(
        (p for p in workspace.packages if p.manifest_path.resolve() == project.manifest.resolve()),
        None,
    )
    candidates = [b.name for b in (package.bins if package else workspace.bins)]
    if binary_name is not None:
        everything = sorted({b.name for b in workspace.bins})
        if binary_name not in everything:
            raise UnknownBinaryError(
                f"{what}: no binary named {binary_name!r} in {project.manifest}",
                f"binaries: {', '.join(everything) or '(none)'}",
            )
        return binary_name
    if package is not None and package.name in candidates:
        return package.name
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(sorted({b.name for b in workspace.bins})) or "(none)"
    raise UnknownBinaryError(
        f"{what}: {project.manifest} has several binaries and no binary_name says which",
        f"pass binary_name= one of: {listed}",
    )
