"""rustlambda.scaffold: option checks, every template rendered, dependencies that cover what
the code uses, and how projects are written (atomically, never over a user's files)."""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from rustlambda.errors import ConfigError
from rustlambda.scaffold import (
    CRATE_VERSIONS,
    EVENT_TYPES,
    HttpFeature,
    Processor,
    TemplateKind,
    TemplateOptions,
    check_name,
    parse_event_type,
    render,
)
from rustlambda.scaffold.catalog import HTTP_EXAMPLES
from rustlambda.scaffold.render import invoke_command, rust_use

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def every_template() -> list[TemplateOptions]:
    """Every template and variant, each also with a CDK app and a binary name of its own."""
    variants = [TemplateOptions("fn-json")]
    variants += [TemplateOptions(f"fn-{e.key}", event_type=e) for e in EVENT_TYPES]
    variants.append(TemplateOptions("http-all", kind=TemplateKind.HTTP))
    variants += [
        TemplateOptions(f"http-{f.value}", kind=TemplateKind.HTTP, http_features=(f,))
        for f in HttpFeature
    ]
    variants.append(TemplateOptions("stream", kind=TemplateKind.STREAMING))
    for size in (1, 2, 3):
        for combo in itertools.combinations(Processor, size):
            if {Processor.LOGS, Processor.TELEMETRY} <= set(combo):
                continue  # refused: see test_options_that_do_not_go_together
            name = "ext-" + "-".join(p.value for p in combo)
            variants.append(
                TemplateOptions(name, kind=TemplateKind.EXTENSION, processors=frozenset(combo))
            )
    variants.append(TemplateOptions("ext-internal", kind=TemplateKind.EXTENSION, internal=True))
    with_cdk = [
        TemplateOptions(**{**vars(o), "package": o.package + "-cdk", "cdk": True, "bin_name": "b"})
        for o in variants
    ]
    return variants + with_cdk


TEMPLATES = every_template()


def files(options: TemplateOptions) -> dict[str, str]:
    return {str(f.path): f.text for f in render(options)}


# ------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["hello", "my-function", "my_fn2", "_private", "A" * 64])
def test_valid_names(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "is empty"),
        ("my fn", "' '"),
        ("café", "'é'"),
        ("a/b", "'/'"),
        ("1st", "starts with a digit"),
        ("-x", "starts with '-'"),
        ("a" * 65, "65 characters"),
        ("fn", "Rust keyword"),
        ("async", "Rust keyword"),
        ("Self", "Rust keyword"),
        ("std", "built-in"),
        ("proc-macro", "built-in"),
        ("test", "built-in"),
        ("deps", "build directory"),
        ("incremental", "build directory"),
    ],
)
def test_invalid_names_say_why(name: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_name(name)
    assert says in raised.value.message and raised.value.fix
    assert raised.value.exit_code == 2


def test_an_invalid_binary_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="binary name"):
        TemplateOptions("ok", bin_name="not ok")


# ----------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"kind": TemplateKind.HTTP, "event_type": EVENT_TYPES[0]}, "event type"),
        ({"http_features": (HttpFeature.ALB,)}, "--http-feature"),
        ({"processors": frozenset({Processor.LOGS})}, "--extension"),
        ({"internal": True}, "--extension"),
        (
            {
                "kind": TemplateKind.EXTENSION,
                "internal": True,
                "processors": frozenset({Processor.TELEMETRY}),
            },
            "internal extension",
        ),
        (
            {
                "kind": TemplateKind.EXTENSION,
                "processors": frozenset({Processor.LOGS, Processor.TELEMETRY}),
            },
            "not both",
        ),
    ],
)
def test_options_that_do_not_go_together(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        TemplateOptions("x", **fields)
    assert says in raised.value.message + raised.value.fix


def test_an_extension_processes_events_by_default() -> None:
    options = TemplateOptions("x", kind=TemplateKind.EXTENSION)
    assert options.processor_set == {Processor.EVENTS}
    assert TemplateOptions("x").processor_set == frozenset()


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("sqs", "sqs"),
        ("SQS", "sqs"),
        ("sqs::SqsEvent", "sqs"),
        ("aws_lambda_events::event::sqs::SqsEvent", "sqs"),
        ("SqsEvent", "sqs"),
        ("cloudwatch_logs", "cloudwatch-logs"),
        ("cloudwatch_logs::LogsEvent", "cloudwatch-logs"),
        ("code_commit", "codecommit"),
        ("apigw::ApiGatewayV2httpRequest", "apigw-http"),
        ("lambda_function_urls::LambdaFunctionUrlRequest", "function-url"),
        ("function_url", "function-url"),
    ],
)
def test_event_type_spellings(spelling: str, key: str) -> None:
    event = parse_event_type(spelling)
    assert event is not None and event.key == key


@pytest.mark.parametrize("spelling", ["json", "serde_json::Value", "generic", " JSON "])
def test_the_json_function_spellings(spelling: str) -> None:
    assert parse_event_type(spelling) is None


def test_an_ambiguous_module_lists_its_event_types() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_event_type("apigw")
    assert "apigw-rest, apigw-http, apigw-websocket" in raised.value.fix


def test_an_unknown_event_type_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_event_type("s3::S3BatchJobEvent")
    assert "json, sqs, s3" in raised.value.fix and "--event-type json" in raised.value.fix


def test_http_features_parse_cargo_lambdas_values() -> None:
    assert HttpFeature.parse("apigw-http") is HttpFeature.APIGW_HTTP
    with pytest.raises(ConfigError, match="not a lambda_http feature"):
        HttpFeature.parse("vpc")


# --------------------------------------------------------------------------- rendering
@pytest.mark.parametrize("options", TEMPLATES, ids=lambda o: o.package)
def test_every_template_renders_complete_files(options: TemplateOptions) -> None:
    rendered = files(options)
    expected = {"Cargo.toml", "src/main.rs", "README.md", ".gitignore"}
    if options.cdk:
        expected |= {"cdk/app.py", "cdk/cdk.json", "cdk/requirements.txt"}
    if options.event_type and options.event_type.sample_file:
        expected.add(f"events/{options.event_type.sample_file}")
    assert set(rendered) == expected
    for path, text in rendered.items():
        assert text.endswith("\n") and not text.startswith("\n"), path
        assert "{{" not in text.replace("{{}}", "") and "{%" not in text, path
        if not path.endswith(".py"):  # Python separates definitions with two
            assert "\n\n\n" not in text, f"{path}: two blank lines in a row"
    manifest = tomllib.loads(rendered["Cargo.toml"])
    assert manifest["package"]["name"] == options.package
    assert manifest["package"]["edition"] == "2024"
    bins = manifest.get("bin", [])
    if options.bin_name:
        assert bins == [{"name": options.bin_name, "path": "src/main.rs"}]
    else:
        assert bins == []
    assert "lambda" in manifest["package"]["metadata"]
    assert f"# {options.package}\n" in rendered["README.md"]
    assert rendered[".gitignore"].startswith("/target\n")
    if options.cdk:
        app = rendered["cdk/app.py"]
        compile(app, "app.py", "exec")  # valid Python
        assert f'binary_name="{options.binary}"' in app
        construct = "RustExtension" if options.is_external_extension else "RustFunction"
        assert f"{construct}(" in app and "entry=str(PROJECT)" in app
        assert 'try_get_context("architecture") or "arm64"' in app  # Graviton by default


@pytest.mark.parametrize("options", TEMPLATES, ids=lambda o: o.package)
def test_dependencies_cover_what_the_code_uses(options: TemplateOptions) -> None:
    """What the test workspace could hide (a template compiling only thanks to another
    member's dependency or feature) is checked here, for every template."""
    rendered = files(options)
    code = rendered["src/main.rs"]
    deps = tomllib.loads(rendered["Cargo.toml"])["dependencies"]
    declared = {name.replace("-", "_"): spec for name, spec in deps.items()}

    def features(crate: str) -> set[str]:
        spec = declared[crate]
        return set(spec.get("features", [])) if isinstance(spec, dict) else set()

    used = set(re.findall(r"\b([a-z_]+)::", code)) - {"std", "super", "crate", "self"}
    used -= {"event", "streaming", "encodings", "sqs", "http"}  # path segments, not crates
    for module in re.findall(r"aws_lambda_events::event::(\w+)::", code):
        used.discard(module)
    used = {name for name in used if name in CRATE_VERSIONS or name.replace("_", "-") in deps}
    assert used <= set(declared), f"used but not declared: {used - set(declared)}"
    # serde and serde_json come with every function template even where its code does not
    # use them yet (lambda_runtime depends on both anyway); nothing else is declared unused.
    assert set(declared) <= used | {"serde", "serde_json"}, set(declared) - used
    for module in re.findall(r"aws_lambda_events::event::(\w+)::", code):
        assert module in features("aws_lambda_events"), module
    if re.search(r"aws_lambda_events::(http|encodings::Body)", code):
        http_features = {"alb", "apigw", "iot", "lambda_function_urls", "s3", "vpc_lattice"}
        assert features("aws_lambda_events") & http_features
    if re.search(r"derive\([^)]*(Serialize|Deserialize)", code):
        assert "derive" in features("serde")
    tokio_uses = set(re.findall(r"tokio::(\w+)", code))
    assert tokio_uses <= {"main", "test", "join", "spawn"}, tokio_uses
    assert {"macros", "rt-multi-thread"} <= features("tokio")
    if options.kind is TemplateKind.HTTP and options.http_features:
        assert features("lambda_http") == {f.value for f in options.http_features} | {"tracing"}
        assert declared["lambda_http"]["default-features"] is False


@pytest.mark.parametrize("options", TEMPLATES, ids=lambda o: o.package)
def test_names_are_substituted(options: TemplateOptions) -> None:
    rendered = files(options)
    readme = rendered["README.md"]
    command = invoke_command(options)
    if options.is_external_extension:
        assert command is None
        assert f"rustlambda deploy {options.binary} --extension" in readme
    else:
        assert command is not None and command in readme
        assert command.startswith(f"rustlambda invoke {options.binary} ")
    if options.internal:
        assert f'with_extension_name("{options.binary}-internal")' in rendered["src/main.rs"]


def test_the_versions_are_the_same_in_every_template() -> None:
    seen: dict[str, set[str]] = {}
    for options in TEMPLATES:
        manifest = tomllib.loads(files(options)["Cargo.toml"])
        for name, spec in manifest["dependencies"].items():
            seen.setdefault(name, set()).add(spec if isinstance(spec, str) else spec["version"])
    assert {name: versions for name, versions in seen.items() if len(versions) > 1} == {}
    assert set(seen) == set(CRATE_VERSIONS)
    assert all(versions == {CRATE_VERSIONS[name]} for name, versions in seen.items())


def test_the_lock_seed_holds_the_template_versions() -> None:
    """tests/fixtures/scaffold/Cargo.lock resolves the versions the templates ask for:
    after changing CRATE_VERSIONS, run scripts/scaffold_lock.py."""
    lock = tomllib.loads((FIXTURES / "scaffold" / "Cargo.lock").read_text())
    locked = {(p["name"], p["version"]) for p in lock["package"]}
    for name, version in CRATE_VERSIONS.items():
        assert (name, version) in locked, f"{name} {version}: run scripts/scaffold_lock.py"


def test_the_http_template_suggests_an_event_it_can_parse() -> None:
    for feature in HttpFeature:
        options = TemplateOptions("h", kind=TemplateKind.HTTP, http_features=(feature,))
        command = invoke_command(options)
        assert command == f"rustlambda invoke h --data-example {HTTP_EXAMPLES[feature.value]}"


def test_rust_use_wraps_like_rustfmt() -> None:
    assert rust_use("a", ["b", "A"]) == "use a::{A, b};"
    names = ["Error", "Extension", "LambdaEvent", "LambdaTelemetry", "LambdaTelemetryRecord"]
    names += ["NextEvent", "SharedService", "service_fn"]
    assert rust_use("lambda_extension", names) == (  # as rustfmt 1.95 writes it
        "use lambda_extension::{\n"
        "    Error, Extension, LambdaEvent, LambdaTelemetry, LambdaTelemetryRecord, NextEvent,\n"
        "    SharedService, service_fn,\n"
        "};"
    )
    names = [f"Name{i:02}" for i in range(12)]
    wrapped = rust_use("lambda_extension", names).splitlines()
    assert wrapped[0] == "use lambda_extension::{" and wrapped[-1] == "};"
    assert all(len(line) <= 100 and line.startswith("    ") for line in wrapped[1:-1])
    assert ", ".join(n.strip(",") for line in wrapped[1:-1] for n in line.split()) == ", ".join(
        names
    )
