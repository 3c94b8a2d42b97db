"""Deploy's pure parts: metadata keys and layering, finding builds, configuration diffs, and the
role-propagation retry (botocore's Stubber stands in for IAM's propagation delay, which no local
endpoint reproduces)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from rustlambda.cli import cli
from rustlambda.deployer import apply, artifacts, function
from rustlambda.deployer.aws import Aws, connect
from rustlambda.deployer.settings import (
    DeployOptions,
    DeploySettings,
    function_chain,
    resolve_function,
)
from rustlambda.elf import read_elf
from rustlambda.errors import ArtifactError, AwsCredentialsError, ConfigError, DeployError
from rustlambda.layout import ArtifactKind
from rustlambda.project import BinKind, BinTarget, Package, Workspace
from rustlambda.settings.keyvalue import parse_tags
from rustlambda.settings.metadata import Metadata
from rustlambda.targets import Arch

from .fakes import REAL_ELF


def workspace(tmp_path: Path, package_meta: dict[str, Any], ws_meta: dict[str, Any]) -> Workspace:
    binary = BinTarget("hello", "hello", BinKind.BIN)
    package = Package(
        "hello", tmp_path / "hello" / "Cargo.toml", {"lambda": package_meta}, (binary,), ()
    )
    return Workspace(tmp_path, tmp_path / "target", (package,), ("hello",), {"lambda": ws_meta})


def settings_for(
    tmp_path: Path,
    options: DeployOptions,
    package_meta: dict[str, Any] | None = None,
    ws_meta: dict[str, Any] | None = None,
    base_env: dict[str, str] | None = None,
) -> tuple[DeploySettings, list[str]]:
    ws = workspace(tmp_path, package_meta or {}, ws_meta or {})
    metadata = Metadata(ws)
    chain = function_chain(options, tmp_path, metadata, ws.bins[0])
    metadata.check()
    warnings = metadata.warnings
    resolved = resolve_function(
        chain,
        binary="hello",
        base_env=base_env or {},
        build_include=(),
        build_extension=False,
        build_internal=False,
    )
    return resolved, warnings


# --- settings --------------------------------------------------------------------------------
def test_cargo_lambda_keys_and_aliases(tmp_path: Path) -> None:
    s, warnings = settings_for(
        tmp_path,
        DeployOptions(),
        package_meta={
            "deploy": {
                "memory_size": 1024,
                "timeout": 60,
                "tracing": "Active",
                "iam_role": "arn:aws:iam::1:role/r",
                "layers": ["arn:l:1", "arn:l:2"],
                "tags": {"team": "rust"},
                "env_vars": "A=1,B=2",
                "subnet_ids": "subnet-1, subnet-2",
                "output_format": "json",  # cargo-lambda's own output switch: accepted
            }
        },
    )
    assert warnings == []
    assert (s.memory, s.timeout, s.tracing) == (1024, 60, "Active")
    assert s.role == "arn:aws:iam::1:role/r"
    assert s.layers == ("arn:l:1", "arn:l:2")
    assert s.tags == {"team": "rust"}
    assert s.env == {"A": "1", "B": "2"}
    assert s.subnet_ids == ("subnet-1", "subnet-2")
    assert s.runtime == "provided.al2023" and s.name == "hello" and not s.publish


def test_precedence_cli_then_package_then_workspace(tmp_path: Path) -> None:
    s, _ = settings_for(
        tmp_path,
        DeployOptions(timeout=5, env={"C": "cli"}),
        package_meta={
            "deploy": {"timeout": 10, "memory": 256, "env_var": ["B=package", "C=package"]},
            "bin": {"hello": {"deploy": {"memory": 512}}},
        },
        ws_meta={"deploy": {"memory": 128, "region": "eu-west-1", "env_var": ["A=ws", "B=ws"]}},
        base_env={"BASE": "env-table"},
    )
    assert s.timeout == 5  # the flag
    assert s.memory == 512  # the binary's own table over the package's and the workspace's
    assert s.region == "eu-west-1"
    assert s.env == {"BASE": "env-table", "A": "ws", "B": "package", "C": "cli"}


def test_env_file_is_relative_to_its_manifest(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / ".env").write_text("export FROM_FILE='yes'\n")
    s, _ = settings_for(tmp_path, DeployOptions(), package_meta={"deploy": {"env_file": ".env"}})
    assert s.env == {"FROM_FILE": "yes"}


def test_no_env_anywhere_leaves_the_function_env_alone(tmp_path: Path) -> None:
    s, _ = settings_for(tmp_path, DeployOptions())
    assert s.env is None


def test_alias_implies_publish_and_url_auth(tmp_path: Path) -> None:
    s, _ = settings_for(
        tmp_path,
        DeployOptions(alias="live", enable_function_url=True, function_url_auth="aws_iam"),
    )
    assert s.publish and s.alias == "live"
    assert (s.function_url, s.function_url_auth) == ("enable", "AWS_IAM")


def test_unknown_key_warns_with_a_suggestion(tmp_path: Path) -> None:
    _, warnings = settings_for(tmp_path, DeployOptions(), ws_meta={"deploy": {"memroy": 256}})
    assert len(warnings) == 1
    assert "'memroy'" in warnings[0] and "did you mean 'memory'" in warnings[0]


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("memory", 64, "from 128 to 10240"),
        ("timeout", 901, "from 1 to 900"),
        ("tracing", "on", "active"),
        ("publish", "yes", "true or false"),
        ("layer", 3, "list of strings"),
        ("function_url_auth", "open", "AWS_IAM"),
    ],
)
def test_bad_metadata_values_name_the_table_and_the_fix(
    tmp_path: Path, key: str, value: object, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_for(tmp_path, DeployOptions(), package_meta={"deploy": {key: value}})
    assert "[package.metadata.lambda.deploy] of hello" in caught.value.message
    assert hint in caught.value.fix


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DeployOptions(name="no spaces"), "not a valid Lambda function"),
        (DeployOptions(alias="42"), "not a valid alias"),
        (DeployOptions(enable_function_url=True, disable_function_url=True), "both"),
    ],
)
def test_bad_options(tmp_path: Path, options: DeployOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path, options)


def test_tags_parse() -> None:
    assert parse_tags(["a=1,b=2", "c=x=y"]) == {"a": "1", "b": "2", "c": "x=y"}
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        parse_tags(["novalue"])


# --- finding the build -----------------------------------------------------------------------
def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_locate_single_and_two_architecture_layouts(tmp_path: Path) -> None:
    single = touch(tmp_path / "a" / "hello" / "bootstrap")
    assert artifacts.locate(tmp_path / "a", "hello", extension=False, flatten=None, arch=None) == (
        single
    )
    arm = touch(tmp_path / "b" / "arm64" / "hello" / "bootstrap")
    x86 = touch(tmp_path / "b" / "x86_64" / "hello" / "bootstrap")
    with pytest.raises(ConfigError, match="more than one architecture") as caught:
        artifacts.locate(tmp_path / "b", "hello", extension=False, flatten=None, arch=None)
    assert "--arm64 or --x86-64" in caught.value.fix
    for arch, expected in ((Arch.ARM64, arm), (Arch.X86_64, x86)):
        found = artifacts.locate(tmp_path / "b", "hello", extension=False, flatten=None, arch=arch)
        assert found == expected


def test_locate_prefers_the_newest_build_of_the_asked_architecture(tmp_path: Path) -> None:
    """A stale single-target layout next to a two-target one: the ELF says which is which."""
    old = tmp_path / "x86_64" / "hello" / "bootstrap"
    new = tmp_path / "hello" / "bootstrap"
    for path, mtime in ((old, 1_000_000), (new, 2_000_000)):
        path.parent.mkdir(parents=True)
        path.write_bytes(REAL_ELF)  # this host's architecture (x86_64 in CI)
        os.utime(path, (mtime, mtime))
    host = read_elf(new).arch
    assert artifacts.locate(tmp_path, "hello", extension=False, flatten=None, arch=None) == new
    os.utime(old, (3_000_000, 3_000_000))
    assert artifacts.locate(tmp_path, "hello", extension=False, flatten=None, arch=host) == old
    other = Arch.ARM64 if host is Arch.X86_64 else Arch.X86_64
    with pytest.raises(ArtifactError, match=f"no {other.value} build"):
        artifacts.locate(tmp_path, "hello", extension=False, flatten=None, arch=other)


def test_locate_zip_flattened_and_extension(tmp_path: Path) -> None:
    zipped = touch(tmp_path / "hello" / "bootstrap.zip")
    assert artifacts.locate(tmp_path, "hello", extension=False, flatten=None, arch=None) == zipped
    flat = touch(tmp_path / "flat" / "bootstrap")
    found = artifacts.locate(tmp_path / "flat", "solo", extension=False, flatten="solo", arch=None)
    assert found == flat
    ext = touch(tmp_path / "extensions" / "probe")
    assert artifacts.locate(tmp_path, "probe", extension=True, flatten=None, arch=None) == ext


def test_locate_missing_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as caught:
        artifacts.locate(tmp_path, "hello", extension=True, flatten=None, arch=None)
    assert "no build of the extension 'hello'" in caught.value.message
    assert "rustlambda build --release --extension --bin hello" in caught.value.fix


# --- configuration diff -----------------------------------------------------------------------
def plain(**overrides: Any) -> DeploySettings:
    base = resolve_function(
        function_chain(DeployOptions(**overrides), Path.cwd(), None, None),
        binary="hello",
        base_env={},
        build_include=(),
        build_extension=False,
        build_internal=False,
    )
    return base


DEPLOYED = {
    "Runtime": "provided.al2023",
    "Handler": "bootstrap",
    "MemorySize": 128,
    "Timeout": 3,
    "Role": "arn:aws:iam::1:role/r",
    "Environment": {"Variables": {"A": "1"}},
    "TracingConfig": {"Mode": "PassThrough"},
    "Layers": [{"Arn": "arn:l:1", "CodeSize": 1}],
    "Description": "",
}


def test_nothing_set_means_nothing_changes() -> None:
    desired = function.desired_config(plain(), None, DEPLOYED)
    assert function.config_changes(DEPLOYED, desired) == {}


def test_only_differing_fields_change() -> None:
    s = plain(memory=128, timeout=10, env={"A": "1"}, layers=("arn:l:1",), tracing="Active")
    desired = function.desired_config(s, "arn:aws:iam::1:role/r", DEPLOYED)
    changes = function.config_changes(DEPLOYED, desired)
    assert changes == {
        "Timeout": (3, 10),
        "TracingConfig": ({"Mode": "PassThrough"}, {"Mode": "Active"}),
    }


def test_env_replaces_unless_merged() -> None:
    replaced = function.desired_config(plain(env={"B": "2"}), None, DEPLOYED)
    assert replaced["Environment"] == {"Variables": {"B": "2"}}
    merged = function.desired_config(plain(env={"B": "2"}, merge_env=True), None, DEPLOYED)
    assert merged["Environment"] == {"Variables": {"A": "1", "B": "2"}}


def test_vpc_order_does_not_matter() -> None:
    deployed = {**DEPLOYED, "VpcConfig": {"SubnetIds": ["s2", "s1"], "SecurityGroupIds": ["g"]}}
    desired = function.desired_config(
        plain(subnet_ids=("s1", "s2"), security_group_ids=("g",)), None, deployed
    )
    assert function.config_changes(deployed, desired) == {}


def test_role_names_fit_iam() -> None:
    assert function.role_name_for("hello") == "rustlambda-hello"
    long = function.role_name_for("f" * 64)
    assert len(long) == 64 and long.startswith("rustlambda-fff")
    assert long != function.role_name_for("f" * 63 + "g")


# --- AWS: credentials and the role-propagation retry -----------------------------------------
def test_missing_credentials_and_region() -> None:
    anonymous = boto3.Session(region_name="us-east-1")
    anonymous._session.get_credentials = lambda: None  # type: ignore[method-assign]
    with pytest.raises(AwsCredentialsError, match="no AWS credentials"):
        connect(
            profile=None, region=None, endpoint_url=None, retry_attempts=None, session=anonymous
        )
    no_region = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b")
    if no_region.region_name is None:
        with pytest.raises(AwsCredentialsError, match="no AWS region") as caught:
            connect(
                profile=None,
                region=None,
                endpoint_url=None,
                retry_attempts=None,
                session=no_region,
            )
        assert "--region" in caught.value.fix


class _Silent:
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def command(self, argv: Any) -> None: ...
    def output(self, line: str) -> None: ...


def _stubbed(tmp_path: Path) -> tuple[Aws, Stubber, function.FunctionPlan]:
    session = boto3.Session(
        aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1"
    )
    aws = Aws(session=session)
    stub = Stubber(aws.lambda_)
    zipped = tmp_path / "bootstrap.zip"
    zipped.write_bytes(b"PK")
    package = artifacts.DeployPackage(
        binary="hello",
        kind=ArtifactKind.FUNCTION,
        source=zipped,
        zip_path=zipped,
        size=2,
        sha256="00" * 32,
        arch=Arch.ARM64,
        max_glibc=(2, 34),
        verification=None,  # type: ignore[arg-type]
    )
    s = plain(role="arn:aws:iam::123456789012:role/new")
    plan = function.FunctionPlan(
        settings=s,
        package=package,
        current=None,
        role=s.role,
        role_name="rustlambda-hello",
        config=function.desired_config(s, s.role, None),
    )
    return aws, stub, plan


CREATED = {
    "FunctionName": "hello",
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hello",
}
NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def test_create_retries_while_the_role_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws, stub, plan = _stubbed(tmp_path)
    sleeps: list[float] = []
    monkeypatch.setattr(apply, "_sleep", sleeps.append)
    for _ in range(2):
        stub.add_client_error(
            "create_function", "InvalidParameterValueException", NOT_ASSUMABLE, 400
        )
    stub.add_response("create_function", CREATED)
    stub.add_response("get_function", {"Configuration": {**CREATED, "State": "Active"}})
    stub.add_client_error("get_function_url_config", "ResourceNotFoundException", "none", 404)
    with stub:
        deployment = apply.apply_function(aws, plan, _Silent())
    stub.assert_no_pending_responses()
    assert deployment.status == "created"
    assert sleeps == [2.0, 4.0]


def test_create_gives_up_after_bounded_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws, stub, plan = _stubbed(tmp_path)
    plan.role = None  # rustlambda creates the role: the longer, bounded wait applies
    monkeypatch.setattr(apply, "_sleep", lambda seconds: None)
    iam = Stubber(aws.iam)
    iam.add_client_error("get_role", "NoSuchEntity", "no role", 404)
    role_arn = "arn:aws:iam::123456789012:role/rustlambda-hello"
    iam.add_response(
        "create_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "rustlambda-hello",
                "RoleId": "AROAEXAMPLEEXAMPLE1",
                "Arn": role_arn,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
    )
    iam.add_response("attach_role_policy", {})
    for _ in range(apply.ROLE_ATTEMPTS):
        stub.add_client_error(
            "create_function", "InvalidParameterValueException", NOT_ASSUMABLE, 400
        )
    with stub, iam, pytest.raises(DeployError) as caught:
        apply.apply_function(aws, plan, _Silent())
    stub.assert_no_pending_responses()
    assert caught.value.code == "InvalidParameterValueException"
    assert f"created IAM role {role_arn}" in caught.value.message


# --- CLI ---------------------------------------------------------------------------------------
def test_deploy_accepts_cargo_lambdas_flags() -> None:
    result = CliRunner().invoke(cli, ["deploy", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--profile",
        "--region",
        "--alias",
        "--retry-attempts",
        "--endpoint-url",
        "--enable-function-url",
        "--disable-function-url",
        "--memory",
        "--timeout",
        "--env-var",
        "--env-vars",
        "--env-file",
        "--tracing",
        "--role",
        "--iam-role",
        "--layer",
        "--layer-arn",
        "--subnet-ids",
        "--security-group-ids",
        "--ipv6-allowed-for-dual-stack",
        "--runtime",
        "--description",
        "--log-retention",
        "--lambda-dir",
        "--manifest-path",
        "--binary-name",
        "--binary-path",
        "--s3-bucket",
        "--s3-key",
        "--extension",
        "--internal",
        "--compatible-runtimes",
        "--output-format",
        "--tag",
        "--include",
        "--dry",
        "--merge-env",
        "--publish",
        "--all",
        "--dry-run",
        "--json",
    ):
        assert flag in result.output, flag
