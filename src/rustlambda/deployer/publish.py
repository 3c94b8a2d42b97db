"""What a deploy does after the code is in place: publish a version (only when something
changed since the newest one), point the alias at it, and enable or disable the function URL
with its public-access statements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..reporting import Reporter
from .aws import Aws, call, get_or_none
from .function import comparable
from .settings import DeploySettings, UrlChange

#: The function URL's public-access statements (both are needed for AuthType NONE since 2025).
URL_STATEMENTS = ("FunctionURLAllowPublicAccess", "FunctionURLAllowInvokeAction")
#: Configuration fields a published version is compared on ($LATEST vs the newest version).
_VERSION_FIELDS = (
    "CodeSha256",
    "Runtime",
    "Handler",
    "MemorySize",
    "Timeout",
    "Role",
    "Environment",
    "TracingConfig",
    "Layers",
    "VpcConfig",
    "Architectures",
    "EphemeralStorage",
)


@dataclass(frozen=True)
class AfterCode:
    version: str | None
    alias_arn: str | None
    url: str | None


def after_code(
    aws: Aws, s: DeploySettings, changed: bool, reporter: Reporter, done: list[str]
) -> AfterCode:
    """Publish (if asked), alias (if asked), then the function URL."""
    version = None
    if s.publish:
        version = _publish(aws, s, changed, reporter)
        done.append(f"version {version}")
    alias_arn = _alias(aws, s, version, reporter) if s.alias and version else None
    return AfterCode(version, alias_arn, _function_url(aws, s, reporter))


def _publish(aws: Aws, s: DeploySettings, changed: bool, reporter: Reporter) -> str:
    lam = aws.lambda_
    if not changed:
        existing = _matching_version(aws, s.name)
        if existing is not None:
            return existing
    reporter.info(f"publishing a version of {s.name}")
    params: dict[str, Any] = {"FunctionName": s.name}
    if s.description is not None:
        params["Description"] = s.description
    return str(call("PublishVersion", s.name, lam.publish_version, **params)["Version"])


def _matching_version(aws: Aws, name: str) -> str | None:
    """The newest published version if it equals $LATEST (code and configuration)."""
    latest: Mapping[str, Any] | None = None
    newest: Mapping[str, Any] | None = None
    paginator = aws.lambda_.get_paginator("list_versions_by_function")

    def versions() -> list[Mapping[str, Any]]:  # every page, read again when throttled
        return [
            v for page in paginator.paginate(FunctionName=name) for v in page.get("Versions", [])
        ]

    for version in call("ListVersionsByFunction", name, versions):
        number = version.get("Version", "")
        if number == "$LATEST":
            latest = version
        elif number.isdigit() and (newest is None or int(number) > int(newest["Version"])):
            newest = version
    if latest is None or newest is None:
        return None
    same = all(comparable(latest, key) == comparable(newest, key) for key in _VERSION_FIELDS)
    return str(newest["Version"]) if same else None


def _alias(aws: Aws, s: DeploySettings, version: str, reporter: Reporter) -> str:
    lam = aws.lambda_
    assert s.alias is not None
    subject = f"{s.name}:{s.alias}"
    current = get_or_none("GetAlias", subject, lam.get_alias, FunctionName=s.name, Name=s.alias)
    if current is None:
        reporter.info(f"creating alias {subject} → version {version}")
        made = call(
            "CreateAlias",
            subject,
            lam.create_alias,
            FunctionName=s.name,
            Name=s.alias,
            FunctionVersion=version,
        )
        return str(made["AliasArn"])
    if current["FunctionVersion"] != version:
        reporter.info(f"pointing alias {subject} at version {version}")
        call(
            "UpdateAlias",
            subject,
            lam.update_alias,
            FunctionName=s.name,
            Name=s.alias,
            FunctionVersion=version,
        )
    return str(current["AliasArn"])


def _function_url(aws: Aws, s: DeploySettings, reporter: Reporter) -> str | None:
    """Enable/disable the URL (on the alias when there is one); returns the URL if enabled."""
    lam = aws.lambda_
    qualifier: dict[str, Any] = {"Qualifier": s.alias} if s.alias else {}
    subject = f"{s.name}:{s.alias}" if s.alias else s.name
    current: Mapping[str, Any] | None = get_or_none(
        "GetFunctionUrlConfig",
        subject,
        lam.get_function_url_config,
        FunctionName=s.name,
        **qualifier,
    )
    if s.function_url is None:
        return str(current["FunctionUrl"]) if current else None
    if s.function_url is UrlChange.DISABLE:
        if current is not None:
            reporter.info(f"disabling the function URL of {subject}")
            call(
                "DeleteFunctionUrlConfig",
                subject,
                lam.delete_function_url_config,
                FunctionName=s.name,
                **qualifier,
            )
            _url_permissions(aws, s, qualifier, public=False)
        return None
    auth = s.function_url_auth.value
    if current is None:
        reporter.info(f"enabling the function URL of {subject} (AuthType {auth})")
        current = call(
            "CreateFunctionUrlConfig",
            subject,
            lam.create_function_url_config,
            FunctionName=s.name,
            AuthType=auth,
            **qualifier,
        )
    elif current.get("AuthType") != auth:
        current = call(
            "UpdateFunctionUrlConfig",
            subject,
            lam.update_function_url_config,
            FunctionName=s.name,
            AuthType=auth,
            **qualifier,
        )
    _url_permissions(aws, s, qualifier, public=auth == "NONE")
    return str(current["FunctionUrl"])


def _url_permissions(
    aws: Aws, s: DeploySettings, qualifier: dict[str, Any], *, public: bool
) -> None:
    """AuthType NONE needs a resource policy letting anyone invoke through the URL."""
    lam = aws.lambda_
    subject = f"{s.name}:{s.alias}" if s.alias else s.name
    found = get_or_none("GetPolicy", subject, lam.get_policy, FunctionName=s.name, **qualifier)
    policy = json.loads(found["Policy"]) if found else {}
    present = {st.get("Sid", "") for st in policy.get("Statement", [])}
    if not public:
        for sid in URL_STATEMENTS:
            if sid in present:
                call(
                    "RemovePermission",
                    subject,
                    lam.remove_permission,
                    FunctionName=s.name,
                    StatementId=sid,
                    **qualifier,
                )
        return
    statements: dict[str, dict[str, Any]] = {
        URL_STATEMENTS[0]: {
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionUrlAuthType": "NONE",
        },
        URL_STATEMENTS[1]: {"Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": True},
    }
    for sid, extra in statements.items():
        if sid in present:
            continue
        get_or_none(
            "AddPermission",
            subject,
            lam.add_permission,
            absent=("ResourceConflictException",),  # added meanwhile: fine
            FunctionName=s.name,
            StatementId=sid,
            Principal="*",
            **extra,
            **qualifier,
        )
