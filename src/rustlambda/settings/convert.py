"""One converter per type of setting: raw value (TOML, an environment string, a command-line
value) → the typed value. Every converter also accepts a value of its result type, so an API
caller's typed options pass through the same check.

The list rules, one per type (cargo-lambda's and cargo's own):

``strings``    a list of strings or one string; every string is split on commas
               (``layers``, ``subnet_ids``, ``compatible_runtimes``, targets: cargo-lambda's
               comma-separated flags).
``features``   the same, split on commas and whitespace (cargo's ``--features``).
``paths``      a list of paths, each taken whole, or one string of comma-separated paths
               (``include``: a path may hold spaces, and ``--include`` takes one per flag).
``arguments``  a list of arguments, each taken whole, or one string split on whitespace
               (the cargo compiler's ``subcommand`` and ``extra_args``).
``whole``      a list of strings or one string, each taken whole (cargo's ``--config`` and
               ``-Z`` values, which may hold commas and spaces).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Generic, TypeVar

from ..options import Compiler, CompilerSettings
from ..targets import Arch, Runtime, Target
from .keyvalue import parse_env_vars, parse_tags, read_env_file
from .model import Context, Invalid

E = TypeVar("E", bound=enum.Enum)


class Bool:
    describe = "true or false"

    def __call__(self, value: object, ctx: Context) -> bool:
        if isinstance(value, bool):
            return value
        raise Invalid(f"must be true or false, not {value!r}", "write true or false")


class Text:
    describe = "string"

    def __call__(self, value: object, ctx: Context) -> str:
        if isinstance(value, str) and value:
            return value
        raise Invalid(
            f"must be a non-empty string, not {value!r}",
            f'a non-empty string, e.g. {ctx.key} = "..."',
        )


class Int:
    __slots__ = ("hi", "lo")

    def __init__(self, lo: int | None = None, hi: int | None = None) -> None:
        self.lo, self.hi = lo, hi

    @property
    def describe(self) -> str:
        if self.lo is None or self.hi is None:
            return "whole number"
        return f"whole number from {self.lo} to {self.hi}"

    def __call__(self, value: object, ctx: Context) -> int:
        in_range = isinstance(value, int) and not isinstance(value, bool)
        if in_range and self.lo is not None and value < self.lo:  # type: ignore[operator]
            in_range = False
        if in_range and self.hi is not None and value > self.hi:  # type: ignore[operator]
            in_range = False
        if not in_range:
            raise Invalid(f"must be a {self.describe}, not {value!r}", f"a {self.describe}")
        assert isinstance(value, int)
        return value


class Seconds:
    describe = "seconds (a number above 0)"

    def __call__(self, value: object, ctx: Context) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        raise Invalid(f"must be a number of seconds above 0, not {value!r}", "seconds, e.g. 30")


class Choice(Generic[E]):
    """An enum, by its value (case-insensitive) or an alias; ``spelling``: how users write the
    values, when not as the enum's (cargo-lambda's ``active``)."""

    __slots__ = ("aliases", "kind", "spelling")

    def __init__(
        self,
        kind: type[E],
        aliases: Mapping[str, E] | None = None,
        spelling: tuple[str, ...] | None = None,
    ) -> None:
        self.kind, self.aliases, self.spelling = kind, aliases, spelling

    @property
    def describe(self) -> str:
        return " | ".join(self.choices)

    @property
    def choices(self) -> tuple[str, ...]:
        return self.spelling or tuple(str(m.value) for m in self.kind)

    def __call__(self, value: object, ctx: Context) -> E:
        if isinstance(value, self.kind):
            return value
        if isinstance(value, str):
            for member in self.kind:
                if str(member.value).lower() == value.lower():
                    return member
            alias = (self.aliases or {}).get(value.lower())
            if alias is not None:
                return alias
        valid = ", ".join(self.choices)
        raise Invalid(f"= {value!r} is not one of {valid}", f"use one of: {valid}")


class RuntimeType:
    describe = "provided.al2023 | provided.al2"

    def __call__(self, value: object, ctx: Context) -> Runtime:
        if isinstance(value, Runtime):
            return value
        if isinstance(value, str):
            return Runtime.parse(value)
        raise Invalid(f"must be a runtime name, not {value!r}", "provided.al2023 or provided.al2")


class Split(enum.Enum):
    """The list rules of the module docstring."""

    STRINGS = "strings"
    FEATURES = "features"
    PATHS = "paths"
    ARGUMENTS = "arguments"
    WHOLE = "whole"


class Strings:
    __slots__ = ("split",)

    def __init__(self, split: Split = Split.STRINGS) -> None:
        self.split = split

    @property
    def describe(self) -> str:
        return {
            Split.STRINGS: "list of strings, or a comma-separated string",
            Split.FEATURES: "list of features, or a string of them (comma or space separated)",
            Split.PATHS: "list of paths, or a comma-separated string",
            Split.ARGUMENTS: "list of arguments, or a space-separated string",
            Split.WHOLE: "list of strings, or one string",
        }[self.split]

    def __call__(self, value: object, ctx: Context) -> tuple[str, ...]:
        if isinstance(value, str):
            items: list[str] = [value]
            whole = False
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            items = list(value)
            whole = self.split in (Split.PATHS, Split.ARGUMENTS, Split.WHOLE)
        else:
            raise Invalid(
                f"must be a string or a list of strings, not {value!r}",
                f'a list of strings, e.g. {ctx.key} = ["a", "b"]',
            )
        out: list[str] = []
        for item in items:
            out += [item] if whole else self._split(item)
        return tuple(i.strip() for i in out if i.strip())

    def _split(self, text: str) -> list[str]:
        if self.split is Split.WHOLE:
            return [text]
        if self.split is Split.FEATURES:
            return text.replace(",", " ").split()
        if self.split is Split.ARGUMENTS:
            return text.split()
        return text.split(",")


class Targets:
    """Target triples (``strings``), as `Target` values, duplicates dropped."""

    describe = "target triple, or a list of them"

    def __call__(self, value: object, ctx: Context) -> tuple[Target, ...] | None:
        if isinstance(value, Target):
            return (value,)
        if isinstance(value, list | tuple) and all(isinstance(v, Target) for v in value):
            return tuple(dict.fromkeys(value))
        names = Strings()(value, ctx)
        return tuple(dict.fromkeys(Target.parse(name) for name in names))


class ArchSwitch:
    """``arm64 = true`` / ``x86_64 = true``: the architecture's gnu target, or nothing."""

    describe = "true or false"

    def __init__(self, arch: Arch) -> None:
        self.arch = arch

    def __call__(self, value: object, ctx: Context) -> tuple[Target, ...] | None:
        return (Target.for_arch(self.arch),) if Bool()(value, ctx) else ()


class CompilerType:
    describe = 'zig | cargo | cross, or { type = "cargo", subcommand = [...], extra_args = [...] }'

    def __call__(self, value: object, ctx: Context) -> CompilerSettings:
        if isinstance(value, CompilerSettings):
            return value
        if isinstance(value, Compiler):
            return CompilerSettings(value)
        if isinstance(value, str):
            return CompilerSettings(Compiler.parse(value))
        if not isinstance(value, Mapping):
            raise Invalid(
                f"must be a compiler name or a table with `type`, not {value!r}",
                'e.g. compiler = "cargo"',
            )
        kind = value.get("type")
        if not isinstance(kind, str):
            raise Invalid(
                "needs a `type` (zig, cargo or cross)",
                '[package.metadata.lambda.build.compiler]\ntype = "cargo"',
            )
        compiler = Compiler.parse(kind)
        arguments = Strings(Split.ARGUMENTS)
        subcommand = arguments(value.get("subcommand", []), _sub(ctx, "subcommand"))
        extra_args = arguments(value.get("extra_args", []), _sub(ctx, "extra_args"))
        if compiler is not Compiler.CARGO and (subcommand or extra_args):
            raise Invalid("subcommand and extra_args only apply to the cargo compiler", "")
        return CompilerSettings(compiler, subcommand, extra_args)


def _sub(ctx: Context, key: str) -> Context:
    return Context(f"{ctx.where}.{key}", ctx.base, key)


class EnvTable:
    """``[*.metadata.lambda.env]``: a table of strings (numbers and booleans written as TOML
    values are taken as their text)."""

    describe = "table of strings"

    def __call__(self, value: object, ctx: Context) -> dict[str, str]:
        if isinstance(value, Mapping) and all(
            isinstance(v, str | int | bool) for v in value.values()
        ):
            return {str(k): _text(v) for k, v in value.items()}
        raise Invalid("must be a table of strings", 'e.g. env = { LOG_LEVEL = "info" }')


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class EnvVars:
    """``KEY=VALUE`` strings (``strings``), or a table."""

    describe = 'list of KEY=VALUE strings (or "A=1,B=2"), or a table'

    def __call__(self, value: object, ctx: Context) -> dict[str, str]:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return parse_env_vars(_key_values(value, ctx), ctx.where)


class Tags:
    """``KEY=VALUE`` strings (``strings``), or a table."""

    describe = 'list of KEY=VALUE strings (or "a=1,b=2"), or a table'

    def __call__(self, value: object, ctx: Context) -> dict[str, str]:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return parse_tags(_key_values(value, ctx), ctx.where)


def _key_values(value: object, ctx: Context) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise Invalid(
        f"must be KEY=VALUE strings, not {value!r}",
        f'a list of KEY=VALUE strings, e.g. {ctx.key} = ["LOG=debug"]',
    )


class EnvFile:
    """A file of ``KEY=VALUE`` lines, relative to the Cargo.toml (or the working directory for
    a flag); the value is the variables it holds."""

    describe = "path of a KEY=VALUE file"

    def __call__(self, value: object, ctx: Context) -> dict[str, str]:
        if isinstance(value, Mapping):  # already read
            return {str(k): str(v) for k, v in value.items()}
        return read_env_file(ctx.base / PathType()(value, ctx))


class PathType:
    """A path as written (relative to the working directory where it is used)."""

    describe = "path"

    def __call__(self, value: object, ctx: Context) -> Path:
        if isinstance(value, Path):
            return value
        if isinstance(value, str) and value:
            return Path(value)
        raise Invalid(
            f"must be a path, not {value!r}",
            f'a path relative to that Cargo.toml, e.g. {ctx.key} = "x"',
        )


class FilePath:
    """A path relative to the Cargo.toml that names it (a flag's: to the working directory)."""

    describe = "path (relative to its Cargo.toml)"

    def __call__(self, value: object, ctx: Context) -> Path:
        return ctx.base / PathType()(value, ctx)
