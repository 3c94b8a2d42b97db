"""The TypeScript constructs (``typescript/``, npm package rustlambda-cdk) as a TypeScript user
meets them: ``npm ci``, ``npm test`` (tsc, then node's test runner: props, the Docker command,
errors, shared builds with a fake rustlambda), then a real CDK app compiled by tsc and
synthesized by node over a copy of examples/hello-world, whose assets are served by rustlambda's
emulator and invoked with boto3 (arm64 under qemu).

Node and npm are required: without them these tests fail, they do not skip. The app runs once
per module (both architectures, an extension layer, hooks); rustlambda is the one of this
checkout's virtualenv, behind a wrapper that logs every build into the hooks' log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rustlambda.elf import read_elf
from rustlambda.emulator import EmulatorSettings, FunctionSpec, running
from rustlambda.targets import Arch

from .conftest import REPO, copy_fixture, lambda_client

TS = REPO / "typescript"
APP_JS = TS / "build" / "test" / "app" / "app.js"
STACK = "RustLambdaHelloTs"


def require_node() -> None:
    """node and npm on PATH, or a failure (never a skip): CI must run these tests."""
    for name in ("node", "npm"):
        if shutil.which(name) is None:
            pytest.fail(
                f"{name} is needed for the TypeScript constructs' tests: install Node.js 20 or "
                "newer with npm (this machine's image has it; Debian: apt-get install nodejs npm)"
            )


def run(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def node_modules_current() -> bool:
    """Whether node_modules holds what package-lock.json pins (npm's hidden lockfile says what
    is installed; optional packages of other platforms are not)."""
    installed_lock = TS / "node_modules" / ".package-lock.json"
    if not installed_lock.is_file():
        return False
    installed = json.loads(installed_lock.read_text())["packages"]
    for name, pinned in json.loads((TS / "package-lock.json").read_text())["packages"].items():
        if not name or (pinned.get("optional") and name not in installed):
            continue
        if installed.get(name, {}).get("version") != pinned.get("version"):
            return False
    return True


@dataclass(frozen=True)
class NpmTest:
    output: str
    passed: int
    failed: int


@pytest.fixture(scope="module")
def npm_test() -> NpmTest:
    """``npm ci`` (when node_modules is not what the lock pins), then ``npm test``."""
    require_node()
    if not node_modules_current():
        done = run(["npm", "ci", "--no-audit", "--no-fund"], TS)
        assert done.returncode == 0, done.stdout + done.stderr
    done = run(["npm", "test"], TS)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    counts = {
        line.split()[1]: int(line.split()[2])
        for line in output.splitlines()
        if line.startswith(("# pass ", "# fail "))
    }
    return NpmTest(output, counts.get("pass", 0), counts.get("fail", -1))


def test_npm_test_compiles_the_package_and_passes(npm_test: NpmTest) -> None:
    assert npm_test.failed == 0 and npm_test.passed >= 35, npm_test.output[-5000:]
    for declarations in ("index.d.ts", "function.d.ts", "extension.d.ts", "types.d.ts"):
        assert (TS / "lib" / declarations).is_file()
    assert APP_JS.is_file()


# ------------------------------------------------------------------------------ the CDK app
@dataclass(frozen=True)
class AppRun:
    """One ``node infra/app.js`` over a copy of hello-world."""

    workspace: Path
    outdir: Path
    hook_log: Path
    done: subprocess.CompletedProcess[str]

    @property
    def template(self) -> dict[str, Any]:
        return dict(json.loads((self.outdir / f"{STACK}.template.json").read_text()))

    def logical_id(self, construct_id: str) -> str:
        """The function's or layer's logical id: the construct id and an 8-digit hash."""
        pattern = re.compile(rf"{construct_id}[0-9A-F]{{8}}")
        [found] = [str(k) for k in self.template["Resources"] if pattern.fullmatch(k)]
        return found

    def resource(self, construct_id: str) -> dict[str, Any]:
        return dict(self.template["Resources"][self.logical_id(construct_id)])

    def asset(self, construct_id: str) -> Path:
        return self.outdir / str(self.resource(construct_id)["Metadata"]["aws:asset:path"])

    def asset_paths(self) -> dict[str, str]:
        return {
            k: v["Metadata"]["aws:asset:path"]
            for k, v in self.template["Resources"].items()
            if "aws:asset:path" in v.get("Metadata", {})
        }


@dataclass(frozen=True)
class AppEnv:
    base: dict[str, str]
    extension_workspace: Path


@pytest.fixture(scope="module")
def app_env(
    npm_test: NpmTest, build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AppEnv:
    """node finds rustlambda-cdk and aws-cdk-lib through NODE_PATH, as an installed package."""
    base = tmp_path_factory.mktemp("ts-app")
    node_path = base / "node_path"
    node_path.mkdir()
    (node_path / "rustlambda-cdk").symlink_to(TS)
    rustlambda = Path(sys.executable).parent / "rustlambda"
    assert rustlambda.is_file(), "run scripts/setup.sh: the virtualenv has no rustlambda"
    wrapper = base / "rustlambda"
    wrapper.write_text(f'#!/bin/sh\necho "rustlambda $*" >> "$HOOK_LOG"\nexec {rustlambda} "$@"\n')
    wrapper.chmod(0o755)
    env = {
        **build_env,
        "NODE_PATH": f"{node_path}:{TS / 'node_modules'}",
        "RUSTLAMBDA": str(wrapper),
    }
    return AppEnv(env, copy_fixture("std-workspace", base))


def run_app(
    app_env: AppEnv, workspace: Path, outdir: Path, extra: Mapping[str, str] | None = None
) -> AppRun:
    """``node infra/app.js`` in ``workspace`` (a copy of hello-world), as a user runs it."""
    (workspace / "infra").mkdir(exist_ok=True)
    shutil.copyfile(APP_JS, workspace / "infra" / "app.js")
    hook_log = outdir.parent / f"{outdir.name}.log"
    env = {
        **app_env.base,
        "CDK_OUTDIR": str(outdir),
        "HOOK_LOG": str(hook_log),
        "EXTENSION_WORKSPACE": str(app_env.extension_workspace),
        **(extra or {}),
    }
    done = run(["node", "infra/app.js"], workspace, env)
    return AppRun(workspace, outdir, hook_log, done)


@pytest.fixture(scope="module")
def synth(app_env: AppEnv, tmp_path_factory: pytest.TempPathFactory) -> AppRun:
    base = tmp_path_factory.mktemp("ts-synth")
    app = run_app(app_env, copy_fixture("hello-world", base), base / "cdk.out")
    assert app.done.returncode == 0, app.done.stderr[-20000:]
    return app


def test_template_runtime_handler_architectures_props_and_layer(synth: AppRun) -> None:
    greet, reverse, greet_arm, reverse_arm = (
        synth.resource(p)["Properties"] for p in ("Greet", "Reverse", "GreetArm", "ReverseArm")
    )
    for props in (greet, reverse, greet_arm, reverse_arm):
        assert (props["Runtime"], props["Handler"]) == ("provided.al2023", "bootstrap")
    assert greet["Architectures"] == reverse["Architectures"] == ["x86_64"]
    assert greet_arm["Architectures"] == reverse_arm["Architectures"] == ["arm64"]
    assert (greet["MemorySize"], greet["Timeout"]) == (256, 5)
    assert greet["Environment"] == {"Variables": {"LOG_LEVEL": "info"}}
    layer = synth.resource("Probe")
    assert greet_arm["Layers"] == [{"Ref": synth.logical_id("Probe")}]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["provided.al2023"]


def hook_log_events(app: AppRun) -> list[str]:
    """The hooks' lines and, in between, each rustlambda build as `build <workspace> <arch>`."""
    events = []
    for line in app.hook_log.read_text().splitlines():
        words = line.split()
        if words[:2] == ["rustlambda", "build"]:
            manifest = Path(words[words.index("--manifest-path") + 1])
            target = words[words.index("--target") + 1]
            events.append(f"build {manifest.parent.name} {target.split('-')[0]}")
        else:
            events.append(" ".join(words[:2]))
    return events


def test_one_build_per_workspace_and_architecture_hooks_in_order(synth: AppRun) -> None:
    # five assets: the layer (std-workspace), four functions of hello-world on two architectures.
    # ReverseArm's beforeBundling hook runs before a build that sees its effect: that arm64
    # build runs again (cargo has nothing to do); Reverse and GreetArm copy from shared builds.
    assert hook_log_events(synth) == [
        "build std-workspace aarch64",
        "before Greet",
        "build hello-world x86_64",
        "after Greet",
        "build hello-world aarch64",
        "before ReverseArm",
        "build hello-world aarch64",
        "after ReverseArm",
    ]
    # inputDir is the directory of Cargo.lock (the workspace root), also for a member entry
    for line in synth.hook_log.read_text().splitlines():
        if line.startswith("before "):
            assert {"Cargo.lock", "Cargo.toml", "functions", "infra"} <= set(line.split()[2:])
    assert (synth.asset("Greet") / "hooked.txt").read_text() == "Greet\n"
    assert (synth.asset("ReverseArm") / "hooked.txt").read_text() == "ReverseArm\n"
    assert not (synth.asset("Reverse") / "hooked.txt").exists()


def function_spec(
    app: AppRun,
    construct_id: str,
    name: str,
    env: Mapping[str, str] | None = None,
    extensions: tuple[Path, ...] = (),
) -> FunctionSpec:
    """The function as the template defines it (environment, memory), served locally."""
    props = app.resource(construct_id)["Properties"]
    return FunctionSpec(
        name,
        app.asset(construct_id) / "bootstrap",
        env={**props.get("Environment", {}).get("Variables", {}), **(env or {})},
        memory_size=props.get("MemorySize", 128),
        # the template's timeout where it sets one; under qemu, on a busy machine, the
        # emulator's default (30 s) rather than Lambda's 3 s
        timeout=float(props.get("Timeout", 30)),
        extensions=extensions,
    )


def test_assets_are_bootstraps_that_serve_invocations(synth: AppRun, tmp_path: Path) -> None:
    extension = synth.asset("Probe") / "extensions" / "probe-ext"
    assert read_elf(extension).arch is Arch.ARM64
    probe_log = tmp_path / "probe-ext.jsonl"
    specs = [
        function_spec(synth, "Greet", "greet-x86_64"),
        function_spec(synth, "Reverse", "reverse-x86_64"),
        function_spec(
            synth,
            "GreetArm",
            "greet-arm64",
            env={"PROBE_EXT_LOG": str(probe_log)},
            extensions=(extension,),
        ),
        function_spec(synth, "ReverseArm", "reverse-arm64"),
    ]
    for spec, arch in zip(specs, (Arch.X86_64, Arch.X86_64, Arch.ARM64, Arch.ARM64), strict=True):
        assert read_elf(spec.bootstrap).arch is arch, spec.name
        assert spec.bootstrap.stat().st_mode & 0o777 == 0o755
    with running(specs, EmulatorSettings(port=0)) as emu:
        client = lambda_client(emu.url)
        answers = {
            spec.name: client.invoke(
                FunctionName=spec.name,
                Payload=b'{"name": "Ada"}' if spec.name.startswith("greet") else b'"abc"',
            )
            for spec in specs
        }
    for name, response in answers.items():
        assert response["StatusCode"] == 200 and "FunctionError" not in response, name
        body = json.loads(response["Payload"].read())
        if name.startswith("greet"):
            assert body == {"message": "Hello, Ada!"}, name
        else:
            assert body == {"reversed": '"cba"'}, name
    invoked = [json.loads(line) for line in probe_log.read_text().splitlines()]
    assert [e["eventType"] for e in invoked] == ["INVOKE", "SHUTDOWN"]
    assert invoked[0]["requestId"] == answers["greet-arm64"]["ResponseMetadata"]["RequestId"]


def test_a_new_synth_keeps_every_asset_hash(synth: AppRun, app_env: AppEnv) -> None:
    # a fresh node process: rustlambda runs again (cargo: nothing to do), the outputs are
    # byte-identical, so every output-hashed asset keeps its hash
    again = run_app(
        app_env, synth.workspace, synth.outdir.parent / "cdk.out.again", {"CDK_VALIDATION": "false"}
    )
    assert again.done.returncode == 0, again.done.stderr[-20000:]
    assert again.asset_paths() == synth.asset_paths()
    assert len(set(synth.asset_paths().values())) == 5


def test_a_build_error_is_readable_in_the_synth_output(
    synth: AppRun, app_env: AppEnv, tmp_path: Path
) -> None:
    workspace = copy_fixture("hello-world", tmp_path)
    main_rs = workspace / "functions" / "greet" / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text() + "\nfn broken( {\n")
    broken = run_app(app_env, workspace, tmp_path / "cdk.out")
    assert broken.done.returncode != 0
    stderr = broken.done.stderr
    for part in (
        f"Failed to bundle asset {STACK}/Greet/Code/Stage",
        "RustFunction 'Greet': rustlambda build failed (exit code 12)",
        "error: this file contains an unclosed delimiter",
        "--> functions/greet/src/main.rs",
        "error: cargo failed (exit code 101) building greet, reverse",
        "fix: fix the errors cargo reports above, then build again",
    ):
        assert part in stderr, stderr[-20000:]
    assert not (tmp_path / "cdk.out" / f"{STACK}.template.json").exists()


def test_a_missing_rustlambda_is_one_error_with_the_install_command(
    app_env: AppEnv, tmp_path: Path
) -> None:
    workspace = copy_fixture("hello-world", tmp_path)
    # no rustlambda, and a docker that does not answer (as on this machine: no Docker engine)
    extra = {"RUSTLAMBDA": str(tmp_path / "nowhere" / "rustlambda"), "CDK_DOCKER": "false"}
    missing = run_app(app_env, workspace, tmp_path / "cdk.out", extra)
    assert missing.done.returncode != 0
    assert missing.done.stderr.count("fix: pip install rustlambda") == 1, missing.done.stderr
    assert "does not exist or is not executable" in missing.done.stderr
