"""Copy the aws_lambda_events crate's example events into rustlambda's bundled examples.

    cargo fetch   # in any crate depending on aws_lambda_events
    python scripts/import_lambda_events.py ~/.cargo/registry/src/*/aws_lambda_events-1.*/

Takes every ``src/fixtures/example-<name>.json`` that is an event (not a ``*-response``),
under the name cargo-lambda's ``--data-example`` uses (``<name>``), re-serialised as the other
examples are (two-space indent, UTF-8), with the account and region in ARNs set to the
examples' fake ones. Examples rustlambda already ships, and names that are aliases of one, are
left alone. The crate's MIT license travels along as emulator/LICENSE-aws-lambda-events.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[1] / "src/rustlambda/emulator/events"
_ARN = re.compile(r"(arn:aws:[a-z0-9-]+:)([a-z]{2}(?:-[a-z]+)+-\d)?(:)(\d{12})?(:)")
#: Upstream names rustlambda ships under another name (see emulator/examples.py _ALIASES).
_ALIASED = {"kinesis-firehose-event"}


def _fake_arns(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        region = "us-east-1" if match[2] else ""
        account = "123456789012" if match[4] else ""
        return f"{match[1]}{region}{match[3]}{account}{match[5]}"

    return _ARN.sub(replace, text)


def main(crate: Path) -> None:
    added = []
    for path in sorted((crate / "src/fixtures").glob("example-*.json")):
        name = path.stem.removeprefix("example-")
        if "-response" in name or name in _ALIASED or (EVENTS / f"{name}.json").exists():
            continue
        value = json.loads(_fake_arns(path.read_text(encoding="utf-8")))
        if not isinstance(value, dict):
            continue
        text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
        (EVENTS / f"{name}.json").write_text(text, encoding="utf-8")
        added.append(name)
    shutil.copyfile(crate / "LICENSE", EVENTS.parent / "LICENSE-aws-lambda-events")
    print(f"added {len(added)} examples: {', '.join(added)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
