"""rustlambda's caches with real cargo builds: a no-op build runs cargo directly (no
cargo-zigbuild) and cargo finds everything fresh; what changes the result invalidates; a
changed source is never served from a stale artifact."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

import rustlambda
from rustlambda import Arch, BuildOptions, BuildResult, Target
from rustlambda.util.cmd import Completed, SubprocessRunner
from tests.runtime_api import invoke_bootstrap

from .conftest import Recorder, copy_fixture

X86 = Target.for_arch(Arch.X86_64)


class CountingRunner(SubprocessRunner):
    """The real runner, remembering the programs it started."""

    def __init__(self) -> None:
        self.started: list[tuple[str, ...]] = []

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        self.started.append(tuple(argv))
        return super().run(argv, env=env, cwd=cwd)

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        self.started.append(tuple(argv))
        return super().stream(argv, env=env, cwd=cwd, on_line=on_line)

    def programs(self) -> list[str]:
        return [Path(a[0]).name + (" " + a[1] if len(a) > 1 else "") for a in self.started]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("std-workspace", tmp_path_factory.mktemp("build-cache"))


def _build(
    ws: Path, env: dict[str, str], runner: CountingRunner | None = None
) -> tuple[BuildResult, Recorder, CountingRunner]:
    runner = runner or CountingRunner()
    recorder = Recorder()
    result = rustlambda.build(
        BuildOptions(cwd=ws, targets=(X86,), bins=("hello",), environ=env, verbose=1),
        reporter=recorder,
        runner=runner,
    )
    return result, recorder, runner


def _entries(ws: Path, name: str) -> int:
    path = ws / "target" / "rustlambda" / "cache" / f"{name}.json"
    return len(json.loads(path.read_text())["entries"])


def test_noop_runs_cargo_directly_and_invalidates(
    workspace: Path, build_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**build_env, "RUSTLAMBDA_CACHE_DIR": str(tmp_path / "user-cache")}
    env.pop("CARGO_TARGET_DIR", None)
    first, _, runner = _build(workspace, env)
    assert "cargo-zigbuild zigbuild" in runner.programs()  # recorded once, with the recorder
    assert _entries(workspace, "zigbuild-env") == 1

    # the first build created target/ (and Cargo.lock) where cargo metadata is watched: it
    # runs once more; from then on a no-op has no cargo metadata, no std check and no
    # cargo-zigbuild, and cargo finds everything fresh
    _, _, runner = _build(workspace, env)
    assert "cargo-zigbuild zigbuild" not in runner.programs()
    again, recorder, runner = _build(workspace, env)
    assert runner.programs() == ["cargo build"], runner.programs()
    assert not [line for line in recorder.lines if "Compiling" in line], recorder.lines
    assert again.artifacts[0].sha256 == first.artifacts[0].sha256
    assert again.verification is not None and again.verification.ok

    # a changed source: rebuilt, and the new bytes are what gets installed and verified
    main = workspace / "functions" / "hello" / "src" / "main.rs"
    original = main.read_text()
    main.write_text(original.replace('"hello"', '"hello, again"', 1))
    try:
        changed, recorder, _ = _build(workspace, env)
    finally:
        main.write_text(original)
    assert any("Compiling hello" in line for line in recorder.lines)
    artifact = changed.artifacts[0]
    assert artifact.sha256 != first.artifacts[0].sha256
    assert changed.verification is not None
    assert changed.verification.artifacts[0].sha256 == artifact.sha256
    answer = invoke_bootstrap(artifact.path, {}, env=artifact.env, timeout=60)
    assert answer.kind == "response", answer.stderr

    # RUSTFLAGS change cargo-zigbuild's result: recorded again (a second entry)
    flagged = {**env, "RUSTFLAGS": "-C debuginfo=1"}
    _, _, runner = _build(workspace, flagged)
    assert "cargo-zigbuild zigbuild" in runner.programs()
    assert _entries(workspace, "zigbuild-env") == 2

    # a new binary target next to the others: cargo metadata runs again and sees it
    extra = workspace / "functions" / "hello" / "src" / "bin" / "extra.rs"
    extra.parent.mkdir(exist_ok=True)
    extra.write_text("fn main() {}\n")
    try:
        _, _, runner = _build(workspace, env)
        assert "cargo metadata" in runner.programs()
    finally:
        extra.unlink()
        extra.parent.rmdir()

    # corrupt caches are ignored: the build works and records again
    for cache in (workspace / "target" / "rustlambda" / "cache").glob("*.json"):
        cache.write_text("{corrupt")
    result, _, runner = _build(workspace, env)
    assert "cargo-zigbuild zigbuild" in runner.programs()
    assert result.artifacts[0].sha256 == first.artifacts[0].sha256


def test_other_target_dir_is_never_served_from_the_old_one(
    workspace: Path, build_env: dict[str, str], tmp_path: Path
) -> None:
    """CARGO_TARGET_DIR is part of the metadata key: outputs come from where cargo put them."""
    env = {**build_env, "RUSTLAMBDA_CACHE_DIR": str(tmp_path / "user-cache")}
    env.pop("CARGO_TARGET_DIR", None)
    _build(workspace, env)
    elsewhere = tmp_path / "elsewhere"
    result, _, runner = _build(workspace, {**env, "CARGO_TARGET_DIR": str(elsewhere)})
    assert "cargo metadata" in runner.programs()
    assert result.artifacts[0].path.is_relative_to(elsewhere)
    assert (elsewhere / "x86_64-unknown-linux-gnu" / "debug" / "hello").is_file()
