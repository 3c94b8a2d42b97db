"""cargo-lambda's configuration sources as layers: CargoLambda.toml (with contexts),
CARGO_LAMBDA_<SECTION>.<KEY> variables, --admerge, nested tables, refused and coming keys, and
the one precedence order (`Level`) every chain follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustlambda.builder.settings import build_chains, resolve_build
from rustlambda.deployer.settings import DeployOptions, function_chain
from rustlambda.errors import ConfigError
from rustlambda.options import BuildOptions, Compiler, CompilerSettings, OutputFormat
from rustlambda.project import Workspace
from rustlambda.settings import table as t
from rustlambda.settings.cargolambda import GlobalConfig, env_value, select
from rustlambda.settings.metadata import Metadata
from rustlambda.settings.model import Level, Section, SourceKind
from rustlambda.settings.resolve import Chain
from rustlambda.targets import Arch, Target

from .fakes import write_workspace

X86 = (Target.for_arch(Arch.X86_64),)


def _workspace(tmp_path: Path, ws: str = "", pkg: str = "") -> Workspace:
    metadata = write_workspace(
        tmp_path, {"svc": ["api", "worker"]}, workspace_toml=ws, package_toml={"svc": pkg}
    )
    return Workspace.from_metadata(metadata)


def _chain(
    ws: Workspace, options: BuildOptions, environ: dict[str, str], binary: str = "api"
) -> tuple[Chain, Metadata]:
    selected = [b for b in ws.bins if b.name == binary]
    chains, meta = build_chains(options, environ, ws, selected)
    return chains[binary], meta


def test_each_level_beats_the_next_as_in_cargo_lambda(tmp_path: Path) -> None:
    """Peel the sources off one by one, highest first: each time the next one shows."""
    pieces = {
        Level.PACKAGE_BIN: '[package.metadata.lambda.bin.api.build]\nprofile = "package-bin"\n',
        Level.PACKAGE: '[package.metadata.lambda.build]\nprofile = "package"\n',
        Level.WORKSPACE_BIN: '[workspace.metadata.lambda.bin.api.build]\nprofile = "ws-bin"\n',
        Level.WORKSPACE: '[workspace.metadata.lambda.build]\nprofile = "workspace"\n',
        Level.CONTEXT: '[dev.build]\nprofile = "context"\n',
        Level.CONFIG_FILE: '[build]\nprofile = "file"\n',
    }
    expected = {
        Level.OPTIONS: "command line",
        Level.PACKAGE_BIN: "package-bin",
        Level.PACKAGE: "package",
        Level.WORKSPACE_BIN: "ws-bin",
        Level.WORKSPACE: "workspace",
        Level.CONTEXT: "context",
        Level.CONFIG_FILE: "file",
        Level.SECTION_ENV: "variable",
    }
    for level, value in expected.items():
        root = tmp_path / level.name
        root.mkdir()
        kept = {lv: text for lv, text in pieces.items() if lv >= level}
        ws = _workspace(
            root,
            ws="".join(kept.get(lv, "") for lv in (Level.WORKSPACE_BIN, Level.WORKSPACE)),
            pkg="".join(kept.get(lv, "") for lv in (Level.PACKAGE_BIN, Level.PACKAGE)),
        )
        file = "".join(kept.get(lv, "") for lv in (Level.CONTEXT, Level.CONFIG_FILE))
        (root / "CargoLambda.toml").write_text(file + "[other.build]\nrelease = true\n")
        options = BuildOptions(
            cwd=root,
            profile="command line" if level is Level.OPTIONS else None,
            context="dev" if Level.CONTEXT in kept or level is Level.OPTIONS else None,
        )
        chain, _ = _chain(ws, options, {"CARGO_LAMBDA_BUILD.PROFILE": "variable"})
        found = chain.find(t.PROFILE)
        assert found is not None and (found.value, found.source.level) == (value, level)


def test_a_flag_variable_ranks_as_its_flag(tmp_path: Path) -> None:
    """CARGO_LAMBDA_COMPILER beats metadata (clap's env = in cargo-lambda), not the flag."""
    ws = _workspace(tmp_path, ws='[workspace.metadata.lambda.build]\ncompiler = "cross"\n')
    environ = {"CARGO_LAMBDA_COMPILER": "cargo", "CARGO_LAMBDA_BUILD.COMPILER": "zig"}
    chain, _ = _chain(ws, BuildOptions(cwd=tmp_path), environ)
    assert chain.get(t.COMPILER).kind is Compiler.CARGO
    assert str(chain.source(t.COMPILER)) == "CARGO_LAMBDA_COMPILER"
    chain, _ = _chain(ws, BuildOptions(cwd=tmp_path, compiler=CompilerSettings()), environ)
    assert chain.get(t.COMPILER).kind is Compiler.ZIG


def test_variables_are_read_as_cargo_lambda_reads_them(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    environ = {
        "CARGO_LAMBDA_BUILD.RELEASE": "true",
        "CARGO_LAMBDA_BUILD.FEATURES": "[lambda, env]",
        "CARGO_LAMBDA_BUILD.JOBS": "3",
        "CARGO_LAMBDA_BUILD.RELESE": "true",
        "CARGO_LAMBDA_DEPLOY.MEMORY": "512",
        "CARGO_LAMBDA_DEPLOY.VPC.SUBNET_IDS": "[subnet-1, subnet-2]",
        "CARGO_LAMBDA_DEPLOY.ALIAS": "123",
        "CARGO_LAMBDA_INVOKE.X": "1",  # not configurable: left alone
    }
    chain, meta = _chain(ws, BuildOptions(cwd=tmp_path), environ)
    assert (chain.get(t.RELEASE), chain.get(t.FEATURES), chain.get(t.JOBS)) == (
        True,
        ("lambda", "env"),
        3,
    )
    assert str(chain.source(t.FEATURES)) == "CARGO_LAMBDA_BUILD.FEATURES"
    assert chain.source(t.FEATURES).kind is SourceKind.ENVIRONMENT
    assert meta.warnings == [
        "unknown key 'relese' in CARGO_LAMBDA_BUILD.<KEY> variables (did you mean 'release'?); "
        "it is ignored"
    ]
    deploy = function_chain(DeployOptions(), tmp_path, meta, ws.bins[0])
    assert deploy.get(t.MEMORY) == 512
    assert deploy.get(t.SUBNET_IDS) == ("subnet-1", "subnet-2")
    assert deploy.get(t.ALIAS) == "123"  # a string row keeps the text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("42", 42),
        ("1.5", 1.5),
        ("[a, b]", ["a", "b"]),
        ('["a,b", c]', ["a,b", "c"]),
        ("[]", []),
        ('"quoted"', "quoted"),
        ("plain text", "plain text"),
    ],
)
def test_env_value(text: str, value: object) -> None:
    assert env_value(text) == value


def test_a_context_is_read_over_the_plain_tables(tmp_path: Path) -> None:
    (tmp_path / "CargoLambda.toml").write_text(
        '[deploy]\nmemory = 256\nrole = "plain"\n[production.deploy]\nmemory = 1024\n'
        "[staging.deploy]\nmemory = 512\n"
    )
    ws = _workspace(tmp_path)
    for context, memory in ((None, 256), ("production", 1024), ("staging", 512)):
        sources = GlobalConfig(select(BuildOptions(context=context), {}, tmp_path), {}, tmp_path)
        chain = function_chain(DeployOptions(), tmp_path, Metadata(ws, sources), ws.bins[0])
        assert chain.get(t.MEMORY) == memory
        assert chain.get(t.ROLE) == "plain"  # the plain table under every context
    via_env = select(BuildOptions(), {"CARGO_LAMBDA_CONTEXT": "staging"}, tmp_path)
    assert via_env.context == "staging"
    unknown = GlobalConfig(select(BuildOptions(context="prod"), {}, tmp_path), {}, tmp_path)
    assert unknown.warnings == [
        f"context 'prod' has no tables in {tmp_path / 'CargoLambda.toml'} (contexts there: "
        "production, staging); only its plain tables apply"
    ]


def test_global_names_a_file_that_must_exist(tmp_path: Path) -> None:
    other = tmp_path / "conf" / "lambda.toml"
    other.parent.mkdir()
    other.write_text('[build]\noutput_format = "zip"\n')
    (tmp_path / "CargoLambda.toml").write_text('[build]\noutput_format = "binary"\n')
    assert select(BuildOptions(global_config=Path("conf/lambda.toml")), {}, tmp_path).path == other
    assert select(BuildOptions(), {"CARGO_LAMBDA_GLOBAL": str(other)}, tmp_path).path == other
    assert select(BuildOptions(), {}, tmp_path).path == tmp_path / "CargoLambda.toml"
    assert select(BuildOptions(), {}, other.parent).path is None  # none in that directory
    with pytest.raises(ConfigError, match="does not exist"):
        select(BuildOptions(global_config=Path("missing.toml")), {}, tmp_path)


def test_admerge_joins_the_lists_of_every_source(tmp_path: Path) -> None:
    (tmp_path / "CargoLambda.toml").write_text('[build]\ninclude = ["from-file"]\n')
    ws = _workspace(tmp_path, ws='[workspace.metadata.lambda.build]\ninclude = ["from-ws"]\n')
    options = BuildOptions(cwd=tmp_path, include=("from-cli",))
    chain, _ = _chain(ws, options, {"CARGO_LAMBDA_BUILD.INCLUDE": "[from-env, from-ws]"})
    assert chain.get(t.INCLUDE) == ("from-cli",)  # without --admerge the highest wins
    for flag in (True, None):  # --admerge, or CARGO_LAMBDA_ADMERGE
        environ = {"CARGO_LAMBDA_BUILD.INCLUDE": "[from-env, from-ws]"}
        if flag is None:
            environ["CARGO_LAMBDA_ADMERGE"] = "true"
        options = BuildOptions(cwd=tmp_path, include=("from-cli",), admerge=flag)
        chain, _ = _chain(ws, options, environ)
        assert chain.get(t.INCLUDE) == ("from-env", "from-ws", "from-file", "from-cli")
        assert str(chain.source(t.INCLUDE)) == (
            "CARGO_LAMBDA_BUILD.INCLUDE + CargoLambda.toml [build] + "
            "[workspace.metadata.lambda.build] + command line"
        )


def test_deploys_nested_tables_and_flat_keys(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.deploy.remote_config]\nregion = "eu-west-1"\n'
        'profile = "p"\n[workspace.metadata.lambda.deploy.vpc]\n'
        'subnet_ids = ["s-1"]\nsecurity_group_ids = ["sg-1"]\nipv6_allowed_for_dual_stack = true\n'
        "subnetids = 1\n",
        pkg='[package.metadata.lambda.deploy]\nregion = "us-east-2"\n',
    )
    meta = Metadata(ws)
    chain = function_chain(DeployOptions(), tmp_path, meta, ws.bins[0])
    assert chain.get(t.REGION) == "us-east-2"  # the package's flat key beats the workspace's
    assert chain.get(t.PROFILE_AWS) == "p"
    assert chain.get(t.SUBNET_IDS) == ("s-1",) and chain.get(t.SECURITY_GROUP_IDS) == ("sg-1",)
    assert chain.get(t.IPV6_DUAL_STACK) is True
    assert meta.warnings == [
        "unknown key 'vpc.subnetids' in [workspace.metadata.lambda.deploy] (did you mean "
        "'vpc.subnet_ids'?); it is ignored"
    ]
    (tmp_path / "bad").mkdir()
    bad = _workspace(tmp_path / "bad", ws='[workspace.metadata.lambda.deploy]\nvpc = "x"\n')
    bad_meta = Metadata(bad)
    function_chain(DeployOptions(), tmp_path, bad_meta, bad.bins[0])
    with pytest.raises(ConfigError, match="vpc must be a table"):
        bad_meta.check()


def test_refused_and_coming_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rustlambda.settings import metadata

    # nothing is coming at the moment: a key of the future shows the mechanism
    monkeypatch.setattr(
        metadata, "coming_keys", lambda section: {"future_key": "a branch: what it will do"}
    )
    ws = _workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\nbin = ["api"]\nlib = true\n'
        '[workspace.metadata.lambda.watch]\nfeatures = ["x"]\nfuture_key = true\n'
        "only_lambda_apis = true\n",
    )
    meta = Metadata(ws)
    meta.read_all(Section.BUILD)
    meta.layer(Section.WATCH, None, None)
    with pytest.raises(ConfigError) as caught:
        meta.check()
    message = caught.value.message
    assert message.startswith("3 configuration problems")
    assert "bin: rustlambda takes what to build" in message and "pass --bin" in message
    assert "lib: not supported: a Lambda function is a binary" in message
    assert "features: rustlambda watch builds with the build table's settings" in message
    assert meta.warnings_of(Section.WATCH) == [  # only_lambda_apis is a watch key now
        "future_key in [workspace.metadata.lambda.watch] is not supported yet (coming: "
        "a branch: what it will do); it is ignored"
    ]


def test_build_env_and_compiler_variables(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=file\nB=file\n")
    ws = _workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\nenv_file = ".env"\nenv_var = ["B=ws", "C=ws"]\n'
        'compiler = { type = "cargo", extra_args = ["--from-metadata"] }\n',
    )
    options = BuildOptions(cwd=tmp_path, env_vars={"C": "cli"})
    environ = {"CARGO_LAMBDA_COMPILER_EXTRA_ARGS": "--offline --locked"}
    settings = resolve_build(options, environ, ws, ws.bins[:1], X86)
    assert settings.build_env == {"A": "file", "B": "ws", "C": "cli"}
    assert settings.compiler == CompilerSettings(Compiler.CARGO, (), ("--offline", "--locked"))
    zig = resolve_build(
        BuildOptions(cwd=tmp_path, compiler=CompilerSettings()), environ, ws, ws.bins[:1], X86
    )
    assert zig.compiler == CompilerSettings()
    assert any("only apply to the cargo compiler" in w for w in zig.warnings)


def test_cargo_options_become_cargo_arguments(tmp_path: Path) -> None:
    ws = _workspace(
        tmp_path,
        ws="[workspace.metadata.lambda.build]\njobs = 2\nlocked = true\nverbose = 1\n"
        'config = ["profile.dev.debug=0"]\nmessage_format = "json"\n',
    )
    options = BuildOptions(cwd=tmp_path, timings=True, unstable_flags=("x",), color=None)
    settings = resolve_build(options, {}, ws, ws.bins[:1], X86)
    assert settings.cargo_flags == (
        "--locked",
        "--jobs",
        "2",
        "--timings",
        "--config",
        "profile.dev.debug=0",
        "-Z",
        "x",
        "--message-format",
        "json",
        "-v",
    )
    assert settings.output_format is OutputFormat.BINARY
