#!/usr/bin/env bash
# Installs the Cortex-M cross compiler and the QEMU emulator used by the board
# tests and benchmarks (Debian/Ubuntu packages). Idempotent: does nothing when
# both tools are already on PATH. Never fails the caller: without root or apt it
# prints why and exits 0, and the tests that need the tools skip with a reason.
set -u

# The host C compiler builds the instruction-counting QEMU plugin at run time.
have_tools() {
    command -v arm-none-eabi-gcc >/dev/null 2>&1 && command -v qemu-system-arm >/dev/null 2>&1 \
        && command -v gcc >/dev/null 2>&1
}

if have_tools; then
    exit 0
fi

PKGS="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc"

if [ "$(id -u)" -ne 0 ]; then
    echo "install_toolchain: not root; install these packages to run the firmware tests: $PKGS" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_toolchain: apt-get not found; install arm-none-eabi-gcc (with newlib) and qemu-system-arm by hand" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >/dev/null 2>&1; then
    echo "install_toolchain: apt-get update failed; firmware tests will be skipped" >&2
    exit 0
fi
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>&1; then
    echo "install_toolchain: apt-get install $PKGS failed; firmware tests will be skipped" >&2
    exit 0
fi

if ! have_tools; then
    echo "install_toolchain: packages installed but arm-none-eabi-gcc/qemu-system-arm /gcc still missing from PATH" >&2
fi
exit 0
