"""The Cargo workspace as ``cargo metadata --no-deps`` sees it: packages, binaries, target dir."""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ManifestError, ManifestNotFoundError
from .toolchain import raise_if_rustup_has_no_toolchain
from .util.cmd import CommandRunner


class BinKind(enum.StrEnum):
    """cargo's target kind of a binary (and the flag selecting it: ``--bin``, ``--example``)."""

    BIN = "bin"
    EXAMPLE = "example"


@dataclass(frozen=True)
class BinTarget:
    """A binary cargo can build: a ``[[bin]]`` (or src/main.rs, src/bin/*) or an example."""

    name: str
    package: str
    kind: BinKind


@dataclass(frozen=True)
class Package:
    name: str
    manifest_path: Path
    metadata: Mapping[str, Any]
    bins: tuple[BinTarget, ...]
    examples: tuple[BinTarget, ...]


@dataclass(frozen=True)
class Workspace:
    root: Path
    target_directory: Path
    packages: tuple[Package, ...]
    default_members: tuple[str, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def package(self, name: str) -> Package | None:
        return next((p for p in self.packages if p.name == name), None)

    @property
    def bins(self) -> tuple[BinTarget, ...]:
        return tuple(b for p in self.packages for b in p.bins)

    @property
    def examples(self) -> tuple[BinTarget, ...]:
        return tuple(e for p in self.packages for e in p.examples)

    @classmethod
    def from_metadata(cls, data: Mapping[str, Any]) -> Workspace:
        """Build from the JSON of ``cargo metadata --format-version 1 --no-deps``."""
        by_id: dict[str, str] = {}
        packages = []
        for pkg in data["packages"]:
            by_id[pkg["id"]] = pkg["name"]
            bins, examples = [], []
            for target in pkg["targets"]:
                kinds = target.get("kind", [])
                if "bin" in kinds:
                    bins.append(BinTarget(target["name"], pkg["name"], BinKind.BIN))
                elif kinds == ["example"]:  # not example libraries
                    examples.append(BinTarget(target["name"], pkg["name"], BinKind.EXAMPLE))
            packages.append(
                Package(
                    name=pkg["name"],
                    manifest_path=Path(pkg["manifest_path"]),
                    metadata=pkg.get("metadata") or {},
                    bins=tuple(bins),
                    examples=tuple(examples),
                )
            )
        member_ids = data.get("workspace_default_members") or data.get("workspace_members") or []
        return cls(
            root=Path(data["workspace_root"]),
            target_directory=Path(data["target_directory"]),
            packages=tuple(packages),
            default_members=tuple(by_id[i] for i in member_ids if i in by_id),
            metadata=data.get("metadata") or {},
        )


def locate_manifest(manifest_path: Path | None, cwd: Path) -> Path:
    """The Cargo.toml to use: the one given, or the nearest one at or above ``cwd``."""
    if manifest_path is not None:
        path = manifest_path if manifest_path.is_absolute() else cwd / manifest_path
        if path.is_dir():
            path = path / "Cargo.toml"
        if not path.is_file():
            raise ManifestNotFoundError(
                f"no Cargo.toml at {path}",
                "pass --manifest-path pointing at your workspace's or package's Cargo.toml",
            )
        return path
    for directory in (cwd, *cwd.parents):
        candidate = directory / "Cargo.toml"
        if candidate.is_file():
            return candidate
    raise ManifestNotFoundError(
        f"no Cargo.toml in {cwd} or any parent directory",
        "run rustlambda inside a Rust project, or pass --manifest-path path/to/Cargo.toml",
    )


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ManifestError that names the place."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(
            f"{path} is not valid TOML: {exc}",
            f"fix the syntax of {path} at the place shown (check quotes, brackets and commas)",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded)",
            f"save {path} as UTF-8, as TOML requires",
        ) from exc
    except OSError as exc:
        raise ManifestError(
            f"cannot read {path}: {exc.strerror or exc}",
            f"check that {path} is a readable file",
        ) from exc


def load_workspace(
    manifest: Path,
    *,
    cargo: str,
    env: Mapping[str, str],
    runner: CommandRunner,
    rustc: str | None = None,
) -> Workspace:
    """Run ``cargo metadata`` once for ``manifest`` and return the workspace it describes.

    With ``rustc`` (the toolchain's identity is part of the key), what cargo said last time is
    reused while nothing it depends on changed (`rustlambda.cache.metadata`)."""
    from .cache import metadata as cached  # imports optimize, which imports this module

    if rustc is not None and (data := cached.lookup(manifest, cargo, rustc, env)) is not None:
        return Workspace.from_metadata(data)
    read_toml(manifest)  # a precise syntax error before cargo's longer one
    argv = [
        cargo,
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--manifest-path",
        str(manifest),
    ]
    done = runner.run(argv, env=env, cwd=manifest.parent)
    if done.returncode != 0:
        raise_if_rustup_has_no_toolchain(done.stderr)
        raise ManifestError(
            f"cargo could not read {manifest}",
            "fix the manifest problem cargo reports above (run `cargo metadata` to see it again)",
            details=done.stderr.strip(),
        )
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"cargo metadata printed something that is not JSON for {manifest}",
            "check that CARGO points at a real cargo",
            details=done.stdout[:2000],
        ) from exc
    workspace = Workspace.from_metadata(data)
    if rustc is not None:
        cached.store(manifest, cargo, rustc, env, data)
    return workspace


def workspace_paths(root: Path, manifests: Iterable[Path]) -> list[Path]:
    """The files and folders whose stamps change when the workspace's shape changes: the root's
    ``Cargo.toml`` and ``Cargo.lock``; each package's manifest, its folder, the folder holding
    it (a new member matched by a glob), ``src/``, ``src/bin/`` and ``examples/`` (a new
    binary, a new ``build.rs``)."""
    paths = [root, root / "Cargo.toml", root / "Cargo.lock"]
    for manifest in manifests:
        folder = manifest.parent
        paths += [manifest, folder, folder.parent, folder / "src", folder / "src" / "bin"]
        paths.append(folder / "examples")
    return list(dict.fromkeys(paths))
