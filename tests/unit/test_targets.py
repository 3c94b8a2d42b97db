from __future__ import annotations

import pytest

from rustlambda.errors import UnsupportedTargetError
from rustlambda.targets import Arch, Runtime, Target, default_target


@pytest.mark.parametrize(
    ("text", "arch", "libc", "glibc"),
    [
        ("x86_64-unknown-linux-gnu", Arch.X86_64, "gnu", None),
        ("aarch64-unknown-linux-gnu", Arch.ARM64, "gnu", None),
        ("x86_64-unknown-linux-musl", Arch.X86_64, "musl", None),
        ("aarch64-unknown-linux-musl", Arch.ARM64, "musl", None),
        ("aarch64-unknown-linux-gnu.2.17", Arch.ARM64, "gnu", (2, 17)),
    ],
)
def test_parse_accepts_lambda_triples(
    text: str, arch: Arch, libc: str, glibc: tuple[int, int] | None
) -> None:
    target = Target.parse(text)
    assert (target.arch, target.libc, target.glibc) == (arch, libc, glibc)
    assert str(target) == text


@pytest.mark.parametrize(
    "text",
    [
        "x86_64-pc-windows-msvc",
        "armv7-unknown-linux-gnueabihf",
        "aarch64-apple-darwin",
        "x86_64-unknown-linux-musl.2.34",
        "riscv64gc-unknown-linux-gnu",
        "",
    ],
)
def test_parse_rejects_other_triples_with_the_fix(text: str) -> None:
    with pytest.raises(UnsupportedTargetError) as info:
        Target.parse(text)
    assert info.value.exit_code == 7
    assert "--arm64" in info.value.fix or "drop the suffix" in info.value.fix


def test_zig_pins_gnu_glibc_to_the_runtime_unless_explicit() -> None:
    arm = Target.parse("aarch64-unknown-linux-gnu")
    assert arm.zig_triple(Runtime.AL2023) == "aarch64-unknown-linux-gnu.2.34"
    assert arm.zig_triple(Runtime.AL2) == "aarch64-unknown-linux-gnu.2.26"
    pinned = Target.parse("x86_64-unknown-linux-gnu.2.17")
    assert pinned.zig_triple(Runtime.AL2023) == "x86_64-unknown-linux-gnu.2.17"
    assert pinned.triple == "x86_64-unknown-linux-gnu"
    musl = Target.parse("x86_64-unknown-linux-musl")
    assert musl.zig_triple(Runtime.AL2) == "x86_64-unknown-linux-musl"


def test_runtime_glibc_and_parse() -> None:
    assert Runtime.AL2023.glibc == (2, 34)
    assert Runtime.AL2.glibc == (2, 26)
    assert Runtime.parse("provided.al2") is Runtime.AL2
    with pytest.raises(Exception, match="unknown runtime"):
        Runtime.parse("python3.12")


def test_default_target_is_host_arch_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform.system", lambda: "Linux")
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    assert default_target() == Target.for_arch(Arch.ARM64)
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    assert default_target() == Target.for_arch(Arch.X86_64)
    monkeypatch.setattr("platform.system", lambda: "Darwin")
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    assert default_target() == Target.for_arch(Arch.X86_64)
