"""What ``rustlambda build`` prints on a pipe (a CI log) for a real build of one small function
(tests/fixtures/std-workspace's ``hello``, debug, x86_64): a plain line as each stage starts, in
the build's order, cargo's warnings and its "Finished" line, the artifact line on stdout; and
for a build that fails, cargo's errors once."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import copy_fixture, run_cli

STAGES = [
    "info: building: resolving",
    "info: building: compiling hello for x86_64",
    "warning: function `unused_for_the_output_test` is never used",
    "Finished `dev` profile",
    "info: building: packaging 1 zip",
    "info: building: verifying 1 artifact for provided.al2023",
    "info: built hello for x86_64 in ",
    "info: verified 1 artifact for provided.al2023: all would start",
]


def test_a_build_on_a_pipe_says_each_stage_in_order(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    main = ws / "functions" / "hello" / "src" / "main.rs"
    main.write_text(main.read_text() + "\nfn unused_for_the_output_test() {}\n")
    argv = ("build", "--bin", "hello", "--x86-64", "--output-format", "zip")
    env = {k: v for k, v in build_env.items() if not k.startswith("CARGO_TERM_")}  # cargo's own
    done = run_cli(*argv, cwd=ws, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "\x1b" not in err + done.stdout  # a pipe gets no colours, no cursor movement
    where = [err.find(line) for line in STAGES]
    assert -1 not in where, err
    assert where == sorted(where), err
    assert "Building [" not in err  # cargo's bar is read for the counts, not printed
    zipped = ws / "target" / "lambda" / "hello" / "bootstrap.zip"
    assert re.fullmatch(rf"hello\tx86_64\t\d+\t{re.escape(str(zipped))}\n", done.stdout)

    main.write_text(main.read_text() + "\nfn broken() -> u32 { undefined_name }\n")
    failed = run_cli(*argv, cwd=ws, env=env, timeout=600)
    assert failed.returncode == 12, failed.stderr
    assert failed.stderr.count("error[E0425]") == 1, failed.stderr  # shown once, as it came
    assert "info: built" not in failed.stderr
    assert re.search(r"^error: cargo failed \(exit code 101\) building hello", failed.stderr, re.M)
