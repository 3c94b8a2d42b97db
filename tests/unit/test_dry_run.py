"""``deploy --dry-run``: the whole configuration a function would have (what is kept from the
live function, Lambda's defaults, environment values masked), what would change, and its text
at 80 columns. Plans are built by hand; nothing is run or called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rustlambda.cli import render
from rustlambda.deployer import artifacts, function, preview
from rustlambda.deployer.result import Deployment, DeployResult
from rustlambda.deployer.settings import DeployOptions, function_chain, resolve_function
from rustlambda.layout import ArtifactKind
from rustlambda.targets import Arch

WIDTH = 80


def settings(**overrides: Any) -> Any:
    return resolve_function(
        function_chain(DeployOptions(**overrides), Path.cwd(), None, None),
        binary="hello",
        base_env={},
        build_include=(),
        build_extension=False,
        build_internal=False,
    )


def package(tmp_path: Path) -> artifacts.DeployPackage:
    zipped = tmp_path / "bootstrap.zip"
    zipped.write_bytes(b"PK")
    return artifacts.DeployPackage(
        binary="hello",
        kind=ArtifactKind.FUNCTION,
        source=zipped,
        zip_path=zipped,
        size=216_428,
        sha256="d3" * 32,
        arch=Arch.ARM64,
        max_glibc=(2, 34),
        verification=None,  # type: ignore[arg-type]
    )


LIVE = {
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hello",
    "Runtime": "provided.al2023",
    "MemorySize": 128,
    "Timeout": 3,
    "Role": "arn:aws:iam::123456789012:role/rustlambda-hello",
    "Environment": {"Variables": {"SECRET": "hunter2", "OLD": "x"}},
    "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:ext:1"}],
    "CodeSha256": "bm90IHRoaXMgemlw",
    "Architectures": ["x86_64"],
}


def planned(tmp_path: Path, current: dict[str, Any] | None, **asked: Any) -> Deployment:
    s = settings(**asked)
    pkg = package(tmp_path)
    plan = function.FunctionPlan(
        settings=s,
        package=pkg,
        current=current,
        role=None,
        role_name="rustlambda-hello",
        config=function.desired_config(s, None, current),
        live_tags={"team": "core"} if current else {},
    )
    if current is not None:
        plan.config_changes = function.config_changes(current, plan.config)
        plan.code_update = True
        plan.tags_to_set = {k: v for k, v in s.tags.items() if plan.live_tags.get(k) != v}
    return Deployment(
        name="hello",
        kind=ArtifactKind.FUNCTION,
        arch=pkg.arch,
        zip_path=str(pkg.zip_path),
        size=pkg.size,
        sha256=pkg.sha256,
        status="would create" if current is None else "would update",
        actions=tuple(plan.actions()),
        configuration=preview.function_configuration(plan),
    )


def test_a_dry_run_create_shows_the_whole_configuration(tmp_path: Path) -> None:
    d = planned(tmp_path, None, env={"SECRET": "hunter2", "LEVEL": "debug"}, tags={"team": "a"})
    config = dict(d.configuration)
    assert config == {
        "architecture": "arm64",
        "runtime": "provided.al2023",
        "memory": "128 MB (Lambda's default)",
        "timeout": "3 s (Lambda's default)",
        "role": "rustlambda-hello (created, with AWSLambdaBasicExecutionRole)",
        "environment": "LEVEL=***, SECRET=***",
        "layers": "none",
        "tags": "team=a",
        "zip": str(tmp_path / "bootstrap.zip"),
        "zip size": "216,428 bytes",
        "sha256": "d3" * 32,
    }


def test_a_dry_run_update_says_what_is_kept_and_what_would_change(tmp_path: Path) -> None:
    d = planned(tmp_path, LIVE, memory=256, env={"SECRET": "other", "NEW": "1"}, tags={"t": "1"})
    config = dict(d.configuration)
    assert config["memory"] == "256 MB"
    assert config["timeout"] == "3 s (as it is)"
    assert config["role"] == "arn:aws:iam::123456789012:role/rustlambda-hello (as it is)"
    assert config["environment"] == "NEW=***, SECRET=***"
    assert config["layers"] == "arn:aws:lambda:us-east-1:123456789012:layer:ext:1 (as it is)"
    assert config["tags"] == "t=1, team=core"
    assert "update MemorySize: 128 → 256" in d.actions
    env = "update Environment: add NEW; change SECRET; remove OLD (values not shown)"
    assert env in d.actions
    assert any(a.startswith("update code (CodeSha256 bm90IHRoaXMgemlw → ") for a in d.actions)
    assert not any("hunter2" in a or "other" in a for a in (*d.actions, *config.values()))


def test_the_dry_run_text_fits_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = planned(tmp_path, LIVE, env={f"VARIABLE_{n}": "v" for n in range(12)})
    render.deploy_result(DeployResult((d,), dry_run=True), WIDTH)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hello (function, arm64): would update"
    assert [line for line in lines if len(line) > WIDTH] == []
    assert lines[1] == "  architecture  arm64"
    assert any(line == "  sha256        " + "d3" * 32 for line in lines)
    assert "  against the live function, it would:" in lines
    text = "\n".join(lines)
    assert all(f"VARIABLE_{n}=***" in text for n in range(12))  # wrapped between names


def test_a_zip_made_for_the_deploy_is_named_by_the_bootstrap_it_is_made_from(
    tmp_path: Path,
) -> None:
    """The deploy zips a bootstrap into a temporary folder gone after the run: the dry run
    names the bootstrap, not a path that will not exist."""
    from dataclasses import replace

    bootstrap = tmp_path / "bootstrap"
    pkg = replace(package(tmp_path), source=bootstrap, temporary=True)
    rows = dict(preview._package(pkg, None))
    assert rows == {
        "zipped from": str(bootstrap),
        "zip size": "216,428 bytes",
        "sha256": "d3" * 32,
    }


def test_a_layer_dry_run_shows_its_name_architecture_runtimes_and_zip(tmp_path: Path) -> None:
    from rustlambda.deployer.layer import LayerPlan

    newest = {"Version": 3, "Content": {"CodeSha256": "old"}}
    plan = LayerPlan(settings(), package(tmp_path), ("provided.al2023",), newest, publish=True)
    assert dict(preview.layer_configuration(plan)) == {
        "layer": "hello (newest version 3)",
        "architecture": "arm64",
        "runtimes": "provided.al2023",
        "zip": str(tmp_path / "bootstrap.zip"),
        "zip size": "216,428 bytes",
        "sha256": "d3" * 32,
    }
