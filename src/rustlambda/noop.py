"""The command line's answer to a build that has nothing to do: ``rustlambda build`` run again
with the same arguments, environment and working directory, when nothing it depends on changed.

The most frequent build is one where nothing changed. Its whole cost would be Python's start-up,
the imports, the settings and the workspace, for a cargo run that finds everything fresh. So the
CLI's entry point (`rustlambda.launch`) first asks `replay`, which imports nothing beyond the
standard library and `rustlambda.cache`:

* the record of the last such build (`record`, written by ``build`` after it succeeded) is found
  by the SHA-256 of rustlambda's version, the working directory, the arguments, the whole
  environment, and whether stdout/stderr are terminals (and their width);
* every input is as the record left it (`rustlambda.builder.inputs.BuildInputs`: manifests, the
  lock file, cargo's config files, ``CargoLambda.toml``, rust-toolchain files, the folders where a
  new binary appears, rustlambda's own files and the folder it is installed in, the Rust
  toolchain's identity), and so is every installed artifact (stamp and mode) and every file
  cargo left;
* then cargo itself runs, exactly as that build ran it: it alone knows whether the sources
  changed. The moment it says it is doing work ("Compiling", "Blocking", "Updating"...), it is
  stopped and the whole build runs instead, with its progress shown; if it ends without work and
  every file it leaves is still the one recorded, the build would install the same bytes the
  last one installed and verified: its output is shown again (cargo's own lines as this run
  printed them, the elapsed time of this run).

Anything else — no record, a different input, a failure, a signal — and the whole build runs as
usual. ``RUSTLAMBDA_NO_CACHE=1`` turns it off with the other caches.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__
from .cache import CacheFile, disabled, prune, user_cache_dir
from .cache import fingerprint as fp

if TYPE_CHECKING:
    from .builder.inputs import BuildInputs

#: Records kept (one file each; the least recently used go first, see `rustlambda.cache.prune`).
KEEP = 64
#: The shell's own bookkeeping, read by no build tool (``_`` is the last command's path).
SHELL_ONLY = frozenset({"_", "OLDPWD", "SHLVL", "PWD"})
#: Stands for the elapsed seconds in a recorded "built ... in N s" line.
ELAPSED = "\x00elapsed\x00"

#: cargo's status words that mean work (or waiting for it); "Finished" and warnings do not.
_WORK = re.compile(
    r"^\s*(Compiling|Checking|Building|Running|Downloading|Downloaded|Updating|Locking|Adding|"
    r"Removing|Blocking|Fresh|Dirty|Documenting|Unpacking|Packaging|Fetching)\b"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: The key of this process's build, set by `replay` when it found nothing to replay.
_armed: str | None = None


class _Work(Exception):
    """cargo is doing work: stop it, run the whole build."""


def key(argv: Sequence[str], environ: Mapping[str, str], cwd: str) -> str:
    """What selects a record: everything that could change what the build does or shows."""
    ttys = [_isatty(sys.stdout), _isatty(sys.stderr)]
    size = None
    if any(ttys):
        try:
            size = tuple(os.get_terminal_size(2 if ttys[1] else 1))
        except OSError:
            size = None
    env = sorted((k, v) for k, v in environ.items() if k not in SHELL_ONLY)
    return fp.key("noop", __version__, cwd, list(argv), env, ttys, size)


def replay(argv: Sequence[str]) -> int | None:
    """Show the recorded build again and return its exit code (0), when nothing changed;
    else None (and the whole build that follows records itself under this process's key)."""
    global _armed
    environ = os.environ
    if disabled(environ) or not argv or argv[0] != "build":
        return None
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    started = time.monotonic()
    _armed = key(argv, environ, cwd)
    stored = _file(_armed, environ).get(_armed)
    if not isinstance(stored, dict):
        return None
    try:
        return _replay(stored, started)
    except (KeyError, TypeError, ValueError):  # a record of another shape: not ours to trust
        return None


def _replay(rec: dict[str, Any], started: float) -> int | None:
    if not _unchanged(rec):
        return None
    cargo = rec["cargo"]
    env = dict(os.environ)
    env.update(cargo["set"])
    for name in cargo["unset"]:
        env.pop(name, None)
    env["CARGO_TERM_PROGRESS_WHEN"] = "never"  # lines only (how cargo draws is no input)
    lines = _run_cargo(list(cargo["argv"]), env, cargo["cwd"])
    # after cargo: a relink, by this run or an earlier one, changes an executable's stamp
    if lines is None or _stamps(rec["executables"]) != rec["executables"]:
        return None
    elapsed = f"{time.monotonic() - started:.1f}"
    for line in lines:
        sys.stderr.write(line)
    sys.stderr.flush()
    for stream, text in rec["output"]:
        out = sys.stdout if stream == 1 else sys.stderr
        out.write(str(text).replace(ELAPSED, elapsed))
        out.flush()
    return 0


def _unchanged(rec: Mapping[str, Any]) -> bool:
    """Every input, the toolchain and every installed file as recorded (cargo's files are
    checked after cargo ran)."""
    tool = rec["toolchain"]
    return bool(
        _stamps(rec["watched"]) == rec["watched"]
        and _stamps(rec["rustlambda"]) == rec["rustlambda"]
        and _installed(rec["installed"]) == rec["installed"]
        and _normal(fp.toolchain(tool["cargo"], tool["rustc"], os.environ, Path(tool["cwd"])))
        == tool["identity"]
    )


def _run_cargo(argv: list[str], env: dict[str, str], cwd: str) -> list[str] | None:
    """cargo's stderr lines when it ended without work and succeeded; None otherwise (stopped
    at its first sign of work). SIGINT/SIGTERM stop it as they stop any build."""
    from .util import signals

    # not util.cmd's runner: importing it (dataclasses, shutil) costs this path's start-up
    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            process_group=0,
        )

    lines: list[str] = []
    try:
        with signals.supervise(start) as (proc, stop):
            assert proc.stderr is not None
            with proc.stderr:
                for line in proc.stderr:
                    if _WORK.match(_ANSI.sub("", line)):
                        raise _Work
                    lines.append(line)
    except _Work:
        return None
    except OSError:  # cargo is gone: the whole build says so
        return None
    if stop.signum is not None:
        raise signals.interrupted(stop.signum, f"stopped by {signals.signal_name(stop.signum)}")
    return lines if proc.returncode == 0 else None


# --- recording (by ``build``, after it succeeded) ---


class Capture:
    """Records what is written to stdout and stderr, in order, while it is installed (the
    streams keep writing where they did: a terminal stays a terminal)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[int, str]] = []
        self._saved: tuple[TextIO, TextIO] | None = None

    def __enter__(self) -> Capture:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, 1, self.chunks)
        sys.stderr = _Tee(sys.stderr, 2, self.chunks)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        sys.stdout, sys.stderr = self._saved

    def output(self, elapsed: str | None) -> list[tuple[int, str]]:
        """The chunks, merged per stream run, with the first ``in <elapsed> s`` on stderr made
        `ELAPSED` (a replay says its own time)."""
        merged: list[tuple[int, str]] = []
        for stream, text in self.chunks:
            if merged and merged[-1][0] == stream:
                merged[-1] = (stream, merged[-1][1] + text)
            else:
                merged.append((stream, text))
        if elapsed is not None:
            said = f" in {elapsed} s"
            for i, (stream, text) in enumerate(merged):
                if stream == 2 and said in text:
                    merged[i] = (stream, text.replace(said, f" in {ELAPSED} s", 1))
                    break
        return merged


class _Tee:
    def __init__(self, stream: TextIO, number: int, chunks: list[tuple[int, str]]) -> None:
        self._stream = stream
        self._number = number
        self._chunks = chunks

    def write(self, text: str) -> int:
        written = self._stream.write(text)  # click probes with b"": the stream's TypeError
        self._chunks.append((self._number, text))
        return written

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, flush...
        return getattr(self._stream, name)


def record(inputs: BuildInputs, output: list[tuple[int, str]]) -> None:
    """Store what `replay` needs to show this build again, when this process's entry point
    looked for a record (else nothing). Only the variables rustlambda set or removed for cargo
    are stored, never the rest of the environment (its hash is in the key)."""
    if _armed is None:
        return
    environ = os.environ
    env = inputs.cargo_env
    cwd = str(inputs.cargo_cwd)
    changed = {k: v for k, v in env.items() if environ.get(k) != v}
    # the programs rustlambda chose for cargo (zig, cargo-zigbuild's wrappers): an upgrade
    # replaces them
    tools = sorted({v for v in changed.values() if os.path.isabs(v) and os.path.isfile(v)})
    value = {
        "watched": _stamps([*map(str, inputs.watched), *tools]),
        "rustlambda": _stamps(_own_files()),
        "executables": _stamps(map(str, inputs.executables)),
        "installed": _installed(map(str, inputs.installed)),
        "toolchain": {
            "cargo": inputs.cargo,
            "rustc": inputs.rustc,
            "cwd": cwd,
            "identity": _normal(fp.toolchain(inputs.cargo, inputs.rustc, environ, Path(cwd))),
        },
        "cargo": {
            "argv": list(inputs.cargo_argv),
            "cwd": cwd,
            "set": changed,
            "unset": sorted(k for k in environ if k not in env),
        },
        "output": output,
    }
    _file(_armed, environ).put(_armed, value)
    prune(user_cache_dir(environ), "noop-*.json", KEEP)


def _file(name: str, environ: Mapping[str, str]) -> CacheFile:
    cache = CacheFile.per_user(f"noop-{name[:24]}", environ)
    cache.max_entries = 1
    return cache


def _stamps(paths: Iterable[Any]) -> list[list[Any]]:
    """``[[path, [mtime_ns, size, inode] or None], ...]`` (paths as given, or the first item of
    each recorded pair)."""
    found = []
    for item in paths:
        path = item[0] if isinstance(item, list) else item
        stamp = fp.stamp(Path(path))
        found.append([path, list(stamp) if stamp else None])
    return found


def _installed(paths: Iterable[Any]) -> list[list[Any]]:
    """Stamps, with each file's mode (a lost exec bit is a change)."""
    found = []
    for item in paths:
        path = item[0] if isinstance(item, list) else item
        try:
            st = os.stat(path)
        except OSError:
            found.append([path, None, None])
            continue
        found.append([path, [st.st_mtime_ns, st.st_size, st.st_ino], st.st_mode])
    return found


def _own_files() -> list[str]:
    """rustlambda's own modules, and the folder it is installed in (installing or upgrading a
    package there, cargo-zigbuild or ziglang, changes it)."""
    package = Path(__file__).parent
    return [str(package.parent), *sorted(str(p) for p in package.rglob("*.py"))]


def _normal(value: Any) -> Any:
    """As JSON would give it back (tuples as lists)."""
    return json.loads(json.dumps(value, default=str))


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["Capture", "key", "record", "replay"]
