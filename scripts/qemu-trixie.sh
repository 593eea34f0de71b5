#!/usr/bin/env bash
# Fetches Debian trixie-backports' QEMU (qemu-system-arm, 11.x: -cpu max has FEAT_S1PIE/S2PIE, which
# bookworm-backports' 10.0 lacks) into a private root under the cache, and prints the path of a
# launcher that runs it; for the permission-indirection oracle (QemuPieOracleTest).
#
# Trixie's QEMU needs trixie's glibc and libraries, which a bookworm machine cannot install; so nothing
# is installed: scripts/debian-private-root.sh unpacks qemu-system-arm and its whole Depends closure
# into a private root (from the machine's own Debian archive, suites trixie and trixie-backports), and
# the launcher runs that root's qemu-system-aarch64 through that root's own dynamic loader with that
# root's libraries (ld.so --library-path), its own firmware/data (-L) and modules (QEMU_MODULE_DIR).
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/granule/qemu-trixie/ (apt/ lists and state, debs/, root-VERSION/,
# qemu-system-aarch64 the launcher). A launcher that answers --version is used without the network.
# Needs no root. Cold: about a minute (~40 MB of packages). On any failure: says why on stderr,
# prints nothing on stdout, exits 1 (the oracle test then skips with that reason).
#
# Usage: scripts/qemu-trixie.sh            ensure it is there, print the launcher's path
#        scripts/qemu-trixie.sh --refresh  fetch again even when a launcher is cached
set -uo pipefail

SUITE=trixie
BACKPORTS=trixie-backports
PACKAGE=qemu-system-arm

cache="${XDG_CACHE_HOME:-$HOME/.cache}/granule/qemu-trixie"
launcher="$cache/qemu-system-aarch64"

say() { echo "qemu-trixie: $*" >&2; }
fail() { say "$*"; exit 1; }

if [ "${1:-}" != "--refresh" ] && [ -x "$launcher" ] && "$launcher" --version >/dev/null 2>&1; then
    echo "$launcher"
    exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/debian-private-root.sh"
private_root "$cache" "$(dpkg --print-architecture)" "$SUITE $BACKPORTS" "$BACKPORTS" "$PACKAGE" || exit 1
root=$ROOT version=$VERSION

loader=$(ls "$root"/usr/lib/*/ld-linux*.so.* "$root"/usr/lib64/ld-linux*.so.* 2>/dev/null | head -n 1)
libdir=$(dirname "$(ls "$root"/usr/lib/*/libc.so.6 2>/dev/null | head -n 1)")
[ -n "$loader" ] && [ -f "$libdir/libc.so.6" ] || fail "$root has no dynamic loader or libc"
[ -x "$root/usr/bin/qemu-system-aarch64" ] || fail "$root has no usr/bin/qemu-system-aarch64"
tmp="$launcher.tmp"
cat > "$tmp" <<EOF
#!/bin/sh
# Debian $PACKAGE $version ($BACKPORTS) from a private root, through that root's own loader and
# libraries; written by scripts/qemu-trixie.sh.
QEMU_MODULE_DIR='$libdir/qemu' exec '$loader' --library-path '$libdir' '$root/usr/bin/qemu-system-aarch64' -L '$root/usr/share/qemu' "\$@"
EOF
chmod +x "$tmp" && mv "$tmp" "$launcher"
"$launcher" --version >/dev/null 2>&1 || fail "$launcher does not run: $("$launcher" --version 2>&1 | tail -n 2)"
say "$("$launcher" --version | head -n 1)"
echo "$launcher"
