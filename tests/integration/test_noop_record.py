"""rustlambda.noop: a build with nothing to do is shown again only while every input, the
toolchain, cargo's files and the installed files are as recorded, and cargo ends without work;
anything else runs the whole build. cargo here is a script (what it prints, whether it succeeds
and whether it relinks are the test's; a script is a process, hence not a unit test);
tests/integration/test_noop.py runs the real one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rustlambda import noop
from rustlambda.builder.inputs import BuildInputs

ARGV = ["build", "--release"]
FINISHED = "    Finished `release` profile [optimized] target(s) in 0.01s"


@dataclass
class Project:
    root: Path
    inputs: BuildInputs
    cargo_says: Path  # the lines the script prints on stderr
    cargo_code: Path  # its exit code
    relinks: Path  # when present, the script rewrites the executable (a relink)
    marker: Path  # written by the script after a pause, unless it was stopped
    output: list[tuple[int, str]] = field(default_factory=list)

    def record(self) -> None:
        assert noop.replay(ARGV) is None  # arms the key
        noop.record(self.inputs, self.output)

    def replay(self, argv: list[str] | None = None) -> int | None:
        return noop.replay(argv or ARGV)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setattr(noop, "_armed", None)
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith(("RUSTLAMBDA", "CARGO_LAMBDA", "RUSTUP")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RUSTLAMBDA_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("RUSTUP_HOME", str(tmp_path / "rustup"))
    (tmp_path / "rustup" / "toolchains").mkdir(parents=True)
    (tmp_path / "rustup" / "settings.toml").write_text('default_toolchain = "stable"\n')
    (root / "Cargo.toml").write_text('[package]\nname = "hello"\n')
    (root / "Cargo.lock").write_text("version = 4\n")
    executable = root / "target" / "release" / "hello"
    executable.parent.mkdir(parents=True)
    executable.write_bytes(b"\x7fELF one")
    installed = root / "target" / "lambda" / "hello" / "bootstrap"
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"\x7fELF one")
    installed.chmod(0o755)
    zig = tmp_path / "zig"
    zig.write_text("zig 0.13")
    says, code = tmp_path / "says.txt", tmp_path / "code.txt"
    says.write_text(FINISHED + "\n")
    code.write_text("0")
    relinks, marker = tmp_path / "relinks", tmp_path / "marker"
    cargo = tmp_path / "cargo"
    cargo.write_text(
        "#!/bin/sh\n"
        f'cat "{says}" >&2\n'
        f'if [ -e "{relinks}" ]; then echo relinked > "{executable}"; fi\n'
        f'if grep -q Compiling "{says}"; then sleep 3; touch "{marker}"; fi\n'
        f'exit "$(cat "{code}")"\n'
    )
    cargo.chmod(0o755)
    cargo_env = {**os.environ, "CARGO_ZIGBUILD_ZIG_PATH": str(zig), "CC_x86": "zig cc"}
    inputs = BuildInputs(
        cargo_argv=(str(cargo), "build", "--release"),
        cargo_env=cargo_env,
        cargo_cwd=root,
        cargo=str(cargo),
        rustc=str(cargo),
        watched=(root / "Cargo.toml", root / "Cargo.lock", root / ".cargo" / "config.toml"),
        executables=(executable,),
        installed=(installed,),
    )
    output = [(2, f"info: built hello for x86_64 in {noop.ELAPSED} s\n"), (1, "hello\tx86_64\n")]
    return Project(root, inputs, says, code, relinks, marker, output)


def test_an_unchanged_build_is_shown_again_with_cargo_s_lines_and_its_own_time(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.record()
    assert project.replay() == 0
    out, err = capsys.readouterr()
    assert out == "hello\tx86_64\n"
    assert err.startswith(FINISHED + "\ninfo: built hello for x86_64 in ")
    assert noop.ELAPSED not in err and err.endswith(" s\n")


def test_nothing_is_recorded_unless_the_entry_point_looked(project: Project) -> None:
    noop.record(project.inputs, project.output)  # not armed: the CLI was called as a library
    assert project.replay() is None


def test_only_what_rustlambda_set_for_cargo_is_stored(project: Project) -> None:
    os.environ["SOME_SECRET"] = "s3cr3t"
    try:
        project.inputs.cargo_env["SOME_SECRET"] = "s3cr3t"  # type: ignore[index]
        project.record()
        stored = "".join(p.read_text() for p in Path(os.environ["RUSTLAMBDA_CACHE_DIR"]).iterdir())
    finally:
        del os.environ["SOME_SECRET"]
    assert "s3cr3t" not in stored and "CARGO_ZIGBUILD_ZIG_PATH" in stored


@pytest.mark.parametrize(
    "change",
    [
        "manifest",
        "lock file",
        "cargo config created",
        "rust-toolchain file",
        "rustup default",
        "zig upgraded",
        "installed file deleted",
        "installed file lost its exec bit",
        "installed file replaced",
        "executable rebuilt by another cargo run",
    ],
)
def test_a_changed_input_runs_the_whole_build(project: Project, change: str) -> None:
    project.record()
    root = project.root
    time.sleep(0.01)  # a stamp's mtime must be able to move
    if change == "manifest":
        (root / "Cargo.toml").write_text('[package]\nname = "hello"\n[package.metadata.lambda]\n')
    elif change == "lock file":
        (root / "Cargo.lock").write_text("version = 4\n# new\n")
    elif change == "cargo config created":
        (root / ".cargo").mkdir()
        (root / ".cargo" / "config.toml").write_text("[build]\nrustflags = ['-Cfoo']\n")
    elif change == "rust-toolchain file":
        (root / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "nightly"\n')
    elif change == "rustup default":
        (Path(os.environ["RUSTUP_HOME"]) / "settings.toml").write_text('default = "nightly"\n')
    elif change == "zig upgraded":
        Path(project.inputs.cargo_env["CARGO_ZIGBUILD_ZIG_PATH"]).write_text("zig 0.14")
    elif change == "installed file deleted":
        project.inputs.installed[0].unlink()
    elif change == "installed file lost its exec bit":
        project.inputs.installed[0].chmod(0o644)
    elif change == "installed file replaced":
        project.inputs.installed[0].write_bytes(b"\x7fELF two")
    elif change == "executable rebuilt by another cargo run":
        project.inputs.executables[0].write_bytes(b"\x7fELF two")
    assert project.replay() is None


def test_a_relink_by_this_cargo_run_runs_the_whole_build(project: Project) -> None:
    project.record()
    project.relinks.touch()
    assert project.replay() is None


def test_cargo_doing_work_is_stopped_at_once_and_the_whole_build_runs(project: Project) -> None:
    project.record()
    project.cargo_says.write_text("   Compiling hello v0.1.0 (/ws)\n")
    assert project.replay() is None
    time.sleep(3.5)  # the script would have written its marker by now had it not been stopped
    assert not project.marker.exists()


def test_a_failing_cargo_runs_the_whole_build(project: Project) -> None:
    project.record()
    project.cargo_code.write_text("101")
    assert project.replay() is None


@pytest.mark.parametrize(
    "variation",
    ["argument (--lambda-dir)", "environment (RUSTFLAGS)", "working directory", "no cache"],
)
def test_another_command_line_environment_or_directory_is_another_build(
    project: Project, variation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.record()
    argv = None
    if variation == "argument (--lambda-dir)":
        argv = [*ARGV, "--lambda-dir", "other"]
    elif variation == "environment (RUSTFLAGS)":
        monkeypatch.setenv("RUSTFLAGS", "-C target-cpu=native")
    elif variation == "working directory":
        monkeypatch.chdir(project.root / "src")
    else:
        monkeypatch.setenv("RUSTLAMBDA_NO_CACHE", "1")
    assert project.replay(argv) is None


def test_the_shell_s_bookkeeping_is_no_input(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.record()
    monkeypatch.setenv("_", "/usr/bin/time")
    monkeypatch.setenv("OLDPWD", "/elsewhere")
    assert project.replay() == 0


def test_rustlambda_s_own_files_and_install_folder_are_inputs() -> None:
    own = noop._own_files()
    package = Path(noop.__file__).parent
    assert str(package.parent) in own and noop.__file__ in own
    assert str(package / "builder" / "run.py") in own


def test_capture_records_both_streams_in_order_and_marks_the_elapsed_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with noop.Capture() as capture:
        sys.stderr.write("info: built hello in 12.5 s\n")
        sys.stdout.write("a\n")
        sys.stdout.write("b\n")
        with pytest.raises(TypeError):
            sys.stdout.write(b"")  # type: ignore[arg-type]  # click's probe for a binary stream
    assert capsys.readouterr() == ("a\nb\n", "info: built hello in 12.5 s\n")
    assert capture.output("12.5") == [
        (2, f"info: built hello in {noop.ELAPSED} s\n"),
        (1, "a\nb\n"),
    ]


def test_records_are_pruned(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = Path(os.environ["RUSTLAMBDA_CACHE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(noop.KEEP + 5):
        (folder / f"noop-old{n:03d}.json").write_text("{}")
        os.utime(folder / f"noop-old{n:03d}.json", ns=(n, n))
    project.record()
    kept = sorted(p.name for p in folder.glob("noop-*.json"))
    assert len(kept) == noop.KEEP and "noop-old000.json" not in kept
    assert any(not name.startswith("noop-old") for name in kept)  # the new one stays


def test_an_installed_file_s_mode_is_part_of_its_stamp(project: Project) -> None:
    installed = project.inputs.installed[0]
    before = noop._installed([str(installed)])
    installed.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert noop._installed([str(installed)]) != before


def test_a_signal_while_cargo_runs_stops_it_and_exits_as_any_build(project: Project) -> None:
    # (the whole build would fail at once here: the workspace is not a real one; so exit code
    # 130 says the signal reached the replay, while cargo ran)
    # cargo says nothing that means work, then takes its time (a lock held elsewhere...)
    project.cargo_says.write_text(FINISHED + "\n")
    script = Path(project.inputs.cargo)
    script.write_text(
        script.read_text().replace("exit ", f'sleep 5; touch "{project.marker}"\nexit ', 1)
    )
    project.record()  # again: the script is the toolchain's identity too
    child = subprocess.Popen(
        [sys.executable, "-m", "rustlambda", *ARGV],
        cwd=project.root,
        env=dict(os.environ),  # as the test sees it (the process's own may hold more)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert out == ""  # nothing shown: the build did not finish
    assert child.returncode == 130, err
    assert "stopped by SIGINT" in err and "Traceback" not in err
    time.sleep(4)
    assert not project.marker.exists()  # cargo's whole group was stopped
