"""The example events bundled for ``rustlambda invoke --data-example``: names, spellings, shapes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from rustlambda.emulator import examples
from rustlambda.errors import RustLambdaError, UnknownExampleError

ROOT = Path(__file__).resolve().parents[2]

#: Names cargo-lambda users type (``example-<name>.json`` in aws-lambda-rust-runtime's
#: ``lambda-events/src/fixtures``), plus ``lambda-functionurl-request``.
REQUIRED = (
    "apigw-request",
    "apigw-v2-request-no-authorizer",
    "apigw-v2-request-iam",
    "apigw-v2-request-jwt-authorizer",
    "apigw-websocket-request",
    "alb-lambda-target-request-headers-only",
    "alb-lambda-target-request-multivalue-headers",
    "lambda-functionurl-request",
    "sqs-event",
    "sns-event",
    "s3-event",
    "eventbridge-event-obj",
    "eventbridge-schedule",
    "dynamodb-event",
    "kinesis-event",
    "firehose-event",
    "cloudwatch_logs-event",
    "cognito-event-userpools-pretokengen",
    "ses-lambda-event",
    "code_commit-event",
)


def event(name: str) -> dict[str, Any]:
    parsed = json.loads(examples.load(name))
    assert isinstance(parsed, dict)
    return parsed


def walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``value``, nested ones included."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child)


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# --- names and package data ---------------------------------------------------------------


def test_names_are_sorted_and_unique() -> None:
    names = examples.names()
    assert names
    assert list(names) == sorted(set(names))


def test_every_required_example_is_bundled() -> None:
    missing = sorted(set(REQUIRED) - set(examples.names()))
    assert not missing


def test_names_stay_distinct_when_underscore_and_dash_are_equal() -> None:
    # `load` accepts `_` for `-`; two files differing only there would shadow each other
    keys = [name.replace("_", "-") for name in examples.names()]
    assert len(keys) == len(set(keys))


def test_events_directory_holds_only_json_the_wheel_carries() -> None:
    events = resources.files("rustlambda.emulator") / "events"
    files = [entry.name for entry in events.iterdir() if entry.name != "__pycache__"]
    assert sorted(files) == sorted(f"{name}.json" for name in examples.names())


def test_pyproject_declares_the_events_as_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["rustlambda"]
    assert "emulator/events/*.json" in package_data
    assert "py.typed" in package_data


# --- every file ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", examples.names())
def test_example_is_a_pretty_printed_json_object(name: str) -> None:
    raw = examples.load(name)
    text = raw.decode("utf-8")
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    assert parsed
    assert text == json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", examples.names())
def test_example_uses_the_fake_account_and_region(name: str) -> None:
    text = examples.load(name).decode("utf-8")
    accounts = set(re.findall(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):", text))
    assert accounts <= {"123456789012"}
    regions = set(re.findall(r"arn:aws:[a-z0-9-]+:([a-z]{2}-[a-z]+-\d):", text))
    assert regions <= {"us-east-1"}


@pytest.mark.parametrize("name", examples.names())
def test_base64_bodies_decode(name: str) -> None:
    for obj in walk(event(name)):
        if obj.get("isBase64Encoded") is True:
            assert isinstance(obj["body"], str)
            b64decode(obj["body"])


# --- spellings and errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["apigw-request", "example-apigw-request", "example-apigw-request.json", " APIGW-Request "],
)
def test_cargo_lambda_spellings_load_the_same_bytes(spelling: str) -> None:
    on_disk = (
        resources.files("rustlambda.emulator") / "events" / "apigw-request.json"
    ).read_bytes()
    assert examples.load(spelling) == on_disk
    assert examples.resolve(spelling) == "apigw-request"


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("cloudwatch-logs-event", "cloudwatch_logs-event"),
        ("example-cloudwatch_logs-event.json", "cloudwatch_logs-event"),
        ("code-commit-event", "code_commit-event"),
        ("kinesis-firehose-event", "firehose-event"),
        ("example-kinesis-firehose-event.json", "firehose-event"),
    ],
)
def test_dash_underscore_and_alias_spellings(spelling: str, name: str) -> None:
    assert examples.resolve(spelling) == name
    assert examples.load(spelling) == examples.load(name)


def test_near_miss_is_unknown_with_a_suggestion() -> None:
    with pytest.raises(UnknownExampleError) as caught:
        examples.load("apigw-requst")
    error = caught.value
    assert isinstance(error, RustLambdaError)
    assert error.exit_code == 18
    assert "'apigw-requst'" in error.message
    assert "did you mean 'apigw-request'?" in error.message
    for name in examples.names():
        assert name in error.fix


def test_near_miss_in_cargo_lambda_spelling_suggests_the_bundled_name() -> None:
    with pytest.raises(UnknownExampleError) as caught:
        examples.load("example-sqs-evnt.json")
    assert "did you mean 'sqs-event'?" in caught.value.message


@pytest.mark.parametrize(
    "name", ["definitely-not-an-aws-event", "", "../../errors.py", "hello world"]
)
def test_far_miss_is_unknown_without_a_suggestion(name: str) -> None:
    with pytest.raises(UnknownExampleError) as caught:
        examples.load(name)
    assert caught.value.exit_code == 18
    assert repr(name) in caught.value.message
    assert "did you mean" not in caught.value.message
    assert "apigw-request" in caught.value.fix


# --- shapes -------------------------------------------------------------------------------


def test_apigw_rest_v1_proxy_event() -> None:
    e = event("apigw-request")
    assert e["httpMethod"] == e["requestContext"]["httpMethod"]
    assert e["resource"] == e["requestContext"]["resourcePath"]
    assert e["requestContext"]["accountId"] == "123456789012"
    assert e["path"].startswith("/")
    assert e["requestContext"]["path"] == f"/{e['requestContext']['stage']}{e['path']}"
    assert e["multiValueHeaders"] == {k: [v] for k, v in e["headers"].items()}
    assert e["isBase64Encoded"] is False
    json.loads(e["body"])


@pytest.mark.parametrize(
    "name",
    [
        "apigw-v2-request-no-authorizer",
        "apigw-v2-request-iam",
        "apigw-v2-request-jwt-authorizer",
        "lambda-functionurl-request",
    ],
)
def test_payload_v2_events(name: str) -> None:
    e = event(name)
    assert e["version"] == "2.0"
    http = e["requestContext"]["http"]
    assert http["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert http["path"] == e["rawPath"]
    assert e["routeKey"] == e["requestContext"]["routeKey"]
    assert all(key == key.lower() for key in e["headers"])
    assert e["requestContext"]["timeEpoch"] > 1_600_000_000_000


def test_apigw_v2_authorizers() -> None:
    assert "authorizer" not in event("apigw-v2-request-no-authorizer")["requestContext"]

    iam = event("apigw-v2-request-iam")
    description = iam["requestContext"]["authorizer"]["iam"]
    assert description["accountId"] == "123456789012"
    assert iam["headers"]["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={description['accessKey']}/"
    )

    jwt = event("apigw-v2-request-jwt-authorizer")["requestContext"]["authorizer"]["jwt"]
    assert all(isinstance(value, str) for value in jwt["claims"].values())
    assert jwt["scopes"] == jwt["claims"]["scope"].split()
    token = event("apigw-v2-request-jwt-authorizer")["headers"]["authorization"]
    assert token.startswith("Bearer ")
    payload = token.removeprefix("Bearer ").split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == jwt["claims"]["sub"]


def test_lambda_function_url_event() -> None:
    e = event("lambda-functionurl-request")
    context = e["requestContext"]
    assert context["domainName"] == f"{context['apiId']}.lambda-url.us-east-1.on.aws"
    assert context["routeKey"] == "$default"


def test_apigw_websocket_event() -> None:
    context = event("apigw-websocket-request")["requestContext"]
    assert context["eventType"] == "MESSAGE"
    assert context["connectionId"]
    assert context["routeKey"] == json.loads(event("apigw-websocket-request")["body"])["action"]


def test_alb_events() -> None:
    headers_only = event("alb-lambda-target-request-headers-only")
    multi = event("alb-lambda-target-request-multivalue-headers")
    for e in (headers_only, multi):
        assert e["requestContext"]["elb"]["targetGroupArn"].startswith(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/"
        )
    assert "headers" in headers_only and "multiValueHeaders" not in headers_only
    assert "multiValueHeaders" in multi and "headers" not in multi
    assert all(isinstance(v, list) for v in multi["multiValueHeaders"].values())
    assert multi["isBase64Encoded"] is True
    assert len(b64decode(multi["body"])) == int(multi["multiValueHeaders"]["content-length"][0])


def test_sqs_event() -> None:
    records = event("sqs-event")["Records"]
    assert records
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:123456789012:")
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1


def test_sns_event() -> None:
    record = event("sns-event")["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Type"] == "Notification"
    assert record["EventSubscriptionArn"].startswith(record["Sns"]["TopicArn"] + ":")
    b64decode(record["Sns"]["Signature"])


def test_s3_event() -> None:
    record = event("s3-event")["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["object"]["key"]
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{record['s3']['bucket']['name']}"


def test_eventbridge_events() -> None:
    obj = event("eventbridge-event-obj")
    assert isinstance(obj["detail"], dict) and obj["detail"]
    assert obj["detail-type"] and obj["source"]
    schedule = event("eventbridge-schedule")
    assert schedule["detail-type"] == "Scheduled Event"
    assert schedule["source"] == "aws.events"


def test_dynamodb_event_has_insert_modify_and_remove() -> None:
    records = event("dynamodb-event")["Records"]
    by_name = {record["eventName"]: record["dynamodb"] for record in records}
    assert set(by_name) == {"INSERT", "MODIFY", "REMOVE"}
    assert "NewImage" in by_name["INSERT"] and "OldImage" not in by_name["INSERT"]
    assert "NewImage" in by_name["MODIFY"] and "OldImage" in by_name["MODIFY"]
    assert "OldImage" in by_name["REMOVE"] and "NewImage" not in by_name["REMOVE"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int | float)
    for obj in walk(records):
        if set(obj) == {"B"}:
            b64decode(obj["B"])


def test_kinesis_event_data_decodes() -> None:
    for record in event("kinesis-event")["Records"]:
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventID"].endswith(":" + record["kinesis"]["sequenceNumber"])
        json.loads(b64decode(record["kinesis"]["data"]))


def test_firehose_event_data_decodes() -> None:
    e = event("firehose-event")
    assert e["deliveryStreamArn"].startswith("arn:aws:firehose:us-east-1:123456789012:")
    for record in e["records"]:
        json.loads(b64decode(record["data"]))


def test_cloudwatch_logs_data_is_gzipped_subscription_json() -> None:
    data = event("cloudwatch_logs-event")["awslogs"]["data"]
    message = json.loads(gzip.decompress(b64decode(data)))
    assert message["messageType"] == "DATA_MESSAGE"
    assert message["owner"] == "123456789012"
    assert message["logEvents"]
    for log_event in message["logEvents"]:
        assert set(log_event) == {"id", "timestamp", "message"}


def test_cognito_pre_token_generation_event() -> None:
    e = event("cognito-event-userpools-pretokengen")
    assert e["triggerSource"].startswith("TokenGeneration_")
    assert e["userPoolId"].startswith("us-east-1_")
    assert "groupConfiguration" in e["request"]
    assert all(isinstance(value, str) for value in e["request"]["userAttributes"].values())


def test_ses_event() -> None:
    ses = event("ses-lambda-event")["Records"][0]["ses"]
    assert event("ses-lambda-event")["Records"][0]["eventSource"] == "aws:ses"
    assert ses["receipt"]["action"]["type"] == "Lambda"
    assert ses["mail"]["destination"] == ses["receipt"]["recipients"]


def test_code_commit_event() -> None:
    record = event("code_commit-event")["Records"][0]
    assert record["eventSource"] == "aws:codecommit"
    assert re.fullmatch(r"[0-9a-f]{40}", record["codecommit"]["references"][0]["commit"])


#: Each event module of aws_lambda_events 1.x (the event types cargo-lambda's templates offer)
#: → how its examples are named. chime_bot, iam, iot_deprecated and streams have no event
#: fixture upstream (streams holds responses only); lambda_function_urls' is rustlambda's own.
EVENT_TYPES = {
    "activemq": "activemq-event",
    "alb": "alb-lambda-target-request",
    "apigw (REST API)": "apigw-request",
    "apigw (HTTP API)": "apigw-v2-request",
    "apigw (WebSocket)": "apigw-websocket-request",
    "apigw (authorizers)": "apigw-v2-custom-authorizer",
    "appsync": "appsync-",
    "autoscaling": "autoscaling-event",
    "bedrock_agent_runtime": "bedrock-agent-runtime-event",
    "clientvpn": "clientvpn-connectionhandler-request",
    "cloudformation": "cloudformation-custom-resource",
    "cloudwatch_alarms": "cloudwatch-alarm",
    "cloudwatch_events": "cloudwatch-cloudtrail",
    "cloudwatch_logs": "cloudwatch_logs-event",
    "code_commit": "code_commit-event",
    "codebuild": "codebuild-",
    "codedeploy": "codedeploy-",
    "codepipeline_cloudwatch": "codepipeline-",
    "codepipeline_job": "codepipeline_job-event",
    "cognito": "cognito-event",
    "config": "config-event",
    "connect": "connect-event",
    "controltower": "controltower-",
    "documentdb": "documentdb-",
    "dynamodb": "dynamodb-event",
    "ecr_scan": "ecr-image-scan-event",
    "eventbridge": "eventbridge-",
    "firehose": "kinesis-firehose-event",
    "iot": "iot-custom-auth-request",
    "iot_1_click": "iot_1_click-event",
    "iot_button": "iot_button-event",
    "kafka": "kafka-event",
    "kinesis": "kinesis-event",
    "lambda_function_urls": "lambda-functionurl-request",
    "lex": "lex-event",
    "rabbitmq": "rabbitmq-event",
    "s3": "s3-event",
    "s3 (object lambda)": "s3-object-lambda-event",
    "secretsmanager": "secretsmanager-secret-rotation-event",
    "ses": "ses-",
    "sns": "sns-event",
    "sqs": "sqs-event",
    "vpc_lattice": "vpc-lattice-",
}


@pytest.mark.parametrize(("event_type", "prefix"), sorted(EVENT_TYPES.items()))
def test_every_event_type_has_an_example_listed_and_loadable(
    event_type: str, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from rustlambda.cli import main

    assert main(["invoke", "--list-examples"]) == 0
    listed = capsys.readouterr().out.split()
    matching = [name for name in listed if name.startswith(prefix)]
    assert matching, f"no example for {event_type} ({prefix}*)"
    for name in matching:
        assert json.loads(examples.load(name)), name
