"""CDK app for W6: BENCH_FUNCTIONS functions of BENCH_WORKSPACE with cargo_lambda_cdk.RustFunction.

Runs with the bench virtualenv's Python: `python cargo_lambda_app.py` with CDK_OUTDIR set and
the bench venv's bin first on PATH (cargo-lambda-cdk bundles with `cargo lambda build`).
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from cargo_lambda_cdk import RustFunction  # type: ignore[import-not-found]  # bench venv

workspace = os.environ["BENCH_WORKSPACE"]
count = int(os.environ["BENCH_FUNCTIONS"])

app = cdk.App()  # outdir: CDK_OUTDIR
stack = cdk.Stack(app, "Bench")
for index in range(1, count + 1):
    name = f"f{index:02d}"  # bench/workspaces.py names (workspaces of up to 99 functions)
    RustFunction(stack, f"Fn{index}", manifest_path=f"{workspace}/Cargo.toml", binary_name=name)
app.synth()
