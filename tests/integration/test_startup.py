"""The CLI starts without importing what a command does not need (bench/ measures the time)."""

from __future__ import annotations

import subprocess
import sys


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
