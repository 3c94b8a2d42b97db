"""The one settings model: every setting rustlambda reads, from the command line, the API's
options dataclasses, environment variables and ``[package|workspace.metadata.lambda]`` tables
(cargo-lambda's keys), defined once and resolved once.

    model.py     what a setting is (a row), where a value comes from (`Source`)
    table.py     the rows: keys and aliases, env var, flags, converter, commands, scope, default
    convert.py   one converter per type (and the list rules)
    keyvalue.py  KEY=VALUE items and env files
    resolve.py   layers and chains: precedence, merging, "did you mean", collected errors
    docs.py      README's key tables, generated from the rows

Adding a setting: one row in `table` (and, if it is a new field, that field in the options
dataclass of its section and in the resolved settings its front reads).

This package imports nothing heavy: the command line builds its flags from `table` at start-up.
"""
