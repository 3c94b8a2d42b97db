"""cargo-lambda's flags and keys that rustlambda refuses, each with the one error it gives (why,
and what to use instead), and those that are coming (README's parity table lists both).

A refused flag is still parsed, so the user gets this error rather than click's "no such
option"; a refused key is an error wherever it is written (Cargo.toml metadata,
``CargoLambda.toml``, ``CARGO_LAMBDA_<SECTION>.<KEY>``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Command, Refusal, Section

_BUILDING = (Command.BUILD, Command.WATCH)
_NOT_A_FUNCTION = (
    "a Lambda function is a binary, and rustlambda builds binaries only "
    "(a library, test or benchmark is no bootstrap)"
)
_TLS = (
    "rustlambda's local Lambda serves plain HTTP on the address you give (127.0.0.1 by "
    "default), with no TLS"
)

REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        ("--lib",),
        _NOT_A_FUNCTION,
        "build functions with --bin/--bins/--example; build the library with `cargo build --lib`",
        (Command.BUILD,),
        keys=("lib",),
        section=Section.BUILD,
    ),
    Refusal(
        ("--test",),
        _NOT_A_FUNCTION,
        "run tests with `cargo test`; build functions with --bin/--bins",
        (Command.BUILD,),
        takes_value=True,
        keys=("test",),
        section=Section.BUILD,
    ),
    Refusal(
        ("--tests",),
        _NOT_A_FUNCTION,
        "run tests with `cargo test`; build functions with --bin/--bins",
        (Command.BUILD,),
        keys=("tests",),
        section=Section.BUILD,
    ),
    Refusal(
        ("--bench",),
        _NOT_A_FUNCTION,
        "run benchmarks with `cargo bench`; build functions with --bin/--bins",
        (Command.BUILD,),
        takes_value=True,
        keys=("bench",),
        section=Section.BUILD,
    ),
    Refusal(
        ("--benches",),
        _NOT_A_FUNCTION,
        "run benchmarks with `cargo bench`; build functions with --bin/--bins",
        (Command.BUILD,),
        keys=("benches",),
        section=Section.BUILD,
    ),
    Refusal(
        ("--all-targets",),
        _NOT_A_FUNCTION,
        "build every function with --bins (and --examples for examples)",
        (Command.BUILD,),
        keys=("all_targets",),
        section=Section.BUILD,
    ),
    *(
        Refusal(
            ("--unit-graph",),
            "--unit-graph makes cargo print its build graph instead of building, so there would "
            "be no bootstrap to package",
            "run `cargo build --unit-graph -Z unstable-options` yourself",
            _BUILDING if section is Section.BUILD else (),
            keys=("unit_graph",),
            section=section,
        )
        for section in (Section.BUILD, Section.WATCH)
    ),
    Refusal(
        ("--print-traces",),
        "rustlambda's local Lambda records no OpenTelemetry traces",
        "read each invocation's START/END/REPORT lines (duration, memory) in the watch output",
        (Command.WATCH,),
        keys=("print_traces",),
        section=Section.WATCH,
    ),
    Refusal(
        ("--router",),
        "rustlambda's local Lambda has no custom HTTP routes",
        "invoke each function by name (rustlambda invoke NAME, or the Invoke API "
        "/2015-03-31/functions/NAME/invocations)",
        (Command.WATCH,),
        takes_value=True,
        keys=("router",),
        section=Section.WATCH,
    ),
    Refusal(
        ("args",),
        "Lambda starts a bootstrap without arguments, so rustlambda watch runs it without any "
        "(arguments after -- go to cargo)",
        "pass settings to the function through its environment (--env-var KEY=VALUE)",
        keys=("args",),
        section=Section.WATCH,
    ),
    Refusal(
        ("--setup", "--install-zig"),
        "zig comes with rustlambda (the ziglang package it depends on): there is nothing to set up",
        "pip install rustlambda (or pip install ziglang) brings zig; rustlambda system shows "
        "which zig a build uses",
        (Command.SYSTEM,),
    ),
    *(
        Refusal(
            (f"--tls-{part}",),
            _TLS,
            "drop the TLS options, or put a TLS proxy in front of the Invoke API",
            (Command.WATCH, Command.INVOKE),
            takes_value=True,
            keys=(f"tls_{part}",),
            section=Section.WATCH,
        )
        for part in ("cert", "key", "ca")
    ),
)


#: cargo-lambda's selection keys: what to build, and from which workspace.
_SELECTION = {
    "packages": "--package",
    "bin": "--bin",
    "example": "--example",
    "workspace": "--workspace",
    "exclude": "--exclude",
    "bins": "--bins",
    "examples": "--examples",
    "manifest_path": "--manifest-path",
}
#: cargo's options that cargo-lambda's watch reads from its own table.
_WATCH_CARGO_KEYS = (
    "release",
    "profile",
    "features",
    "all_features",
    "no_default_features",
    "target",
    "target_dir",
    "jobs",
    "keep_going",
    "quiet",
    "verbose",
    "color",
    "frozen",
    "locked",
    "offline",
    "message_format",
    "config",
    "unstable_flags",
    "timings",
    "ignore_rust_version",
)

REFUSALS += tuple(
    Refusal(
        (),
        "rustlambda takes what to build, and from which workspace, from the command line only "
        "(as cargo does)",
        f"pass {flag} on the command line",
        keys=(key,),
        section=section,
    )
    for section in (Section.BUILD, Section.WATCH)
    for key, flag in _SELECTION.items()
    if section is Section.BUILD or key in ("packages", "bin", "example", "manifest_path")
) + tuple(
    Refusal(
        (),
        "rustlambda watch builds with the build table's settings (it serves the build you deploy)",
        f"move `{key}` to [package.metadata.lambda.build] (or [workspace.metadata.lambda.build]), "
        f"or pass it as a flag to rustlambda watch",
        keys=(key,),
        section=Section.WATCH,
    )
    for key in _WATCH_CARGO_KEYS
)


REFUSALS += (
    Refusal(
        (),
        "rustlambda deploy takes the binary to deploy from the command line only",
        "pass --binary-name on the command line (or name the function: rustlambda deploy NAME)",
        keys=("binary_name",),
        section=Section.DEPLOY,
    ),
)


@dataclass(frozen=True)
class Coming:
    """A cargo-lambda flag or key whose feature is being built (README's parity table says
    where); until then the flag is unknown and the key is ignored with a warning saying so."""

    decls: tuple[str, ...]
    keys: tuple[str, ...]
    section: Section
    commands: tuple[Command, ...]
    where: str


#: None at the moment: --wait, --only-lambda-apis and --disable-cors came with the watch work.
COMING: tuple[Coming, ...] = ()


def coming_keys(section: Section) -> dict[str, str]:
    """``key`` → where its feature is coming from, for ``section``'s tables."""
    return {key: c.where for c in COMING if c.section is section for key in c.keys}


def refused_keys(section: Section) -> dict[str, tuple[str, str]]:
    """``key`` → (why, the alternative) for the keys refused in ``section``'s tables."""
    return {
        key: (r.reason if not r.decls else f"not supported: {r.reason}", r.alternative)
        for r in REFUSALS
        if r.section is section
        for key in r.keys
    }


def refusals(command: Command) -> tuple[Refusal, ...]:
    """The refused flags ``command``'s command line still parses (to refuse them clearly)."""
    return tuple(r for r in REFUSALS if command in r.commands)
