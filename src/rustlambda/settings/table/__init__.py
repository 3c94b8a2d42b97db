"""The settings table: every setting rustlambda reads, once.

Each row names its cargo-lambda metadata keys (with aliases), environment variable, command-line
flags, converter (the type), the fronts that use it, its scope and its default. The flags module
builds the command lines from these rows, the resolver reads Cargo.toml metadata and the
environment through them, and README's key tables are generated from them.

The rows live in one module per metadata table (`build` also holds ``[*.metadata.lambda]``'s
``env``); this package is the table: ``table.RELEASE``, ``table.ROWS``, ``table.rows(section)``.
"""

from __future__ import annotations

from ..model import AnySetting, Section, Setting
from .build import *  # noqa: F403
from .cache import *  # noqa: F403
from .cargo import *  # noqa: F403
from .deploy import *  # noqa: F403
from .refused import COMING as COMING
from .refused import REFUSALS as REFUSALS
from .refused import coming_keys as coming_keys
from .refused import refusals as refusals
from .refused import refused_keys as refused_keys
from .sources import *  # noqa: F403
from .watch import *  # noqa: F403

#: Every row, in the table's order (sections as listed, rows as written).
ROWS: tuple[AnySetting, ...] = tuple(
    value for value in dict(globals()).values() if isinstance(value, Setting)
)


def rows(section: Section) -> tuple[AnySetting, ...]:
    return tuple(row for row in ROWS if row.section is section)
