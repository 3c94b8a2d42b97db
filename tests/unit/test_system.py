"""``rustlambda system``'s report, assembled from fake tools (a recording runner answers every
command; nothing runs): what each probe finds, the fixes for what is missing, the merged
settings with their sources, the JSON and text forms, and a section added in one line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustlambda import system
from rustlambda.cli import main
from rustlambda.system import (
    Item,
    Probe,
    ReportSection,
    Status,
    SystemOptions,
    SystemReport,
    system_report,
)
from rustlambda.targets import Arch
from rustlambda.util.cmd import Completed

from .fakes import Call, FakeRunner, write_workspace

ANSWERS = {
    ("rustc", "-V"): "rustc 1.95.0 (59807616e 2026-04-14)",
    ("cargo", "-V"): "cargo 1.95.0 (f2d3ce0bd 2026-03-21)",
    ("rustup", "--version"): "rustup 1.29.0 (28d1352db 2026-03-05)",
    ("rustup", "show"): "stable-x86_64-unknown-linux-gnu (default)",
    ("zig", "version"): "0.17.1",
    ("cargo-zigbuild", "--version"): "cargo-zigbuild 0.24.1",
    ("qemu-aarch64", "--version"): "qemu-aarch64 version 7.2.22",
}


#: ``sccache --show-stats --stats-format json`` of a fresh server with an S3 backend (0.16).
SCCACHE_STATS = json.dumps(
    {
        "stats": {
            "compile_requests": 0,
            "requests_not_cacheable": 0,
            "cache_errors": {"counts": {}},
            "cache_hits": {"counts": {}},
            "cache_misses": {"counts": {}},
            "non_cacheable_compilations": 0,
            "cache_writes": 0,
            "cache_write_errors": 0,
            "cache_read_errors": 0,
        },
        "cache_location": "S3, bucket: Bucket(name=team-cache), key_prefix: ci/",
        "cache_size": None,
        "version": "0.16.0",
        "basedirs": [],
    }
)


@dataclass
class ToolRunner(FakeRunner):
    """FakeRunner (cargo metadata, target-libdir) plus each tool's version answer."""

    engine: bool = False
    #: What ``sccache --start-server`` answers (exit code, stderr).
    sccache_start: tuple[int, str] = (0, "")

    def sccache(self, argv: Sequence[str]) -> Completed:
        if argv[1] == "--version":
            return Completed(tuple(argv), 0, "sccache 0.16.0\n", "")
        if argv[1] == "--start-server":
            return Completed(tuple(argv), self.sccache_start[0], "", self.sccache_start[1])
        if argv[1] == "--show-stats":
            return Completed(tuple(argv), 0, SCCACHE_STATS, "")
        return Completed(tuple(argv), 0, "", "")  # --stop-server

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        name = Path(argv[0]).name
        if name == "docker":
            self.calls.append(_call(argv, env, cwd))
            if "{{.Client.Version}}" in argv:
                return Completed(tuple(argv), 0, "27.1.1\n", "")
            if self.engine:
                return Completed(tuple(argv), 0, "27.1.1\n", "")
            return Completed(tuple(argv), 1, "", "Cannot connect to the Docker daemon\n")
        if name == "sccache":
            self.calls.append(_call(argv, env, cwd))
            return self.sccache(argv)
        answer = ANSWERS.get((name, argv[1])) if len(argv) > 1 else None
        if answer is not None:
            self.calls.append(_call(argv, env, cwd))
            return Completed(tuple(argv), 0, answer + "\n", "")
        return super().run(argv, env=env, cwd=cwd)


def _call(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None) -> Call:
    return Call(tuple(argv), dict(env), cwd)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], Path]:
    """PATH with rustup's proxies (rustc, cargo), qemu and docker; a zig; an arm64 sysroot."""
    monkeypatch.setattr("rustlambda.system.tools.host_arch", lambda: Arch.X86_64)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("rustup", "qemu-aarch64", "docker", "zig"):
        path = bin_dir / name
        path.write_text("#!/bin/sh\nexit 99\n")
        path.chmod(0o755)
    for proxy in ("rustc", "cargo"):
        (bin_dir / proxy).symlink_to(bin_dir / "rustup")
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib").mkdir(parents=True)
    (sysroot / "lib" / "ld-linux-aarch64.so.1").write_bytes(b"")
    sccache = bin_dir / "sccache"
    sccache.write_text("#!/bin/sh\nexit 99\n")
    sccache.chmod(0o755)
    for module in ("rustlambda.system.cache", "rustlambda.compilecache.sccache"):
        monkeypatch.setattr(f"{module}.find_sccache", lambda env: str(sccache))
    environ = {
        "PATH": str(bin_dir),
        "CARGO_ZIGBUILD_ZIG_PATH": str(bin_dir / "zig"),
        "QEMU_LD_PREFIX": str(sysroot),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    project = tmp_path / "project"
    project.mkdir()
    return environ, project


def _report(
    environ: dict[str, str], project: Path, *, engine: bool = False, **kw: object
) -> tuple[SystemReport, ToolRunner]:
    metadata = write_workspace(
        project,
        {"api": ["api"]},
        workspace_toml="[workspace.metadata.lambda.build]\nrelease = true\n",
        package_toml={"api": "[package.metadata.lambda.deploy]\nmemory = 256\n"},
    )
    runner = ToolRunner(metadata, libdir_root=project.parent / "libdirs", engine=engine)
    options = SystemOptions(cwd=project, environ=environ, **kw)  # type: ignore[arg-type]
    return system_report(options, runner=runner), runner


def _item(report: SystemReport, section: str, name: str) -> Item:
    return next(i for i in report.section(section).items if i.name == name)


def test_tools_their_versions_and_how_they_were_found(
    machine: tuple[dict[str, str], Path],
) -> None:
    environ, project = machine
    report, _ = _report(environ, project)
    rustc = _item(report, "rust", "rustc")
    assert (rustc.status, rustc.version) == (Status.OK, "rustc 1.95.0 (59807616e 2026-04-14)")
    assert rustc.found_by == "PATH, rustup toolchain stable-x86_64-unknown-linux-gnu (default)"
    zig = _item(report, "zig", "zig")
    assert (zig.version, zig.found_by) == ("0.17.1", "CARGO_ZIGBUILD_ZIG_PATH")
    zigbuild = _item(report, "zig", "cargo-zigbuild")
    if Path(sys.executable).with_name("cargo-zigbuild").is_file():
        assert zigbuild.found_by == "next to Python"
    qemu = _item(report, "emulation", "qemu-aarch64")
    assert qemu.status is Status.OK and qemu.path == environ["PATH"] + "/qemu-aarch64"
    loader = _item(report, "emulation", "arm64 dynamic loader")
    assert loader.found_by == "QEMU_LD_PREFIX"
    assert report.ok  # musl std, cross, a linker, the docker engine: optional


def test_missing_pieces_each_with_a_fix(machine: tuple[dict[str, str], Path]) -> None:
    environ, project = machine
    os.unlink(Path(environ["PATH"]) / "qemu-aarch64")
    report, _ = _report(environ, project)
    musl = _item(report, "targets", "aarch64-unknown-linux-musl")
    assert musl.status is Status.OPTIONAL
    assert musl.fix is not None and musl.fix.startswith("`rustup target add aarch64-unknown")
    assert _item(report, "targets", "aarch64-unknown-linux-gnu").status is Status.OK
    cross = _item(report, "containers", "cross")
    assert cross.status is Status.OPTIONAL and "cargo install cross" in (cross.fix or "")
    engine = _item(report, "containers", "docker engine")
    assert (engine.status, engine.detail) == (
        Status.OPTIONAL,
        "Cannot connect to the Docker daemon",
    )
    qemu = _item(report, "emulation", "qemu-aarch64")
    assert qemu.status is Status.OPTIONAL and "apt-get install qemu-user" in (qemu.fix or "")
    linker = _item(report, "emulation", "arm64 linker for --compiler cargo")
    assert "gcc-aarch64-linux-gnu" in (linker.fix or "")
    assert report.ok
    engine_up, _ = _report(environ, project, engine=True)
    assert _item(engine_up, "containers", "docker engine").status is Status.OK


def test_missing_rust_is_missing_everywhere_it_matters(
    machine: tuple[dict[str, str], Path],
) -> None:
    environ, project = machine
    for proxy in ("rustc", "cargo"):
        os.unlink(Path(environ["PATH"]) / proxy)
    report, _ = _report(environ, project)
    assert _item(report, "rust", "rustc").status is Status.MISSING
    assert _item(report, "targets", "x86_64-unknown-linux-gnu").status is Status.MISSING
    assert not report.ok
    assert report.settings is None and report.settings_note is not None
    assert "cargo was not found" in report.settings_note


def test_merged_settings_say_where_each_value_came_from(
    machine: tuple[dict[str, str], Path],
) -> None:
    environ, project = machine
    (project / "CargoLambda.toml").write_text(
        "[deploy]\ntimeout = 30\n[prod.deploy]\ntimeout = 60\n[build]\nrelese = 1\n"
    )
    environ = {
        **environ,
        "CARGO_LAMBDA_COMPILER": "cargo",
        "CARGO_LAMBDA_DEPLOY.TRACING": "active",
    }
    report, _ = _report(environ, project, context="prod")
    settings = report.settings
    assert settings is not None and settings.function == "api"  # the only function
    values = {(v.section, v.key): v for v in settings.values}
    assert values["build", "release"].value is True
    assert values["build", "release"].source == "[workspace.metadata.lambda.build]"
    assert values["build", "compiler"].value == {"type": "cargo"}
    assert values["build", "compiler"].kind == "environment"
    assert values["deploy", "memory"].source == "[package.metadata.lambda.deploy] of api"
    assert values["deploy", "memory"].path == str(project / "api" / "Cargo.toml")
    assert (values["deploy", "timeout"].value, values["deploy", "timeout"].source) == (
        60,
        "CargoLambda.toml [prod.deploy]",
    )
    assert values["deploy", "tracing"].source == "CARGO_LAMBDA_DEPLOY.TRACING"
    assert values["deploy", "role"].kind == "default"
    assert settings.context == "prod"
    assert settings.config_file == str(project / "CargoLambda.toml")
    assert any("'relese'" in w for w in settings.warnings)


def test_a_configuration_problem_is_reported_not_raised(
    machine: tuple[dict[str, str], Path],
) -> None:
    environ, project = machine
    (project / "CargoLambda.toml").write_text("[deploy]\nmemory = 1\n")
    report, _ = _report(environ, project)
    assert report.settings is not None and not report.ok
    assert any("memory must be a whole number from 128" in p for p in report.settings.problems)


def test_a_new_section_is_one_probe(
    machine: tuple[dict[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def licenses(probe: Probe) -> ReportSection:
        found = probe.environ.get("CARGO_ABOUT")
        status = Status.OK if found else Status.OPTIONAL
        return ReportSection("licenses", "Licenses", (Item("cargo-about", status, path=found),))

    monkeypatch.setattr(system, "PROBES", [*system.PROBES, licenses])
    environ, project = machine
    report, _ = _report(environ, project, settings=False)
    assert report.sections[-1].key == "licenses" and report.settings is None
    assert report.to_dict()["licenses"] == [{"name": "cargo-about", "status": "optional"}]


def test_cli_text_and_json(
    machine: tuple[dict[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environ, project = machine
    report, _ = _report(environ, project)
    monkeypatch.setattr(system, "system_report", lambda options: report)
    assert main(["system"]) == 0
    text = capsys.readouterr().out
    assert "Rust toolchain:" in text and "  ok      rustc: rustc 1.95.0" in text
    assert "          fix: cargo install cross" in text
    assert "    release = true    <- [workspace.metadata.lambda.build]" in text
    assert "settings at their defaults: --verbose lists them" in text
    assert text.rstrip().endswith("everything needed is there")
    assert main(["system", "-o", "JSON"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["rust"][0]["name"] == "rustc"
    assert {"rust", "targets", "zig", "emulation", "containers", "settings"} <= set(data)
    assert main(["system", "--json", "-v"]) == 0
    assert json.loads(capsys.readouterr().out) == data
