"""The probes of ``rustlambda system``'s tool sections: Rust (rustc, cargo, rustup), the Lambda
targets' standard libraries, zig and cargo-zigbuild, running the other architecture (qemu, its
dynamic loader, the cargo compiler's linker) and containers (cross, docker)."""

from __future__ import annotations

import os
from pathlib import Path

from ..compilers.cargo import default_linker, linker_env_var
from ..errors import RustLambdaError
from ..targets import Arch, Libc, Target, host_arch
from ..toolchain import (
    Toolchain,
    find_cargo_zigbuild,
    find_toolchain,
    find_zig,
    missing_std_fix,
    rustup_toolchain,
    std_installed,
    zig_from_wheel,
)
from ..util.cmd import which
from . import Item, Probe, ReportSection, Status

_INSTALL_RUST = "install Rust with rustup (https://rustup.rs), or set CARGO and RUSTC"


def rust(probe: Probe) -> ReportSection:
    env = probe.environ
    items = []
    for name, var in (("rustc", "RUSTC"), ("cargo", "CARGO")):
        path = env.get(var) or which(name, env)
        if not path:
            items.append(Item(name, Status.MISSING, fix=_INSTALL_RUST))
            continue
        found_by = var if env.get(var) else "PATH"
        rustup = rustup_toolchain(path, env)
        if rustup is not None:
            toolchain = rustup[1][1] if rustup[1] else _active_toolchain(probe, rustup[0])
            found_by += f", rustup toolchain {toolchain}"
        version = probe.version([path, "-V"])
        status = Status.OK if version else Status.MISSING
        fix = None if version else f"{path} does not run: reinstall it, or point {var} elsewhere"
        items.append(Item(name, status, version, path, found_by, fix=fix))
    rustup_path = which("rustup", env)
    if rustup_path:
        version = probe.version([rustup_path, "--version"])
        items.append(Item("rustup", Status.OK, version, rustup_path, "PATH"))
    else:
        items.append(
            Item(
                "rustup",
                Status.OPTIONAL,
                fix="install rustup (https://rustup.rs) to add targets' std with "
                "`rustup target add`; without it, use a rustc that has them (RUSTC=...)",
            )
        )
    return ReportSection("rust", "Rust toolchain", tuple(items))


def _active_toolchain(probe: Probe, rustup: str) -> str:
    active = probe.version([rustup, "show", "active-toolchain"])
    return active or "active"


#: The Lambda targets: gnu ones are what --x86-64 and --arm64 build; musl ones are optional.
LAMBDA_TARGETS = tuple(
    Target(arch, libc) for libc in (Libc.GNU, Libc.MUSL) for arch in (Arch.X86_64, Arch.ARM64)
)


def targets(probe: Probe) -> ReportSection:
    """Which Lambda targets' std the rustc cargo would use has."""
    try:
        toolchain = find_toolchain(probe.environ)
    except RustLambdaError as exc:
        items = [
            Item(t.triple, Status.MISSING, detail="no rustc", fix=exc.fix) for t in LAMBDA_TARGETS
        ]
        return ReportSection("targets", "Lambda targets' standard library", tuple(items))
    items = [_target(probe, toolchain, target) for target in LAMBDA_TARGETS]
    return ReportSection("targets", "Lambda targets' standard library", tuple(items))


def _target(probe: Probe, toolchain: Toolchain, target: Target) -> Item:
    needed_for = (
        f"--{target.arch.value.replace('_', '-')}"
        if target.libc is Libc.GNU
        else f"--target {target.triple}"
    )
    try:
        present = std_installed(toolchain.rustc, target.triple, probe.environ, probe.runner)
    except (RustLambdaError, OSError):
        present = False
    if present:
        return Item(target.triple, Status.OK, detail=f"for {needed_for}")
    status = Status.MISSING if target.libc is Libc.GNU else Status.OPTIONAL
    fix = missing_std_fix(toolchain, target.triple, probe.environ, probe.runner)
    return Item(target.triple, status, detail=f"needed for {needed_for}", fix=fix)


def zig(probe: Probe) -> ReportSection:
    """The default compiler's tools: zig (the ziglang wheel) and cargo-zigbuild."""
    env = probe.environ
    items = []
    try:
        zig_path = find_zig(env)
    except RustLambdaError as exc:
        items.append(Item("zig", Status.MISSING, fix=exc.fix))
    else:
        if env.get("CARGO_ZIGBUILD_ZIG_PATH"):
            found_by = "CARGO_ZIGBUILD_ZIG_PATH"
        elif zig_from_wheel(zig_path):
            found_by = "the ziglang package installed with rustlambda"
        else:
            found_by = "PATH"
        version = probe.version([str(zig_path), "version"])
        items.append(Item("zig", Status.OK, version, str(zig_path), found_by))
    try:
        zigbuild = find_cargo_zigbuild(env)
    except RustLambdaError as exc:
        items.append(Item("cargo-zigbuild", Status.MISSING, fix=exc.fix))
    else:
        on_path = which("cargo-zigbuild", env)
        found_by = "PATH" if on_path and os.path.samefile(on_path, zigbuild) else "next to Python"
        version = probe.version([zigbuild, "--version"])
        items.append(Item("cargo-zigbuild", Status.OK, version, zigbuild, found_by))
    return ReportSection("zig", "Default compiler (zig)", tuple(items))


#: Where a foreign architecture's dynamic loader is looked for, and the package providing it.
_LOADERS = {
    Arch.ARM64: ("/usr/aarch64-linux-gnu", "lib/ld-linux-aarch64.so.1", "libc6-arm64-cross"),
    Arch.X86_64: ("/usr/x86_64-linux-gnu", "lib64/ld-linux-x86-64.so.2", "libc6-amd64-cross"),
}


def emulation(probe: Probe) -> ReportSection:
    """Running and linking the other architecture: qemu-user and its dynamic loader (watch and
    tests run those functions), the cargo compiler's cross linker."""
    host = host_arch()
    items = []
    for arch in [a for a in Arch if a is not host]:
        name = f"qemu-{arch.rust_arch}"
        path = which(name, probe.environ)
        use = f"needed only to run {arch.value} functions on this machine (watch, invoke)"
        if path:
            version = probe.version([path, "--version"])
            items.append(Item(name, Status.OK, version, path, "PATH", detail=use))
        else:
            fix = f"apt-get install qemu-user ({use})"
            items.append(Item(name, Status.OPTIONAL, fix=fix))
        items.append(_loader(probe, arch))
        items.append(_linker(probe, arch))
    return ReportSection("emulation", "Other architecture", tuple(items))


def _loader(probe: Probe, arch: Arch) -> Item:
    sysroot, loader, package = _LOADERS[arch]
    name = f"{arch.value} dynamic loader"
    candidates = [probe.environ.get("QEMU_LD_PREFIX", ""), sysroot, "/"]
    for prefix in [c for c in candidates if c]:
        if Path(prefix, loader).exists():
            found_by = "QEMU_LD_PREFIX" if prefix == candidates[0] else prefix
            return Item(name, Status.OK, path=str(Path(prefix, loader)), found_by=found_by)
    fix = (
        f"apt-get install {package} (needed only to run dynamically linked {arch.value} "
        "functions under qemu), or set QEMU_LD_PREFIX to a sysroot"
    )
    return Item(name, Status.OPTIONAL, fix=fix)


def _linker(probe: Probe, arch: Arch) -> Item:
    target = Target.for_arch(arch)
    var = linker_env_var(target)
    linker = probe.environ.get(var) or default_linker(target)
    path = which(linker, probe.environ)
    name = f"{arch.value} linker for --compiler cargo"
    if path:
        found_by = var if probe.environ.get(var) else "PATH"
        return Item(name, Status.OK, path=path, found_by=found_by)
    package = f"gcc-{arch.rust_arch}-linux-gnu"
    fix = f"apt-get install {package} (needed only for --compiler cargo), or set {var}"
    return Item(name, Status.OPTIONAL, detail=linker, fix=fix)


def containers(probe: Probe) -> ReportSection:
    """cross (--compiler cross) and a container engine (cross, CDK Docker bundling)."""
    env = probe.environ
    items = []
    cross = which("cross", env)
    if cross:
        items.append(Item("cross", Status.OK, probe.version([cross, "--version"]), cross, "PATH"))
    else:
        fix = "cargo install cross (needed only for --compiler cross, with a container engine)"
        items.append(Item("cross", Status.OPTIONAL, fix=fix))
    docker = which("docker", env)
    use = "needed only for --compiler cross and the CDK constructs' Docker bundling"
    if not docker:
        items.append(Item("docker", Status.OPTIONAL, fix=f"install Docker or podman ({use})"))
        return ReportSection("containers", "Containers", tuple(items))
    client = probe.version([docker, "version", "--format", "{{.Client.Version}}"])
    items.append(Item("docker", Status.OK, client, docker, "PATH"))
    done = probe.run([docker, "version", "--format", "{{.Server.Version}}"])
    if done is not None and done.returncode == 0 and done.stdout.strip():
        items.append(Item("docker engine", Status.OK, done.stdout.strip(), detail="answering"))
    else:
        said = (done.stderr if done else "").strip().splitlines()
        detail = said[-1] if said else "not answering"
        fix = f"start the Docker daemon, or point DOCKER_HOST at one ({use})"
        items.append(Item("docker engine", Status.OPTIONAL, detail=detail, fix=fix))
    return ReportSection("containers", "Containers", tuple(items))
