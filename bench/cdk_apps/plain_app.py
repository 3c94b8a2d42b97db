"""CDK app for W6: the floor under both constructs. BENCH_FUNCTIONS plain ``lambda.Function``s
whose code is an asset directory already holding a bootstrap (BENCH_ASSET): what CDK itself
costs for that many functions (import of aws_cdk.aws_lambda, the constructs and their roles
through jsii, staging, a larger template), with no Rust construct and no build.

Runs with the project's .venv Python: `python plain_app.py` with CDK_OUTDIR set.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

asset = os.environ["BENCH_ASSET"]
count = int(os.environ["BENCH_FUNCTIONS"])

app = cdk.App()  # outdir: CDK_OUTDIR
stack = cdk.Stack(app, "Bench")
for index in range(1, count + 1):
    lambda_.Function(
        stack,
        f"Fn{index}",
        runtime=lambda_.Runtime.PROVIDED_AL2023,
        handler="bootstrap",
        architecture=lambda_.Architecture.X86_64,
        code=lambda_.Code.from_asset(asset),
    )
app.synth()
