"""The Rust project behind a construct: which Cargo.toml (``entry`` / ``manifest_path``, the
defining file's ``<file>.<id>/Cargo.toml``, or — the seed README's workspace example — the
nearest workspace at or above the defining file that has ``binary_name``), the workspace as
``cargo metadata --no-deps`` sees it (read once per workspace and app), and which binary the
asset holds. Same lookup and error texts as the TypeScript package (typescript/src/project.ts).
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ManifestNotFoundError, RustLambdaError, UnknownBinaryError
from ..project import Workspace, load_workspace
from ..toolchain import find_toolchain
from ..util.cmd import CommandRunner, Completed, SubprocessRunner


@dataclass(frozen=True)
class Project:
    """What a construct builds from."""

    #: The Cargo.toml the construct was pointed at (or found).
    manifest: Path
    #: The workspace root: the directory of Cargo.lock, the build's input directory.
    root: Path
    target_directory: Path
    #: The binary the asset holds.
    binary: str
    #: None when cargo is not available here (Docker bundling).
    workspace: Workspace | None


_Key = tuple[tuple[str, ...], str, tuple[tuple[str, str], ...]]


class MetadataRunner:
    """A `CommandRunner` that answers a repeated ``cargo metadata`` (same argv, directory and
    environment) from memory; every other command runs as usual."""

    def __init__(self, inner: CommandRunner | None = None) -> None:
        self.inner: CommandRunner = inner or SubprocessRunner()
        self._answers: dict[_Key, Completed] = {}

    @staticmethod
    def _key(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str]) -> _Key:
        return tuple(argv), str(cwd), tuple(sorted(env.items()))

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        if list(argv[1:2]) != ["metadata"]:
            return self.inner.run(argv, env=env, cwd=cwd)
        key = self._key(argv, cwd, env)
        answer = self._answers.get(key)
        if answer is None:
            answer = self.inner.run(argv, env=env, cwd=cwd)
            if answer.returncode == 0:
                self._answers[key] = answer
        return answer

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        return self.inner.stream(argv, env=env, cwd=cwd, on_line=on_line)

    def alias(
        self,
        argv: Sequence[str],
        cwd: Path,
        same_as: Sequence[str],
        same_cwd: Path,
        env: Mapping[str, str],
    ) -> None:
        """``same_as`` answers as ``argv`` did (a member's and its workspace's Cargo.toml give
        the same ``cargo metadata --no-deps``)."""
        answer = self._answers.get(self._key(argv, cwd, env))
        if answer is not None:
            self._answers.setdefault(self._key(same_as, same_cwd, env), answer)

    def clear(self) -> None:
        self._answers.clear()


class Projects:
    """``cargo metadata`` once per workspace for the whole app (the runner keeps the output,
    so the build's own metadata call is answered from it too)."""

    def __init__(self, runner: MetadataRunner) -> None:
        self.runner = runner
        self._workspaces: dict[Path, Workspace] = {}

    def workspace(self, manifest: Path, environ: Mapping[str, str]) -> Workspace | None:
        """The workspace of ``manifest``, or None when no cargo is available here."""
        manifest = manifest.resolve()
        cached = self._workspaces.get(manifest)
        if cached is not None:
            return cached
        try:
            cargo = find_toolchain(environ).cargo
        except RustLambdaError:
            return None
        workspace = load_workspace(manifest, cargo=cargo, env=environ, runner=self.runner)
        self._workspaces[manifest] = workspace
        root_manifest = workspace.root / "Cargo.toml"
        for member in (root_manifest, *(p.manifest_path for p in workspace.packages)):
            self._workspaces.setdefault(member.resolve(), workspace)
        if root_manifest.resolve() != manifest:  # the build asks cargo about the root manifest
            self.runner.alias(
                _metadata_argv(cargo, manifest), manifest.parent,
                _metadata_argv(cargo, root_manifest), root_manifest.parent, environ,
            )  # fmt: skip
        return workspace

    def forget(self) -> None:
        """Manifests may have changed (a before_bundling hook ran)."""
        self._workspaces.clear()
        self.runner.clear()


def _metadata_argv(cargo: str, manifest: Path) -> list[str]:
    # as rustlambda.project.load_workspace runs it
    head = [cargo, "metadata", "--format-version", "1", "--no-deps"]
    return [*head, "--manifest-path", str(manifest)]


def binaries(workspace: Workspace) -> list[str]:
    """Every binary of the workspace, sorted, without duplicates."""
    return sorted({b.name for b in workspace.bins})


def defining_file() -> Path | None:
    """The Python file that instantiated the construct (outside rustlambda, jsii and CDK)."""
    here = Path(__file__).resolve().parent
    frame = inspect.currentframe()
    for _ in range(200):
        if frame is None:
            return None
        path = Path(frame.f_code.co_filename)
        frame = frame.f_back
        if not path.is_absolute() or path.resolve().parent == here or not path.is_file():
            continue
        if {"jsii", "aws_cdk", "constructs"} & set(path.parts):
            continue
        return path.resolve()
    return None


def default_manifest(defining: Path, construct_id: str) -> Path:
    """``defining-file.id/Cargo.toml``: ``stack.my_function/`` for stack.py and my_function."""
    return defining.with_name(f"{defining.stem}.{construct_id}") / "Cargo.toml"


def _ancestors(start: Path) -> Iterator[Path]:
    directory = start.resolve()
    yield directory
    yield from directory.parents


def find_workspace_with_binary(
    start: Path,
    binary_name: str,
    projects: Projects,
    environ: Mapping[str, str],
    what: str,
) -> Path:
    """The Cargo.toml of the nearest workspace at or above ``start`` that has ``binary_name``."""
    seen: list[Workspace] = []
    for directory in _ancestors(start):
        manifest = directory / "Cargo.toml"
        if not manifest.is_file():
            continue
        workspace = projects.workspace(manifest, environ)
        if workspace is None:
            raise ConfigError(
                f"{what}: no entry given, and finding the workspace that has {binary_name} "
                "needs cargo (cargo metadata), which is not installed here",
                "pass entry=: the workspace directory (or its Cargo.toml)",
            )
        if any(w.root == workspace.root for w in seen):
            continue
        seen.append(workspace)
        owners = [p for p in workspace.packages if any(b.name == binary_name for b in p.bins)]
        if len(owners) == 1:
            return workspace.root / "Cargo.toml"
        if owners:
            listed = ", ".join(f"{p.name} ({p.manifest_path})" for p in owners)
            raise UnknownBinaryError(
                f"{what}: the workspace {workspace.root} has several binaries named "
                f"{binary_name}: in packages {listed}",
                "pass entry=: the Cargo.toml of the package to build",
            )
    found = [f"{w.root} ({', '.join(binaries(w)) or 'no binaries'})" for w in seen]
    raise UnknownBinaryError(
        f"{what}: no entry given, and no Cargo workspace at or above {start} has a binary named "
        f"{binary_name}"
        + (f"; found: {'; '.join(found)}" if found else "; no Cargo.toml found there"),
        "pass entry= (a Cargo.toml or its directory), or binary_name= one of the binaries found",
    )


def locate(
    construct_id: str,
    what: str,
    entry: str | os.PathLike[str] | None,
    manifest_path: str | os.PathLike[str] | None,
    binary_name: str | None,
    projects: Projects,
    environ: Mapping[str, str],
) -> Path:
    """The construct's Cargo.toml (see the module docstring)."""
    if entry is not None and manifest_path is not None:
        raise ConfigError(
            f"{what}: entry and manifest_path both name the project", "pass only one of them"
        )
    given = entry if entry is not None else manifest_path
    if given is not None:
        path = Path(given).resolve()
        manifest = path if path.name == "Cargo.toml" else path / "Cargo.toml"
        if not manifest.is_file():
            raise ManifestNotFoundError(
                f"{what}: Cannot find manifest file at {manifest}",
                "pass entry=: a Cargo.toml or the directory holding it",
            )
        return manifest
    defining = defining_file()
    if defining is None:
        raise ManifestNotFoundError(
            f"{what}: no entry given and the file defining the construct cannot be found",
            "pass entry=: a Cargo.toml or the directory holding it",
        )
    default = default_manifest(defining, construct_id)
    if default.is_file():
        return default
    if binary_name is not None:
        return find_workspace_with_binary(defining.parent, binary_name, projects, environ, what)
    raise ManifestNotFoundError(
        f"{what}: Cannot find manifest file - Cargo.toml: no entry given and no {default}",
        f"pass entry= (a Cargo.toml or its directory), put the crate at {default.parent.name}/ "
        f"next to {defining.name}, or pass binary_name= to use the nearest workspace above that "
        "has it",
    )


def choose_binary(workspace: Workspace, manifest: Path, binary_name: str | None, what: str) -> str:
    """``binary_name``, else the package's binary named like it, else its only binary."""
    everything = binaries(workspace)
    if binary_name is not None:
        if binary_name not in everything:
            raise UnknownBinaryError(
                f"{what}: no binary named {binary_name} in {manifest}",
                "pass binary_name= one of: "
                + (", ".join(everything) or "(the workspace has no binaries)"),
            )
        return binary_name
    own = next(
        (p for p in workspace.packages if p.manifest_path.resolve() == manifest.resolve()), None
    )
    candidates: Sequence[str] = [b.name for b in own.bins] if own else everything
    if own is not None and own.name in candidates:
        return own.name
    if len(candidates) == 1:
        return candidates[0]
    raise UnknownBinaryError(
        f"{what}: {manifest} has several binaries and no binary_name says which",
        f"pass binary_name= one of: {', '.join(everything) or '(none)'}",
    )


def guess_workspace_root(manifest: Path) -> Path:
    """Without cargo: the nearest Cargo.toml at or above the manifest that declares [workspace]."""
    for directory in _ancestors(manifest.parent):
        candidate = directory / "Cargo.toml"
        if candidate.is_file() and re.search(
            r"^\s*\[workspace\]", candidate.read_text(errors="replace"), re.MULTILINE
        ):
            return directory
    return manifest.parent.resolve()


def resolve_project(
    construct_id: str,
    what: str,
    *,
    entry: str | os.PathLike[str] | None,
    manifest_path: str | os.PathLike[str] | None,
    binary_name: str | None,
    projects: Projects,
    environ: Mapping[str, str],
) -> Project:
    """Everything the construct needs to know about its Rust project, or a clear error."""
    manifest = locate(construct_id, what, entry, manifest_path, binary_name, projects, environ)
    workspace = projects.workspace(manifest, environ)
    if workspace is None:
        if binary_name is None:
            raise ConfigError(
                f"{what}: binary_name is needed when cargo is not installed here to read "
                f"{manifest}",
                "pass binary_name= (or install cargo)",
            )
        root = guess_workspace_root(manifest)
        return Project(manifest, root, root / "target", binary_name, None)
    binary = choose_binary(workspace, manifest, binary_name, what)
    return Project(manifest, workspace.root, workspace.target_directory, binary, workspace)
