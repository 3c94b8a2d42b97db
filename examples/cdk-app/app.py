"""A CDK app (Python) deploying the hello-world workspace's functions with rustlambda.

    cd examples/cdk-app && python app.py          # synthesizes into ./cdk.out (no AWS account needed)
    cdk deploy --app "python app.py"              # with the AWS CDK CLI and credentials

Both functions come from ONE workspace: one cargo build per architecture for the whole app.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from rustlambda.cdk import BundlingOptions, RustFunction

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parent / "hello-world"


class HelloStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        greet = RustFunction(
            self,
            "Greet",
            entry=str(WORKSPACE),
            binary_name="greet",
            architecture=lambda_.Architecture.ARM_64,
            memory_size=128,
            timeout=cdk.Duration.seconds(5),
            environment={"LOG_LEVEL": "info"},
            bundling=BundlingOptions(environment={"LOG_LEVEL": "info"}),
        )
        reverse = RustFunction(
            self,
            "Reverse",
            entry=str(WORKSPACE),
            binary_name="reverse",
            architecture=lambda_.Architecture.ARM_64,
        )
        for function in (greet, reverse):
            cdk.CfnOutput(self, f"{function.node.id}Name", value=function.function_name)


# `cdk synth` tells the app where to write (CDK_OUTDIR); `python app.py` writes ./cdk.out next to
# this file (cdk.App() alone would write to a temporary directory)
app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out"))
HelloStack(app, "RustLambdaHello")
app.synth()
