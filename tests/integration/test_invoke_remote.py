"""``rustlambda invoke --remote`` as a user runs it, against moto's Lambda on 127.0.0.1.

How far moto goes: it stores functions, versions and aliases and answers Invoke, but runs a
function only in Docker (there is none here): every invoke of an existing function comes back as
a function error ("error running docker: ...", ``FunctionError: Handled``) with an empty log, an
unknown function as ResourceNotFoundException, and an unknown alias is not checked. So this test
covers the request reaching AWS's API and the answers' handling end to end; the request itself
(qualifier, LogType=Tail, client context, SigV4 with the profile's key and region) and the log
tail are checked against a recording endpoint in tests/unit/test_invoke_cli.py.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .conftest import run_cli


@pytest.fixture(scope="module")
def moto_lambda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """moto with a function ``api`` (version 1, alias ``live``) in eu-west-3, and an
    environment whose credentials and region exist only in a profile file."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    session = boto3.Session(
        aws_access_key_id="AKIAPROFILEONLY",
        aws_secret_access_key="secret",
        region_name="eu-west-3",
    )
    iam = session.client("iam", endpoint_url=url)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n")
    lam = session.client("lambda", endpoint_url=url)
    lam.create_function(
        FunctionName="api",
        Runtime="provided.al2023",
        Role=role,
        Handler="bootstrap",
        Code={"ZipFile": code.getvalue()},
    )
    version = lam.publish_version(FunctionName="api")["Version"]
    lam.create_alias(FunctionName="api", Name="live", FunctionVersion=version)
    root = tmp_path_factory.mktemp("aws")
    (root / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAPROFILEONLY\naws_secret_access_key = secret\n"
    )
    (root / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(root / "credentials"),
        AWS_CONFIG_FILE=str(root / "config"),
    )
    try:
        yield url, env
    finally:
        server.stop()


def test_remote_invoke_reaches_the_deployed_function(
    moto_lambda: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = moto_lambda
    done = run_cli(
        "invoke",
        "--remote",
        "api",
        "--profile",
        "dev",
        "--qualifier",
        "live",
        "--endpoint-url",
        url,
        "--data-example",
        "apigw-request",
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    # moto answers as Lambda does for a function that failed (it cannot run it: no Docker)
    assert done.returncode == 20, done.stderr
    assert "error running docker" in done.stdout
    assert "api failed" in done.stderr and "Traceback" not in done.stderr


def test_remote_invoke_of_a_missing_function_is_refused(
    moto_lambda: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = moto_lambda
    done = run_cli(
        "invoke", "-R", "nope", "-p", "dev", "--endpoint-url", url, cwd=tmp_path, env=env
    )
    assert done.returncode == 21, done.stderr
    assert "ResourceNotFoundException" in done.stderr
    assert "function:nope" in done.stderr and "eu-west-3" in done.stderr  # the profile's region
