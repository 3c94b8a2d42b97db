"""rustlambda's caches (rustlambda.cache): each is invalidated by what changes its result, a
corrupt file is a miss, and files are replaced atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rustlambda.builder import run as build_run
from rustlambda.builder.result import Artifact
from rustlambda.cache import CacheFile, user_cache_dir
from rustlambda.cache import fingerprint as fp
from rustlambda.compilers.zigenv import cache_key, direct_command, for_compile_cache
from rustlambda.layout import ArtifactKind
from rustlambda.reporting import LoggingReporter
from rustlambda.targets import Arch, Libc, Runtime, Target
from rustlambda.toolchain import Toolchain, ensure_target_std
from rustlambda.verify import verify_artifacts

from .fakes import REAL_ELF, FakeRunner


def _cache(tmp_path: Path, environ: dict[str, str] | None = None) -> CacheFile:
    return CacheFile.in_target_dir(tmp_path / "target", "test", environ or {})


# --- the store ---------------------------------------------------------------------------


def test_round_trip_and_atomic_write(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    assert cache.get("k") is None
    cache.put("k", {"a": [1, 2]})
    assert _cache(tmp_path).get("k") == {"a": [1, 2]}
    leftovers = [p.name for p in cache.path.parent.iterdir() if p.name != cache.path.name]
    assert leftovers == []  # the temporary file was renamed into place


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"version": "0.0.0", "entries": {"k": 1}}',
        b'{"version": "0.1.0", "entries": []}',
    ],
)
def test_corrupt_or_foreign_file_is_a_miss(tmp_path: Path, content: bytes) -> None:
    cache = _cache(tmp_path)
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(content)
    assert _cache(tmp_path).get("k") is None
    fresh = _cache(tmp_path)
    fresh.put("k", 2)  # and it is overwritten, not appended to
    assert _cache(tmp_path).get("k") == 2


def test_oldest_entries_are_dropped(tmp_path: Path) -> None:
    cache = CacheFile(tmp_path / "c.json", max_entries=3)
    for i in range(5):
        cache.put(str(i), i)
    reread = CacheFile(tmp_path / "c.json")
    assert [reread.get(str(i)) for i in range(5)] == [None, None, 2, 3, 4]


def test_disabled_by_environment(tmp_path: Path) -> None:
    cache = _cache(tmp_path, {"RUSTLAMBDA_NO_CACHE": "1"})
    cache.put("k", 1)
    assert cache.get("k") is None and not cache.path.exists()


def test_unwritable_directory_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("a file where the directory would be")
    cache = _cache(tmp_path)
    cache.put("k", 1)  # no exception: the cache is only an optimisation


def test_user_cache_dir() -> None:
    assert user_cache_dir({"RUSTLAMBDA_CACHE_DIR": "/x"}) == Path("/x")
    assert user_cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/rustlambda")
    assert user_cache_dir({"HOME": "/h"}) == Path("/h/.cache/rustlambda")


# --- fingerprints --------------------------------------------------------------------------


def test_stamp_changes_with_content_and_existence(tmp_path: Path) -> None:
    path = tmp_path / "f"
    assert fp.stamp(path) is None
    path.write_text("a")
    first = fp.stamp(path)
    path.write_text("ab")
    assert fp.stamp(path) not in (None, first)


def test_build_env_selects_what_changes_a_build() -> None:
    env = {
        "RUSTFLAGS": "-C x",
        "CARGO_PROFILE_RELEASE_LTO": "off",
        "CC_x": "cc",
        "PATH": "/b",
        "TERM": "xterm",
        "OLDPWD": "/o",
    }
    names = [k for k, _ in fp.build_env(env)]
    assert names == ["CARGO_PROFILE_RELEASE_LTO", "CC_x", "PATH", "RUSTFLAGS"]


def _toolchain_files(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("cargo", "rustc"):
        (bin_dir / name).write_text(name)
    rustup = tmp_path / "rustup"
    (rustup / "toolchains" / "stable" / "bin").mkdir(parents=True)
    (rustup / "toolchains" / "stable" / "bin" / "rustc").write_text("1")
    (rustup / "settings.toml").write_text('default_toolchain = "stable"\n')
    project = tmp_path / "project"
    project.mkdir()
    return bin_dir, project, {"HOME": str(tmp_path), "RUSTUP_HOME": str(rustup)}


def test_toolchain_identity_changes(tmp_path: Path) -> None:
    bin_dir, project, env = _toolchain_files(tmp_path)

    def ident(environ: dict[str, str] = env) -> str:
        return fp.key(
            fp.toolchain(str(bin_dir / "cargo"), str(bin_dir / "rustc"), environ, project)
        )

    seen = {ident()}
    assert ident() in seen  # stable when nothing changes
    changes: list[Callable[[], object]] = [
        lambda: (bin_dir / "rustc").write_text("another rustc"),
        lambda: (tmp_path / "rustup" / "toolchains" / "stable" / "bin" / "rustc").write_text("2"),
        lambda: (tmp_path / "rustup" / "settings.toml").write_text('default_toolchain = "b"\n'),
        lambda: (project / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "1.80"\n'),
        lambda: (tmp_path / "rust-toolchain").write_text("nightly\n"),
        lambda: (tmp_path / "rustup" / "toolchains" / "beta" / "bin").mkdir(parents=True),
        lambda: (bin_dir / "cargo").write_text("another cargo"),
    ]
    for change in changes:
        change()
        assert ident() not in seen
        seen.add(ident())
    assert ident({**env, "RUSTUP_TOOLCHAIN": "nightly"}) not in seen


# --- cargo-zigbuild's environment ------------------------------------------------------------

ZIG_ADDS = {
    "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": "",  # set per test: a wrapper path
    "CC_x86_64_unknown_linux_gnu": "",
}


def _zig_setup(tmp_path: Path) -> tuple[list[str], dict[str, str], Path, FakeRunner]:
    bin_dir, project, env = _toolchain_files(tmp_path)
    wrapper = tmp_path / "zigbuild-cache" / "zigcc-x86_64.sh"
    wrapper.parent.mkdir()
    wrapper.write_text("#!/bin/sh\n")
    (bin_dir / "cargo-zigbuild").write_text("zigbuild")
    (bin_dir / "zig").write_text("zig")
    env.update(
        CARGO=str(bin_dir / "cargo"),
        CARGO_ZIGBUILD_ZIG_PATH=str(bin_dir / "zig"),
        CARGO_HOME=str(tmp_path / "cargo-home"),
        PATH="/usr/bin",
    )
    runner = FakeRunner({}, zig_record={k: str(wrapper) for k in ZIG_ADDS})
    argv = [
        str(bin_dir / "cargo-zigbuild"),
        "zigbuild",
        "--target",
        "x86_64-unknown-linux-gnu.2.34",
        "--release",
    ]
    return argv, env, project, runner


def _direct(
    argv: list[str], env: dict[str, str], project: Path, runner: FakeRunner, cache: CacheFile
) -> tuple[tuple[str, ...], dict[str, str], bool] | None:
    found = direct_command(
        argv,
        env,
        cwd=project,
        cargo=env["CARGO"],
        rustc=str(Path(env["CARGO"]).parent / "rustc"),
        cache=cache,
        runner=runner,
    )
    return None if found is None else (found.argv, dict(found.env), found.cached)


def test_zig_env_recorded_once_then_cargo_runs_directly(tmp_path: Path) -> None:
    argv, env, project, runner = _zig_setup(tmp_path)
    cache = _cache(tmp_path)
    first = _direct(argv, env, project, runner, cache)
    assert first is not None and not first[2]
    cargo_argv, cargo_env, _ = first
    assert cargo_argv == (
        env["CARGO"],
        "build",
        "--target",
        "x86_64-unknown-linux-gnu",
        "--release",
    )
    assert cargo_env["CC_x86_64_unknown_linux_gnu"].endswith("zigcc-x86_64.sh")
    assert cargo_env["CARGO"] == env["CARGO"]  # the recorder never leaks into the build
    assert "RUSTLAMBDA_ZIGBUILD_RECORD" not in cargo_env
    second = _direct(argv, env, project, runner, _cache(tmp_path))
    assert second == (cargo_argv, cargo_env, True) and runner.recordings == 1


def test_zig_env_rerecorded_when_a_wrapper_is_gone(tmp_path: Path) -> None:
    argv, env, project, runner = _zig_setup(tmp_path)
    _direct(argv, env, project, runner, _cache(tmp_path))
    (tmp_path / "zigbuild-cache" / "zigcc-x86_64.sh").unlink()
    _direct(argv, env, project, runner, _cache(tmp_path))
    assert runner.recordings == 2


def test_zig_env_corrupt_cache_rerecords(tmp_path: Path) -> None:
    argv, env, project, runner = _zig_setup(tmp_path)
    cache = _cache(tmp_path)
    _direct(argv, env, project, runner, cache)
    key = next(iter(json.loads(cache.path.read_text())["entries"]))
    data = {"version": "0.1.0", "entries": {key: {"argv": 3}}}
    cache.path.write_text(json.dumps(data))
    assert _direct(argv, env, project, runner, _cache(tmp_path)) is not None
    assert runner.recordings == 2


def test_zig_env_falls_back_when_recording_fails(tmp_path: Path) -> None:
    argv, env, project, runner = _zig_setup(tmp_path)
    runner.zig_record = None
    assert _direct(argv, env, project, runner, _cache(tmp_path)) is None


def test_zig_env_falls_back_when_its_folder_cannot_exist(tmp_path: Path) -> None:
    """A target dir that is a file: no record (cargo-zigbuild runs and cargo says what is
    wrong), and no OSError escapes."""
    argv, env, project, runner = _zig_setup(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = CacheFile(blocker / "rustlambda" / "cache" / "zigbuild-env.json")
    assert _direct(argv, env, project, runner, cache) is None


def test_zig_env_key_invalidation(tmp_path: Path) -> None:
    argv, env, project, _ = _zig_setup(tmp_path)
    rustc = str(Path(env["CARGO"]).parent / "rustc")

    def key(a: list[str] = argv, e: dict[str, str] = env) -> str:
        return cache_key(a, e, project, e["CARGO"], rustc)

    seen = {key()}
    assert key() in seen
    (project / ".cargo").mkdir()  # directories alone change nothing
    (tmp_path / "cargo-home").mkdir()
    assert key() in seen
    variants = [
        key([*argv[:3], "x86_64-unknown-linux-gnu.2.26", *argv[4:]]),  # glibc
        key([*argv[:3], "aarch64-unknown-linux-gnu.2.34", *argv[4:]]),  # target
        key([*argv, "--features", "a"]),  # features
        key([*argv[:-1], "--profile", "dev"]),  # profile
        key(e={**env, "RUSTFLAGS": "-C target-cpu=x"}),
        key(e={**env, "CARGO_ENCODED_RUSTFLAGS": "-Cx"}),
        key(e={**env, "CC_x86_64_unknown_linux_gnu": "clang"}),
        key(e={**env, "CARGO_ZIGBUILD_ZIG_PATH": str(tmp_path / "other-zig")}),
    ]
    for value in variants:
        assert value not in seen
        seen.add(value)
    changes: list[Callable[[], object]] = [
        lambda: (project / ".cargo" / "config.toml").write_text("[build]\n"),
        lambda: (project / ".cargo" / "config.toml").write_text("[build]\nrustflags = []\n"),
        lambda: (tmp_path / "cargo-home" / "config.toml").write_text("[net]\n"),
        lambda: (Path(env["CARGO_ZIGBUILD_ZIG_PATH"])).write_text("zig 0.14"),  # zig version
        lambda: Path(argv[0]).write_text("cargo-zigbuild 0.25"),
        lambda: (Path(rustc)).write_text("rustc 1.97"),  # the toolchain
    ]
    for change in changes:
        change()
        assert key() not in seen, change
        seen.add(key())


# --- the std check -------------------------------------------------------------------------


def test_std_check_cached_per_toolchain(tmp_path: Path) -> None:
    bin_dir, project, env = _toolchain_files(tmp_path)
    runner = FakeRunner({}, libdir_root=tmp_path / "libdirs")
    toolchain = Toolchain(cargo=str(bin_dir / "cargo"), rustc=str(bin_dir / "rustc"))
    triples = ("x86_64-unknown-linux-gnu",)

    def check() -> int:
        before = len(runner.calls)
        ensure_target_std(
            toolchain,
            triples,
            env=env,
            cwd=project,
            runner=runner,
            reporter=LoggingReporter(),
            cache=_cache(tmp_path),
        )
        return len(runner.calls) - before

    assert check() == 1
    assert check() == 0  # cached
    (bin_dir / "rustc").write_text("a new rustc")
    assert check() == 1  # another toolchain: looked up again
    (project / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "beta"\n')
    assert check() == 1
    _cache(tmp_path).path.write_text("garbage")
    assert check() == 1


def test_std_missing_is_never_cached(tmp_path: Path) -> None:
    bin_dir, project, env = _toolchain_files(tmp_path)
    runner = FakeRunner({}, libdir_root=tmp_path / "libdirs", std_triples=set())
    toolchain = Toolchain(cargo=str(bin_dir / "cargo"), rustc=str(bin_dir / "rustc"))
    for _ in range(2):
        with pytest.raises(Exception, match="standard library"):
            ensure_target_std(
                toolchain,
                ("x86_64-unknown-linux-gnu",),
                env=env,
                cwd=project,
                runner=runner,
                reporter=LoggingReporter(),
                cache=_cache(tmp_path),
            )
    assert not _cache(tmp_path).path.exists() or "true" not in _cache(tmp_path).path.read_text()


# --- verification ----------------------------------------------------------------------------


def _artifact(path: Path, data: bytes, arch: Arch = Arch.X86_64) -> Artifact:
    import hashlib

    path.write_bytes(data)
    path.chmod(0o755)
    return Artifact(
        function="f",
        kind=ArtifactKind.FUNCTION,
        package="p",
        target=Target(arch, Libc.GNU),
        arch=arch,
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    import rustlambda.verify as verify

    def counting(paths, **kw):  # type: ignore[no-untyped-def]
        calls.extend(paths)
        return verify_artifacts(paths, **kw)

    monkeypatch.setattr(verify, "verify_artifacts", counting)
    return calls


def test_verified_bytes_are_not_verified_again(tmp_path: Path, counted: list[Path]) -> None:
    host = Arch.X86_64 if os.uname().machine == "x86_64" else Arch.ARM64
    exe = _artifact(tmp_path / "bootstrap", REAL_ELF, host)
    first = build_run._verify([exe], Runtime.AL2023, _cache(tmp_path))
    assert len(counted) == 1
    second = build_run._verify([exe], Runtime.AL2023, _cache(tmp_path))
    assert len(counted) == 1  # served from the cache
    assert second.to_dict() == first.to_dict()  # the same report, findings and all
    # what changes the outcome: other bytes, the runtime, the architecture, the mode
    build_run._verify([exe], Runtime.AL2, _cache(tmp_path))
    assert len(counted) == 2
    other = Arch.ARM64 if host is Arch.X86_64 else Arch.X86_64
    wrong = build_run._verify(
        [_artifact(exe.path, REAL_ELF, other)], Runtime.AL2023, _cache(tmp_path)
    )
    assert len(counted) == 3 and not wrong.ok
    exe.path.chmod(0o644)
    assert not build_run._verify([exe], Runtime.AL2023, _cache(tmp_path)).ok
    assert len(counted) == 4
    changed = _artifact(exe.path, REAL_ELF + b"\0", host)
    build_run._verify([changed], Runtime.AL2023, _cache(tmp_path))
    assert len(counted) == 5
    _cache(tmp_path).path.write_text('{"version": "0.1.0", "entries": {"x": [1]}}')
    build_run._verify([changed], Runtime.AL2023, _cache(tmp_path))
    assert len(counted) == 6


def test_verify_cache_never_serves_a_report_for_other_bytes(
    tmp_path: Path, counted: list[Path]
) -> None:
    """Even a tampered entry under the right key is refused when its sha256 differs."""
    host = Arch.X86_64 if os.uname().machine == "x86_64" else Arch.ARM64
    exe = _artifact(tmp_path / "bootstrap", REAL_ELF, host)
    build_run._verify([exe], Runtime.AL2023, _cache(tmp_path))
    data = json.loads(_cache(tmp_path).path.read_text())
    for reports in data["entries"].values():
        reports[0]["sha256"] = "0" * 64
    _cache(tmp_path).path.write_text(json.dumps(data))
    build_run._verify([exe], Runtime.AL2023, _cache(tmp_path))
    assert len(counted) == 2


# --- cargo metadata ------------------------------------------------------------------------


def test_metadata_cached_until_something_it_depends_on_changes(tmp_path: Path) -> None:
    from rustlambda.project import load_workspace

    from .fakes import write_workspace

    bin_dir, _, env = _toolchain_files(tmp_path)
    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(root, {"functions/a": ["a"], "functions/b": ["b"]})
    runner = FakeRunner(metadata)
    cargo, rustc = str(bin_dir / "cargo"), str(bin_dir / "rustc")

    def runs(environ: dict[str, str] = env) -> int:
        before = len(runner.calls)
        workspace = load_workspace(
            root / "Cargo.toml", cargo=cargo, env=environ, runner=runner, rustc=rustc
        )
        assert [p.name for p in workspace.packages] == ["functions/a", "functions/b"]
        return len(runner.calls) - before

    assert runs() == 1
    assert runs() == 0  # cached
    changes: list[Callable[[], object]] = [
        lambda: (root / "functions" / "a" / "Cargo.toml").write_text("[package]\nname='a'\n#"),
        lambda: (root / "Cargo.toml").write_text((root / "Cargo.toml").read_text() + "\n"),
        lambda: (root / "Cargo.lock").write_text("version = 3\n"),
        lambda: (root / "Cargo.lock").write_text("version = 4\n"),
        lambda: (root / "functions" / "a" / "src").mkdir(),
        lambda: (root / "functions" / "a" / "src" / "main.rs").write_text("fn main() {}"),
        lambda: (root / "functions" / "a" / "src" / "bin").mkdir(),
        lambda: (root / "functions" / "a" / "src" / "bin" / "x.rs").write_text("fn main() {}"),
        lambda: (root / "functions" / "a" / "build.rs").write_text("fn main() {}"),
        lambda: (root / "functions" / "a" / "examples").mkdir(),
        lambda: (root / "functions" / "c").mkdir(),  # a new member matched by a glob
        lambda: _write(root / ".cargo" / "config.toml", ""),
        lambda: (tmp_path / "Cargo.toml").write_text("[workspace]\n"),  # a root above
        lambda: (bin_dir / "cargo").write_text("cargo 1.99"),
        lambda: (bin_dir / "rustc").write_text("rustc 1.99"),
    ]
    for change in changes:
        change()
        assert runs() == 1, change
        assert runs() == 0
    assert runs({**env, "CARGO_TARGET_DIR": str(tmp_path / "t")}) == 1
    for path in (Path(p) for p in _metadata_files(tmp_path)):
        path.write_text("{corrupt")
    assert runs() == 1
    assert load_workspace(root / "Cargo.toml", cargo=cargo, env=env, runner=runner) is not None
    assert len(runner.calls) and runner.calls[-1].argv[1] == "metadata"  # without rustc: no cache


def _metadata_files(tmp_path: Path) -> list[str]:
    import rustlambda.cache

    folder = rustlambda.cache.user_cache_dir({})
    return [str(p) for p in folder.glob("metadata-*.json")]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- installing bootstraps -----------------------------------------------------------------


def test_install_skips_unchanged_copies_and_never_serves_stale_ones(tmp_path: Path) -> None:
    import rustlambda
    from rustlambda import BuildOptions

    from .fakes import produce_binaries, write_workspace

    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(root, {"fn": ["hello"]})
    runner = FakeRunner(
        metadata, libdir_root=tmp_path / "libdirs", produce=produce_binaries(root / "target")
    )
    environ = {"PATH": os.environ["PATH"], "CARGO_HOME": str(tmp_path / "cargo-home")}

    def build() -> tuple[Path, str, int]:
        result = rustlambda.build(
            BuildOptions(
                cwd=root, environ=environ, verify=False, targets=(Target(Arch.X86_64, Libc.GNU),)
            ),
            runner=runner,
        )
        artifact = result.artifacts[0]
        assert (
            artifact.path.read_bytes()
            == (root / "target" / "x86_64-unknown-linux-gnu" / "debug" / "hello").read_bytes()
        )
        import hashlib

        assert hashlib.sha256(artifact.path.read_bytes()).hexdigest() == artifact.sha256
        return artifact.path, artifact.sha256, artifact.path.stat().st_ino

    path, sha, inode = build()
    runner.produce = None  # cargo's no-op leaves its files alone
    assert build() == (path, sha, inode)  # not copied again
    source = root / "target" / "x86_64-unknown-linux-gnu" / "debug" / "hello"
    source.write_bytes(REAL_ELF + b"rebuilt")  # cargo rebuilt it
    _, new_sha, new_inode = build()
    assert new_sha != sha and new_inode != inode
    path.write_bytes(b"changed behind our back")
    assert build()[1] == new_sha  # the copy is made again
    path.chmod(0o600)
    build()
    assert path.stat().st_mode & 0o777 == 0o755
    inode = path.stat().st_ino
    for cache in (root / "target" / "rustlambda" / "cache").glob("installed.json"):
        cache.write_text("[corrupt")
    assert build()[2] != inode  # a corrupt cache: copied again


def test_failed_cargo_run_forgets_the_zig_record_and_std(tmp_path: Path) -> None:
    """A failed build is looked at afresh next time: the zig environment is recorded again and
    the std looked up again (a cache that was wrong in a way its key missed heals itself)."""
    import rustlambda
    from rustlambda import BuildOptions
    from rustlambda.errors import CompileError

    from .fakes import produce_binaries, write_workspace

    root = tmp_path / "ws"
    root.mkdir()
    wrapper = tmp_path / "zigcc.sh"
    wrapper.write_text("#!/bin/sh\n")
    runner = FakeRunner(
        write_workspace(root, {"fn": ["hello"]}),
        libdir_root=tmp_path / "libdirs",
        produce=produce_binaries(root / "target"),
        zig_record={"CC_x86_64_unknown_linux_gnu": str(wrapper)},
    )
    environ = {"PATH": os.environ["PATH"], "CARGO_HOME": str(tmp_path / "cargo-home")}
    options = BuildOptions(
        cwd=root, environ=environ, verify=False, targets=(Target(Arch.X86_64, Libc.GNU),)
    )
    rustlambda.build(options, runner=runner)
    assert runner.recordings == 1 and Path(runner.builds[-1].argv[0]).name == "cargo"
    assert runner.builds[-1].env["CC_x86_64_unknown_linux_gnu"] == str(wrapper)
    rustlambda.build(options, runner=runner)
    assert runner.recordings == 1  # the no-op used the record
    runner.build_code = 101
    with pytest.raises(CompileError):
        rustlambda.build(options, runner=runner)
    runner.build_code = 0
    libdir_checks = sum("target-libdir" in c.argv for c in runner.calls)
    rustlambda.build(options, runner=runner)
    assert runner.recordings == 2
    assert sum("target-libdir" in c.argv for c in runner.calls) == libdir_checks + 1


def _zigbuild_env(*triples: str) -> dict[str, str]:
    """What cargo-zigbuild gives cargo for ``triples`` (the variables that name them)."""
    env = {"PATH": "/usr/bin", "CARGO_ZIGBUILD_RUSTC_VERSION": "1.95.0"}
    for triple in triples:
        arch = triple.split("-")[0]
        env[f"CARGO_TARGET_{triple.upper().replace('-', '_')}_LINKER"] = f"/w/zigcc-{triple}.sh"
        env[f"CARGO_ZIGBUILD_TARGET_{triple.replace('-', '_')}"] = f"{arch}-linux-gnu.2.34"
        env[f"CC_{triple.replace('-', '_')}"] = f"/w/zigcc-{triple}.sh"
    if len(triples) == 1:
        env["CARGO_ZIGBUILD_TARGET"] = f"{triples[0].split('-')[0]}-linux-gnu.2.34"
    if "x86_64-unknown-linux-gnu" in triples:  # the host's own target
        env["CARGO_TARGET_APPLIES_TO_HOST"] = "false"
        env["CARGO_UNSTABLE_TARGET_APPLIES_TO_HOST"] = "true"
    return env


def _cargo(*triples: str) -> list[str]:
    return ["cargo", "build", "--release", *[a for t in triples for a in ("--target", t)]]


X86, ARM = "x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"


def test_with_a_compile_cache_cargo_s_variables_do_not_depend_on_the_selected_targets() -> None:
    """sccache hashes every CARGO_* variable rustc sees: one target or two, the same ones."""

    def cargo_vars(*triples: str) -> dict[str, str]:
        _, env = for_compile_cache(_cargo(*triples), _zigbuild_env(*triples))
        return {k: v for k, v in env.items() if k.startswith("CARGO_")}

    assert _zigbuild_env(X86) != _zigbuild_env(X86, ARM)  # as cargo-zigbuild has them
    both = cargo_vars(X86, ARM)
    assert cargo_vars(X86) == both == cargo_vars(ARM)
    assert not any(k.endswith("_LINKER") for k in both)
    assert both["CARGO_ZIGBUILD_TARGET_aarch64_unknown_linux_gnu"] == "aarch64-linux-gnu.2.34"


def test_with_a_compile_cache_each_selected_target_s_linker_goes_to_cargo_s_config() -> None:
    argv, env = for_compile_cache(_cargo(ARM), _zigbuild_env(ARM))
    assert argv == (
        "cargo",
        "build",
        "--config",
        'target.aarch64-unknown-linux-gnu.linker="/w/zigcc-aarch64-unknown-linux-gnu.sh"',
        "--release",
        "--target",
        ARM,
    )
    assert env["CC_aarch64_unknown_linux_gnu"] == "/w/zigcc-aarch64-unknown-linux-gnu.sh"
    assert env["PATH"] == "/usr/bin"
