"""Write tests/fixtures/scaffold/Cargo.lock: the test workspace of every `rustlambda new` template,
resolved once, so CI builds the templates with the same dependency versions every run.

    .venv/bin/python scripts/scaffold_lock.py

Run it after changing rustlambda.scaffold.catalog.CRATE_VERSIONS (a unit test checks that the
lock holds those versions) or the template cases in tests/scaffold_cases.py. Needs cargo and
crates.io.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `tests` importable
    sys.path.insert(0, str(ROOT))

from rustlambda.cli import main as rustlambda  # noqa: E402
from tests.scaffold_cases import CASES, workspace_manifest  # noqa: E402

LOCK = ROOT / "tests" / "fixtures" / "scaffold" / "Cargo.lock"


def write_lock() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        for case in CASES:
            with contextlib.redirect_stdout(io.StringIO()):  # new's list of files
                code = rustlambda(["new", str(workspace / case.name), *case.flags])
            if code != 0:
                raise SystemExit(f"rustlambda new {case.name} failed with {code}")
        (workspace / "Cargo.toml").write_text(workspace_manifest())
        cargo = os.environ.get("CARGO", "cargo")
        subprocess.run([cargo, "generate-lockfile"], cwd=workspace, check=True)
        LOCK.parent.mkdir(parents=True, exist_ok=True)
        staged = LOCK.with_suffix(".tmp")
        shutil.copyfile(workspace / "Cargo.lock", staged)
        staged.replace(LOCK)
    return LOCK


if __name__ == "__main__":
    print(f"wrote {write_lock().relative_to(ROOT)}")
