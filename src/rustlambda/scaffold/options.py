"""What a new project should be: `TemplateOptions`, checked when it is made, and the name rules.

Package and binary names follow cargo's rules for `cargo new`, restricted to ASCII letters,
digits, ``-`` and ``_`` and at most 64 characters, because the binary's name is also the Lambda
function's (Lambda allows exactly those characters, up to 64) and crates.io takes only ASCII.
"""

from __future__ import annotations

import enum
import keyword
from dataclasses import dataclass

from ..errors import ConfigError
from .catalog import EventType


class TemplateKind(enum.Enum):
    """The project templates rustlambda ships."""

    FUNCTION = "function"  # lambda_runtime, JSON or an aws_lambda_events type
    HTTP = "http"  # lambda_http
    STREAMING = "streaming"  # lambda_runtime response streaming
    EXTENSION = "extension"  # lambda-extension, external or internal


class HttpFeature(enum.Enum):
    """lambda_http's per-service features (cargo-lambda's ``--http-feature`` values)."""

    ALB = "alb"
    APIGW_REST = "apigw_rest"
    APIGW_HTTP = "apigw_http"
    APIGW_WEBSOCKETS = "apigw_websockets"

    @classmethod
    def parse(cls, value: str) -> HttpFeature:
        spelled = value.strip().lower().replace("-", "_")
        for feature in cls:
            if feature.value == spelled:
                return feature
        raise ConfigError(
            f"--http-feature {value}: not a lambda_http feature",
            "pass one of: " + ", ".join(f.value for f in cls) + " (or leave it out for all)",
        )


class Processor(enum.Enum):
    """What an extension template handles (cargo-lambda's ``--events/--logs/--telemetry``)."""

    EVENTS = "events"  # INVOKE and SHUTDOWN from the Extensions API
    LOGS = "logs"  # the Logs API
    TELEMETRY = "telemetry"  # the Telemetry API


_MAX_NAME = 64
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
#: Rust keywords of every edition, strict and reserved (cargo refuses them as package names).
_RUST_KEYWORDS = frozenset(
    {
        "as",
        "async",
        "await",
        "break",
        "const",
        "continue",
        "crate",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "gen",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "self",
        "Self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "macro",
        "override",
        "priv",
        "try",
        "typeof",
        "unsized",
        "virtual",
        "yield",
    }
)
_STD_CRATES = frozenset({"core", "std", "alloc", "proc_macro", "proc-macro", "test"})
_CARGO_DIRS = frozenset({"deps", "examples", "build", "incremental"})


def check_name(name: str, what: str = "package name") -> None:
    """Raise `ConfigError` unless ``name`` is a valid package (or binary) name."""
    fix = "use ASCII letters, digits, '-' and '_', starting with a letter or '_'"
    if not name:
        raise ConfigError(f"the {what} is empty", fix)
    bad = sorted({c for c in name if c not in _ALLOWED})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ConfigError(
            f"the {what} {name!r} contains {shown}",
            f"{fix} (the binary's name is also the Lambda function's name)",
        )
    if name[0].isdigit():
        raise ConfigError(f"the {what} {name!r} starts with a digit", fix)
    if name[0] == "-":
        raise ConfigError(f"the {what} {name!r} starts with '-'", fix)
    if len(name) > _MAX_NAME:
        raise ConfigError(
            f"the {what} {name!r} is {len(name)} characters long",
            f"use at most {_MAX_NAME} (Lambda's limit for function names)",
        )
    if name in _RUST_KEYWORDS or keyword.iskeyword(name):
        raise ConfigError(f"the {what} {name!r} is a Rust keyword", "choose another name")
    if name in _STD_CRATES:
        raise ConfigError(
            f"the {what} {name!r} conflicts with Rust's built-in {name} library",
            "choose another name",
        )
    if name in _CARGO_DIRS:
        raise ConfigError(
            f"the {what} {name!r} conflicts with cargo's build directory names",
            "choose another name",
        )


@dataclass(frozen=True)
class TemplateOptions:
    """One project to generate. Invalid combinations raise `ConfigError` on construction."""

    package: str
    kind: TemplateKind = TemplateKind.FUNCTION
    #: The function's aws_lambda_events type; None: any JSON (``serde_json::Value`` style).
    event_type: EventType | None = None
    #: lambda_http features to enable; empty: lambda_http's defaults (every service).
    http_features: tuple[HttpFeature, ...] = ()
    #: What the extension processes; empty means events (INVOKE and SHUTDOWN).
    processors: frozenset[Processor] = frozenset()
    #: An internal extension: runs inside the function's process, registered by the runtime.
    internal: bool = False
    #: The binary's name when it differs from the package's (cargo-lambda's ``--bin-name``).
    bin_name: str | None = None
    #: Also write a Python CDK app deploying the project with rustlambda.cdk.
    cdk: bool = False

    def __post_init__(self) -> None:
        check_name(self.package)
        if self.bin_name is not None:
            check_name(self.bin_name, "binary name")
        kind = self.kind
        if self.event_type is not None and kind is not TemplateKind.FUNCTION:
            raise ConfigError(
                f"an event type goes with a basic function, not the {kind.value} template",
                "drop --event-type, or drop the other template flag",
            )
        if self.http_features and kind is not TemplateKind.HTTP:
            raise ConfigError(
                f"--http-feature goes with the http template, not the {kind.value} template",
                "drop --http-feature, or use --http",
            )
        if (self.processors or self.internal) and kind is not TemplateKind.EXTENSION:
            raise ConfigError(
                f"--events/--logs/--telemetry/--internal go with --extension, not the "
                f"{kind.value} template",
                "add --extension, or drop those flags",
            )
        if {Processor.LOGS, Processor.TELEMETRY} <= self.processors:
            raise ConfigError(
                "an extension subscribes to the Logs API or to the Telemetry API, not both "
                "(Lambda refuses the second subscription)",
                "drop --logs (the Telemetry API delivers the function's log lines too, with "
                "the platform's events) or drop --telemetry",
            )
        if self.internal and self.processors - {Processor.EVENTS}:
            raise ConfigError(
                "the internal extension template processes INVOKE events only",
                "drop --logs/--telemetry, or drop --internal for an external extension",
            )

    @property
    def binary(self) -> str:
        """The binary's name: the Lambda function's (or extension's) name."""
        return self.bin_name or self.package

    @property
    def crate_name(self) -> str:
        """How Rust code names the package's crate (``-`` becomes ``_``)."""
        return self.package.replace("-", "_")

    @property
    def processor_set(self) -> frozenset[Processor]:
        """What the extension processes, with the default (events) filled in."""
        if self.kind is not TemplateKind.EXTENSION:
            return frozenset()
        return self.processors or frozenset({Processor.EVENTS})

    @property
    def is_external_extension(self) -> bool:
        return self.kind is TemplateKind.EXTENSION and not self.internal

    @property
    def description(self) -> str:
        """One line saying what was generated, e.g. ``function taking sqs::SqsEvent``."""
        if self.kind is TemplateKind.FUNCTION:
            taking = self.event_type.rust_type if self.event_type else "JSON"
            return f"Lambda function taking {taking} (lambda_runtime)"
        if self.kind is TemplateKind.HTTP:
            services = ", ".join(f.value for f in self.http_features) or "all services"
            return f"HTTP function (lambda_http: {services})"
        if self.kind is TemplateKind.STREAMING:
            return "response-streaming function (lambda_runtime)"
        if self.internal:
            return "function with an internal extension (lambda_runtime + lambda-extension)"
        handled = ", ".join(p.value for p in Processor if p in self.processor_set)
        return f"external extension processing {handled} (lambda-extension)"
