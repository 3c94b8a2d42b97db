"""Every project template as the scaffold integration test generates it: one `rustlambda new`
per case, all of them members of one test workspace (see tests/integration/test_scaffold.py for
why), resolved with tests/fixtures/scaffold/Cargo.lock (scripts/scaffold_lock.py writes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from rustlambda.scaffold import EVENT_TYPES, HttpFeature


@dataclass(frozen=True)
class Case:
    #: The package's (and binary's) name: the workspace member's directory.
    name: str
    #: `rustlambda new NAME FLAGS...`
    flags: tuple[str, ...]
    #: An external extension (built with --extension, served next to a function).
    extension: bool = False


FUNCTIONS: tuple[Case, ...] = (
    Case("fn-json", ("--event-type", "json")),
    *(Case(f"fn-{e.key}", ("--event-type", e.rust_type)) for e in EVENT_TYPES),
    Case("http-all", ("--http",)),
    *(Case(f"http-{f.value.replace('_', '-')}", ("--http-feature", f.value)) for f in HttpFeature),
    Case("stream", ("--streaming",)),
    Case("ext-internal", ("--extension", "--internal")),
    # The CDK app wraps an HTTP function with a bin name of its own (--bin-name is tested too).
    Case("cdk-app", ("--http", "--cdk", "--bin-name", "cdk-fn")),
)

EXTENSIONS: tuple[Case, ...] = (
    Case("ext-events", ("--extension", "--events"), extension=True),
    Case("ext-logs", ("--extension", "--logs"), extension=True),
    Case("ext-telemetry", ("--extension", "--telemetry"), extension=True),
    Case("ext-events-telemetry", ("--extension", "--events", "--telemetry"), extension=True),
)

CASES: tuple[Case, ...] = FUNCTIONS + EXTENSIONS


def binary(case: Case) -> str:
    """The binary (function or extension) name of a case."""
    flags = list(case.flags)
    return flags[flags.index("--bin-name") + 1] if "--bin-name" in flags else case.name


def workspace_manifest() -> str:
    """The test workspace's Cargo.toml."""
    members = "".join(f'    "{case.name}",\n' for case in CASES)
    return f'[workspace]\nresolver = "3"\nmembers = [\n{members}]\n'
