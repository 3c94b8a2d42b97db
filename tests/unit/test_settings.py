"""The settings model: one converter per type, one resolver, and where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustlambda.builder.settings import build_chains
from rustlambda.errors import ConfigError
from rustlambda.options import BuildOptions, OutputFormat
from rustlambda.project import Workspace
from rustlambda.settings import table
from rustlambda.settings.convert import Split, Strings
from rustlambda.settings.metadata import Metadata
from rustlambda.settings.model import Context, Section, SourceKind
from rustlambda.targets import Runtime

from .fakes import write_workspace

CTX = Context("test", Path("/"), "key")


@pytest.mark.parametrize(
    ("split", "raw", "expected"),
    [
        (Split.STRINGS, "a, b,,c", ("a", "b", "c")),
        (Split.STRINGS, ["a,b", " c "], ("a", "b", "c")),
        (Split.FEATURES, "a b,c", ("a", "b", "c")),
        (Split.FEATURES, ["a b", "c"], ("a", "b", "c")),
        (Split.PATHS, ["my dir", "x,y"], ("my dir", "x,y")),
        (Split.PATHS, "a,b", ("a", "b")),
        (Split.ARGUMENTS, "--offline  --locked", ("--offline", "--locked")),
        (Split.ARGUMENTS, ["--config", "a b"], ("--config", "a b")),
    ],
)
def test_one_list_rule_per_type(split: Split, raw: object, expected: tuple[str, ...]) -> None:
    assert Strings(split)(raw, CTX) == expected


def _workspace(tmp_path: Path, ws: str = "", pkg: str = "") -> Workspace:
    metadata = write_workspace(
        tmp_path, {"svc": ["api"]}, workspace_toml=ws, package_toml={"svc": pkg}
    )
    return Workspace.from_metadata(metadata)


def test_every_value_says_where_it_came_from(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\noutput_format = "zip"\nruntime = "provided.al2"',
        pkg='[package.metadata.lambda.bin.api.build]\nruntime = "provided.al2023"',
    )
    chains, _ = build_chains(
        BuildOptions(cwd=tmp_path, release=True),
        {"CARGO_LAMBDA_LAMBDA_DIR": "out"},
        ws,
        ws.bins,
    )
    chain = chains["api"]
    found = {
        row.name: (value, source) for row, value, source in chain.explain(table.rows(Section.BUILD))
    }
    assert found["release"][0] is True
    assert found["release"][1].kind is SourceKind.OPTIONS
    assert found["lambda_dir"][0] == Path("out")
    assert str(found["lambda_dir"][1]) == "CARGO_LAMBDA_LAMBDA_DIR"
    assert found["runtime"][0] is Runtime.AL2023  # the binary's table beats the workspace's
    assert str(found["runtime"][1]) == "[package.metadata.lambda.bin.api.build] of svc"
    assert found["runtime"][1].path == tmp_path / "svc" / "Cargo.toml"
    assert found["output_format"][0] is OutputFormat.ZIP
    assert str(found["output_format"][1]) == "[workspace.metadata.lambda.build]"
    assert found["profile"][1].kind is SourceKind.DEFAULT


def test_unknown_keys_read_the_same_in_every_table(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path,
        ws="[workspace.metadata.lambda.watch]\ntimout = 3\n"
        "[workspace.metadata.lambda.deploy]\ntimout = 3\n",
        pkg="[package.metadata.lambda.build]\nrelese = true\n",
    )
    metadata = Metadata(ws)
    for section in (Section.BUILD, Section.WATCH, Section.DEPLOY):
        metadata.read_all(section)
    assert sorted(metadata.warnings) == [
        "unknown key 'relese' in [package.metadata.lambda.build] of svc "
        "(did you mean 'release'?); it is ignored",
        "unknown key 'timout' in [workspace.metadata.lambda.deploy] "
        "(did you mean 'timeout'?); it is ignored",
        "unknown key 'timout' in [workspace.metadata.lambda.watch] "
        "(did you mean 'timeout'?); it is ignored",
    ]
    assert metadata.warnings_of(Section.WATCH) == [metadata.warnings[1]]


def test_a_key_of_two_tables_is_two_rows_each_with_its_type(tmp_path: Path) -> None:
    """``timeout``: seconds (a float) for watch, whole seconds 1..900 for deploy."""
    ws = _workspace(
        tmp_path,
        ws="[workspace.metadata.lambda.watch]\ntimeout = 2.5\n"
        "[workspace.metadata.lambda.deploy]\ntimeout = 2.5\n",
    )
    metadata = Metadata(ws)
    assert metadata.layer(Section.WATCH, None, None).values == {table.WATCH_TIMEOUT: 2.5}
    metadata.layer(Section.DEPLOY, None, None)
    with pytest.raises(ConfigError) as caught:
        metadata.check()
    assert "[workspace.metadata.lambda.deploy]: timeout must be a whole number" in str(caught.value)


def test_bad_values_of_several_tables_are_reported_together(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path,
        ws="[workspace.metadata.lambda.deploy]\nmemory = 1\n[workspace.metadata.lambda]\nenv = 3\n",
        pkg='[package.metadata.lambda.watch]\nconcurrency = "two"\n',
    )
    metadata = Metadata(ws)
    for section in (Section.LAMBDA, Section.WATCH, Section.DEPLOY):
        metadata.read_all(section)
    with pytest.raises(ConfigError) as caught:
        metadata.check()
    message = caught.value.message
    assert message.startswith("3 configuration problems")
    assert "env must be a table of strings" in message
    assert "concurrency must be a whole number from 1 to 65535" in message
    assert "memory must be a whole number from 128 to 10240" in message


def test_every_metadata_key_belongs_to_one_row() -> None:
    seen: dict[tuple[Section, str], str] = {}
    for row in table.ROWS:
        for key in row.keys:
            assert (row.section, key) not in seen, (key, seen.get((row.section, key)))
            seen[row.section, key] = row.name
        assert row.help and row.convert.describe
