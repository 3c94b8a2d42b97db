"""The CLI starts without importing what a command does not need (bench/ measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REAL_CRATES, RealCratesBuild


def test_version_imports_no_build_verify_or_boto3() -> None:
    probe = (
        "import sys; from rustlambda.cli import main; code = main(['--version']); "
        "heavy = ['rustlambda.builder', 'rustlambda.verify', 'elftools', 'boto3', 'aiohttp', "
        "'rich']; "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("rustlambda, version")
    assert lines[-1] == "[]"


def test_public_api_names_resolve() -> None:
    import rustlambda

    for name in rustlambda.__all__:
        assert getattr(rustlambda, name) is not None, name


def test_build_and_deploy_are_the_functions_even_after_their_modules_load() -> None:
    probe = (
        "import rustlambda.builder, rustlambda.deployer, rustlambda, inspect; "
        "print(inspect.isfunction(rustlambda.build), inspect.isfunction(rustlambda.deploy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["True", "True"]


def test_build_and_deploy_name_no_module() -> None:
    import importlib.util

    assert importlib.util.find_spec("rustlambda.build") is None
    assert importlib.util.find_spec("rustlambda.deploy") is None


#: What a no-op ``build`` on a pipe does without: rich (plain lines), the compile cache without
#: ``--cache``, the failure diagnoses, "did you mean", ELF parsing (verification is cached),
#: and what other commands use.
NO_OP_BUILD_SKIPS = [
    "rich",
    "rustlambda.compilecache",
    "rustlambda.diagnose",
    "difflib",
    "elftools",
    "rustlambda.elf",
    "rustlambda.deployer",
    "rustlambda.emulator",
    "boto3",
    "aiohttp",
    "jinja2",
    "watchfiles",
]


def test_a_no_op_build_on_a_pipe_imports_no_rich_nor_unused_parts(
    real_crates_zig: RealCratesBuild, build_env: dict[str, str], tmp_path: Path
) -> None:
    """The same build as the session's real-crate build, again: nothing to do, and no module
    the no-op path does not need is imported (bench/ measures the time this saves)."""
    loaded = tmp_path / "loaded.json"
    probe = (
        "import json, sys; from rustlambda.cli import main; "
        f"code = main(sys.argv[1:]); heavy = {NO_OP_BUILD_SKIPS!r}; "
        f"open({str(loaded)!r}, 'w').write(json.dumps([m for m in heavy if m in sys.modules])); "
        "sys.exit(code)"
    )
    argv = ["build", "--arm64", "--x86-64", "--compiler", "zig", "--target-dir"]
    argv += [str(real_crates_zig.target_dir), "--locked", "--json"]
    argv += ["--manifest-path", str(REAL_CRATES / "Cargo.toml")]
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        cwd=REAL_CRATES,
        env=build_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    built = [(a["path"], a["sha256"]) for a in real_crates_zig.result["artifacts"]]
    assert [(a["path"], a["sha256"]) for a in json.loads(done.stdout)["artifacts"]] == built
    assert "info: built" in done.stderr  # the plain lines rich would have written
    assert json.loads(loaded.read_text()) == []
