"""Assets made after the app is declared, so one build makes exactly the binaries it uses.

CDK bundles an asset as soon as its construct is created, and an app declares its functions one
after the other: the first asset cannot know which binaries the next ones need. So a construct
gets a `DeferredCode`: its S3 location is a lazy token, and the real asset (an ``s3_assets.Asset``
with the bundling options, as ``lambda.Code.from_asset`` makes it: CDK's own staging, hashing
and bundling) is made by an aspect that runs before synthesis, when every construct of the app
is known — in declaration order, so the hooks run in the seed's order. Anything resolving the
location earlier makes the assets then. A local build bundles the asset itself and hands CDK a
plain directory (same hash as CDK's OUTPUT hash of the same files, see `asset.RustAsset`).

Every call into aws-cdk-lib is a round trip to node (jsii), so this module makes few: the asset
is created directly (``Code.bind`` would hand back a struct read property by property), its
bucket and key are read once, one aspect object serves the whole app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct, IConstruct

from .bundling import AppBuilds

#: cdk.AspectPriority.MUTATING (read once: a static property is a round trip too)
_MUTATING = 200


#: Made by the construct's asset: the ``s3_assets.Asset`` under the given scope, and whether it
#: was bundled before CDK saw it (CDK then stages a plain directory).
MakeAsset = Callable[[Construct], tuple[s3_assets.Asset, bool]]
_METADATA = "aws:cdk:enable-asset-metadata"


class DeferredCode(lambda_.Code):
    """Lambda code whose asset is made by ``make`` when the app is complete."""

    def __init__(self, app: AppBuilds, make: MakeAsset) -> None:
        super().__init__()
        self._app = app
        self._make = make
        self._scope: Construct | None = None
        self._resources: list[tuple[cdk.CfnResource, str]] = []
        self._location: tuple[str, str] | None = None
        app.deferred.append(self)

    def bind(self, scope: Construct) -> lambda_.CodeConfig:
        if self._scope is not None:
            raise ValueError("a RustFunction's code is bound once, to its own construct")
        self._scope = scope
        # a dict for the s3.Location struct: importing aws_cdk.aws_s3 costs more than a synth
        location: Any = {
            "bucket_name": cdk.Lazy.string(_Location(self, 0)),
            "object_key": cdk.Lazy.string(_Location(self, 1)),
        }
        return lambda_.CodeConfig(s3_location=location)

    def bind_to_resource(
        self, resource: cdk.CfnResource, *, resource_property: str | None = None
    ) -> None:
        self._resources.append((resource, resource_property or "Code"))

    @property
    def made(self) -> bool:
        return self._location is not None

    def materialize(self) -> tuple[str, str]:
        """Make the real asset (once) under the construct it was bound to: its bucket and key."""
        if self._location is None:
            if self._scope is None:
                raise ValueError("the code is made after it is bound to its construct")
            asset, prebundled = self._make(self._scope)
            for resource, prop in self._resources:  # aws:asset:path etc., as AssetCode does
                asset.add_resource_metadata(resource, prop)
                if prebundled and self._app.context(self._scope, _METADATA):
                    # what CDK's own bundling would say (SAM does not build it again)
                    resource.add_metadata("aws:asset:is-bundled", True)
            self._location = (asset.s3_bucket_name, asset.s3_object_key)
        return self._location


def materialize_all(app: AppBuilds) -> None:
    """Every deferred asset of the app not made yet, in declaration order."""
    for code in list(app.deferred):
        if not code.made:
            code.materialize()


@jsii.implements(cdk.IStableStringProducer)
class _Location:
    """The bucket (0) or key (1) of a deferred asset, once it exists."""

    def __init__(self, code: DeferredCode, part: int) -> None:
        self.code = code
        self.part = part

    def produce(self) -> str:
        if not self.code.made:
            materialize_all(self.code._app)
        return self.code.materialize()[self.part]


@jsii.implements(cdk.IAspect)
class MakeAssets:
    """The app's aspect: makes its deferred assets on its first visit."""

    def __init__(self, app: AppBuilds) -> None:
        self.app = app

    def visit(self, node: IConstruct) -> None:
        materialize_all(self.app)


def make_assets_before_synthesis(app: AppBuilds, stack: str, construct: Construct) -> None:
    """Have the app's deferred assets made before synthesis: the app's aspect on the
    CloudFormation resource (a leaf: one visit) of the first construct of each stack, before
    default and read-only aspects. (Per stack, not per app: the stacks of nested stages
    synthesize separately, and the first to synthesize makes every asset.)"""
    if stack in app.stacks_with_aspect:
        return
    app.stacks_with_aspect.add(stack)
    if app.aspect is None:
        app.aspect = MakeAssets(app)
    leaf = construct.node.default_child or construct
    cdk.Aspects.of(leaf).add(app.aspect, priority=_MUTATING)
