#!/usr/bin/env bash
# Installs what the QEMU-backed tests need on a Debian host, and nothing when it is already there:
#   - QEMU 10 (package qemu-system-arm from Debian's bookworm-backports suite) to boot Debian's arm64
#     kernels (RealKernelDumpTest, `granule dump capture`) and to run the AT-instruction oracles; the
#     backports suite is added beside the machine's own Debian source, same archive URI, so no host
#     name is written here;
#   - the AArch64 and A32 assemblers and linkers (binutils-aarch64-linux-gnu, binutils-arm-linux-gnueabihf)
#     that build the oracles' probes (QemuAtOracleTest, QemuArmOracleTest on qemu-system-arm);
#   - binutils (readelf), a second reader the test compares granule's ELF parsing with;
#   - makedumpfile (the host's build), whose -R rewrites QEMU's flattened kdump files to the KDUMP form;
#   - the arm64 package lists (dpkg --add-architecture arm64), so that apt can download the arm64
#     kernel and busybox-static .debs; nothing arm64 is installed, they are only unpacked;
#   - QEMU 11 from trixie-backports for the permission-indirection oracle, not installed but unpacked
#     into the cache by scripts/qemu-trixie.sh (also without root); trixie's arm64 makedumpfile, the
#     same way (scripts/makedumpfile-trixie.sh), for the crash capture's real zstd files.
# Needs root and apt; otherwise it says what is missing and leaves it (the test then skips).
# Never fails the build: a machine without network still runs every other test.
set -uo pipefail

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
    echo "install-test-deps: no apt/dpkg here; the QEMU tests will be skipped" >&2
    exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/debian-archive.sh"

# The major version of the installed qemu-system-aarch64, or 0.
qemu_major() {
    command -v qemu-system-aarch64 >/dev/null 2>&1 || { echo 0; return; }
    qemu-system-aarch64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p' | head -n1
}

# Adds bookworm-backports as a deb822 source with the URI and keyring of the machine's own Debian
# "bookworm" source (deb822 or one-line format). Prints nothing and returns 1 if there is none.
add_backports_source() {
    local target=/etc/apt/sources.list.d/granule-bookworm-backports.sources
    [ -f "$target" ] && return 0
    grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
    local uri="" keyring=""
    read -r uri keyring < <(debian_archive bookworm) || true
    [ -n "$uri" ] || return 1
    {
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: bookworm-backports"
        echo "Components: main"
        [ -n "$keyring" ] && echo "Signed-By: $keyring"
    } > "$target"
}

# QEMU 11 (trixie-backports) for the permission-indirection oracle: unpacked into the cache with its own
# libraries, no root and no change to the system's apt state (scripts/qemu-trixie.sh says why it failed).
"$(dirname "${BASH_SOURCE[0]}")/qemu-trixie.sh" >/dev/null || echo "install-test-deps: QEMU 11 not fetched; QemuPieOracleTest will be skipped" >&2
# Trixie's arm64 makedumpfile (zstd enabled, which bookworm's is not) for the crash capture's zstd files,
# unpacked the same way; on exit, whichever way this script ends, because it reads DT_NEEDED with the
# readelf that the apt-get below may install first.
trap '"$(dirname "${BASH_SOURCE[0]}")/makedumpfile-trixie.sh" >/dev/null \
    || echo "install-test-deps: trixie makedumpfile not fetched; the crash capture makes no zstd files" >&2' EXIT

packages=()
need_backports=0
[ "$(qemu_major)" -ge 10 ] 2>/dev/null || need_backports=1
command -v readelf >/dev/null 2>&1 || packages+=(binutils)
# makedumpfile -R rewrites QEMU's flattened kdump output to the KDUMP form (the host's own build).
command -v makedumpfile >/dev/null 2>&1 || [ -x /usr/sbin/makedumpfile ] || packages+=(makedumpfile)
command -v aarch64-linux-gnu-as >/dev/null 2>&1 || packages+=(binutils-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-as >/dev/null 2>&1 || packages+=(binutils-arm-linux-gnueabihf)
# The real-trace test (LackeyReplayTest) runs a program under Valgrind's lackey tool.
command -v valgrind >/dev/null 2>&1 || packages+=(valgrind)
# PerfScriptReplayTest reads real 'perf script' output.
command -v perf >/dev/null 2>&1 || packages+=(linux-perf)
need_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arch=1
need_lists=0
if [ "$need_arch" = 0 ] && ! apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1; then need_lists=1; fi

if [ "${#packages[@]}" = 0 ] && [ "$need_arch" = 0 ] && [ "$need_lists" = 0 ] && [ "$need_backports" = 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: not root; to run the QEMU tests, as root:" >&2
    [ "$need_backports" = 1 ] && echo "  add Debian's bookworm-backports suite and: apt-get install -t bookworm-backports qemu-system-arm" >&2
    [ "$need_arch" = 1 ] && echo "  dpkg --add-architecture arm64" >&2
    echo "  apt-get update${packages[*]:+ && apt-get install -y ${packages[*]}}" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
[ "$need_arch" = 1 ] && dpkg --add-architecture arm64
if [ "$need_backports" = 1 ] && ! add_backports_source; then
    echo "install-test-deps: found no Debian bookworm apt source to add bookworm-backports beside; QEMU 10 is missing and the QEMU tests will be skipped" >&2
    need_backports=0
fi
if ! apt-get update -qq >/dev/null 2>&1; then
    echo "install-test-deps: apt-get update failed (no network?); the QEMU tests may be skipped" >&2
    exit 0
fi
if [ "$need_backports" = 1 ]; then
    echo "install-test-deps: installing QEMU 10 (qemu-system-arm) from bookworm-backports" >&2
    if ! apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-arm >/dev/null 2>&1; then
        echo "install-test-deps: could not install qemu-system-arm from bookworm-backports; the QEMU tests will be skipped" >&2
    fi
fi
if [ "${#packages[@]}" -gt 0 ] && ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1; then
    echo "install-test-deps: could not install ${packages[*]}; the QEMU tests may be skipped" >&2
fi
exit 0
