"""The command line as cargo-lambda users type it: global options before the command, refused
flags with their one error, cargo's JSON messages on stdout, watch's and build's --env-var."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rustlambda import flags
from rustlambda.builder import BuildResult
from rustlambda.cli import main
from rustlambda.cli.render import ConsoleReporter
from rustlambda.options import BuildOptions, ColorWhen


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[BuildOptions]:
    """``rustlambda build`` with the library's build replaced: the options it got."""
    seen: list[BuildOptions] = []

    def fake_build(options: BuildOptions, **_: Any) -> BuildResult:
        seen.append(options)
        return BuildResult((), Path("target/lambda"), ("cargo", "build"))

    monkeypatch.setattr("rustlambda.builder.build", fake_build)
    return seen


def test_global_options_before_the_command_apply_to_it(
    captured: list[BuildOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["-x", "dev", "--admerge", "--global", "g.toml", "--color", "never", "-vv"]
    assert main([*argv, "build", "--bin", "api"]) == 0, capsys.readouterr().err
    options = captured[0]
    assert (options.context, options.admerge, options.global_config) == (
        "dev",
        True,
        Path("g.toml"),
    )
    assert options.color is ColorWhen.NEVER and options.verbose == 1  # -vv: cargo -v
    # after the command wins over before it
    assert main(["-x", "dev", "build", "-x", "prod"]) == 0
    assert captured[1].context == "prod"


def test_refused_flags_fail_with_one_error_naming_the_alternative(
    captured: list[BuildOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--tests"]) == 2
    err = capsys.readouterr().err
    assert "error: --tests is not supported: a Lambda function is a binary" in err
    assert "fix: run tests with `cargo test`" in err
    assert main(["watch", "--print-traces"]) == 2
    assert "error: --print-traces is not supported" in capsys.readouterr().err
    assert main(["system", "--install-zig"]) == 2
    assert "zig comes with rustlambda" in capsys.readouterr().err
    assert not captured


def test_json_result_and_cargo_json_messages_do_not_share_stdout(
    captured: list[BuildOptions], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--json", "--message-format", "json-diagnostic-short"]) == 2
    assert "--json and --message-format json would both write JSON" in capsys.readouterr().err
    assert main(["build", "--message-format", "short", "-c", "CARGO", "-o", "ZIP"]) == 0


def test_cargo_json_messages_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = ConsoleReporter(Console(stderr=True), verbose=False, quiet=True, cargo_messages=True)
    reporter.output('{"reason":"compiler-artifact","target":{}}')
    reporter.output("   Compiling api v0.1.0")
    out, err = capsys.readouterr()
    assert out == '{"reason":"compiler-artifact","target":{}}\n' and "Compiling" not in out + err
    assert reporter.saw_cargo_messages


def test_env_var_is_cargos_environment_on_build_and_the_functions_on_watch() -> None:
    build = flags.parse_build_args(["--env-var", "A=1,B=2", "--env-file", "x.env"])
    assert build.env_vars == {"A": "1", "B": "2"} and build.env_file == Path("x.env")

    import click

    @click.command()
    @flags.watch_flags
    def capture(flags: Any) -> Any:
        return flags

    watch = capture.invoke(capture.make_context("watch", ["--env-var", "A=1", "--timeout", "3"]))
    assert watch.options.env == {"A": "1"} and watch.options.build.env_vars is None
    assert watch.options.timeout == 3.0
    invoke_timeout = capture.make_context("watch", ["--invoke-timeout", "4"])
    assert capture.invoke(invoke_timeout).options.timeout == 4.0
