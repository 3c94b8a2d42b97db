"""AWS CDK constructs: ``RustFunction`` and ``RustExtension``, bundled by rustlambda's own build.

Needs the ``[cdk]`` extra (aws-cdk-lib v2 and constructs). Props follow the CDK RustFunction
construct (cdklabs/aws-lambda-rust) in Python's snake_case.

Bundling is local by default, through ``rustlambda.build()`` (zig comes from the Python
environment). All functions and extensions of one workspace, architecture and build settings in
one app share ONE cargo build: the first asset to bundle builds every binary of the workspace,
the others copy theirs from it. Assets are hashed from their output (the bootstrap), so an
unchanged binary keeps its asset hash and a code change re-uploads only the functions it touched.
Docker bundling (forced, or when no local toolchain is found) builds with rustlambda inside the
image.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import aws_cdk as cdk
import click
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import __version__, layout
from .builder import BuildResult, plan_build, run_plan
from .errors import ConfigError, ManifestNotFoundError, RustLambdaError, UnknownBinaryError
from .flags import parse_build_args
from .layout import ArtifactKind
from .options import BuildOptions, CompilerSettings
from .project import Workspace, load_workspace, locate_manifest
from .reporting import LoggingReporter, Reporter
from .settings import table
from .settings.model import Context
from .settings.resolve import convert
from .targets import Arch, Runtime, Target
from .toolchain import find_toolchain
from .util.cmd import SubprocessRunner

__all__ = [
    "DEFAULT_DOCKER_IMAGE",
    "BundlingOptions",
    "CommandHooks",
    "RustExtension",
    "RustFunction",
]

#: The image Docker bundling uses unless ``docker_image`` says otherwise: cargo on Debian
#: bookworm (Python 3.11 comes from apt when the image lacks it).
DEFAULT_DOCKER_IMAGE = "public.ecr.aws/docker/library/rust:1-bookworm"
_CONTAINER_CARGO_HOME = "/usr/local/cargo"
_CONTAINER_LAMBDA_DIR = Path("/tmp/rustlambda-lambda")
_SHARED_ID = "RustLambdaSharedBuilds"


class CommandHooks(Protocol):
    """Commands run around the build, locally and in Docker alike (chained with ``&&``).

    ``input_dir`` is the workspace root, ``output_dir`` the asset's directory.
    """

    def before_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...

    def after_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...


@dataclass(frozen=True)
class BundlingOptions:
    """How a RustFunction or RustExtension is built (the seed construct's bundling props)."""

    #: Environment variables for cargo (and the container).
    environment: Mapping[str, str] = field(default_factory=dict)
    #: More ``rustlambda build`` / ``cargo lambda build`` flags, e.g. ``["--all-features"]``.
    extra_build_args: Sequence[str] = ()
    command_hooks: CommandHooks | None = None
    force_docker_bundling: bool = False
    #: zig (default), cargo or cross; cargo-lambda's names and aliases.
    compiler: str | None = None
    #: A target triple; must agree with the construct's ``architecture``.
    target: str | None = None
    #: provided.al2023 glibc unless the function's runtime is provided.al2.
    release: bool = True
    profile: str | None = None
    asset_hash_type: cdk.AssetHashType | None = None
    asset_hash: str | None = None
    # Docker bundling
    docker_image: cdk.DockerImage | None = None
    network: str | None = None
    security_opt: str | None = None
    user: str | None = None
    volumes: Sequence[cdk.DockerVolume] = ()
    volumes_from: Sequence[str] = ()
    working_directory: str | None = None
    platform: str | None = None
    bundling_file_access: cdk.BundlingFileAccess | None = None


# ------------------------------------------------------------------------------ the project
@dataclass(frozen=True)
class _Project:
    manifest: Path
    workspace: Workspace | None  # None when cargo is not available here (Docker bundling)

    @property
    def root(self) -> Path:
        return self.workspace.root if self.workspace is not None else self.manifest.parent


def _defining_file() -> Path | None:
    """The Python file that instantiated the construct (outside rustlambda, jsii and CDK)."""
    here = Path(__file__).resolve()
    for frame in inspect.stack()[2:]:
        path = Path(frame.filename)
        if path.resolve() == here or not path.is_file():
            continue
        parts = set(path.parts)
        if {"jsii", "aws_cdk", "constructs"} & parts:
            continue
        return path.resolve()
    return None


def _manifest(construct_id: str, entry: str | None, manifest_path: str | None) -> Path:
    if entry is not None and manifest_path is not None:
        raise ConfigError(
            "RustFunction: entry and manifest_path both name the project",
            "pass only one of them",
        )
    given = entry if entry is not None else manifest_path
    if given is not None:
        return locate_manifest(Path(given), Path.cwd())
    defining = _defining_file()
    if defining is None:
        raise ManifestNotFoundError(
            "RustFunction: no entry given and the defining file cannot be found",
            "pass entry= (a Cargo.toml or its directory)",
        )
    default = defining.with_suffix("").with_name(f"{defining.stem}.{construct_id}") / "Cargo.toml"
    if not default.is_file():
        raise ManifestNotFoundError(
            f"RustFunction {construct_id!r}: no entry given and no {default}",
            "pass entry= (a Cargo.toml or its directory), or put the crate at "
            f"{default.parent.name}/ next to {defining.name}",
        )
    return default


def _choose_binary(project: _Project, binary_name: str | None, what: str) -> str:
    workspace = project.workspace
    if workspace is None:
        if binary_name is None:
            raise ConfigError(
                f"{what}: binary_name is needed when cargo is not available to read the project",
                "pass binary_name=",
            )
        return binary_name
    package = next(
        (p for p in workspace.packages if p.manifest_path.resolve() == project.manifest.resolve()),
        None,
    )
    candidates = [b.name for b in (package.bins if package else workspace.bins)]
    if binary_name is not None:
        everything = sorted({b.name for b in workspace.bins})
        if binary_name not in everything:
            raise UnknownBinaryError(
                f"{what}: no binary named {binary_name!r} in {project.manifest}",
                f"binaries: {', '.join(everything) or '(none)'}",
            )
        return binary_name
    if package is not None and package.name in candidates:
        return package.name
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(sorted({b.name for b in workspace.bins})) or "(none)"
    raise UnknownBinaryError(
        f"{what}: {project.manifest} has several binaries and no binary_name says which",
        f"pass binary_name= one of: {listed}",
    )


# ------------------------------------------------------------------------------ shared builds
@dataclass(frozen=True)
class _BuildKey:
    """What makes two assets share a build: workspace, target, runtime and every setting."""

    root: Path
    target: Target
    runtime: Runtime
    fingerprint: str


class _SharedBuilds(Construct):
    """One per app: the builds made so far, so every asset of a workspace and architecture
    reuses one cargo run."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.results: dict[_BuildKey, BuildResult | RustLambdaError] = {}
        self.projects: dict[Path, _Project] = {}
        self.reporter: Reporter = LoggingReporter()

    @classmethod
    def of(cls, scope: Construct) -> _SharedBuilds:
        root = scope.node.root
        found = root.node.try_find_child(_SHARED_ID)
        if isinstance(found, _SharedBuilds):
            return found
        assert isinstance(root, Construct)
        return cls(root, _SHARED_ID)

    def project(self, manifest: Path) -> _Project:
        manifest = manifest.resolve()
        cached = self.projects.get(manifest)
        if cached is not None:
            return cached
        environ = dict(os.environ)
        try:
            cargo = find_toolchain(environ).cargo
        except RustLambdaError:
            project = _Project(manifest, None)
        else:
            workspace = load_workspace(
                manifest, cargo=cargo, env=environ, runner=SubprocessRunner()
            )
            project = _Project(manifest, workspace)
        self.projects[manifest] = project
        return project

    def build(self, key: _BuildKey, options: BuildOptions) -> BuildResult:
        cached = self.results.get(key)
        if isinstance(cached, RustLambdaError):
            raise cached
        if cached is not None:
            return cached
        try:
            result = run_plan(plan_build(options), reporter=self.reporter)
        except RustLambdaError as exc:
            self.results[key] = exc
            raise
        self.results[key] = result
        return result


def _build_options(
    bundling: BundlingOptions, project: _Project, target: Target, runtime: Runtime
) -> BuildOptions:
    """The shared build: every binary of the workspace, for one target, with these settings."""
    try:
        extra = parse_build_args(bundling.extra_build_args)
    except click.ClickException as exc:
        raise ConfigError(
            f"bundling.extra_build_args {list(bundling.extra_build_args)}: {exc}",
            "use rustlambda build / cargo lambda build flags, e.g. ['--all-features']",
        ) from exc
    if extra.bins or extra.packages or extra.examples or extra.targets:
        raise ConfigError(
            "bundling.extra_build_args may not select binaries or targets "
            f"({list(bundling.extra_build_args)})",
            "use binary_name= and architecture= on the construct",
        )
    compiler = _compiler(bundling, project.root)
    environ = {**os.environ, **bundling.environment}
    return replace(
        extra,
        manifest_path=project.root / "Cargo.toml",
        cwd=project.root,
        workspace=True,
        targets=(target,),
        runtime=runtime,
        release=bundling.release if bundling.profile is None else None,
        profile=bundling.profile,
        compiler=compiler or extra.compiler,
        environ=environ,
        verify=True,
    )


def _compiler(bundling: BundlingOptions, root: Path) -> CompilerSettings | None:
    """``bundling.compiler`` through the settings table's compiler converter."""
    if bundling.compiler is None:
        return None
    return convert(
        table.COMPILER, bundling.compiler, Context("bundling.compiler", root, "compiler")
    )


def _target(bundling: BundlingOptions, arch: Arch, what: str) -> Target:
    if bundling.target is None:
        return Target.for_arch(arch)
    target = Target.parse(bundling.target)
    if target.arch is not arch:
        raise ConfigError(
            f"{what}: bundling target {bundling.target} is {target.arch.value} but the "
            f"architecture is {arch.value}",
            "make them agree: drop bundling.target, or change architecture=",
        )
    return target


def _run_hooks(commands: Sequence[str], cwd: Path, environ: Mapping[str, str], what: str) -> None:
    if not commands:
        return
    script = " && ".join(commands)
    completed = SubprocessRunner().run(["bash", "-c", script], env=environ, cwd=cwd)
    if completed.returncode != 0:
        raise ConfigError(
            f"{what} hook failed with exit code {completed.returncode}: {script}",
            "fix the command hook",
            details=(completed.stdout + completed.stderr)[-4000:],
        )


@jsii.implements(cdk.ILocalBundling)
class _LocalBundling:
    """Builds on this machine with rustlambda; declines (→ Docker) when forced or no cargo."""

    def __init__(
        self,
        shared: _SharedBuilds,
        key: _BuildKey,
        options: BuildOptions,
        binary: str,
        destination: str,
        bundling: BundlingOptions,
    ) -> None:
        self.shared = shared
        self.key = key
        self.options = options
        self.binary = binary
        self.destination = destination
        self.bundling = bundling

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        if self.bundling.force_docker_bundling:
            return False
        environ = dict(self.options.environ or os.environ)
        try:
            find_toolchain(environ)
        except RustLambdaError:
            return False  # no local cargo: Docker bundling
        root = self.key.root
        hooks = self.bundling.command_hooks
        if hooks is not None:
            commands = hooks.before_bundling(str(root), output_dir)
            _run_hooks(commands, root, environ, "before_bundling")
        try:
            result = self.shared.build(self.key, self.options)
        except RustLambdaError as exc:
            # CDK shows only the exception's text: make it carry the fix and the diagnostics.
            text = "\n".join(p for p in (exc.details, exc.message, f"fix: {exc.fix}") if p)
            raise RuntimeError(text) from exc
        matches = [a for a in result.artifacts if a.function == self.binary]
        if not matches:
            built = ", ".join(sorted(a.function for a in result.artifacts))
            raise UnknownBinaryError(
                f"{self.binary} was not among the built binaries ({built})",
                "pass binary_name= one of them",
            )
        destination = Path(output_dir) / self.destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(matches[0].path, destination)
        destination.chmod(0o755)
        if hooks is not None:
            commands = hooks.after_bundling(str(root), output_dir)
            _run_hooks(commands, root, environ, "after_bundling")
        return True


def docker_bundling_command(
    *,
    binary: str,
    destination: str,
    target: Target,
    runtime: Runtime,
    manifest_in_container: str,
    bundling: BundlingOptions,
) -> list[str]:
    """The command Docker bundling runs: install rustlambda in the image, build one binary."""
    flags = ["--release"] if bundling.release and bundling.profile is None else []
    if bundling.profile is not None:
        flags += ["--profile", bundling.profile]
    compiler = _compiler(bundling, Path.cwd())
    if compiler is not None:
        flags += ["--compiler", compiler.kind.value]
    build = [
        "/tmp/rustlambda-venv/bin/rustlambda",
        "build",
        *flags,
        "--target",
        bundling.target or target.triple,
        "--runtime",
        runtime.value,
        "--bin",
        binary,
        "--manifest-path",
        manifest_in_container,
        "--target-dir",
        "/tmp/rustlambda-target",
        "--lambda-dir",
        str(_CONTAINER_LAMBDA_DIR),
        *bundling.extra_build_args,
    ]
    built = layout.LambdaDir(_CONTAINER_LAMBDA_DIR).executable(
        binary, ArtifactKind.FUNCTION, target.arch, flatten=False
    )
    output = f"{cdk.AssetStaging.BUNDLING_OUTPUT_DIR}/{destination}"
    steps: list[str] = []
    hooks = bundling.command_hooks
    if hooks is not None:
        steps += hooks.before_bundling(
            cdk.AssetStaging.BUNDLING_INPUT_DIR, cdk.AssetStaging.BUNDLING_OUTPUT_DIR
        )
    steps += [
        "(command -v python3 >/dev/null && python3 -m venv --help >/dev/null 2>&1 || "
        "(apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null))",
        "python3 -m venv /tmp/rustlambda-venv",
        f"/tmp/rustlambda-venv/bin/pip install --quiet rustlambda=={__version__}",
        shlex.join(build),
        f"mkdir -p {shlex.quote(str(Path(output).parent))}",
        f"cp {shlex.quote(str(built))} {shlex.quote(output)}",
        f"chmod 755 {shlex.quote(output)}",
    ]
    if hooks is not None:
        steps += hooks.after_bundling(
            cdk.AssetStaging.BUNDLING_INPUT_DIR, cdk.AssetStaging.BUNDLING_OUTPUT_DIR
        )
    return ["bash", "-c", " && ".join(steps)]


def _cargo_cache_volumes() -> list[cdk.DockerVolume]:
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    return [
        cdk.DockerVolume(host_path=str(home / sub), container_path=f"{_CONTAINER_CARGO_HOME}/{sub}")
        for sub in ("registry", "git")
    ]


def _asset_code(
    scope: Construct,
    what: str,
    *,
    manifest: Path,
    binary_name: str | None,
    arch: Arch,
    runtime: Runtime,
    bundling: BundlingOptions,
    extension: bool,
) -> tuple[lambda_.Code, cdk.BundlingOptions, str]:
    """The asset of one binary, bundled locally through the app's shared builds, or in Docker."""
    shared = _SharedBuilds.of(scope)
    project = shared.project(manifest)
    binary = _choose_binary(project, binary_name, what)
    target = _target(bundling, arch, what)
    options = _build_options(bundling, project, target, runtime)
    # The environment enters the fingerprint through the bundling's own variables only.
    fingerprint = _fingerprint(replace(options, environ=None), bundling.environment)
    key = _BuildKey(project.root, target, runtime, fingerprint)
    target_dir = (
        project.workspace.target_directory if project.workspace else project.root / "target"
    )
    options = replace(options, lambda_dir=layout.cdk_lambda_dir(target_dir, fingerprint))
    kind = ArtifactKind.EXTENSION if extension else ArtifactKind.FUNCTION
    destination = layout.entry_name(binary, kind)
    relative_manifest = (project.root / "Cargo.toml").relative_to(project.root)
    docker = cdk.BundlingOptions(
        image=bundling.docker_image or cdk.DockerImage.from_registry(DEFAULT_DOCKER_IMAGE),
        command=docker_bundling_command(
            binary=binary,
            destination=destination,
            target=target,
            runtime=runtime,
            manifest_in_container=f"{cdk.AssetStaging.BUNDLING_INPUT_DIR}/{relative_manifest}",
            bundling=bundling,
        ),
        environment=dict(bundling.environment),
        volumes=[*_cargo_cache_volumes(), *bundling.volumes],
        volumes_from=list(bundling.volumes_from) or None,
        network=bundling.network,
        security_opt=bundling.security_opt,
        user=bundling.user,
        working_directory=bundling.working_directory or cdk.AssetStaging.BUNDLING_INPUT_DIR,
        platform=bundling.platform or ("linux/arm64" if arch is Arch.ARM64 else "linux/amd64"),
        bundling_file_access=bundling.bundling_file_access,
        local=_LocalBundling(shared, key, options, binary, destination, bundling),
    )
    hash_type = bundling.asset_hash_type or (
        cdk.AssetHashType.CUSTOM if bundling.asset_hash else cdk.AssetHashType.OUTPUT
    )
    code = lambda_.Code.from_asset(
        str(project.root),
        bundling=docker,
        asset_hash_type=hash_type,
        asset_hash=bundling.asset_hash,
    )
    return code, docker, binary


def _lambda_arch(architecture: lambda_.Architecture | None) -> Arch:
    if architecture is None:
        return Arch.X86_64
    name = architecture.name
    if name == "arm64":
        return Arch.ARM64
    if name == "x86_64":
        return Arch.X86_64
    raise ConfigError(f"unsupported architecture {name!r}", "use Architecture.X86_64 or ARM_64")


def _custom_runtime(runtime: lambda_.Runtime | None, what: str) -> tuple[lambda_.Runtime, Runtime]:
    runtime = runtime or lambda_.Runtime.PROVIDED_AL2023
    try:
        return runtime, Runtime.parse(runtime.name)
    except ConfigError as exc:
        raise ConfigError(
            f"{what}: runtime {runtime.name} is not an OS-only custom runtime; a Rust bootstrap "
            "runs on provided.al2023 or provided.al2",
            "drop runtime= (provided.al2023 is the default) or pass Runtime.PROVIDED_AL2",
        ) from exc


@dataclass(frozen=True)
class _RustAsset:
    """What a construct needs from its Rust binary: the code asset and how it was resolved."""

    code: lambda_.Code
    bundling: cdk.BundlingOptions
    binary: str
    runtime: lambda_.Runtime
    lambda_runtime: Runtime

    @classmethod
    def resolve(
        cls,
        scope: Construct,
        construct_id: str,
        what: str,
        entry: str | None,
        manifest_path: str | None,
        binary_name: str | None,
        runtime: lambda_.Runtime | None,
        architecture: lambda_.Architecture | None,
        bundling: BundlingOptions | None,
        *,
        extension: bool,
    ) -> _RustAsset:
        cdk_runtime, lambda_runtime = _custom_runtime(runtime, what)
        code, docker, binary = _asset_code(
            scope,
            what,
            manifest=_manifest(construct_id, entry, manifest_path),
            binary_name=binary_name,
            arch=_lambda_arch(architecture),
            runtime=lambda_runtime,
            bundling=bundling or BundlingOptions(),
            extension=extension,
        )
        return cls(code, docker, binary, cdk_runtime, lambda_runtime)


class RustFunction(lambda_.Function):
    """A Lambda function from a Rust binary: handler ``bootstrap`` on provided.al2023.

    Every other ``lambda.Function`` prop passes through (memory_size, timeout, environment...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: str | None = None,
        manifest_path: str | None = None,
        binary_name: str | None = None,
        bundling: BundlingOptions | None = None,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        **function_props: Any,
    ) -> None:
        what = f"RustFunction {construct_id!r}"
        for reserved in ("code", "handler"):
            if reserved in function_props:
                raise ConfigError(
                    f"{what}: {reserved}= is set by RustFunction",
                    "drop it: the code is the bundled bootstrap, the handler 'bootstrap'",
                )
        asset = _RustAsset.resolve(
            scope,
            construct_id,
            what,
            entry,
            manifest_path,
            binary_name,
            runtime,
            architecture,
            bundling,
            extension=False,
        )
        super().__init__(
            scope,
            construct_id,
            code=asset.code,
            handler=layout.BOOTSTRAP,
            runtime=asset.runtime,
            architecture=architecture or lambda_.Architecture.X86_64,
            **function_props,
        )
        #: The binary this function runs, and the bundling options CDK received.
        self.binary_name = asset.binary
        self.bundling_options = asset.bundling


class RustExtension(lambda_.LayerVersion):
    """A Lambda layer with the Rust binary at ``extensions/<name>`` (an external extension)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        entry: str | None = None,
        manifest_path: str | None = None,
        binary_name: str | None = None,
        bundling: BundlingOptions | None = None,
        architecture: lambda_.Architecture | None = None,
        runtime: lambda_.Runtime | None = None,
        **layer_props: Any,
    ) -> None:
        what = f"RustExtension {construct_id!r}"
        if "code" in layer_props:
            raise ConfigError(f"{what}: code= is set by RustExtension", "drop it")
        asset = _RustAsset.resolve(
            scope,
            construct_id,
            what,
            entry,
            manifest_path,
            binary_name,
            runtime,
            architecture,
            bundling,
            extension=True,
        )
        layer_props.setdefault(
            "compatible_architectures", [architecture or lambda_.Architecture.X86_64]
        )
        layer_props.setdefault(
            "compatible_runtimes",
            [lambda_.Runtime.PROVIDED_AL2023, lambda_.Runtime.PROVIDED_AL2]
            if asset.lambda_runtime is Runtime.AL2023
            else [asset.runtime],
        )
        super().__init__(scope, construct_id, code=asset.code, **layer_props)
        self.binary_name = asset.binary
        self.bundling_options = asset.bundling


def _fingerprint(options: BuildOptions, environment: Mapping[str, str]) -> str:
    text = repr(options) + repr(sorted(environment.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
