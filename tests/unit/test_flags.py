"""Command-line flags → typed options, built from the settings table: the same parse for the CLI
commands and the CDK constructs' ``extra_build_args``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

from rustlambda import flags
from rustlambda.errors import ConfigError, UnknownCompilerError
from rustlambda.options import Compiler, CompilerSettings, OutputFormat, TracingMode, UrlAuth
from rustlambda.settings import table
from rustlambda.settings.model import Command, Section
from rustlambda.targets import Arch, Runtime, Target


def parsed(decorator: Callable[[Callable[..., Any]], Callable[..., Any]], argv: list[str]) -> Any:
    @click.command()
    @decorator
    def capture(flags: Any) -> Any:
        return flags

    return capture.invoke(capture.make_context("test", argv))


def test_build_flags_become_typed_build_options() -> None:
    options = flags.parse_build_args(
        [
            "--arm64",
            "--x86-64",
            "--target",
            "x86_64-unknown-linux-musl",
            "--target",
            "aarch64-unknown-linux-gnu",
            "-F",
            "a,b",
            "-F",
            "c d",
            "--include",
            "with space",
            "--include",
            "x,y",
            "-r",
            "--compiler",
            "cargo",
            "-o",
            "zip",
            "--runtime",
            "provided.al2",
            "-j",
            "4",
            "--locked",
            "--bin",
            "api",
            "--",
            "--timings",
        ]
    )
    assert options.targets == (
        Target.for_arch(Arch.X86_64),  # --x86-64, then --arm64, then --target: cargo-lambda's
        Target.for_arch(Arch.ARM64),
        Target.parse("x86_64-unknown-linux-musl"),
    )
    assert options.features == ("a", "b", "c", "d")
    assert options.include == ("with space", "x,y")  # one path per --include
    assert options.release is True and options.profile is None
    assert options.compiler == CompilerSettings(Compiler.CARGO)
    assert (options.output_format, options.runtime) == (OutputFormat.ZIP, Runtime.AL2)
    assert (options.jobs, options.locked, options.offline) == (4, True, None)
    assert options.bins == ("api",) and options.cargo_args == ("--timings",)
    assert options.verify is None and options.verbose is None


def test_flags_not_given_leave_the_options_unset() -> None:
    options = flags.parse_build_args([])
    assert (options.release, options.targets, options.compiler, options.include) == (
        None,
        None,
        None,
        None,
    )
    assert flags.parse_build_args(["--no-verify", "-vv"]).verify is False
    assert flags.parse_build_args(["-vv"]).verbose == 1  # -v streams output, -vv adds cargo -v


def test_bad_flag_values_are_the_converters_errors() -> None:
    with pytest.raises(UnknownCompilerError, match="unknown compiler 'gcc'"):
        flags.parse_build_args(["--compiler", "gcc"])
    with pytest.raises(ConfigError, match="unknown runtime 'provided'"):
        flags.parse_build_args(["--runtime", "provided"])
    with pytest.raises(click.UsageError):
        flags.parse_build_args(["--no-such-flag"])


def test_deploy_flags_become_typed_deploy_options() -> None:
    got = parsed(
        flags.deploy_flags,
        [
            "hello",
            "--json",
            "--memory-size",
            "256",
            "--layer",
            "arn:a,arn:b",
            "--layer-arn",
            "arn:c",
            "--tag",
            "team=rust,env=dev",
            "--tracing",
            "active",
            "--function-url-auth",
            "aws_iam",
            "--arm64",
            "--env-var",
            "A=1,B=2",
            "--subnet-ids",
            "s1, s2",
            "--lambda-dir",
            "out",
            "--max-parallel",
            "4",
        ],
    )
    assert isinstance(got, flags.DeployFlags) and got.json and not got.quiet
    options = got.options
    assert (options.name, options.memory, options.arch) == ("hello", 256, Arch.ARM64)
    assert options.layers == ("arn:a", "arn:b", "arn:c")
    assert options.tags == {"team": "rust", "env": "dev"}
    assert (options.tracing, options.function_url_auth) == (TracingMode.ACTIVE, UrlAuth.AWS_IAM)
    assert options.env == {"A": "1", "B": "2"}
    assert options.subnet_ids == ("s1", "s2")
    assert options.lambda_dir == Path.cwd() / "out"
    assert options.runtime is None and options.all is False
    assert options.max_parallel == 4


def test_deploy_output_format() -> None:
    assert parsed(flags.deploy_flags, ["-o", "json"]).json
    assert not parsed(flags.deploy_flags, []).json
    with pytest.raises(ConfigError, match="--arm64 and --x86-64"):
        parsed(flags.deploy_flags, ["--arm64", "--x86-64"])


def test_watch_flags_become_typed_watch_options() -> None:
    got = parsed(
        flags.watch_flags,
        ["--invoke-port", "0", "--timeout", "2.5", "--env-var", "A=1", "--env-file", ".env", "-r"],
    )
    assert isinstance(got, flags.WatchFlags)
    options = got.options
    assert (options.invoke_port, options.timeout, options.memory_size) == (0, 2.5, 128)
    assert options.env == {"A": "1"} and options.env_file == Path(".env")
    assert options.build.release is True and options.invoke_address is None


def test_every_flag_of_a_command_is_a_row_of_its_sections() -> None:
    """The commands' flags come from the table (each row says which commands take its flags),
    and no flag twice: not among the rows, not between a row and a refused flag."""
    for command in (Command.BUILD, Command.WATCH, Command.DEPLOY, Command.SYSTEM):
        rows = [r for r in table.ROWS if command in r.flag_commands]
        decls = [d for row in rows for f in row.flags for d in f.decls]
        decls += [d for r in table.refusals(command) for d in r.decls]
        assert len(decls) == len(set(decls)), command
        assert all(command in row.commands for row in rows if row.flags), command
    assert Command.WATCH in Section.BUILD.flag_commands  # watch builds
    # one row serves several commands; a row may keep a flag to one command
    assert table.CONTEXT.flag_commands == (
        Command.BUILD,
        Command.WATCH,
        Command.DEPLOY,
        Command.SYSTEM,
    )
    assert table.BUILD_ENV_VARS.flag_commands == (Command.BUILD,)
