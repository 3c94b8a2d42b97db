"""The constructs' bundling props: the CDK RustFunction construct's (cdklabs/aws-lambda-rust) in
snake_case, with the same enums as the TypeScript package (`PackageManagerType`, `LogLevel`),
and `coerce_bundling`, which turns what a user passes as ``bundling=`` into `BundlingOptions`
or one clear TypeError.

No aws-cdk-lib import at run time: the props only carry CDK values through.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import aws_cdk as cdk


class PackageManagerType(enum.IntEnum):
    """Which cross-compiling build bundles (rustlambda's ``--compiler``); the seed's values."""

    #: cargo-zigbuild, zig linking for the runtime's glibc: ``--compiler zig``.
    CARGO_ZIGBUILD = 0
    #: cross-rs (``cross build`` in its own container; needs Docker): ``--compiler cross``.
    CROSS = 1
    #: plain cargo with the target's system linker: ``--compiler cargo`` (rustlambda's addition).
    CARGO = 2

    @property
    def compiler(self) -> str:
        return {0: "zig", 1: "cross", 2: "cargo"}[self.value]


class LogLevel(enum.StrEnum):
    """How much of the build the synth shows."""

    #: cargo's output streamed (rustlambda ``-v``).
    VERBOSE = "verbose"
    #: rustlambda's warnings and notes (the default).
    INFO = "info"
    #: nothing unless the build fails (rustlambda ``-q``).
    SILENT = "silent"


class CommandHooks(Protocol):
    """Commands run around each asset's build, locally and in Docker alike (chained with ``&&``).

    ``input_dir`` is the directory of the workspace's Cargo.lock (the workspace root: the host
    path locally, ``/asset-input/...`` in Docker), ``output_dir`` the asset's directory.
    """

    def before_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...

    def after_bundling(self, input_dir: str, output_dir: str) -> Sequence[str]: ...


_SEQUENCES = ("extra_build_args", "features", "volumes", "volumes_from", "entrypoint", "command")
_STRING_MAPS = ("environment", "build_args")


@dataclass(frozen=True)
class BundlingOptions:
    """How a RustFunction or RustExtension is built: the seed construct's bundling props.

    The Docker run options (``network``, ``security_opt``, ``user``, ``volumes``,
    ``volumes_from``, ``working_directory``, ``platform``, ``entrypoint``, ``command``,
    ``bundling_file_access``) apply to Docker bundling; ``environment`` to both.
    """

    #: Environment variables for cargo (and the container).
    environment: Mapping[str, str] = field(default_factory=dict)
    #: More build arguments: rustlambda's own flags (``--disable-optimizations``, ``--locked``,
    #: ``--profile P``...) go to rustlambda, every other flag (``--config k=v``, ``-Z...``,
    #: ``--timings``) to cargo, in order.
    extra_build_args: Sequence[str] = ()
    #: ``docker build --build-arg`` values for the default bundling image: ``IMAGE`` (its base)
    #: and ``RUSTLAMBDA_SPEC`` (what pip installs; default: this rustlambda's wheel).
    build_args: Mapping[str, str] = field(default_factory=dict)
    command_hooks: CommandHooks | None = None
    force_docker_bundling: bool = False
    #: Default: Cargo.toml's ``compiler`` metadata, else cargo-zigbuild.
    package_manager_type: PackageManagerType | None = None
    #: rustlambda's spelling of the same choice (zig, cargo, cross; cargo-lambda's aliases).
    compiler: str | None = None
    #: A target triple (a glibc suffix like ``.2.26`` allowed); must agree with ``architecture``.
    target: str | None = None
    #: Features to activate (``--features a,b``).
    features: Sequence[str] = ()
    #: Default: `LogLevel.INFO`.
    log_level: LogLevel | None = None
    release: bool = True
    profile: str | None = None
    #: Default: ``AssetHashType.OUTPUT`` (CUSTOM when ``asset_hash`` is given).
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
    entrypoint: Sequence[str] | None = None
    #: Replaces the build script Docker bundling runs.
    command: Sequence[str] | None = None
    bundling_file_access: cdk.BundlingFileAccess | None = None

    def __post_init__(self) -> None:
        for name in _SEQUENCES:
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not (value is None or isinstance(value, Sequence)):
                raise TypeError(
                    f"BundlingOptions.{name} must be a list, not {type(value).__name__} "
                    f"({value!r}); e.g. {name}=[{value!r}]"
                )
        for name in _STRING_MAPS:
            value = getattr(self, name)
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise TypeError(
                    f"BundlingOptions.{name} must map strings to strings, got {value!r}"
                )
        if self.package_manager_type is not None:
            try:
                object.__setattr__(
                    self, "package_manager_type", PackageManagerType(self.package_manager_type)
                )
            except ValueError:
                raise TypeError(
                    f"BundlingOptions.package_manager_type {self.package_manager_type!r} is not "
                    "a PackageManagerType (CARGO_ZIGBUILD, CROSS or CARGO)"
                ) from None
        if self.log_level is not None:
            try:
                object.__setattr__(self, "log_level", LogLevel(self.log_level))
            except ValueError:
                raise TypeError(
                    f"BundlingOptions.log_level {self.log_level!r} is not a LogLevel "
                    "(VERBOSE, INFO or SILENT)"
                ) from None


_FIELDS = tuple(f.name for f in fields(BundlingOptions))


def _snake(name: str) -> str:
    """``extraBuildArgs`` → ``extra_build_args`` (the TypeScript spelling is accepted too)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def coerce_bundling(value: object, what: str) -> BundlingOptions:
    """``bundling=`` as given: our `BundlingOptions`, a dict of its fields, or None.

    Anything else is one TypeError saying what to pass; CDK's own ``aws_cdk.BundlingOptions``
    (same name, Docker-only props) is called out, since it is the likely mix-up.
    """
    if value is None:
        return BundlingOptions()
    if isinstance(value, BundlingOptions):
        return value
    kind = type(value)
    if kind.__name__ == "BundlingOptions" and kind.__module__.startswith("aws_cdk"):
        raise TypeError(
            f"{what}: bundling= got aws_cdk.BundlingOptions (CDK's generic Docker bundling "
            "options); RustFunction and RustExtension take rustlambda.cdk.BundlingOptions: "
            "`from rustlambda.cdk import BundlingOptions` (same prop names, plus the Rust ones) "
            "or pass a dict of them"
        )
    if isinstance(value, Mapping):
        from ..util.suggest import did_you_mean

        given: dict[str, Any] = {}
        for key, item in value.items():
            name = _snake(str(key))
            if name not in _FIELDS:
                raise TypeError(
                    f"{what}: bundling has no option {key!r}{did_you_mean(name, _FIELDS)}; "
                    f"the options are those of rustlambda.cdk.BundlingOptions: "
                    f"{', '.join(_FIELDS)}"
                )
            given[name] = item
        return BundlingOptions(**given)
    raise TypeError(
        f"{what}: bundling= must be rustlambda.cdk.BundlingOptions or a dict of its options, "
        f"not {kind.__module__}.{kind.__qualname__}"
    )
