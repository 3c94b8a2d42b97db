"""cargo-lambda 1.9.2 parity: each of its flags (captured once from its --help into
``tests/data/cargo_lambda_flags.json``) and documented configuration keys, classified by what
rustlambda's own parser and settings table do with it — same, refused (with its error), coming —
and README's parity tables generated from that.

    python -m tests.parity README.md     # rewrite README's tables after a change

Classifying parses in-process (click's parser and the flags module): no process is started.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rustlambda import flags
from rustlambda.errors import ConfigError
from rustlambda.settings import table
from rustlambda.settings.model import Command, Section

DATA = Path(__file__).parent / "data" / "cargo_lambda_flags.json"


class Outcome(enum.StrEnum):
    SAME = "same"
    REFUSED = "refused"
    COMING = "coming"
    IGNORED = "accepted, ignored"
    UNKNOWN = "unknown"  # nobody decided: a test failure


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    detail: str = ""  # the refusal's error (and fix), or where it is coming from


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return data


#: A value for each of cargo-lambda's metavariables (per command where it differs).
SAMPLES = {
    "<OUTPUT_FORMAT>": "Zip",
    "<WHEN>": "auto",
    "<FMT>": "json",
    "<KEY=VALUE|PATH>": "build.jobs=2",
    "<FLAG>": "unstable-options",
    "<N>": "2",
    "<PROFILE-NAME>": "release",
    "[<TRIPLE>]": "aarch64-unknown-linux-gnu",
    "<COMPILER>": "cargo",
    "<ENV_VAR>": "A=1",
    "<INVOKE_ADDRESS>": "127.0.0.1",
    "<INVOKE_PORT>": "9001",
    "<TIMEOUT>": "5",
    "<CONCURRENCY>": "2",
    "<MEMORY>": "256",
    "<RETRY_ATTEMPTS>": "3",
    "<TRACING>": "active",
    "<RUNTIME>": "provided.al2",
    "<LOG_RETENTION>": "7",
    "<TAG>": "team=rust",
    "<DATA_ASCII>": "{}",
    "<ENDPOINT_URL>": "http://127.0.0.1:1",
}
_COMMAND_SAMPLES = {("deploy", "<OUTPUT_FORMAT>"): "json", ("invoke", "<OUTPUT_FORMAT>"): "json"}
_COMMAND_SAMPLES[("system", "<OUTPUT_FORMAT>")] = "json"


def sample(command: str, metavar: str | None) -> list[str]:
    if metavar is None:
        return []
    return [_COMMAND_SAMPLES.get((command, metavar)) or SAMPLES.get(metavar, "x")]


def _decorated(decorator: Callable[..., Any]) -> click.Command:
    @click.command()
    @decorator
    def capture(flags: Any) -> Any:
        return flags

    return capture


def _parser(command: str) -> click.Command:
    from rustlambda.cli import cli
    from rustlambda.cli.invoke import invoke_command
    from rustlambda.cli.system import system_command

    parsers: dict[str, Callable[[], click.Command]] = {
        "lambda": lambda: cli,
        "build": lambda: _decorated(flags.build_flags),
        "watch": lambda: _decorated(flags.watch_flags),
        "deploy": lambda: _decorated(flags.deploy_flags),
        "invoke": lambda: invoke_command,
        "system": lambda: system_command,
    }
    return parsers[command]()


def _refusal(command: str, decl: str) -> Any:
    try:
        which = Command(command)
    except ValueError:
        return None
    return next((r for r in table.refusals(which) if decl in r.decls), None)


def classify(command: str, decls: list[str], metavar: str | None) -> dict[str, Verdict]:
    """What rustlambda does with each spelling of one cargo-lambda flag."""
    return {decl: _classify_one(command, decl, metavar) for decl in decls}


def _classify_one(command: str, decl: str, metavar: str | None) -> Verdict:
    if not decl.startswith("-"):  # a positional argument
        refused = next((r for r in table.REFUSALS if r.decls == (decl.lower(),)), None)
        if refused is not None:
            return Verdict(Outcome.REFUSED, f"{refused.reason} → {refused.alternative}")
        return Verdict(Outcome.SAME)
    argv = [decl, *sample(command, metavar)]
    parser = _parser(command)
    if command == "lambda":
        argv += ["verify"]
    try:
        if command in ("invoke", "system", "lambda"):
            parser.make_context(command, list(argv))
            refusal = _refusal(command, decl)
            if refusal is None:
                return Verdict(Outcome.SAME)
            parser.main(list(argv), standalone_mode=False)  # refuses before doing anything
            return Verdict(Outcome.UNKNOWN, "a refused flag that was not refused")
        parser.invoke(parser.make_context(command, list(argv)))
    except ConfigError as exc:
        if exc.message.startswith(f"{_long(decl, command)} is not supported"):
            return Verdict(Outcome.REFUSED, f"{exc.message} → {exc.fix}")
        return Verdict(Outcome.UNKNOWN, f"unexpected error: {exc.message}")
    except click.NoSuchOption:
        coming = next((c for c in table.COMING if decl in c.decls), None)
        if coming is not None and command in [c.value for c in coming.commands]:
            return Verdict(Outcome.COMING, coming.where)
        return Verdict(Outcome.UNKNOWN, "no such option")
    except click.ClickException as exc:
        return Verdict(Outcome.UNKNOWN, f"click: {exc.format_message()}")
    return Verdict(Outcome.SAME)


def _long(decl: str, command: str) -> str:
    refusal = _refusal(command, decl)
    return refusal.name if refusal is not None else decl


def classify_key(section: str, key: str) -> Verdict:
    which = Section(section)
    if key in {k for row in table.rows(which) for k in row.keys}:
        return Verdict(Outcome.SAME)
    refused = table.refused_keys(which)
    if key in refused:
        reason, alternative = refused[key]
        return Verdict(Outcome.REFUSED, f"{reason} → {alternative}")
    coming = table.coming_keys(which)
    if key in coming:
        return Verdict(Outcome.COMING, coming[key])
    if key in which.accepted:
        return Verdict(Outcome.IGNORED, "it only steers cargo-lambda's own output")
    return Verdict(Outcome.UNKNOWN)


#: What README says about a flag besides its outcome: (command, cargo-lambda's long flag).
NOTES = {
    ("lambda", "--verbose"): "added to the command's -v",
    ("watch", "--wait"): "invokes during the first build wait for it (without: Pending); see "
    "the differences below",
    ("watch", "--only-lambda-apis"): "nothing is built; prints the whole environment to export, "
    "URL with its scheme",
    ("watch", "--disable-cors"): "CORS on by default, as in cargo-lambda",
    ("lambda", "--color"): "applies to the command (build and watch: cargo's and rustlambda's)",
    ("lambda", "--global"): "applies to the command, as if given after it",
    ("build", "--output-format"): "any case: `Zip`, `zip`",
    ("build", "--compiler"): "zig (cargo-zigbuild, default), cargo, cross",
    ("build", "--include"): "also `DEST:SRC`; reproducible zips",
    ("build", "--env-var"): "cargo's environment, over `[*.metadata.lambda.env]`",
    ("build", "--quiet"): "rustlambda prints only errors and the result; cargo gets --quiet",
    ("build", "--verbose"): "-v streams cargo's output, -vv adds cargo's -v",
    ("build", "--message-format"): "cargo's JSON messages on stdout, the artifact list on "
    "stderr; not with --json",
    ("build", "-Z"): "passed to cargo; a stable cargo refuses it, and rustlambda says a nightly "
    "toolchain is needed (cargo-zigbuild lets a host-target build through)",
    ("build", "--artifact-dir"): "passed to cargo (nightly)",
    ("build", "--target"): "Lambda's four targets; repeatable: all in one cargo run",
    ("build", "--package"): "a name is required",
    ("build", "--bin"): "a name is required",
    ("build", "--example"): "a name is required",
    ("build", "--all"): "= --workspace",
    ("build", "--exclude"): "with --workspace, as in cargo",
    ("build", "--bins"): "every binary of the selected packages",
    ("build", "--examples"): "every example of the selected packages",
    ("watch", "--invoke-address"): "default 127.0.0.1 (cargo-lambda: ::); also -a",
    ("watch", "--timeout"): "Lambda's function timeout (see the differences below)",
    ("watch", "--env-var"): "the functions' environment",
    ("watch", "--concurrency"): "instances per function",
    ("watch", "--verbose"): "-v streams cargo's output",
    ("invoke", "--invoke-address"): "default 127.0.0.1 (cargo-lambda: ::1)",
    ("invoke", "-A"): "JSON: the payload (--data-ascii); anything else: the address",
    ("invoke", "--data-ascii"): "without any data flag the payload is {}",
    ("invoke", "--remote"): "lambda:InvokeFunction through boto3, with deploy's credentials",
    ("invoke", "--alias"): "also --qualifier; locally `NAME:ALIAS`",
    ("invoke", "--identity-id"): "the function's Cognito identity (local only)",
    ("invoke", "--skip-cache"): "accepted: the example events are bundled, nothing is cached",
    ("invoke", "--verbose"): "accepted, no effect",
    ("invoke", "--color"): "accepted, no effect",
    ("invoke", "--global"): "accepted, no effect: invoke reads no configuration (as cargo-lambda)",
    ("invoke", "--context"): "accepted, no effect (as cargo-lambda)",
    ("invoke", "--admerge"): "accepted, no effect (as cargo-lambda)",
    ("deploy", "--output-format"): "text or json; also --json",
    ("deploy", "--verbose"): "accepted, no effect",
    ("deploy", "--color"): "accepted, no effect",
    ("system", "--output-format"): "text or json; also --json",
    ("system", "--package"): "that package's function's settings; also --bin",
    ("system", "--verbose"): "lists every setting, defaults included",
    ("system", "--color"): "accepted, no effect",
}


def _cell(decls: list[str]) -> str:
    return ", ".join(f"`{d}`" if d.startswith("-") else f"`{d}` argument" for d in decls)


def _long_of(decls: list[str]) -> str:
    return next((d for d in decls if d.startswith("--")), decls[0])


def flags_table(data: dict[str, Any]) -> str:
    lines = ["| command | cargo-lambda flag | rustlambda | notes |", "|---|---|---|---|"]
    for command, entries in data["commands"].items():
        for entry in entries:
            verdicts = classify(command, entry["decls"], entry["value"])
            outcome = _summary(verdicts)
            note = NOTES.get((command, _long_of(entry["decls"])), "")
            details = {v.detail for v in verdicts.values() if v.detail}
            text = "; ".join(filter(None, [*sorted(details), note]))
            name = "(before the command)" if command == "lambda" else command
            cells = [name, _cell(entry["decls"]), outcome, text]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _summary(verdicts: dict[str, Verdict]) -> str:
    outcomes = {v.outcome for v in verdicts.values()}
    return " / ".join(sorted(o.value for o in outcomes))


def keys_table(data: dict[str, Any]) -> str:
    lines = ["| table | cargo-lambda key | rustlambda | notes |", "|---|---|---|---|"]
    for section, keys in data["keys"].items():
        name = "`[*.metadata.lambda]`" if section == "lambda" else f"`{section}`"
        for key in keys:
            verdict = classify_key(section, key)
            cells = [name, f"`{key}`", verdict.outcome.value, verdict.detail]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def counts(data: dict[str, Any]) -> dict[str, int]:
    """How many flag spellings and keys end up in each outcome."""
    found: dict[str, int] = {}
    for command, entries in data["commands"].items():
        for entry in entries:
            for verdict in classify(command, entry["decls"], entry["value"]).values():
                found[f"flag {verdict.outcome}"] = found.get(f"flag {verdict.outcome}", 0) + 1
    for section, keys in data["keys"].items():
        for key in keys:
            outcome = classify_key(section, key).outcome
            found[f"key {outcome}"] = found.get(f"key {outcome}", 0) + 1
    return found


_MARKER = re.compile(r"(<!-- parity:(\w+) -->\n)(.*?)(<!-- /parity:\2 -->)", re.DOTALL)


def counts_markdown(data: dict[str, Any]) -> str:
    found = counts(data)
    parts = []
    for what in ("flag", "key"):
        items = sorted((k.split(" ", 1)[1], v) for k, v in found.items() if k.startswith(what))
        listed = ", ".join(f"{outcome} {n}" for outcome, n in items)
        parts.append(f"{what} spellings: {listed}" if what == "flag" else f"keys: {listed}")
    return "In numbers: " + "; ".join(parts) + ".\n"


def rewrite(text: str, data: dict[str, Any]) -> str:
    make = {"flags": flags_table, "keys": keys_table, "counts": counts_markdown}

    def replace(match: re.Match[str]) -> str:
        return match[1] + make[match[2]](data) + match[4]

    return _MARKER.sub(replace, text)


def tables(text: str) -> dict[str, str]:
    return {m[2]: m[3] for m in _MARKER.finditer(text)}


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    loaded = load()
    readme.write_text(rewrite(readme.read_text(encoding="utf-8"), loaded), encoding="utf-8")
    print(json.dumps(counts(loaded), indent=1))
