"""Capture cargo-lambda's flags from its --help into tests/data/cargo_lambda_flags.json (run once
per cargo-lambda version; CI does not install cargo-lambda).

    python3 -m venv /tmp/cl && /tmp/cl/bin/pip install cargo-lambda==1.9.2
    python scripts/capture_cargo_lambda_flags.py /tmp/cl/bin/cargo-lambda
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

COMMANDS = ("", "build", "watch", "invoke", "deploy", "system")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "cargo_lambda_flags.json"
_OPTION = re.compile(
    r"^\s{2,}(?P<short>-\w)?(?:, )?(?P<long>--[\w-]+)?(?:\.\.\.)?"
    r"(?:\s+(?P<value>\[?<[^>]+>\]?(?:\.\.\.)?))?(?:\s{2,}|$)"
)
_ALIAS = re.compile(r"\[(?:visible )?alias(?:es)?: (?P<names>[^\]]+)\]")
_ARGUMENT = re.compile(r"^\s{2,}(?P<name>\[?<?[A-Z_]+>?\]?(?:\.\.\.)?)\s{2,}")


def flags(cargo_lambda: str, command: str) -> list[dict[str, object]]:
    argv = [cargo_lambda, "lambda", *([command] if command else []), "--help"]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    found: list[dict[str, object]] = []
    section = ""
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
            continue
        if section == "Arguments":
            argument = _ARGUMENT.match(line)
            if argument:
                found.append({"decls": [argument["name"].strip("[]<>.")], "value": None})
            continue
        match = _OPTION.match(line)
        is_option = match is not None and bool(match["short"] or match["long"])
        if match is None or not is_option or not line.strip().startswith("-"):
            if found:  # a description line (or its wrapped end)
                found[-1]["help"] = f"{found[-1].get('help', '')} {line.strip()}".strip()
            continue
        decls = [d for d in (match["short"], match["long"]) if d]
        if decls in (["-h", "--help"], ["-V", "--version"]):
            continue
        found.append({"decls": decls, "value": match["value"], "help": line[match.end() :].strip()})
    for flag in found:
        aliases = _ALIAS.search(str(flag.pop("help", "")))
        if aliases:
            names = [n.strip() for n in aliases["names"].split(",")]
            flag["decls"] = [*flag["decls"], *names]  # type: ignore[misc]
    return found


def main() -> None:
    cargo_lambda = sys.argv[1] if len(sys.argv) > 1 else "cargo-lambda"
    version = subprocess.run(
        [cargo_lambda, "lambda", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    kept = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    data = {
        "cargo_lambda": version,
        "commands": {command or "lambda": flags(cargo_lambda, command) for command in COMMANDS},
        # the keys are written by hand (from the docs): kept as they are
        **{k: v for k, v in kept.items() if k.startswith("keys")},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
