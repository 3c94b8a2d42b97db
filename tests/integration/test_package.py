"""Zip output from real builds: byte-reproducible across touch + relink, umask and file order."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

from tests.runtime_api import invoke_bootstrap

from .conftest import copy_fixture, run_cli


def build_zip(ws: Path, env: dict[str, str], umask: int) -> Any:
    done = run_cli(
        "build",
        "--release",
        "--output-format",
        "zip",
        "--x86-64",
        "--bin",
        "hello",
        "--include",
        "config",
        "--json",
        "-vv",
        cwd=ws,
        env=env,
        umask=umask,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    result["stderr"] = done.stderr
    return result


def write_config(ws: Path, names: list[str]) -> None:
    config = ws / "config"
    if config.exists():
        shutil.rmtree(config)
    (config / "nested").mkdir(parents=True)
    for name in names:  # creation order differs between the two builds
        (config / "nested" / name).write_text(f"value of {name}\n")
        time.sleep(0.01)
    (config / "app.json").write_text('{"mode": "test"}\n')


def test_zip_is_byte_identical_after_touch_relink_umask_and_order(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    env = {k: v for k, v in build_env.items() if k != "SOURCE_DATE_EPOCH"}
    write_config(ws, ["a.txt", "b.txt", "c.txt"])
    first = build_zip(ws, env, umask=0o022)
    [artifact] = first["artifacts"]
    zip_path = Path(artifact["zip"]["path"])
    assert zip_path == ws / "target/lambda/hello/bootstrap.zip"
    first_bytes = zip_path.read_bytes()
    binary = ws / "target/x86_64-unknown-linux-gnu/release/hello"
    linked_at = binary.stat().st_mtime_ns

    # touch a source (cargo recompiles and relinks an identical binary), recreate the
    # included directory in another order, other umask, no SOURCE_DATE_EPOCH
    time.sleep(1.1)
    main_rs = ws / "functions/hello/src/main.rs"
    main_rs.touch()
    write_config(ws, ["c.txt", "a.txt", "b.txt"])
    os.utime(ws / "config/app.json", (1_000_000, 1_000_000))
    second = build_zip(ws, env, umask=0o077)
    assert "Compiling hello" in str(second["stderr"])
    assert binary.stat().st_mtime_ns != linked_at  # really relinked
    assert zip_path.read_bytes() == first_bytes
    assert second["artifacts"][0]["zip"]["sha256"] == hashlib.sha256(first_bytes).hexdigest()

    with zipfile.ZipFile(zip_path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert list(infos) == sorted(infos, key=lambda n: n.rstrip("/").split("/"))
        assert infos["bootstrap"].external_attr >> 16 == 0o100755
        for name, info in infos.items():
            assert info.create_system == 3
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            mode = info.external_attr >> 16
            if name.endswith("/"):
                assert mode == 0o040755, name
            elif name != "bootstrap":
                assert mode == 0o100644, name
        assert set(infos) >= {"config/", "config/app.json", "config/nested/c.txt"}
        # the zipped bootstrap is the real thing: extract and invoke it
        out = tmp_path / "unzipped"
        zf.extract("bootstrap", out)
    (out / "bootstrap").chmod(0o755)
    assert invoke_bootstrap(out / "bootstrap", {"x": 1}).json()["function"] == "hello"


def test_source_date_epoch_is_honoured(tmp_path: Path, build_env: dict[str, str]) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    write_config(ws, ["a.txt"])
    env = {**build_env, "SOURCE_DATE_EPOCH": "1700000000"}
    result = build_zip(ws, env, umask=0o022)
    with zipfile.ZipFile(result["artifacts"][0]["zip"]["path"]) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_extension_zips(tmp_path: Path, build_env: dict[str, str]) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    for internal, member in ((False, "extensions/probe-ext"), (True, "probe-ext")):
        argv = [
            "build",
            "--extension",
            "--bin",
            "probe-ext",
            "--output-format",
            "zip",
            "--x86-64",
            "--json",
        ]
        if internal:
            argv.append("--internal")
        done = run_cli(*argv, cwd=ws, env=build_env)
        assert done.returncode == 0, done.stderr
        zip_path = Path(json.loads(done.stdout)["artifacts"][0]["zip"]["path"])
        assert zip_path == ws / "target/lambda/extensions/probe-ext.zip"
        with zipfile.ZipFile(zip_path) as zf:
            assert zf.getinfo(member).external_attr >> 16 == 0o100755


def test_unsafe_include_is_refused_before_building(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    (tmp_path / "secret.txt").write_text("outside the project")
    (ws / "escape").symlink_to(tmp_path / "secret.txt")
    for spec, words in (
        ("../secret.txt", "outside"),
        ("/etc:config", "absolute"),
        ("escape", "outside"),
    ):
        done = run_cli(
            "build", "--output-format", "zip", "--include", spec, "--x86-64", cwd=ws, env=build_env
        )
        assert done.returncode == 14, (spec, done.stderr)
        assert words in done.stderr.lower() and "Traceback" not in done.stderr
        assert not (ws / "target").exists()  # refused before cargo ran
