"""What ``watch`` serves from a build, which changes trigger a rebuild, and --env-var/--env-file.

Bootstraps are copies of /bin/true (x86_64 here); an arm64 one is /bin/true with e_machine
patched to EM_AARCH64. Nothing is run.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from watchfiles import Change

from rustlambda import serving as serving_mod
from rustlambda import watch as watch_mod
from rustlambda.builder import Artifact, BuildResult
from rustlambda.emulator import Emulator, EmulatorSettings
from rustlambda.errors import ConfigError
from rustlambda.layout import ArtifactKind
from rustlambda.options import BuildOptions
from rustlambda.serving import functions_to_serve
from rustlambda.settings.keyvalue import parse_env_vars, read_env_file
from rustlambda.sources import SourceFilter
from rustlambda.targets import Arch, Target
from rustlambda.watch import WatchOptions

from .fakes import REAL_ELF

TRIPLES = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}


def _elf_bytes(arch: str) -> bytes:
    if arch == "x86_64":
        return REAL_ELF
    data = bytearray(REAL_ELF)
    data[18:20] = struct.pack("<H", 183)  # EM_AARCH64
    old, new = b"/lib64/ld-linux-x86-64.so.2\0", b"/lib/ld-linux-aarch64.so.1\0\0"
    start = data.find(old)
    data[start : start + len(old)] = new
    return bytes(data)


def elf(path: Path, arch: str = "x86_64", *, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_elf_bytes(arch))
    path.chmod(mode)
    return path


def artifact(
    lambda_dir: Path,
    function: str,
    arch: str,
    *,
    multi: bool = False,
    kind: str = "function",
    env: dict[str, str] | None = None,
) -> Artifact:
    base = lambda_dir / arch if multi else lambda_dir
    path = base / function / "bootstrap" if kind == "function" else base / "extensions" / function
    elf(path, arch)
    data = path.read_bytes()
    return Artifact(
        function=function,
        kind=ArtifactKind(kind),
        package="demo",
        target=Target.parse(TRIPLES[arch]),
        arch=Arch(arch),
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data + function.encode()).hexdigest(),
        env=env or {},
    )


def result(lambda_dir: Path, *artifacts: Artifact) -> BuildResult:
    return BuildResult(artifacts=artifacts, lambda_dir=lambda_dir, command=("cargo", "build"))


def options(
    *,
    env: dict[str, str] | None = None,
    memory_size: int = 128,
    timeout: float = 30.0,
    extensions_dir: Path | None = None,
) -> WatchOptions:
    return WatchOptions(
        build=BuildOptions(),
        env=env or {},
        memory_size=memory_size,
        timeout=timeout,
        extensions_dir=extensions_dir,
    )


@pytest.fixture(autouse=True)
def _x86_64_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving_mod, "host_arch", lambda: Arch.X86_64)


# --------------------------------------------------------------------------- functions_to_serve


def test_one_arch_serves_function_names(tmp_path: Path) -> None:
    lam = tmp_path / "target" / "lambda"
    hello = artifact(lam, "hello", "x86_64")
    bye = artifact(lam, "bye", "x86_64")
    served = functions_to_serve(result(lam, hello, bye), options(memory_size=512, timeout=3.0))

    assert [s.name for s in served.functions] == ["hello", "bye"]
    assert served.aliases == {}
    assert served.notes == ()
    first = served.functions[0]
    assert first.bootstrap == hello.path
    assert first.memory_size == 512
    assert first.timeout == 3.0
    assert first.extensions == ()
    assert first.revision == hello.sha256
    assert served.functions[1].revision == bye.sha256


def test_one_arm64_arch_keeps_plain_names(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    served = functions_to_serve(result(lam, artifact(lam, "hello", "arm64")), options())
    assert [s.name for s in served.functions] == ["hello"]
    assert served.aliases == {}


@pytest.mark.parametrize("order", [("arm64", "x86_64"), ("x86_64", "arm64")])
def test_two_arches_suffix_names_and_alias_host_arch(
    tmp_path: Path, order: tuple[str, str]
) -> None:
    lam = tmp_path / "lambda"
    built = [artifact(lam, fn, arch, multi=True) for arch in order for fn in ("hello", "bye")]
    served = functions_to_serve(result(lam, *built), options())

    names = sorted(s.name for s in served.functions)
    assert names == ["bye-arm64", "bye-x86_64", "hello-arm64", "hello-x86_64"]
    assert served.aliases == {"hello": "hello-x86_64", "bye": "bye-x86_64"}
    by_name = {s.name: s for s in served.functions}
    assert by_name["hello-arm64"].bootstrap == lam / "arm64" / "hello" / "bootstrap"
    assert by_name["hello-x86_64"].bootstrap == lam / "x86_64" / "hello" / "bootstrap"


def test_two_arches_alias_follows_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serving_mod, "host_arch", lambda: Arch.ARM64)
    lam = tmp_path / "lambda"
    built = [artifact(lam, "hello", a, multi=True) for a in ("x86_64", "arm64")]
    assert functions_to_serve(result(lam, *built), options()).aliases == {"hello": "hello-arm64"}


def test_two_arches_unknown_host_aliases_first_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving_mod, "host_arch", lambda: None)
    lam = tmp_path / "lambda"
    built = [artifact(lam, "hello", a, multi=True) for a in ("arm64", "x86_64")]
    assert functions_to_serve(result(lam, *built), options()).aliases == {"hello": "hello-arm64"}


def test_served_two_arches_construct_an_emulator(tmp_path: Path) -> None:
    """The specs and aliases go straight into Emulator (arm64 planned under a fake qemu)."""
    lam = tmp_path / "lambda"
    built = [artifact(lam, "hello", a, multi=True) for a in ("arm64", "x86_64")]
    served = functions_to_serve(result(lam, *built), options())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    qemu = bin_dir / "qemu-aarch64"
    qemu.write_text("#!/bin/sh\n")
    qemu.chmod(0o755)
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib").mkdir(parents=True)
    (sysroot / "lib" / "ld-linux-aarch64.so.1").write_bytes(b"")
    settings = EmulatorSettings(
        port=0, environ={"PATH": str(bin_dir), "QEMU_LD_PREFIX": str(sysroot)}
    )
    emu = Emulator(served.functions, settings, aliases=served.aliases)
    assert emu.resolve("hello") == "hello-x86_64"
    assert sorted(emu.function_names) == ["hello-arm64", "hello-x86_64"]


def test_env_merged_options_win(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = artifact(
        lam, "hello", "x86_64", env={"RUST_LOG": "info", "TABLE": "meta", "ONLY_META": "1"}
    )
    served = functions_to_serve(result(lam, built), options(env={"TABLE": "cli", "ONLY_CLI": "2"}))
    assert dict(served.functions[0].env) == {
        "RUST_LOG": "info",
        "TABLE": "cli",
        "ONLY_META": "1",
        "ONLY_CLI": "2",
    }
    assert built.env["TABLE"] == "meta"  # the artifact itself is untouched


def test_extensions_single_arch(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = artifact(lam, "hello", "x86_64")
    ext_dir = lam / "extensions"
    logs = elf(ext_dir / "logs", "x86_64")
    other = elf(ext_dir / "arm-only", "arm64")
    script = ext_dir / "shell-ext"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    elf(ext_dir / "packed.zip", "x86_64")  # an executable .zip is still a zip
    elf(ext_dir / "not-exec", "x86_64", mode=0o644)
    (ext_dir / "subdir").mkdir()

    served = functions_to_serve(result(lam, built), options())

    (spec,) = served.functions
    assert spec.extensions == (logs, script)
    assert len(served.notes) == 1
    assert str(other) in served.notes[0]
    assert "arm64" in served.notes[0] and "x86_64" in served.notes[0]
    assert spec.revision.startswith(built.sha256 + ":")
    assert "logs@" in spec.revision and "shell-ext@" in spec.revision


def test_extensions_multi_arch_per_arch_dir(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = [artifact(lam, "hello", a, multi=True) for a in ("x86_64", "arm64")]
    x86_ext = elf(lam / "x86_64" / "extensions" / "telemetry", "x86_64")
    arm_ext = elf(lam / "arm64" / "extensions" / "telemetry", "arm64")
    misplaced = elf(lam / "arm64" / "extensions" / "stray", "x86_64")
    elf(lam / "extensions" / "top-level", "x86_64")  # the single-arch place: not used here

    served = functions_to_serve(result(lam, *built), options())

    by_name = {s.name: s for s in served.functions}
    assert by_name["hello-x86_64"].extensions == (x86_ext,)
    assert by_name["hello-arm64"].extensions == (arm_ext,)
    assert served.notes == (f"extension {misplaced} is x86_64; not started with arm64 functions",)


def test_extensions_notes_are_not_repeated(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = [artifact(lam, fn, "x86_64") for fn in ("a", "b", "c")]
    elf(lam / "extensions" / "wrong", "arm64")
    served = functions_to_serve(result(lam, *built), options())
    assert len(served.notes) == 1


def test_extensions_dir_option_overrides(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = artifact(lam, "hello", "x86_64")
    elf(lam / "extensions" / "default-place", "x86_64")
    chosen = elf(tmp_path / "my-exts" / "chosen", "x86_64")
    served = functions_to_serve(result(lam, built), options(extensions_dir=tmp_path / "my-exts"))
    assert served.functions[0].extensions == (chosen,)


def test_revision_changes_when_an_extension_changes(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    built = artifact(lam, "hello", "x86_64")
    ext = elf(lam / "extensions" / "logs", "x86_64")
    before = functions_to_serve(result(lam, built), options()).functions[0]
    stat = ext.stat()
    os.utime(ext, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = functions_to_serve(result(lam, built), options()).functions[0]
    assert before.revision != after.revision
    assert before.bootstrap == after.bootstrap


def test_extension_artifacts_are_not_served_as_functions(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    fn = artifact(lam, "hello", "x86_64")
    ext = artifact(lam, "ext", "x86_64", kind="extension")
    served = functions_to_serve(result(lam, ext, fn), options())
    assert [s.name for s in served.functions] == ["hello"]
    # the built extension sits in <lambda_dir>/extensions, so it starts with the function
    assert served.functions[0].extensions == (ext.path,)


def test_only_extensions_is_a_config_error(tmp_path: Path) -> None:
    lam = tmp_path / "lambda"
    only = artifact(lam, "ext", "x86_64", kind="extension")
    with pytest.raises(ConfigError) as info:
        functions_to_serve(result(lam, only), options())
    assert info.value.exit_code == 2
    assert "produced none" in info.value.message
    assert "--extension" in info.value.fix


# --------------------------------------------------------------------------- SourceFilter


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = (tmp_path / "ws").resolve()
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "demo"\n')
    (root / "src" / "main.rs").write_text("fn main() {}\n")
    (root / ".gitignore").write_text("# build junk\n*.log\n/scratch/\n")
    (root / "crates" / "api").mkdir(parents=True)
    (root / "crates" / "api" / ".gitignore").write_text("generated/\n")
    (root / ".git").mkdir()
    (root / "target").mkdir()
    return root


def source_filter(root: Path) -> SourceFilter:
    return SourceFilter(root, [root / "target", root / "target" / "lambda"])


@pytest.mark.parametrize(
    "relative",
    [
        "src/main.rs",
        "Cargo.toml",
        "Cargo.lock",
        "crates/api/src/lib.rs",
        "crates/other/generated/code.rs",  # the nested .gitignore covers crates/api only
        "build.rs",
        "src/logic.rs",
    ],
)
def test_source_changes_pass(ws: Path, relative: str) -> None:
    assert source_filter(ws)(Change.modified, str(ws / relative)) is True


@pytest.mark.parametrize(
    "relative",
    [
        "target/debug/demo",
        "target/lambda/demo/bootstrap",
        "target",
        ".git/index",
        ".git/refs/heads/main",
        "server.log",  # root .gitignore: *.log
        "crates/api/debug.log",  # root patterns apply below
        "scratch/notes.rs",  # root .gitignore: /scratch/
        "crates/api/generated/schema.rs",  # nested .gitignore
        "src/main.rs~",  # editor backup (watchfiles' default filter)
    ],
)
def test_ignored_changes(ws: Path, relative: str) -> None:
    assert source_filter(ws)(Change.modified, str(ws / relative)) is False


def test_lambda_dir_outside_target_is_ignored(ws: Path) -> None:
    out = ws / "dist" / "lambda"
    flt = SourceFilter(ws, [ws / "target", out])
    assert flt(Change.added, str(out / "hello" / "bootstrap")) is False
    assert flt(Change.added, str(ws / "dist" / "README.md")) is True


def test_ignored_dirs_are_not_walked_for_gitignores(ws: Path) -> None:
    (ws / "target" / "debug" / "build" / "dep").mkdir(parents=True)
    (ws / "target" / "debug" / "build" / "dep" / ".gitignore").write_text("*\n")
    (ws / "target" / ".gitignore").write_text("*\n")  # cargo writes one
    (ws / ".git" / ".gitignore").write_text("*\n")
    bases = sorted(base for base, _ in source_filter(ws)._specs)
    assert bases == [ws, ws / "crates" / "api"]


def test_paths_outside_the_root_are_not_matched_by_its_gitignore(ws: Path) -> None:
    outside = ws.parent / "elsewhere" / "x.log"
    assert source_filter(ws)(Change.modified, str(outside)) is True


def test_nested_gitignore_negation_reincludes(ws: Path) -> None:
    (ws / "crates" / "api" / ".gitignore").write_text("!keep.log\n")
    assert source_filter(ws)(Change.modified, str(ws / "crates" / "api" / "keep.log")) is True


def test_symlinked_root_still_ignores_target(ws: Path) -> None:
    link = ws.parent / "ws-link"
    link.symlink_to(ws, target_is_directory=True)
    flt = SourceFilter(link, [link / "target"])
    assert flt(Change.added, str(link / "target" / "debug" / "demo")) is False


# --------------------------------------------------------------------------- --env-var


def test_parse_env_vars_repeat_and_lists() -> None:
    assert parse_env_vars(["A=1", "B=2,C=3", "A=override"]) == {
        "A": "override",
        "B": "2",
        "C": "3",
    }


def test_parse_env_vars_equals_inside_values_and_empty_values() -> None:
    assert parse_env_vars(["URL=postgres://u:p@h/db?sslmode=require", "EMPTY="]) == {
        "URL": "postgres://u:p@h/db?sslmode=require",
        "EMPTY": "",
    }
    assert parse_env_vars(["X=a=b=c"]) == {"X": "a=b=c"}


def test_parse_env_vars_skips_empty_items() -> None:
    assert parse_env_vars(["A=1,,B=2,", ""]) == {"A": "1", "B": "2"}
    assert parse_env_vars([]) == {}


@pytest.mark.parametrize("bad", ["NOVALUE", "1ABC=x", "MY-VAR=x", "=x", "A B=x", "A=1,oops"])
def test_parse_env_vars_bad_names(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_env_vars([bad])
    assert info.value.exit_code == 2
    assert "is not KEY=VALUE" in info.value.message
    assert "--env-var" in info.value.message


def test_parse_env_vars_names_the_flag() -> None:
    with pytest.raises(ConfigError, match="--env-vars 'oops'"):
        parse_env_vars(["oops"], where="--env-vars")


# --------------------------------------------------------------------------- --env-file


def test_read_env_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# database\n"
        "\n"
        "DATABASE_URL=postgres://localhost/db?x=1\n"
        "   # indented comment\n"
        "export RUST_LOG=debug\n"
        "export   SPACED = padded  \n"
        'DOUBLE="hello world"\n'
        "SINGLE='it''s'\n"
        "EMPTY=\n"
        'EMPTY_QUOTED=""\n'
        'HALF="unbalanced\n'
        "HOME_REF=$HOME/x\n"
        "HASH=a#b\n"
    )
    assert read_env_file(path) == {
        "DATABASE_URL": "postgres://localhost/db?x=1",
        "RUST_LOG": "debug",
        "SPACED": "padded",
        "DOUBLE": "hello world",
        "SINGLE": "it''s",
        "EMPTY": "",
        "EMPTY_QUOTED": "",
        "HALF": '"unbalanced',
        "HOME_REF": "$HOME/x",  # nothing is expanded
        "HASH": "a#b",
    }


def test_read_env_file_crlf_and_later_lines_win(tmp_path: Path) -> None:
    path = tmp_path / "vars.env"
    path.write_bytes(b"A=1\r\nB='two'\r\nA=3\r\n")
    assert read_env_file(path) == {"A": "3", "B": "two"}


def test_read_env_file_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.env"
    path.write_text("# ok\nGOOD=1\n\nthis line is wrong\nALSO=2\n")
    with pytest.raises(ConfigError) as info:
        read_env_file(path)
    assert info.value.exit_code == 2
    assert info.value.message.startswith(f"{path}:4: ")
    assert "'this line is wrong'" in info.value.message


def test_read_env_file_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.env"
    path.write_text("GOOD=1\n2BAD=x\n")
    with pytest.raises(ConfigError, match=r"bad\.env:2: "):
        read_env_file(path)


def test_read_env_file_missing_or_binary(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the env file") as info:
        read_env_file(tmp_path / "nope.env")
    assert info.value.exit_code == 2
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read the env file"):
        read_env_file(binary)


# --------------------------------------------------------------------------- watch metadata
def _plan(tmp_path: Path, workspace_meta: dict[str, object], **packages: dict[str, object]) -> Any:
    """What resolve_watch reads of a BuildPlan: the workspace and the selected binaries."""
    from types import SimpleNamespace

    pkgs = [
        SimpleNamespace(name=n, manifest_path=tmp_path / n / "Cargo.toml", metadata=m)
        for n, m in packages.items()
    ]
    workspace = SimpleNamespace(root=tmp_path, metadata=workspace_meta, packages=pkgs)
    selected = [SimpleNamespace(package=n) for n in packages]
    return SimpleNamespace(workspace=workspace, selected=selected)


def test_watch_metadata_fills_what_the_caller_left_unset(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / ".env").write_text("FROM_FILE=1\nSHARED=file\n")
    plan = _plan(
        tmp_path,
        {"lambda": {"watch": {"invoke_port": 9100, "timeout": 5, "env_var": ["WS=1"]}}},
        api={
            "lambda": {
                "watch": {
                    "concurrency": 3,
                    "env_file": ".env",
                    "env_var": "SHARED=var",
                    "invoke_prot": 1,
                }
            }
        },
    )
    given = WatchOptions(build=BuildOptions(), invoke_port=9200, env={"CLI": "1"})
    resolved, warnings = watch_mod.resolve_watch(given, plan)
    assert resolved.settings.port == 9200  # the caller's flag wins
    assert resolved.settings.concurrency == 3  # package table
    assert resolved.timeout == 5.0  # workspace table
    assert resolved.settings.address == "127.0.0.1" and resolved.ignore_changes is False
    # env_var beats env_file within a table; the caller's env beats both
    assert resolved.env == {"WS": "1", "FROM_FILE": "1", "SHARED": "var", "CLI": "1"}
    assert warnings == [
        "unknown key 'invoke_prot' in [package.metadata.lambda.watch] of api "
        "(did you mean 'invoke_port'?); it is ignored"
    ]


def test_watch_metadata_defaults_without_tables(tmp_path: Path) -> None:
    resolved, warnings = watch_mod.resolve_watch(
        WatchOptions(build=BuildOptions()), _plan(tmp_path, {}, api={})
    )
    assert (resolved.settings.port, resolved.settings.concurrency, resolved.timeout) == (
        9000,
        1,
        30.0,
    )
    assert resolved.ignore_changes is False and not warnings


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"invoke_port": "9000"}, "invoke_port"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": -1}, "timeout"),
        ({"ignore_changes": "yes"}, "ignore_changes"),
        ({"env_var": ["no-equals"]}, "env_var"),
    ],
)
def test_bad_watch_metadata_is_one_config_error(
    tmp_path: Path, table: dict[str, object], fragment: str
) -> None:
    plan = _plan(tmp_path, {"lambda": {"watch": table}}, api={})
    with pytest.raises(ConfigError) as info:
        watch_mod.resolve_watch(WatchOptions(build=BuildOptions()), plan)
    assert fragment in info.value.message and info.value.exit_code == 2


def test_packages_that_disagree_on_a_watch_key_are_an_error(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        {},
        a={"lambda": {"watch": {"timeout": 3}}},
        b={"lambda": {"watch": {"timeout": 4}}},
    )
    with pytest.raises(ConfigError, match="timeout"):
        watch_mod.resolve_watch(WatchOptions(build=BuildOptions()), plan)
