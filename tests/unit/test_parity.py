"""cargo-lambda 1.9.2 parity: every flag of its --help (tests/data/cargo_lambda_flags.json) is
accepted by rustlambda's parser, refused with its own error naming the alternative, or listed as
coming; every documented configuration key is read the same, refused, or coming; README's
parity tables are what that gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustlambda import flags
from rustlambda.options import OutputFormat
from rustlambda.settings import table
from rustlambda.settings.model import Section
from tests import parity

README = Path(__file__).resolve().parents[2] / "README.md"
DATA = parity.load()
FLAGS = [
    (command, decl, entry["value"])
    for command, entries in DATA["commands"].items()
    for entry in entries
    for decl in entry["decls"]
]


def test_the_captured_help_is_cargo_lambda_1_9_2_with_every_command() -> None:
    assert DATA["cargo_lambda"] == "1.9.2"
    assert set(DATA["commands"]) == {"lambda", "build", "watch", "invoke", "deploy", "system"}
    assert len(FLAGS) > 200  # every spelling of every flag, not a sample


@pytest.mark.parametrize(("command", "decl", "metavar"), FLAGS)
def test_every_cargo_lambda_flag_is_decided(command: str, decl: str, metavar: str | None) -> None:
    verdict = parity.classify(command, [decl], metavar)[decl]
    assert verdict.outcome in (
        parity.Outcome.SAME,
        parity.Outcome.REFUSED,
        parity.Outcome.COMING,
    ), verdict
    if verdict.outcome is parity.Outcome.REFUSED:
        reason, _, alternative = verdict.detail.partition(" → ")
        assert reason and alternative  # one error: why, and what to use instead


def test_refused_and_coming_flags_are_the_tables() -> None:
    """Nothing is refused or coming by accident: exactly the table's entries are."""
    refused = {
        (command, decl)
        for command, decl, metavar in FLAGS
        if parity.classify(command, [decl], metavar)[decl].outcome is parity.Outcome.REFUSED
    }
    captured = {(command, decl) for command, decl, _ in FLAGS}
    expected = {
        (command.value, decl)
        for r in table.REFUSALS
        for command in r.commands
        for decl in r.decls
        if (command.value, decl) in captured
    } | {("watch", "ARGS")}
    assert refused == expected
    coming = {
        (c, d)
        for c, d, m in FLAGS
        if parity.classify(c, [d], m)[d].outcome is parity.Outcome.COMING
    }
    assert coming == {
        (c.value, d) for entry in table.COMING for c in entry.commands for d in entry.decls
    }
    assert ("watch", "--wait") not in refused | coming  # --wait, --only-lambda-apis and
    assert ("watch", "--only-lambda-apis") not in refused | coming  # --disable-cors work


@pytest.mark.parametrize(
    ("section", "key"), [(s, k) for s, keys in DATA["keys"].items() for k in keys]
)
def test_every_documented_key_is_decided(section: str, key: str) -> None:
    verdict = parity.classify_key(section, key)
    assert verdict.outcome is not parity.Outcome.UNKNOWN, (section, key)


def test_flags_cargo_lambda_documents_beyond_its_help() -> None:
    """--router (watch's router is a key in 1.9.2) is refused on the command line too;
    --invoke-timeout is --timeout; --qualifier is invoke's --alias."""
    assert parity.classify("watch", ["--router"], "<ROUTER>")["--router"].outcome is (
        parity.Outcome.REFUSED
    )
    assert parity.classify("watch", ["--invoke-timeout"], "<TIMEOUT>")[
        "--invoke-timeout"
    ].outcome is (parity.Outcome.SAME)
    assert parity.classify("invoke", ["--qualifier"], "<ALIAS>")["--qualifier"].outcome is (
        parity.Outcome.SAME
    )


def test_known_gaps_of_issue_14_are_closed() -> None:
    """-c, -i, case-insensitive -o, cargo's own flags, build --env-var, the jobs/locked keys."""
    for command, decl in [
        ("build", "-c"),
        ("build", "-i"),
        ("build", "--config"),
        ("build", "-Z"),
        ("build", "--timings"),
        ("build", "--message-format"),
        ("build", "--keep-going"),
        ("build", "--exclude"),
        ("build", "--all"),
        ("build", "--bins"),
        ("build", "--ignore-rust-version"),
        ("build", "--color"),
        ("build", "--env-var"),
        ("build", "--env-file"),
        ("watch", "--env-var"),
        ("deploy", "--env-var"),
    ]:
        metavar = next(m for c, d, m in FLAGS if (c, d) == (command, decl))
        assert parity.classify(command, [decl], metavar)[decl].outcome is parity.Outcome.SAME
    for value, expected in (
        ("Zip", OutputFormat.ZIP),
        ("ZIP", OutputFormat.ZIP),
        ("Binary", OutputFormat.BINARY),
    ):
        assert flags.parse_build_args(["-o", value]).output_format is expected
    for key in ("jobs", "locked"):
        assert parity.classify_key(Section.BUILD.value, key).outcome is parity.Outcome.SAME


def test_readme_parity_tables_are_generated() -> None:
    """Regenerate with: python -m tests.parity README.md"""
    found = parity.tables(README.read_text(encoding="utf-8"))
    assert set(found) == {"flags", "keys", "counts"}
    assert found["flags"] == parity.flags_table(DATA)
    assert found["keys"] == parity.keys_table(DATA)
    assert found["counts"] == parity.counts_markdown(DATA)
