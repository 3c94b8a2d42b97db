"""Release optimizations: added as --config overrides, each skipped when the user set it."""

from __future__ import annotations

import json
from pathlib import Path

from rustlambda.optimize import CargoOverrides, plan_overrides
from rustlambda.targets import Arch, Target

X86 = Target.for_arch(Arch.X86_64)
ARM = Target.for_arch(Arch.ARM64)


def overrides(
    tmp_path: Path,
    *,
    environ: dict[str, str] | None = None,
    optimize: bool = True,
    targets: tuple[Target, ...] = (X86, ARM),
    manifest: str = "",
) -> CargoOverrides:
    (tmp_path / "Cargo.toml").write_text("[workspace]\n" + manifest)
    env = {"CARGO_HOME": str(tmp_path / "cargo-home"), **(environ or {})}
    return plan_overrides(
        optimize=optimize,
        profile="release",
        targets=targets,
        workspace_manifest=tmp_path / "Cargo.toml",
        cwd=tmp_path,
        environ=env,
    )


def test_release_defaults(tmp_path: Path) -> None:
    result = overrides(tmp_path)
    assert result.config == (
        'profile.release.strip="symbols"',
        'profile.release.lto="thin"',
        "profile.release.codegen-units=1",
        'profile.release.panic="abort"',
        'target.x86_64-unknown-linux-gnu.rustflags=["-C", "target-cpu=haswell"]',
        'target.aarch64-unknown-linux-gnu.rustflags=["-C", "target-cpu=neoverse-n1"]',
    )
    assert result.args()[:2] == ["--config", 'profile.release.strip="symbols"']


def test_disabled_optimizations_add_nothing(tmp_path: Path) -> None:
    assert overrides(tmp_path, optimize=False).config == ()


def test_user_settings_in_manifest_config_and_env_are_kept(tmp_path: Path) -> None:
    cargo_dir = tmp_path / ".cargo"
    cargo_dir.mkdir()
    (cargo_dir / "config.toml").write_text('[profile.release]\nstrip = "debuginfo"\n')
    result = overrides(
        tmp_path,
        manifest='[profile.release]\nlto = "fat"\n',
        environ={"CARGO_PROFILE_RELEASE_PANIC": "unwind"},
    )
    profile = [c for c in result.config if c.startswith("profile.")]
    assert profile == ["profile.release.codegen-units=1"]
    assert any("lto" in n and "Cargo.toml" in n for n in result.notes)
    assert any("strip" in n and "config.toml" in n for n in result.notes)
    assert any("panic" in n and "CARGO_PROFILE_RELEASE_PANIC" in n for n in result.notes)


def test_native_cpu_is_removed_from_rustflags_env(tmp_path: Path) -> None:
    result = overrides(
        tmp_path, environ={"RUSTFLAGS": "-C target-cpu=native -C debuginfo=1"}, targets=(ARM,)
    )
    assert result.env["RUSTFLAGS"] == "-C debuginfo=1 -C target-cpu=neoverse-n1"
    assert any("native" in n for n in result.notes)
    # even without optimizations native never reaches the build
    plain = overrides(tmp_path, environ={"RUSTFLAGS": "-Ctarget-cpu=native"}, optimize=False)
    assert plain.env["RUSTFLAGS"] == ""


def test_explicit_cpu_in_rustflags_is_kept(tmp_path: Path) -> None:
    result = overrides(tmp_path, environ={"RUSTFLAGS": "-C target-cpu=skylake"}, targets=(X86,))
    assert result.env == {}


def test_native_in_build_rustflags_is_replaced_and_other_flags_carried(tmp_path: Path) -> None:
    cargo_dir = tmp_path / ".cargo"
    cargo_dir.mkdir()
    (cargo_dir / "config.toml").write_text(
        '[build]\nrustflags = ["-C", "target-cpu=native", "--cfg", "tokio_unstable"]\n'
    )
    result = overrides(tmp_path, optimize=False, targets=(X86,))
    [flags] = [c for c in result.config if c.startswith("target.")]
    value = json.loads(flags.split("=", 1)[1])
    assert value == ["--cfg", "tokio_unstable", "-C", "target-cpu=x86-64"]


def test_native_in_target_rustflags_is_overridden_last(tmp_path: Path) -> None:
    cargo_dir = tmp_path / ".cargo"
    cargo_dir.mkdir()
    (cargo_dir / "config.toml").write_text(
        '[target.aarch64-unknown-linux-gnu]\nrustflags = ["-Ctarget-cpu=native"]\n'
    )
    result = overrides(tmp_path, targets=(ARM,))
    assert result.config[-1] == (
        'target.aarch64-unknown-linux-gnu.rustflags=["-C", "target-cpu=neoverse-n1"]'
    )


def write_config(tmp_path: Path, text: str) -> None:
    cargo_dir = tmp_path / ".cargo"
    cargo_dir.mkdir(exist_ok=True)
    (cargo_dir / "config.toml").write_text(text)


def test_native_in_cfg_target_rustflags_gets_a_neutral_reset_in_that_table(
    tmp_path: Path,
) -> None:
    # cargo appends cfg tables' flags after target.<triple>'s: the reset must go in the same
    # table (arrays merge, --config comes last) or native would win.
    write_config(
        tmp_path,
        "[target.'cfg(target_arch = \"x86_64\")']\n"
        'rustflags = ["-C", "target-cpu=native"]\n'
        "[target.'cfg(unix)']\n"
        'rustflags = ["--cfg", "tokio_unstable"]\n',
    )
    result = overrides(tmp_path, optimize=False, targets=(X86,))
    assert result.config == (
        # for cargo-zigbuild's zig cc -mcpu, which reads the triple's table first
        'target.x86_64-unknown-linux-gnu.rustflags=["-C", "target-cpu=x86-64"]',
        # for rustc, which keeps the last target-cpu
        'target."cfg(target_arch = \\"x86_64\\")".rustflags=["-C", "target-cpu=generic"]',
    )
    assert any("cfg(...)" in n for n in result.notes)


def test_codegen_spelling_of_native_is_removed(tmp_path: Path) -> None:
    result = overrides(
        tmp_path, environ={"RUSTFLAGS": "--codegen target-cpu=native"}, optimize=False
    )
    assert result.env["RUSTFLAGS"] == ""
    encoded = overrides(
        tmp_path,
        environ={"CARGO_ENCODED_RUSTFLAGS": "--codegen=target-cpu=native\x1f-Cdebuginfo=1"},
        optimize=False,
    )
    assert encoded.env["CARGO_ENCODED_RUSTFLAGS"] == "-Cdebuginfo=1"


def test_native_c_flags_are_removed_from_every_c_flags_variable(tmp_path: Path) -> None:
    environ = {
        "CFLAGS": "-O2 -march=native -g",
        "CXXFLAGS": "-mtune=native",
        "CFLAGS_x86_64-unknown-linux-gnu": "-mcpu=native+crc",
        "TARGET_CFLAGS": "-march=native",
        "AWS_LC_SYS_CFLAGS": "-march=native",
        "LDFLAGS": "-march=native",  # not read by C compilers for code generation: left
        "HOST_CFLAGS": "-O1",  # nothing native: untouched
    }
    result = overrides(tmp_path, environ=environ, optimize=False, targets=(X86,))
    assert result.env == {
        "CFLAGS": "-O2 -g",
        "CXXFLAGS": "",
        "CFLAGS_x86_64-unknown-linux-gnu": "",
        "TARGET_CFLAGS": "",
        "AWS_LC_SYS_CFLAGS": "",
    }
    assert any(n.startswith("removed -march=native from CFLAGS:") for n in result.notes)
    assert result.config == ()


def test_native_c_flags_in_config_env_are_overridden_in_the_same_shape(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "[env]\n"
        'CFLAGS = "-O2 -march=native"\n'
        'CXXFLAGS = { value = "-mcpu=native", force = true }\n'
        'CFLAGS_aarch64_unknown_linux_gnu = { value = "-mcpu=native" }\n'
        'GREETING = "-march=native"\n',  # not a C flags variable
    )
    # CFLAGS_aarch64... is set in the environment and not forced: cargo ignores the file's
    result = overrides(
        tmp_path,
        environ={"CFLAGS_aarch64_unknown_linux_gnu": "-O1"},
        optimize=False,
        targets=(ARM,),
    )
    assert result.config == (
        'env."CFLAGS"="-O2"',
        'env."CXXFLAGS".value=""',
    )
    assert result.env == {}
    assert sum("[env]" in n for n in result.notes) == 2


def test_c_flags_are_cleaned_even_when_rustflags_come_from_the_environment(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, '[env]\nCFLAGS = "-march=native"\n')
    result = overrides(
        tmp_path, environ={"RUSTFLAGS": "-Ctarget-cpu=native"}, optimize=False, targets=(X86,)
    )
    assert result.env["RUSTFLAGS"] == ""
    assert result.config == ('env."CFLAGS"=""',)
