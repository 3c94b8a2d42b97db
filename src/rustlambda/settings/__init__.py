"""The one settings model: every setting rustlambda reads, from the command line, the API's
options dataclasses, environment variables and ``[package|workspace.metadata.lambda]`` tables
(cargo-lambda's keys), defined once and resolved once.

    model.py     what a setting is (a row), where a value comes from (`Source`)
    table/       the rows (build.py, cargo.py, watch.py, deploy.py, sources.py): keys and
                 aliases, env var, flags, converter, commands, scope, default; refused.py:
                 cargo-lambda's flags and keys refused (with their error) or coming
    convert.py   one converter per type (and the list rules)
    keyvalue.py  KEY=VALUE items and env files
    resolve.py   layers and chains: precedence (`model.Level`), merging, conversion
    metadata.py  reading tables into layers: "did you mean", refused keys, collected errors;
                 a workspace's Cargo.toml metadata
    cargolambda.py  cargo-lambda's global configuration: CargoLambda.toml (contexts) and
                 CARGO_LAMBDA_<SECTION>.<KEY> variables, as layers below the metadata
    docs.py      README's key tables and precedence list, generated from the rows

Adding a setting: one row in ``table/<section>.py``, that field in the options dataclass of its
section (`BuildOptions`, `WatchOptions`, `DeployOptions`) and in the resolved settings its
front reads; then ``python -m rustlambda.settings.docs README.md``.

This package imports nothing heavy: a command builds its flags from `table` when it loads.
"""
