"""The per-user cache folder stays bounded (`rustlambda.cache.prune`): the ``cargo metadata``
cache keeps its `KEEP` most recently used files, prunes only when it writes a new one (never on
a hit), removes nothing but ``metadata-*.json`` and never fails a build."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rustlambda.cache
from rustlambda.cache import metadata, prune
from rustlambda.project import load_workspace

from .fakes import FakeRunner, write_workspace

KEEP = metadata.KEEP
#: 2020-09-13, in ns: older than any file a test writes now.
BASE = 1_600_000_000 * 10**9


class Workspaces:
    """Workspaces loaded through the metadata cache with a fake cargo; counts cargo's runs."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name in ("cargo", "rustc"):
            (bin_dir / name).write_text(name)
        self.cargo, self.rustc = str(bin_dir / "cargo"), str(bin_dir / "rustc")
        self.env = {"HOME": str(tmp_path)}
        self.runners: dict[str, FakeRunner] = {}

    def load(self, name: str) -> int:
        """Load workspace ``name`` (written on first use); how many times cargo ran for it."""
        root = self.tmp_path / name
        if name not in self.runners:
            root.mkdir()
            self.runners[name] = FakeRunner(write_workspace(root, {"fn": ["fn"]}))
        runner = self.runners[name]
        before = len(runner.calls)
        load_workspace(
            root / "Cargo.toml", cargo=self.cargo, env=self.env, runner=runner, rustc=self.rustc
        )
        return len(runner.calls) - before


@pytest.fixture
def workspaces(tmp_path: Path) -> Workspaces:
    return Workspaces(tmp_path)


@pytest.fixture
def folder() -> Path:
    """The per-user cache folder (tests/unit/conftest.py gives each test its own)."""
    path = rustlambda.cache.user_cache_dir({})
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stale(folder: Path, count: int, prefix: str = "metadata-old") -> list[Path]:
    """``count`` cache files used long ago, the first the least recently."""
    files = [folder / f"{prefix}{n:04d}.json" for n in range(count)]
    for n, path in enumerate(files):
        path.write_text("{}")
        os.utime(path, ns=(BASE + n, BASE + n))
    return files


def _others(folder: Path) -> dict[Path, str]:
    """Files pruning must leave alone, each older than every metadata file."""
    files = {
        folder / "noop-0123.json": "noop",
        folder / "metadata-notes.txt": "notes",
        folder / "metadata-x.json.bak": "backup",
        folder / ".metadata-0123.json-tmp": "a temporary file",
        folder / "sccache" / "metadata-0123.json": "below",
        folder / "last-build.json": "stats",
    }
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(0, 0))
    return files


def _metadata_files(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("metadata-*.json")}


def test_the_keep_plus_first_file_removes_the_least_recently_used(
    workspaces: Workspaces, folder: Path
) -> None:
    stale = _stale(folder, KEEP - 1)
    # written first, but read (a hit) after all the others were written: used more recently
    os.utime(stale[0], ns=(BASE + 10**12, BASE))
    others = _others(folder)

    assert workspaces.load("a") == 1
    assert len(_metadata_files(folder)) == KEEP  # KEEP files: nothing removed
    assert all(path.exists() for path in stale)

    assert workspaces.load("b") == 1
    names = _metadata_files(folder)
    assert len(names) == KEEP
    assert not stale[1].exists()  # the least recently used
    assert stale[0].exists() and all(path.exists() for path in stale[2:])
    assert {path.read_text() for path in others} == set(others.values())
    assert workspaces.load("a") == 0 and workspaces.load("b") == 0  # both new files stay


def test_only_a_new_file_prunes_never_a_hit_or_a_rewrite(
    workspaces: Workspaces, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert workspaces.load("a") == 1
    stale = _stale(folder, KEEP + 5)  # a prune now would remove 6 files

    def refuse(name: str, original: Any) -> Any:
        def checked(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
            if Path(os.path.abspath(path)).is_relative_to(folder):
                raise AssertionError(f"a cache hit called {name} on {path}")
            return original(path, *args, **kwargs)

        return checked

    with monkeypatch.context() as patched:
        for name in ("glob", "rglob", "iterdir", "unlink"):
            patched.setattr(Path, name, refuse(f"Path.{name}", getattr(Path, name)))
        for name in ("scandir", "listdir", "unlink", "remove", "rmdir"):
            patched.setattr(os, name, refuse(f"os.{name}", getattr(os, name)))
        patched.setattr(metadata, "prune", refuse("prune", prune))
        assert workspaces.load("a") == 0  # a hit
    assert all(path.exists() for path in stale)

    (workspaces.tmp_path / "a" / "Cargo.lock").write_text("version = 4\n")
    assert workspaces.load("a") == 1  # a miss, and the workspace's file is written again
    assert all(path.exists() for path in stale)

    assert workspaces.load("b") == 1  # a new file: now the folder is pruned
    assert len(_metadata_files(folder)) == KEEP
    assert [path.exists() for path in stale] == [False] * 7 + [True] * (KEEP - 2)


def test_no_cache_writes_and_prunes_nothing(workspaces: Workspaces, folder: Path) -> None:
    stale = _stale(folder, KEEP + 1)
    workspaces.env["RUSTLAMBDA_NO_CACHE"] = "1"
    assert workspaces.load("a") == 1
    assert _metadata_files(folder) == {path.name for path in stale}


@pytest.fixture
def vanishing(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Names whose file another process removes just before this one stats or removes it."""
    names: set[str] = set()
    stat, unlink = Path.stat, os.unlink

    def stat_after_another(self: Path, **kwargs: Any) -> os.stat_result:
        if self.name in names:
            names.discard(self.name)
            unlink(self)
        return stat(self, **kwargs)

    def unlink_after_another(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).name in names:
            names.discard(Path(path).name)
            unlink(path)
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat_after_another)
    monkeypatch.setattr(os, "unlink", unlink_after_another)
    yield names


def test_vanishing_and_unremovable_files_do_not_stop_pruning(
    folder: Path, vanishing: set[str]
) -> None:
    stale = _stale(folder, 8)
    (folder / "metadata-dir.json").mkdir()  # matches, cannot be unlinked
    os.utime(folder / "metadata-dir.json", ns=(0, 0))
    vanishing.update({stale[0].name, stale[3].name})  # gone before its stat / before its unlink
    prune(folder, "metadata-*.json", 2)
    assert not vanishing  # both vanished while pruning
    assert (folder / "metadata-dir.json").is_dir()
    assert [path.exists() for path in stale] == [False] * 6 + [True] * 2


def test_pruning_that_fails_does_not_fail_the_build(
    workspaces: Workspaces, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stale(folder, KEEP + 1)

    glob = Path.glob

    def unreadable(self: Path, pattern: str) -> Any:
        if self == folder:
            raise PermissionError(13, "Permission denied", str(self))
        return glob(self, pattern)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "glob", unreadable)
        assert workspaces.load("a") == 1
    assert len(_metadata_files(folder)) == KEEP + 2  # left as it was, plus the new file
    assert workspaces.load("a") == 0


def test_a_missing_folder_is_nothing_to_prune(tmp_path: Path) -> None:
    prune(tmp_path / "absent", "metadata-*.json", 1)
