"""Every command of ``cli.COMMANDS``, run as a user runs it, with bad inputs: each ends with its
documented exit code, one ``error:`` line followed by a ``fix:`` line, and no traceback.

A command added to ``cli.COMMANDS`` without cases here fails `test_every_command_has_cases`.
Nothing is compiled: every case fails before cargo builds (at most ``cargo metadata`` runs).
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustlambda.cli import COMMANDS
from tests.damage import damaged_zip

from .conftest import copy_fixture, run_cli
from .faults import assert_one_error

#: A static x86_64 executable that verifies as a bootstrap (Debian's libc-bin).
STATIC_ELF = Path("/sbin/ldconfig")


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # "{ws}" and "{files}" are replaced by the folders below
    code: int
    says: str  # a fragment of the error line
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = "{ws}"
    tool_output: bool = False  # cargo failed: its own output (error: lines) comes first

    @property
    def command(self) -> str:
        return self.argv[0]


#: AWS keys that look valid (nothing checks them before a request is sent).
_KEYS = (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"))
#: An AWS endpoint nothing listens on, tried once.
_CANNOT_REACH = ("--endpoint-url", "http://127.0.0.1:{closed_port}", "--retry-attempts", "1")

CASES = [
    # ---- build
    Case(("build", "--bogus"), 2, "No such option"),
    Case(("build", "--runtime", "provided.al1"), 2, "unknown runtime"),
    Case(("build", "--release", "--profile", "dev"), 2, "conflict"),
    Case(("build", "--internal"), 2, "--internal only applies with --extension"),
    Case(("build", "-j", "many"), 2, "many"),
    Case(("build", "--manifest-path", "{files}/nowhere/Cargo.toml"), 3, "no Cargo.toml"),
    Case(("build",), 3, "no Cargo.toml", cwd="{files}"),
    Case(("build", "--manifest-path", "{files}/broken/Cargo.toml"), 4, "not valid TOML"),
    Case(("build", "--manifest-path", "{files}/latin1/Cargo.toml"), 4, "not UTF-8"),
    Case(("build", "--bin", "nope"), 6, "no binary named 'nope'"),
    Case(("--global", "{files}/latin1/Cargo.toml", "build"), 2, "not UTF-8 text"),
    Case(("build", "--target", "sparc-unknown-linux-gnu"), 7, "unsupported target"),
    Case(("build", "--target", "x86_64-unknown-linux-gnu.2.99"), 7, "no Lambda runtime"),
    Case(("build", "--compiler", "gcc"), 8, "gcc"),
    Case(("build",), 9, "was not found", (("CARGO", "/nonexistent/cargo"),)),
    Case(
        ("build", "--target-dir", "{files}/notes.txt"), 13, "a file is in the way", tool_output=True
    ),
    Case(("build", "-o", "zip", "--include", "/etc/passwd"), 14, "absolute path"),
    Case(("build", "-o", "zip", "--include", "../outside"), 14, "outside the zip root"),
    # ---- watch
    Case(("watch", "--bogus"), 2, "No such option"),
    Case(("watch", "--invoke-port", "99999"), 2, "99999"),
    Case(("watch", "--concurrency", "0"), 2, "concurrency"),
    Case(("watch", "--timeout", "-1"), 2, "timeout"),
    Case(("watch", "--manifest-path", "{files}/nowhere/Cargo.toml"), 3, "no Cargo.toml"),
    Case(("watch", "--bin", "nope"), 6, "no binary named 'nope'"),
    # ---- invoke
    Case(("invoke", "--invoke-port", "abc"), 2, "not a valid integer"),
    Case(("invoke", "--data-ascii", "{{}}", "--data-file", "x.json"), 2, "both give"),
    Case(("invoke", "--data-file", "{files}/missing.json"), 2, "--data-file"),
    Case(("invoke", "--client-context-file", "{files}/latin1/Cargo.toml"), 2, "not UTF-8"),
    Case(("invoke", "--data-example", "nope"), 18, "nope"),
    Case(("invoke", "--invoke-port", "{closed_port}"), 19, "no Lambda emulator answered"),
    # ---- deploy
    Case(("deploy", "--bogus"), 2, "No such option"),
    Case(("deploy", "--memory", "5"), 2, "128<=x<=10240"),
    Case(("deploy", "hello", "--runtime", "nodejs20.x"), 2, "runtime"),
    Case(("deploy", "hello", "--binary-path", "{files}/missing"), 13, "does not exist"),
    Case(("deploy", "hello", "--binary-path", "{files}/empty"), 13, "not a file"),
    Case(("deploy", "hello", "--lambda-dir", "{files}/empty"), 13, "no build of the function"),
    Case(
        ("deploy", "hello", "--binary-path", "{files}/bootstrap", "--include", "/etc/passwd"),
        14,
        "absolute path",
    ),
    Case(("deploy", "hello", "--binary-path", "{files}/notes.txt"), 15, "not an ELF"),
    Case(("deploy", "hello", "--binary-path", "{files}/damaged.zip"), 15, "encrypted"),
    Case(("deploy", "hello", "--binary-path", "{files}/bootstrap"), 22, "credentials"),
    Case(("deploy", "--all", "--max-parallel", "0"), 2, "1<=x<=64"),
    Case(("deploy", "--all", "hello"), 2, "--all deploys every built binary"),
    Case(
        ("deploy", "hello", "--binary-path", "{files}/bootstrap", "--endpoint-url", "notaurl"),
        2,
        "not a URL",
        _KEYS,
    ),
    Case(
        ("deploy", "hello", "--binary-path", "{files}/bootstrap", *_CANNOT_REACH),
        23,
        "cannot reach",
        _KEYS,
    ),
    Case(("deploy", "--all", "--lambda-dir", "{files}/empty"), 13, "no built function"),
    # ---- invoke --remote (AWS's Invoke API through boto3)
    Case(("invoke", "--remote", "hello"), 22, "no AWS credentials"),
    Case(("invoke", "--remote", "hello", "--profile", "nope"), 22, "profile 'nope'"),
    Case(("invoke", "--remote", "hello", "--endpoint-url", "notaurl"), 2, "not a URL", _KEYS),
    Case(("invoke", "--remote", "", *_CANNOT_REACH), 2, "FunctionName", _KEYS),
    Case(("invoke", "--remote", "hello", "--data-example", "nope"), 18, "nope"),
    Case(("invoke", "--remote", "hello", *_CANNOT_REACH), 19, "Could not connect", _KEYS),
    # ---- new / init (scaffold)
    Case(("new",), 2, "Missing argument 'PATH'"),
    Case(("new", "{files}/fresh"), 2, "no template chosen"),
    Case(("new", "-y", "--http", "--extension", "{files}/fresh"), 2, "choose different"),
    Case(("new", "-y", "--event-type", "nope", "{files}/fresh"), 2, "no template for"),
    Case(("new", "-y", "{files}/not.valid"), 2, "contains '.'"),
    Case(("new", "-y", "--name", "n", "{files}/notes.txt"), 24, "not a directory"),
    Case(("new", "-y", "{files}/nonempty"), 24, "not empty"),
    Case(("new", "-y", "{files}/notes.txt/my-fn"), 13, "a file is where a folder is needed"),
    Case(("init", "-y", "--bogus"), 2, "No such option"),
    Case(("init", "-y", "{ws}"), 24, "already holds a Cargo.toml"),
    Case(("init", "-y", "--name", "n", "{files}/notes.txt"), 24, "not a directory"),
    Case(("init", "-y", "{files}/notes.txt/my-fn"), 13, "a file is where a folder is needed"),
    # ---- system
    Case(("system", "--bogus"), 2, "No such option"),
    Case(("system", "extra"), 2, "unexpected extra argument"),
    # ---- verify
    Case(("verify", "--bogus"), 2, "No such option"),
    Case(("verify", "--runtime", "provided.al1", "{files}/bootstrap"), 2, "unknown runtime"),
    Case(("verify", "{files}/missing"), 13, "does not exist"),
    Case(("verify", "{files}/empty"), 13, "no Lambda artifacts"),
    Case(("verify", "{files}/fifo"), 13, "neither a file nor a folder"),
    Case(("verify", "{files}/notes.txt"), 15, "not executable (mode 0644)"),
    Case(("verify", "{files}/damaged.zip"), 15, "encrypted"),
    Case(("verify", "--arm64", "{files}/bootstrap"), 15, "built for x86_64"),
    # ---- no command at all
    Case(("nosuchcommand",), 2, "No such command"),
]


def test_every_command_has_cases() -> None:
    covered = {case.command for case in CASES}
    assert set(COMMANDS) <= covered, f"add bad-input cases for {set(COMMANDS) - covered}"


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("cli-errors")
    ws = copy_fixture("std-workspace", base)
    files = base / "files"
    (files / "broken").mkdir(parents=True)
    (files / "broken/Cargo.toml").write_text('[package\nname = "x"\n')
    (files / "latin1").mkdir()
    (files / "latin1/Cargo.toml").write_bytes(b'[package]\nname = "caf\xe9"\n')
    (files / "empty").mkdir()
    (files / "nonempty").mkdir()
    (files / "nonempty/mine.txt").write_text("mine\n")
    (files / "notes.txt").write_text("not a program\n")
    os.mkfifo(files / "fifo")
    shutil.copy2(STATIC_ELF, files / "bootstrap")
    damaged_zip(files / "damaged.zip", STATIC_ELF.read_bytes(), "encrypted")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = str(sock.getsockname()[1])
    return {"ws": str(ws), "files": str(files), "closed_port": closed_port}


@pytest.fixture(scope="module")
def user_env(build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A user's environment without AWS credentials, profiles or instance metadata."""
    empty = tmp_path_factory.mktemp("no-aws")
    env = {k: v for k, v in build_env.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(empty / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(empty / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_REGION="us-east-1",
    )
    return env


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(c.argv))
def test_bad_input_is_one_error_with_a_fix(
    case: Case, places: dict[str, str], user_env: dict[str, str]
) -> None:
    argv = [arg.format(**places) for arg in case.argv]
    env = {**user_env, **dict(case.env)}
    done = run_cli(*argv, cwd=Path(case.cwd.format(**places)), env=env, timeout=300)
    assert done.returncode == case.code, done.stderr
    assert "Traceback" not in done.stdout
    assert_one_error(done.stderr, case.says, tool_output=case.tool_output)
