"""The example Lambda events bundled with rustlambda, for ``rustlambda invoke --data-example``.

cargo-lambda downloads ``example-<name>.json`` from the aws-lambda-rust-runtime ``lambda-events``
fixtures; rustlambda ships them as package data (``emulator/events/<name>.json``, under the same
names), so ``--data-example`` needs no network: every event (not response) fixture of the
``aws_lambda_events`` crate (imported by scripts/import_lambda_events.py, MIT license in
emulator/LICENSE-aws-lambda-events), plus rustlambda's own ``lambda-functionurl-request``. This
module owns that list of names, the spellings of a name it accepts, and the error for a name it
does not know.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from ..errors import UnknownExampleError
from ..util.suggest import closest, suggestion

_PACKAGE = "rustlambda.emulator"
_EVENTS_DIR = "events"
_SUFFIX = ".json"
_PREFIX = "example-"

#: Other names people use for a bundled example (matched after `_key`), mapped to its real name.
_ALIASES = {
    "kinesis-firehose-event": "firehose-event",
}


def _events() -> Traversable:
    return resources.files(_PACKAGE) / _EVENTS_DIR


def _key(name: str) -> str:
    """Where upstream mixes ``_`` and ``-`` (``cloudwatch_logs-event``), accept either."""
    return name.strip().lower().replace("_", "-")


def _strip(name: str) -> str:
    """``example-apigw-request.json`` and ``example-apigw-request`` -> ``apigw-request``."""
    name = name.strip()
    if name.lower().endswith(_SUFFIX):
        name = name[: -len(_SUFFIX)]
    if name.lower().startswith(_PREFIX):
        name = name[len(_PREFIX) :]
    return name


def names() -> tuple[str, ...]:
    """The names of the bundled examples, sorted (what ``--data-example`` accepts)."""
    return tuple(
        sorted(
            entry.name[: -len(_SUFFIX)]
            for entry in _events().iterdir()
            if entry.is_file() and entry.name.endswith(_SUFFIX)
        )
    )


def aliases() -> dict[str, str]:
    """Other names accepted for a bundled example (cargo-lambda's, where upstream has two
    identical fixtures) → the bundled example's name."""
    available = set(names())
    return {alias: target for alias, target in _ALIASES.items() if target in available}


def _index() -> dict[str, str]:
    """Every accepted key (see `_key`) -> the bundled example's name."""
    available = names()
    index = {_key(name): name for name in available}
    for alias, target in _ALIASES.items():
        if target in available:
            index.setdefault(_key(alias), target)
    return index


def resolve(name: str) -> str:
    """The bundled example's name for ``name`` in any accepted spelling.

    Accepts cargo-lambda's spellings (``apigw-request``, ``example-apigw-request``,
    ``example-apigw-request.json``), ``_`` for ``-`` and the other way round, and any case.
    Raises `UnknownExampleError` for a name that matches no bundled example.
    """
    index = _index()
    key = _key(_strip(name))
    if key in index:
        return index[key]
    # 0.75: with ~160 names a lower cutoff finds a "match" for almost anything.
    close = closest(key, index, cutoff=0.75)
    hint = suggestion(index[close] if close else None)
    raise UnknownExampleError(
        f"no example event named {name!r}{hint}",
        "use one of the bundled examples: " + ", ".join(names()),
    )


def load(name: str) -> bytes:
    """The bytes of the bundled example event ``name`` (see `resolve` for the spellings)."""
    return (_events() / f"{resolve(name)}{_SUFFIX}").read_bytes()
