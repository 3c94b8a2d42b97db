"""Deploy an extension: publish a layer version, unless the newest one already holds this zip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..layout import ArtifactKind
from ..reporting import Reporter
from .apply import code_source
from .artifacts import DeployPackage, layer_runtimes
from .aws import Aws, call, get_or_none
from .function import s3_key
from .result import Deployment
from .settings import DeploySettings


@dataclass(frozen=True)
class LayerPlan:
    settings: DeploySettings
    package: DeployPackage
    runtimes: tuple[str, ...]
    newest: Mapping[str, Any] | None  # GetLayerVersion of the newest version
    publish: bool

    def actions(self) -> list[str]:
        s = self.settings
        if not self.publish:
            return [f"nothing: layer version {self.newest_version} already holds this zip"]
        out = []
        if s.s3_bucket:
            out.append(f"upload the zip to s3://{s.s3_bucket}/{s3_key(s)}")
        out.append(
            f"publish a version of layer {s.name} ({self.package.arch.value}; "
            f"{', '.join(self.runtimes)})"
        )
        return out

    @property
    def newest_version(self) -> str | None:
        return str(self.newest["Version"]) if self.newest else None


def plan_layer(aws: Aws, settings: DeploySettings, package: DeployPackage) -> LayerPlan:
    runtimes = layer_runtimes(package, settings)
    listed = get_or_none(
        "ListLayerVersions", settings.name, aws.lambda_.list_layer_versions, LayerName=settings.name
    )
    versions = listed.get("LayerVersions", []) if listed else []
    newest: Mapping[str, Any] | None = None
    if versions:
        number = max(int(v["Version"]) for v in versions)
        newest = call(
            "GetLayerVersion",
            settings.name,
            aws.lambda_.get_layer_version,
            LayerName=settings.name,
            VersionNumber=number,
        )
    same = newest is not None and (
        newest.get("Content", {}).get("CodeSha256") == package.code_sha256
        and list(newest.get("CompatibleArchitectures", [])) == [package.arch.value]
        and sorted(newest.get("CompatibleRuntimes", [])) == sorted(runtimes)
        and (settings.description is None or newest.get("Description", "") == settings.description)
    )
    return LayerPlan(settings, package, runtimes, newest, publish=not same)


def apply_layer(aws: Aws, plan: LayerPlan, reporter: Reporter) -> Deployment:
    s, package = plan.settings, plan.package
    arn = plan.newest.get("LayerVersionArn") if plan.newest else None
    version = plan.newest_version
    if plan.publish:
        content = code_source(aws, s, package)
        reporter.info(f"publishing layer {s.name} ({package.arch.value})")
        params: dict[str, Any] = {
            "LayerName": s.name,
            "Content": content,
            "CompatibleRuntimes": list(plan.runtimes),
            "CompatibleArchitectures": [package.arch.value],
        }
        if s.description is not None:
            params["Description"] = s.description
        published = call("PublishLayerVersion", s.name, aws.lambda_.publish_layer_version, **params)
        arn, version = published["LayerVersionArn"], str(published["Version"])
    return Deployment(
        name=s.name,
        kind=ArtifactKind.EXTENSION,
        arch=package.arch,
        zip_path=package.shown_path,
        size=package.size,
        sha256=package.sha256,
        status="published" if plan.publish else "unchanged",
        arn=arn,
        version=version,
        compatible_runtimes=plan.runtimes,
        actions=tuple(plan.actions()),
    )
