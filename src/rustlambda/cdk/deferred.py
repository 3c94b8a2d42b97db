"""Assets made after the app is declared, so one build makes exactly the binaries it uses.

CDK bundles an asset as soon as its construct is created, and an app declares its functions one
after the other: the first asset cannot know which binaries the next ones need. So a construct
gets a `DeferredCode`: its S3 location is a lazy token, and the real asset (``Code.from_asset``
with the bundling options; CDK's own staging, hashing and bundling) is made by an aspect that
runs before synthesis, when every construct of the app is known — in declaration order, so the
hooks run in the seed's order. Anything resolving the location earlier makes the assets then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from .bundling import AppBuilds


class DeferredCode(lambda_.Code):
    """Lambda code whose asset is made by ``make`` when the app is complete."""

    def __init__(self, app: AppBuilds, make: Callable[[], lambda_.Code]) -> None:
        super().__init__()
        self._app = app
        self._make = make
        self._scope: Construct | None = None
        self._resources: list[tuple[cdk.CfnResource, str | None]] = []
        self._config: lambda_.CodeConfig | None = None
        app.deferred.append(self)

    def bind(self, scope: Construct) -> lambda_.CodeConfig:
        if self._scope is not None:
            raise ValueError("a RustFunction's code is bound once, to its own construct")
        self._scope = scope
        # a dict for the s3.Location struct: importing aws_cdk.aws_s3 costs more than a synth
        location: Any = {
            "bucket_name": cdk.Lazy.string(_Location(self, "bucket")),
            "object_key": cdk.Lazy.string(_Location(self, "key")),
        }
        return lambda_.CodeConfig(s3_location=location)

    def bind_to_resource(
        self, resource: cdk.CfnResource, *, resource_property: str | None = None
    ) -> None:
        self._resources.append((resource, resource_property))

    @property
    def made(self) -> bool:
        return self._config is not None

    def materialize(self) -> lambda_.CodeConfig:
        """Make the real asset (once) under the construct it was bound to."""
        if self._config is None:
            if self._scope is None:
                raise ValueError("the code is made after it is bound to its construct")
            real = self._make()
            config = real.bind(self._scope)
            for resource, prop in self._resources:
                real.bind_to_resource(resource, resource_property=prop)
            self._config = config
        return self._config


def materialize_all(app: AppBuilds) -> None:
    """Every deferred asset of the app not made yet, in declaration order."""
    for code in list(app.deferred):
        if not code.made:
            code.materialize()


@jsii.implements(cdk.IStableStringProducer)
class _Location:
    """The bucket or key of a deferred asset, once it exists."""

    def __init__(self, code: DeferredCode, part: str) -> None:
        self.code = code
        self.part = part

    def produce(self) -> str:
        if not self.code.made:
            materialize_all(self.code._app)
        location = self.code.materialize().s3_location
        assert location is not None
        return location.bucket_name if self.part == "bucket" else location.object_key


@jsii.implements(cdk.IAspect)
class _MakeAssets:
    def __init__(self, app: AppBuilds) -> None:
        self.app = app

    def visit(self, node: IConstruct) -> None:
        materialize_all(self.app)


def make_assets_before_synthesis(app: AppBuilds, construct: Construct) -> None:
    """Have the app's deferred assets made before synthesis (an aspect on ``construct``'s
    CloudFormation resource, a leaf: one visit; before default and read-only aspects)."""
    leaf = construct.node.default_child or construct
    cdk.Aspects.of(leaf).add(_MakeAssets(app), priority=cdk.AspectPriority.MUTATING)
