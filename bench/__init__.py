"""Benchmarks of rustlambda against cargo-lambda and cargo-lambda-cdk (not part of the tests)."""
