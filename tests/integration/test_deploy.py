"""``rustlambda deploy`` against moto's server: real boto3, real HTTP on 127.0.0.1.

Builds of tests/fixtures/std-workspace (both architectures, arm64 cross-compiled) are deployed as
a user runs the CLI (a new process, AWS_* variables pointing at the local endpoint). What
happened is observed from the endpoint itself: the functions' state through boto3, and every
request the CLI made through moto's request recorder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import rustlambda
from rustlambda import Arch, BuildOptions, Target
from rustlambda.elf import read_elf

from .conftest import Moto, copy_fixture, run_cli

X86 = Target.for_arch(Arch.X86_64)
ARM = Target.for_arch(Arch.ARM64)


@dataclass
class Recorded:
    """The requests one CLI run made: (method, path) pairs and their JSON bodies."""

    calls: list[tuple[str, str]]
    bodies: list[Any]

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, p in self.calls if m == method and p.endswith(suffix))

    def body(self, method: str, suffix: str) -> Any:
        pairs = zip(self.calls, self.bodies, strict=True)
        (body,) = [b for (m, p), b in pairs if m == method and p.endswith(suffix)]
        return body

    @property
    def changing(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.calls if m not in ("GET", "HEAD")]


class Recording:
    def __init__(self, moto: Moto) -> None:
        self.moto = moto

    # Through moto's recorder API, not its file: moto fixes the file's path once per process
    # (another module's server may have come first).
    def __enter__(self) -> Recorded:
        self.moto.post("/moto-api/recorder/reset-recording")
        self.moto.post("/moto-api/recorder/start-recording")
        self.result = Recorded([], [])
        return self.result

    def __exit__(self, *exc: object) -> None:
        self.moto.post("/moto-api/recorder/stop-recording")
        for line in self.moto.post("/moto-api/recorder/download-recording").splitlines():
            entry = json.loads(line)
            path = entry["url"].split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
            self.result.calls.append((entry["method"], "/" + path))
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode(errors="replace")
            try:
                self.result.bodies.append(json.loads(body))
            except ValueError:
                self.result.bodies.append(body)


@dataclass
class Built:
    ws: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Built:
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("deploy"))
    rustlambda.build(
        BuildOptions(cwd=ws, targets=(X86, ARM), bins=("hello", "echo"), environ=build_env)
    )
    rustlambda.build(
        BuildOptions(cwd=ws, targets=(ARM,), bins=("probe-ext",), extension=True, environ=build_env)
    )
    return Built(ws)


@pytest.fixture
def ws(built: Built, tmp_path: Path) -> Path:
    """A private copy of the built workspace (tests edit Cargo.toml and zips appear)."""
    copy = tmp_path / "ws"
    shutil.copytree(built.ws, copy, symlinks=True)
    return copy


def deploy(ws: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = run_cli("deploy", "--json", *args, cwd=ws, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def code_sha256(deployment: dict[str, Any]) -> str:
    """Lambda's CodeSha256 of the zip a deployment reports (its SHA-256, base64)."""
    return base64.b64encode(bytes.fromhex(deployment["sha256"])).decode()


# ------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_creates_the_function_with_the_elf_architecture_and_a_role(
    moto: Moto, aws: dict[str, str], ws: Path, arch: str
) -> None:
    result = deploy(ws, aws, "hello", f"--{arch.replace('_', '-')}")
    (d,) = result["deployments"]
    assert d["status"] == "created" and d["code_updated"] is True
    bootstrap = ws / "target/lambda" / arch / "hello/bootstrap"
    assert read_elf(bootstrap).arch is Arch(arch)
    # zipped in a temporary folder: deploy writes nothing next to the build
    assert d["zip_path"] is None and not bootstrap.with_name("bootstrap.zip").exists()

    lam, iam = moto.client("lambda"), moto.client("iam")
    config = lam.get_function(FunctionName="hello")["Configuration"]
    assert config["Architectures"] == [arch]
    assert config["Runtime"] == "provided.al2023"
    assert config["Handler"] == "bootstrap"
    assert config["CodeSha256"] == code_sha256(d)
    # the workspace's [workspace.metadata.lambda.env] reaches the function, as it does in build
    assert config["Environment"]["Variables"] == {"GREETING": "hello"}
    role = iam.get_role(RoleName="rustlambda-hello")["Role"]
    assert config["Role"] == role["Arn"] == d["role_created"]
    assert "lambda.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
    attached = iam.list_attached_role_policies(RoleName="rustlambda-hello")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]


def test_unchanged_redeploy_uploads_nothing(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    deploy(ws, aws, "hello", "--x86-64")
    lam = moto.client("lambda")
    before = lam.get_function(FunctionName="hello")["Configuration"]

    with Recording(moto) as recorded:
        again = deploy(ws, aws, "hello", "--x86-64")

    (d,) = again["deployments"]
    assert d["status"] == "unchanged"
    assert d["code_updated"] is False and d["config_updated"] == [] and d["role_created"] is None
    assert recorded.calls, "the recorder saw no request at all"
    assert recorded.count("GET", "/functions/hello") >= 1
    assert recorded.changing == []  # no UpdateFunctionCode, no configuration, no role
    after = lam.get_function(FunctionName="hello")["Configuration"]
    assert after["CodeSha256"] == before["CodeSha256"]
    assert after["LastModified"] == before["LastModified"]


def test_changed_code_is_uploaded_once(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    deploy(ws, aws, "hello", "--x86-64")
    lam = moto.client("lambda")
    before = lam.get_function(FunctionName="hello")["Configuration"]
    other = ws / "target/lambda/x86_64/echo/bootstrap"  # new code for the same function

    with Recording(moto) as recorded:
        result = deploy(ws, aws, "hello", "--binary-path", str(other))

    (d,) = result["deployments"]
    assert d["status"] == "updated" and d["code_updated"] is True and d["config_updated"] == []
    assert recorded.count("PUT", "/functions/hello/code") == 1
    assert recorded.count("PUT", "/functions/hello/configuration") == 0
    after = lam.get_function(FunctionName="hello")["Configuration"]
    assert after["CodeSha256"] == code_sha256(d) != before["CodeSha256"]


def test_switching_architecture_updates_code_and_architecture(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    deploy(ws, aws, "hello", "--x86-64")
    with Recording(moto) as recorded:
        (d,) = deploy(ws, aws, "hello", "--arm64")["deployments"]
    assert d["status"] == "updated" and d["code_updated"] is True and d["arch"] == "arm64"
    # moto stores the code but not a new architecture: check what was asked of Lambda
    update = recorded.body("PUT", "/functions/hello/code")
    assert update["Architectures"] == ["arm64"]
    zipped = base64.b64decode(update["ZipFile"])
    assert hashlib.sha256(zipped).hexdigest() == d["sha256"] and len(zipped) == d["size"]


def test_publish_alias_and_function_url(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    args = ("hello", "--x86-64", "--alias", "live", "--enable-function-url")
    (d,) = deploy(ws, aws, *args)["deployments"]
    lam = moto.client("lambda")
    assert d["version"] == "1" and d["alias"] == "live"
    assert lam.get_alias(FunctionName="hello", Name="live")["FunctionVersion"] == "1"
    url = lam.get_function_url_config(FunctionName="hello", Qualifier="live")
    assert url["AuthType"] == "NONE" and d["url"] == url["FunctionUrl"]
    policy = json.loads(lam.get_policy(FunctionName="hello", Qualifier="live")["Policy"])
    actions = sorted(s["Action"] for s in policy["Statement"])
    assert actions == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]

    # nothing changed: no new version, no new statements
    with Recording(moto) as recorded:
        (same,) = deploy(ws, aws, *args)["deployments"]
    assert same["version"] == "1" and same["url"] == d["url"]
    assert recorded.changing == []

    # a configuration change publishes version 2 and moves the alias
    (changed,) = deploy(ws, aws, *args, "--memory", "256")["deployments"]
    assert changed["config_updated"] == ["MemorySize"] and changed["version"] == "2"
    assert lam.get_alias(FunctionName="hello", Name="live")["FunctionVersion"] == "2"

    (off,) = deploy(ws, aws, "hello", "--x86-64", "--alias", "live", "--disable-function-url")[
        "deployments"
    ]
    assert off["url"] is None
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName="hello", Qualifier="live")


def test_settings_and_env_from_metadata_cli_overriding(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    manifest = ws / "functions/hello/Cargo.toml"
    manifest.write_text(
        manifest.read_text()
        + '\n[package.metadata.lambda.env]\nFROM_ENV_TABLE = "1"\n'
        + "\n[package.metadata.lambda.deploy]\n"
        + 'memory = 512\ntimeout = 10\ntracing = "active"\n'
        + 'env_var = ["FROM_DEPLOY=2"]\nenv_file = ".env"\ntags = { team = "rust" }\n'
    )
    (ws / "functions/hello/.env").write_text("# comment\nFROM_FILE=3\n")
    (d,) = deploy(ws, aws, "hello", "--x86-64", "--timeout", "20", "--env-var", "FROM_CLI=4")[
        "deployments"
    ]
    assert d["status"] == "created"
    found = moto.client("lambda").get_function(FunctionName="hello")
    config = found["Configuration"]
    assert config["MemorySize"] == 512
    assert config["Timeout"] == 20  # the flag wins over the metadata
    assert config["TracingConfig"]["Mode"] == "Active"
    assert config["Environment"]["Variables"] == {
        "GREETING": "hello",
        "FROM_ENV_TABLE": "1",
        "FROM_DEPLOY": "2",
        "FROM_FILE": "3",
        "FROM_CLI": "4",
    }
    assert found["Tags"] == {"team": "rust"}


def test_extension_publishes_a_layer_version_once(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    (d,) = deploy(ws, aws, "probe-ext", "--extension")["deployments"]
    assert d["kind"] == "extension" and d["status"] == "published" and d["version"] == "1"
    assert d["zip_path"] is None  # zipped in a temporary folder
    assert not (ws / "target/lambda/extensions/probe-ext.zip").exists()
    lam = moto.client("lambda")
    layer = lam.get_layer_version(LayerName="probe-ext", VersionNumber=1)
    assert layer["CompatibleArchitectures"] == ["arm64"]  # from the ELF
    # zig links against glibc 2.34 (al2023): provided.al2 (2.26) could not run it
    assert layer["CompatibleRuntimes"] == ["provided.al2023"]
    assert layer["Content"]["CodeSha256"] == code_sha256(d)

    (again,) = deploy(ws, aws, "probe-ext", "--extension")["deployments"]
    assert again["status"] == "unchanged" and again["version"] == "1"
    assert len(lam.list_layer_versions(LayerName="probe-ext")["LayerVersions"]) == 1


def test_dry_run_changes_nothing(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    with Recording(moto) as recorded:
        result = deploy(ws, aws, "hello", "--x86-64", "--dry-run", "--alias", "live")
    (d,) = result["deployments"]
    assert result["dry_run"] is True and d["status"] == "would create"
    assert any("create function hello" in a for a in d["actions"])
    assert any("create IAM role rustlambda-hello" in a for a in d["actions"])
    assert recorded.calls and recorded.changing == []
    lam = moto.client("lambda")
    assert lam.list_functions()["Functions"] == []

    text = run_cli("deploy", "hello", "--x86-64", "--dry", cwd=ws, env=aws)
    assert text.returncode == 0, text.stderr
    assert "hello (function, x86_64): would create" in text.stdout


def test_dry_run_shows_the_configuration_and_what_would_change_on_the_live_function(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    (first,) = deploy(
        ws, aws, "hello", "--x86-64", "--env-var", "SECRET=hunter2,OLD=x", "--tag", "team=a"
    )["deployments"]
    change = ("--memory", "256", "--env-var", "SECRET=changed,NEW=1", "--tag", "team=b")
    with Recording(moto) as recorded:
        text = run_cli("deploy", "hello", "--x86-64", "--dry-run", *change, cwd=ws, env=aws)
        as_json = deploy(ws, aws, "hello", "--x86-64", "--dry-run", *change)
    assert recorded.changing == []  # read-only: GetFunction (the live configuration)
    assert recorded.count("GET", "/functions/hello") == 2
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    arn = "arn:aws:lambda:us-east-1:123456789012:function:hello"
    # the deploy zips into a temporary folder: the dry run names the bootstrap it zips, and
    # the zip is the same bytes the first deploy uploaded
    bootstrap = ws / "target/lambda/x86_64/hello/bootstrap"
    live = moto.client("lambda").get_function(FunctionName="hello")["Configuration"]
    role = live["Role"]
    assert lines == [
        f"hello (function, x86_64): would update  {arn}",
        "  architecture  x86_64",
        "  runtime       provided.al2023",
        "  memory        256 MB",
        "  timeout       3 s (as it is)",
        f"  role          {role} (as it is)",
        "  environment   GREETING=***, NEW=***, SECRET=***",
        "  layers        none (as it is)",
        "  tags          team=b",
        f"  zipped from   {bootstrap.relative_to(ws)}",
        f"  zip size      {live['CodeSize']:,} bytes",
        f"  sha256        {first['sha256']}",
        "  against the live function, it would:",
        "  - update MemorySize: 128 → 256",
        "  - update Environment: add NEW; change SECRET; remove OLD (values not shown)",
        "  - tag team=b",
    ]
    assert "hunter2" not in text.stdout + text.stderr and "changed" not in text.stdout
    (d,) = as_json["deployments"]
    assert d["status"] == "would update"
    assert d["configuration"]["environment"] == "GREETING=***, NEW=***, SECRET=***"
    assert d["configuration"]["memory"] == "256 MB"
    live = moto.client("lambda").get_function(FunctionName="hello")["Configuration"]
    assert live["MemorySize"] == 128 and live["Environment"]["Variables"]["SECRET"] == "hunter2"


def test_s3_upload(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="rustlambda-artifacts")
    (d,) = deploy(ws, aws, "hello", "--x86-64", "--s3-bucket", "rustlambda-artifacts")[
        "deployments"
    ]
    assert d["status"] == "created"
    body = s3.get_object(Bucket="rustlambda-artifacts", Key="hello")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == d["sha256"]

    missing = run_cli(
        "deploy", "echo", "--x86-64", "--s3-bucket", "no-such-bucket", cwd=ws, env=aws
    )
    assert missing.returncode == 23
    assert "NoSuchBucket" in missing.stderr and "Traceback" not in missing.stderr


def test_a_failure_after_creating_the_role_reports_the_role(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    layer = "arn:aws:lambda:us-east-1:123456789012:layer:missing:1"
    done = run_cli("deploy", "hello", "--x86-64", "--layer", layer, cwd=ws, env=aws)
    assert done.returncode == 23, done.stderr
    assert "CreateFunction for hello failed: ResourceNotFoundException" in done.stderr
    role = moto.client("iam").get_role(RoleName="rustlambda-hello")["Role"]["Arn"]
    assert f"created IAM role {role}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("drop", "message", "fix"),
    [
        (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "no AWS credentials found", "--profile"),
        (("AWS_REGION",), "no AWS region set", "--region"),
    ],
)
def test_missing_credentials_or_region(
    moto: Moto, aws: dict[str, str], ws: Path, drop: tuple[str, ...], message: str, fix: str
) -> None:
    env = {k: v for k, v in aws.items() if k not in drop}
    with Recording(moto) as recorded:
        done = run_cli("deploy", "hello", "--x86-64", cwd=ws, env=env)
    assert done.returncode == 22
    assert f"error: {message}" in done.stderr and fix in done.stderr
    assert "Traceback" not in done.stderr
    assert recorded.calls == []

    profile = run_cli("deploy", "hello", "--x86-64", "--profile", "nope", cwd=ws, env=aws)
    assert profile.returncode == 22 and "profile 'nope' does not exist" in profile.stderr


def test_an_artifact_that_fails_verification_is_refused_before_any_call(
    moto: Moto, aws: dict[str, str], ws: Path
) -> None:
    with Recording(moto) as recorded:
        # built for provided.al2023 (glibc 2.34): provided.al2's glibc 2.26 cannot load it
        old = run_cli("deploy", "hello", "--x86-64", "--runtime", "provided.al2", cwd=ws, env=aws)
        script = ws / "bootstrap"
        script.write_text("#!/bin/sh\necho hi\n")
        fake = run_cli("deploy", "hello", "--binary-path", str(script), cwd=ws, env=aws)
    assert old.returncode == 15, old.stderr
    assert "GLIBC_2.34" in old.stderr or "2.34" in old.stderr
    assert fake.returncode == 15, fake.stderr
    assert recorded.calls == []
    assert "Traceback" not in old.stderr + fake.stderr


def test_several_binaries_need_a_name_or_all(moto: Moto, aws: dict[str, str], ws: Path) -> None:
    done = run_cli("deploy", "--x86-64", cwd=ws, env=aws)
    assert done.returncode == 2
    assert "several binaries" in done.stderr and "--all" in done.stderr

    both = run_cli("deploy", "hello", cwd=ws, env=aws)  # built for two architectures
    assert both.returncode == 2 and "--arm64 or --x86-64" in both.stderr

    result = deploy(ws, aws, "--all", "--arm64")
    assert sorted(d["name"] for d in result["deployments"]) == ["echo", "hello"]
    assert "probe-ext" in " ".join(result["warnings"])  # an extension: not a function build
