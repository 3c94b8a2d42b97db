"""How new and init put projects on disk: all or nothing, and never over the user's files."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from rustlambda.errors import ProjectPathError
from rustlambda.scaffold import ProjectFile, TemplateOptions, init_project, new_project, render
from rustlambda.scaffold import write as scaffold_write

OPTIONS = TemplateOptions("my-fn", cdk=True)
FILES = {str(f.path) for f in render(OPTIONS)}


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_new_writes_every_file_and_lists_them(tmp_path: Path) -> None:
    result = new_project(OPTIONS, tmp_path / "my-fn")
    assert result.root == tmp_path / "my-fn"
    assert {str(p) for p in result.written} == FILES == tree(result.root)
    assert result.kept == () and result.updated == ()
    assert result.invoke_command == 'rustlambda invoke my-fn --data-ascii \'{"name": "Ada"}\''
    assert sorted(os.listdir(tmp_path)) == ["my-fn"]  # no staging directory left behind
    mode = (tmp_path / "my-fn").stat().st_mode & 0o777
    assert mode == 0o777 & ~_umask()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_new_creates_missing_parents_and_fills_an_empty_directory(tmp_path: Path) -> None:
    new_project(OPTIONS, tmp_path / "a" / "b" / "my-fn")
    assert tree(tmp_path / "a" / "b" / "my-fn") == FILES
    (tmp_path / "empty").mkdir()
    new_project(OPTIONS, tmp_path / "empty")
    assert tree(tmp_path / "empty") == FILES


def test_new_refuses_a_directory_with_files(tmp_path: Path) -> None:
    (tmp_path / "my-fn").mkdir()
    (tmp_path / "my-fn" / "notes.txt").write_text("mine")
    with pytest.raises(ProjectPathError) as raised:
        new_project(OPTIONS, tmp_path / "my-fn")
    assert "not empty" in raised.value.message and "rustlambda init" in raised.value.fix
    assert raised.value.exit_code == 24
    assert tree(tmp_path / "my-fn") == {"notes.txt"}


def test_new_refuses_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(ProjectPathError) as raised:
        new_project(OPTIONS, Path("."))
    assert "rustlambda init" in raised.value.fix
    assert (tmp_path / "here").is_dir() and os.listdir(tmp_path / "here") == []


def test_new_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "my-fn").write_text("x")
    with pytest.raises(ProjectPathError, match="not a directory"):
        new_project(OPTIONS, tmp_path / "my-fn")


def test_a_failed_new_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = scaffold_write._write

    def write_then_fail(root: Path, files: list[ProjectFile]) -> None:
        real_write(root, files[:2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scaffold_write, "_write", write_then_fail)
    with pytest.raises(ProjectPathError) as raised:
        new_project(OPTIONS, tmp_path / "my-fn")
    assert "No space left on device" in raised.value.message
    assert os.listdir(tmp_path) == []


def test_init_keeps_the_files_there_and_extends_gitignore(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my readme\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    (tmp_path / ".gitignore").write_text("node_modules\n/target")
    result = init_project(OPTIONS, tmp_path)
    assert set(result.kept) == {PurePosixPath("README.md"), PurePosixPath("src/main.rs")}
    assert result.updated == (PurePosixPath(".gitignore"),)
    assert {str(p) for p in result.written} == FILES - {"README.md", "src/main.rs", ".gitignore"}
    assert (tmp_path / "README.md").read_text() == "my readme\n"
    assert (tmp_path / "src" / "main.rs").read_text() == "fn main() {}\n"
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["node_modules", "/target"] and "/cdk/cdk.out" in lines
    assert lines.count("/target") == 1
    assert tree(tmp_path) == FILES  # nothing staged is left


def test_init_leaves_a_complete_gitignore_alone(tmp_path: Path) -> None:
    ours = next(f.text for f in render(OPTIONS) if str(f.path) == ".gitignore")
    (tmp_path / ".gitignore").write_text(ours)
    result = init_project(OPTIONS, tmp_path)
    assert result.updated == () and PurePosixPath(".gitignore") in result.kept


def test_init_creates_a_missing_directory(tmp_path: Path) -> None:
    result = init_project(OPTIONS, tmp_path / "new")
    assert tree(tmp_path / "new") == FILES and result.kept == ()


def test_init_refuses_an_existing_package(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    with pytest.raises(ProjectPathError) as raised:
        init_project(OPTIONS, tmp_path)
    assert "already holds a Cargo.toml" in raised.value.message
    assert tree(tmp_path) == {"Cargo.toml"}


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(ProjectPathError, match="not a directory"):
        init_project(OPTIONS, tmp_path / "f")


def test_a_failed_init_removes_what_it_placed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    real_link = os.link
    calls: list[str] = []

    def link_then_fail(source: str | Path, target: str | Path) -> None:
        calls.append(str(target))
        if len(calls) == 3:
            raise OSError(13, "Permission denied")
        real_link(source, target)

    monkeypatch.setattr(os, "link", link_then_fail)
    with pytest.raises(ProjectPathError, match="Permission denied"):
        init_project(OPTIONS, tmp_path)
    assert tree(tmp_path) == {"README.md"}
    assert os.listdir(tmp_path) == ["README.md"]  # created directories removed too
