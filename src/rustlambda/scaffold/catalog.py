"""What the templates are made of: the crates and versions they depend on, and the event types
a basic function can take.

The versions live here and only here: every template asks for the same requirement of a crate,
so generated projects resolve the same dependency versions (and share compiled dependencies
when they share a target directory). Bump them in one place.

Each event type is one ``aws_lambda_events`` type with its own handler template, a unit test in
the generated project, and the bundled example event ``rustlambda invoke --data-example`` sends
to it (see ``rustlambda.emulator.examples``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError

#: The newest published versions when the templates were last checked (crates.io, with
#: ``cargo info``). Requirements are caret requirements: ``"1.5.0"`` means ``^1.5.0``.
CRATE_VERSIONS: Mapping[str, str] = {
    "lambda_runtime": "1.5.0",
    "lambda_http": "1.3.2",
    "lambda-extension": "1.1.1",
    "aws_lambda_events": "1.2.1",
    "tokio": "1.54.1",
    "serde": "1.0.229",
    "serde_json": "1.0.154",
    "tracing": "0.1.44",
}

#: The bundled example event of each lambda_http service (``--http-feature`` value), for the
#: generated README and ``rustlambda new``'s next steps.
HTTP_EXAMPLES: Mapping[str, str] = {
    "apigw_http": "apigw-v2-request-no-authorizer",
    "apigw_rest": "apigw-request",
    "alb": "alb-lambda-target-request-headers-only",
    "apigw_websockets": "apigw-websocket-request",
}

#: The spelling `--event-type` accepts for a function that takes any JSON (serde_json::Value).
JSON = "json"
_JSON_ALIASES = ("json", "generic", "value", "serde_json::value")


@dataclass(frozen=True)
class EventType:
    """One aws_lambda_events type a function template can take."""

    #: The short name (``--event-type sqs``) and the template's file name (``function/sqs.rs``).
    key: str
    #: cargo-lambda's spelling: ``module::Type`` under ``aws_lambda_events::event``.
    rust_type: str
    #: The aws_lambda_events features the template enables.
    features: tuple[str, ...]
    #: What triggers it, for help texts and the generated README.
    title: str
    #: The bundled example event (``rustlambda invoke --data-example NAME``), or None.
    example: str | None = None
    #: A file the template writes into the project's ``events/`` folder when no bundled
    #: example exists (``rustlambda invoke --data-file events/NAME``).
    sample_file: str | None = None

    @property
    def module(self) -> str:
        return self.rust_type.split("::")[0]

    @property
    def type_name(self) -> str:
        return self.rust_type.split("::")[-1]


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("sqs", "sqs::SqsEvent", ("sqs",), "Amazon SQS messages", "sqs-event"),
    EventType("s3", "s3::S3Event", ("s3",), "Amazon S3 notifications", "s3-event"),
    EventType("sns", "sns::SnsEvent", ("sns",), "Amazon SNS notifications", "sns-event"),
    EventType(
        "eventbridge",
        "eventbridge::EventBridgeEvent",
        ("eventbridge",),
        "Amazon EventBridge events and schedules",
        "eventbridge-event-obj",
    ),
    EventType(
        "dynamodb",
        "dynamodb::Event",
        ("dynamodb", "streams"),
        "Amazon DynamoDB Streams records",
        "dynamodb-event",
    ),
    EventType(
        "kinesis",
        "kinesis::KinesisEvent",
        ("kinesis", "streams"),
        "Amazon Kinesis Data Streams records",
        "kinesis-event",
    ),
    EventType(
        "firehose",
        "firehose::KinesisFirehoseEvent",
        ("firehose",),
        "Amazon Data Firehose record transformation",
        "firehose-event",
    ),
    EventType(
        "cloudwatch-logs",
        "cloudwatch_logs::LogsEvent",
        ("cloudwatch_logs",),
        "CloudWatch Logs subscription filters",
        "cloudwatch_logs-event",
    ),
    EventType(
        "ses", "ses::SimpleEmailEvent", ("ses",), "Amazon SES receipt rules", "ses-lambda-event"
    ),
    EventType(
        "codecommit",
        "code_commit::CodeCommitEvent",
        ("code_commit",),
        "AWS CodeCommit triggers",
        "code_commit-event",
    ),
    EventType(
        "cognito-pre-token",
        "cognito::CognitoEventUserPoolsPreTokenGen",
        ("cognito",),
        "Amazon Cognito pre token generation trigger",
        "cognito-event-userpools-pretokengen",
    ),
    EventType(
        "kafka",
        "kafka::KafkaEvent",
        ("kafka",),
        "Amazon MSK and self-managed Apache Kafka records",
        sample_file="kafka-event.json",
    ),
    EventType(
        "apigw-rest",
        "apigw::ApiGatewayProxyRequest",
        ("apigw",),
        "API Gateway REST API proxy requests (raw event; --http for lambda_http)",
        "apigw-request",
    ),
    EventType(
        "apigw-http",
        "apigw::ApiGatewayV2httpRequest",
        ("apigw",),
        "API Gateway HTTP API requests (raw event; --http for lambda_http)",
        "apigw-v2-request-no-authorizer",
    ),
    EventType(
        "apigw-websocket",
        "apigw::ApiGatewayWebsocketProxyRequest",
        ("apigw",),
        "API Gateway WebSocket API messages",
        "apigw-websocket-request",
    ),
    EventType(
        "alb",
        "alb::AlbTargetGroupRequest",
        ("alb",),
        "Application Load Balancer requests (raw event; --http for lambda_http)",
        "alb-lambda-target-request-headers-only",
    ),
    EventType(
        "function-url",
        "lambda_function_urls::LambdaFunctionUrlRequest",
        ("lambda_function_urls",),
        "Lambda function URL requests (raw event; --http for lambda_http)",
        "lambda-functionurl-request",
    ),
)

_BY_KEY: Mapping[str, EventType] = {e.key: e for e in EVENT_TYPES}


def _spellings() -> dict[str, EventType | None]:
    """Every accepted spelling (lower case) -> its event type; None for the JSON function."""
    index: dict[str, EventType | None] = dict.fromkeys(_JSON_ALIASES)
    for event in EVENT_TYPES:
        index[event.key] = event
        index[event.key.replace("-", "_")] = event
        index[event.rust_type.lower()] = event
        index[f"aws_lambda_events::event::{event.rust_type}".lower()] = event
        index[f"aws_lambda_events::{event.rust_type}".lower()] = event
        index.setdefault(event.type_name.lower(), event)
    # A module with one event type here is enough to name it (cloudwatch_logs, code_commit).
    modules: dict[str, list[EventType]] = {}
    for event in EVENT_TYPES:
        modules.setdefault(event.module, []).append(event)
    for module, events in modules.items():
        if len(events) == 1:
            index.setdefault(module, events[0])
    return index


def parse_event_type(spelling: str) -> EventType | None:
    """The event type ``--event-type`` names; None for a function taking any JSON.

    Accepts the short names (``sqs``), cargo-lambda's ``module::Type`` (``sqs::SqsEvent``,
    also with the ``aws_lambda_events::event::`` prefix) and the bare type name, in any case.
    Raises `ConfigError` for anything else, listing what is available.
    """
    key = spelling.strip().lower()
    index = _spellings()
    if key in index:
        return index[key]
    ambiguous = [e.key for e in EVENT_TYPES if e.module == key]
    listed = ", ".join([JSON, *(e.key for e in EVENT_TYPES)])
    if ambiguous:
        raise ConfigError(
            f"--event-type {spelling}: the {key} module has several event types",
            f"pass one of: {', '.join(ambiguous)}",
        )
    raise ConfigError(
        f"--event-type {spelling}: rustlambda has no template for this event type",
        f"pass one of: {listed} (or cargo-lambda's module::Type spelling of one of them); for "
        f"another aws_lambda_events type start from --event-type {JSON} and change the type",
    )


def event_type(key: str) -> EventType:
    """The event type with this short name (a KeyError for an unknown one)."""
    return _BY_KEY[key]
