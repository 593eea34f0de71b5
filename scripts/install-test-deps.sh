#!/usr/bin/env bash
# Installs what the QEMU-backed tests need on a Debian host, and nothing when it is already there:
#   - qemu-system-aarch64 (package qemu-system-arm) to boot Debian's arm64 kernels (RealKernelDumpTest,
#     `granule dump capture`) and to run the AT-instruction oracle (QemuAtOracleTest);
#   - the AArch64 and A32 assemblers and linkers (binutils-aarch64-linux-gnu, binutils-arm-linux-gnueabihf)
#     that build the oracles' probes (QemuAtOracleTest, QemuArmOracleTest on qemu-system-arm);
#   - binutils (readelf), a second reader the test compares granule's ELF parsing with;
#   - the arm64 package lists (dpkg --add-architecture arm64), so that apt can download the arm64
#     kernel and busybox-static .debs; nothing arm64 is installed, they are only unpacked.
# Needs root and apt; otherwise it says what is missing and leaves it (the test then skips).
# Never fails the build: a machine without network still runs every other test.
set -uo pipefail

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    echo "install-test-deps: no apt/dpkg here; the QEMU tests will be skipped" >&2
    exit 0
fi

packages=()
command -v qemu-system-aarch64 >/dev/null 2>&1 || packages+=(qemu-system-arm)
command -v readelf >/dev/null 2>&1 || packages+=(binutils)
command -v aarch64-linux-gnu-as >/dev/null 2>&1 || packages+=(binutils-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-as >/dev/null 2>&1 || packages+=(binutils-arm-linux-gnueabihf)
need_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=1
need_lists=0
if [ "$need_arch" = 0 ] && ! apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1; then need_lists=1; fi

if [ "${#packages[@]}" = 0 ] && [ "$need_arch" = 0 ] && [ "$need_lists" = 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: not root; to run the QEMU tests, as root:" >&2
    [ "$need_arch" = 1 ] && echo "  dpkg --add-architecture arm64" >&2
    echo "  apt-get update${packages[*]:+ && apt-get install -y ${packages[*]}}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
[ "$need_arch" = 1 ] && dpkg --add-architecture arm64
if ! apt-get update -qq >/dev/null 2>&1; then
    echo "install-test-deps: apt-get update failed (no network?); the QEMU tests may be skipped" >&2
    exit 0
fi
if [ "${#packages[@]}" -gt 0 ] && ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
    echo "install-test-deps: could not install ${packages[*]}; the QEMU tests may be skipped" >&2
fi
exit 0
