"""CDK app for W6: BENCH_FUNCTIONS functions of BENCH_WORKSPACE with rustlambda.cdk.RustFunction.

Runs with the project's .venv Python: `python rustlambda_app.py` with CDK_OUTDIR set.
"""

from __future__ import annotations

import os

import aws_cdk as cdk

from rustlambda.cdk import RustFunction

workspace = os.environ["BENCH_WORKSPACE"]
count = int(os.environ["BENCH_FUNCTIONS"])

app = cdk.App()  # outdir: CDK_OUTDIR
stack = cdk.Stack(app, "Bench")
for index in range(1, count + 1):
    name = f"f{index:02d}"  # bench/workspaces.py names (workspaces of up to 99 functions)
    RustFunction(stack, f"Fn{index}", entry=workspace, binary_name=name)
app.synth()
