"""The rows of ``[*.metadata.lambda.build]`` that are cargo's own options, passed on to the one
cargo command as cargo takes them (each row's ``cargo`` flag): cargo-lambda's keys and flags."""

from __future__ import annotations

from pathlib import Path

from ...options import ColorWhen
from ..convert import Bool, Choice, Int, PathType, Split, Strings
from ..model import Flag, Scope, Section, Setting
from ._common import BUILDING, EVERYWHERE, switch

_B = Section.BUILD

TARGET_DIR: Setting[Path | None] = Setting(
    "target_dir",
    _B,
    PathType(),
    None,
    "cargo's target directory (relative to the working directory)",
    keys=("target_dir",),
    flags=(Flag(("--target-dir",), "Cargo's target directory."),),
    commands=EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
LOCKED: Setting[bool] = Setting(
    "locked",
    _B,
    Bool(),
    False,
    "cargo --locked",
    keys=("locked",),
    flags=(switch("--locked", help="Assert that Cargo.lock will remain unchanged."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--locked",
)
OFFLINE: Setting[bool] = Setting(
    "offline",
    _B,
    Bool(),
    False,
    "cargo --offline",
    keys=("offline",),
    flags=(switch("--offline", help="Run cargo without accessing the network."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--offline",
)
FROZEN: Setting[bool] = Setting(
    "frozen",
    _B,
    Bool(),
    False,
    "cargo --frozen",
    keys=("frozen",),
    flags=(switch("--frozen", help="Both --locked and --offline."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--frozen",
)
JOBS: Setting[int | None] = Setting(
    "jobs",
    _B,
    Int(1, None),
    None,
    "cargo --jobs",
    keys=("jobs",),
    flags=(Flag(("-j", "--jobs"), "Number of parallel cargo jobs."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--jobs",
)
KEEP_GOING: Setting[bool] = Setting(
    "keep_going",
    _B,
    Bool(),
    False,
    "cargo --keep-going",
    keys=("keep_going",),
    flags=(switch("--keep-going", help="Don't stop cargo at the first crate that fails."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--keep-going",
)
TIMINGS: Setting[bool] = Setting(
    "timings",
    _B,
    Bool(),
    False,
    "cargo --timings (a report in target/cargo-timings)",
    keys=("timings",),
    flags=(switch("--timings", help="Cargo's build timing report (target/cargo-timings)."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--timings",
)
CONFIG: Setting[tuple[str, ...] | None] = Setting(
    "config",
    _B,
    Strings(Split.WHOLE),
    None,
    "cargo --config KEY=VALUE|PATH, each",
    keys=("config",),
    flags=(Flag(("--config",), "Cargo --config KEY=VALUE or PATH (repeatable).", repeat=True),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--config",
)
UNSTABLE_FLAGS: Setting[tuple[str, ...] | None] = Setting(
    "unstable_flags",
    _B,
    Strings(Split.WHOLE),
    None,
    "cargo -Z FLAG, each (a nightly cargo)",
    keys=("unstable_flags",),
    flags=(Flag(("-Z",), "Cargo's unstable (nightly-only) -Z flag (repeatable).", repeat=True),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="-Z",
)
MESSAGE_FORMAT: Setting[tuple[str, ...] | None] = Setting(
    "message_format",
    _B,
    Strings(),
    None,
    "cargo --message-format (json: cargo's JSON messages on stdout)",
    keys=("message_format",),
    flags=(
        Flag(
            ("--message-format",),
            "Cargo's message format (json...: its JSON messages go to stdout).",
            repeat=True,
        ),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--message-format",
)
COLOR: Setting[ColorWhen | None] = Setting(
    "color",
    _B,
    Choice(ColorWhen),
    None,
    "cargo --color (the flag also colors rustlambda's own output)",
    keys=("color",),
    flags=(Flag(("--color",), "Coloring: auto, always, never (cargo's and rustlambda's)."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--color",
)
IGNORE_RUST_VERSION: Setting[bool] = Setting(
    "ignore_rust_version",
    _B,
    Bool(),
    False,
    "cargo --ignore-rust-version",
    keys=("ignore_rust_version",),
    flags=(switch("--ignore-rust-version", help="Ignore packages' rust-version."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--ignore-rust-version",
)
FUTURE_INCOMPAT_REPORT: Setting[bool] = Setting(
    "future_incompat_report",
    _B,
    Bool(),
    False,
    "cargo --future-incompat-report",
    keys=("future_incompat_report",),
    flags=(switch("--future-incompat-report", help="Cargo's future-incompatibility report."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--future-incompat-report",
)
ARTIFACT_DIR: Setting[Path | None] = Setting(
    "artifact_dir",
    _B,
    PathType(),
    None,
    "cargo --artifact-dir (unstable: a nightly cargo)",
    keys=("artifact_dir",),
    flags=(Flag(("--artifact-dir",), "Cargo's --artifact-dir (unstable)."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--artifact-dir",
)
QUIET: Setting[bool] = Setting(
    "quiet",
    _B,
    Bool(),
    False,
    "cargo --quiet (the -q flag also has rustlambda print only errors and the result)",
    keys=("quiet",),
    flags=(switch("-q", "--quiet", help="Print only errors and the result (cargo --quiet)."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="--quiet",
)
VERBOSE: Setting[int | None] = Setting(
    "verbose",
    _B,
    Int(0, 3),
    None,
    "cargo -v count (the command line's -vv gives one)",
    keys=("verbose",),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    cargo="-v",
)
