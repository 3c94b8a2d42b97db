"""``watch``'s new settings (flags and metadata keys) and how they reach the emulator: max
concurrency, only the Lambda APIs, waiting for the first build, the AWS profile and region.
And the emulator's answer to an invoke during the first build. Nothing is run: bootstraps are
never started (an invoke is answered before any instance would be)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest

from rustlambda import flags
from rustlambda import watch as watch_mod
from rustlambda.emulator import Emulator, EmulatorSettings, FunctionSpec
from rustlambda.emulator.client import invoke
from rustlambda.errors import ConfigError, InvokeRequestError
from rustlambda.layout import ArtifactKind
from rustlambda.options import BuildOptions
from rustlambda.serving import planned_functions
from rustlambda.watch import WatchOptions, emulator_settings

from .fakes import REAL_ELF


def parsed(argv: list[str]) -> WatchOptions:
    @click.command()
    @flags.watch_flags
    def capture(flags: Any) -> Any:
        return flags

    got = capture.invoke(capture.make_context("watch", argv))
    assert isinstance(got, flags.WatchFlags)
    return got.options


def test_new_watch_flags() -> None:
    options = parsed(
        [
            "--max-concurrency",
            "4",
            "--only-lambda-apis",
            "-w",
            "--aws-profile",
            "dev",
            "--region",
            "eu-west-3",
            "--invoke-timeout",
            "7",
            "--profile",
            "release-lto",  # cargo's profile, as for build
        ]
    )
    assert (options.max_concurrency, options.only_lambda_apis, options.wait) == (4, True, True)
    assert (options.aws_profile, options.region, options.timeout) == ("dev", "eu-west-3", 7.0)
    assert options.build.profile == "release-lto"
    unset = parsed([])
    assert (unset.max_concurrency, unset.only_lambda_apis, unset.wait, unset.region) == (
        None,
        None,
        None,
        None,
    )
    with pytest.raises(click.BadParameter):
        parsed(["--max-concurrency", "0"])


def _plan(tmp_path: Path, watch_table: dict[str, object]) -> Any:
    package = SimpleNamespace(
        name="api", manifest_path=tmp_path / "api" / "Cargo.toml", metadata={}
    )
    workspace = SimpleNamespace(
        root=tmp_path, metadata={"lambda": {"watch": watch_table}}, packages=[package]
    )
    return SimpleNamespace(workspace=workspace, selected=[SimpleNamespace(package="api")])


def test_new_watch_keys_from_the_workspace_metadata(tmp_path: Path) -> None:
    table = {
        "max_concurrency": 8,
        "only_lambda_apis": True,
        "wait": True,
        "aws_profile": "team",
        "region": "ap-south-1",
        "invoke_timeout": 12,
    }
    resolved, warnings = watch_mod.resolve_watch(
        WatchOptions(build=BuildOptions(), region="us-west-2"), _plan(tmp_path, table)
    )
    assert not warnings
    assert (resolved.max_concurrency, resolved.only_lambda_apis, resolved.wait) == (8, True, True)
    assert (resolved.aws_profile, resolved.timeout) == ("team", 12.0)
    assert resolved.region == "us-west-2"  # the flag wins
    defaults, _ = watch_mod.resolve_watch(WatchOptions(build=BuildOptions()), _plan(tmp_path, {}))
    assert (defaults.max_concurrency, defaults.only_lambda_apis, defaults.wait) == (1, False, False)


def test_region_and_profile_reach_the_functions(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    (tmp_path / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIDEV\naws_secret_access_key = secret\n"
    )
    environ = {
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    base = EmulatorSettings(environ=environ)
    options = WatchOptions(build=BuildOptions(), settings=base, aws_profile="dev")
    settings, aws = emulator_settings(options)
    assert settings.region == "eu-west-3" and aws is not None
    assert settings.credentials is not None
    assert settings.credentials()["AWS_ACCESS_KEY_ID"] == "AKIDEV"
    flagged, _ = emulator_settings(WatchOptions(build=BuildOptions(), settings=base, region="x-1"))
    assert flagged.region == "x-1"
    # credentials the caller brings are kept; only a given region applies
    own = EmulatorSettings(environ=environ, credentials=dict, region="us-east-2")
    kept, none = emulator_settings(WatchOptions(build=BuildOptions(), settings=own))
    assert none is None and kept.credentials is dict and kept.region == "us-east-2"
    with pytest.raises(Exception, match="no AWS profile named 'nope'"):
        emulator_settings(WatchOptions(build=BuildOptions(), settings=base, aws_profile="nope"))


def test_only_lambda_apis_serves_each_planned_function_once(tmp_path: Path) -> None:
    def output(name: str, kind: ArtifactKind, arch: str) -> Any:
        binary = SimpleNamespace(name=name)
        return SimpleNamespace(binary=binary, kind=kind, dest=tmp_path / arch / name / "bootstrap")

    plan = SimpleNamespace(
        outputs=[
            output("api", ArtifactKind.FUNCTION, "x86_64"),
            output("api", ArtifactKind.FUNCTION, "arm64"),
            output("ext", ArtifactKind.EXTENSION, "x86_64"),
        ],
        settings=SimpleNamespace(functions={"api": SimpleNamespace(env={"FROM": "meta"})}),
    )
    options = WatchOptions(build=BuildOptions(), env={"CLI": "1"}, max_concurrency=3, timeout=9)
    served = planned_functions(plan, options)  # type: ignore[arg-type]
    assert [s.name for s in served.functions] == ["api"]
    spec = served.functions[0]
    assert dict(spec.env) == {"FROM": "meta", "CLI": "1"}
    assert (spec.max_concurrency, spec.timeout) == (3, 9)
    plan.outputs = plan.outputs[2:]
    with pytest.raises(ConfigError, match="none is selected"):
        planned_functions(plan, options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the first build


def _post(url: str, path: str, body: bytes = b"{}") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url + path, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _bootstrap(tmp_path: Path) -> Path:
    path = tmp_path / "bootstrap"
    path.write_bytes(REAL_ELF)
    path.chmod(0o755)
    return path


def test_an_invoke_during_the_first_build_is_answered_pending(tmp_path: Path) -> None:
    async def main() -> None:
        emu = Emulator([], EmulatorSettings(port=0, environ={}))
        await emu.start()
        try:
            emu.hold(wait=False)
            invocations = "/2015-03-31/functions/api/invocations"
            status, headers, body = await asyncio.to_thread(_post, emu.url, invocations)
            assert status == 409
            assert headers["x-amzn-ErrorType"] == "ResourceConflictException"
            message = json.loads(body)["message"]
            assert "the following state: Pending" in message and "--wait" in message
            # a function URL (any path, the functions are not known yet) gets a 503
            status, _, body = await asyncio.to_thread(_post, emu.url, "/anything")
            assert status == 503 and b"Pending" in body
            with pytest.raises(InvokeRequestError) as info:
                await asyncio.to_thread(invoke, emu.url, "api", b"{}")
            assert "--wait" in info.value.fix
            # served: answered as usual (an unknown name, so no process starts)
            await emu.update([FunctionSpec("other", _bootstrap(tmp_path))])
            status, headers, _ = await asyncio.to_thread(_post, emu.url, invocations)
            assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
        finally:
            await emu.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_with_wait_an_invoke_waits_for_the_first_build(tmp_path: Path) -> None:
    async def main() -> None:
        emu = Emulator([], EmulatorSettings(port=0, environ={}))
        await emu.start()
        try:
            emu.hold(wait=True)
            path = "/2015-03-31/functions/api/invocations"
            waiting = asyncio.ensure_future(asyncio.to_thread(_post, emu.url, path))
            await asyncio.sleep(0.5)
            assert not waiting.done()  # held while "building"
            await emu.update([FunctionSpec("other", _bootstrap(tmp_path))])
            status, _, body = await asyncio.wait_for(waiting, 20)
            assert status == 404 and b"serving: other" in body  # resolved after the build
            # a failed first build: the held invocations get why
            emu.hold(wait=True)
            failing = asyncio.ensure_future(asyncio.to_thread(_post, emu.url, path))
            await asyncio.sleep(0.5)
            await emu.fail_pending("cargo failed (exit code 101)")
            status, _, body = await asyncio.wait_for(failing, 20)
            assert status == 409
            assert "state: Failed (cargo failed (exit code 101))" in json.loads(body)["message"]
        finally:
            await emu.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_urls_lists_every_address_listened_on() -> None:
    async def main() -> None:
        emu = Emulator([], EmulatorSettings(port=0, environ={}))
        await emu.start()
        try:
            assert emu.urls[0] == emu.url
            assert all(url.endswith(f":{emu.port}") for url in emu.urls)
            assert len(emu.urls) in (1, 2)  # [::1] when this machine has IPv6
        finally:
            await emu.stop()

    asyncio.run(main())


# --------------------------------------------------------------------------- CORS


def _options(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method="OPTIONS", headers=headers
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, dict(response.headers)


def test_a_browsers_preflight_is_answered_without_invoking(tmp_path: Path) -> None:
    from rustlambda.emulator import running

    spec = FunctionSpec("api", _bootstrap(tmp_path))
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-token",
    }
    settings = EmulatorSettings(port=0, ipv6_loopback=False, environ={}, cors=True)
    with running([spec], settings) as emu:  # (the bootstrap is never started)
        status, headers = _options(emu.port, "/lambda-url/api/items", preflight)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert headers["Access-Control-Allow-Methods"] == "PUT"
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-token"
    assert headers["Access-Control-Allow-Credentials"] == "true"


def test_answers_to_a_browser_allow_its_origin() -> None:
    from rustlambda.emulator.cors import allow
    from rustlambda.emulator.httpserver import Request, Response

    browser = Request("GET", "/", {"origin": "http://localhost:3000"})
    answer = allow(Response(200, b"{}", {"Content-Type": "application/json"}), browser)
    headers = dict(answer.headers)
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert headers["Content-Type"] == "application/json"
    own = Response(200, b"", [("Access-Control-Allow-Origin", "https://app.example")])
    assert list(allow(own, browser).headers) == [
        ("Access-Control-Allow-Origin", "https://app.example")
    ]  # the function's own CORS answer stands
    curl = Request("GET", "/", {})
    assert allow(Response(200, b"", {}), curl).headers == {}


def test_disable_cors_flag_and_key() -> None:
    assert parsed(["--disable-cors"]).disable_cors is True
    settings, _ = emulator_settings(
        WatchOptions(build=BuildOptions(), settings=EmulatorSettings(credentials=dict))
    )
    assert settings.cors is True  # watch's default, as cargo lambda watch's
    off = WatchOptions(
        build=BuildOptions(), settings=EmulatorSettings(credentials=dict), disable_cors=True
    )
    assert emulator_settings(off)[0].cors is False
