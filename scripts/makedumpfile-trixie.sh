#!/usr/bin/env bash
# Fetches Debian trixie's arm64 makedumpfile (1.7.6, built with zstd; bookworm's 1.7.2 has zstd and
# snappy disabled, so its -z files hold uncompressed pages) and the libraries it loads into a private
# root under the cache, for the crash capture (granule-capture's CrashCapture adds it to the crash
# kernel's initramfs beside bookworm's tools and saves /proc/vmcore with it in -z: real zstd pages).
# Nothing is installed (scripts/debian-private-root.sh: private apt state, the machine's own archive).
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/granule/makedumpfile-trixie/ (apt/, debs/, root-VERSION/, and
# `root`, a symbolic link to the current root-VERSION that CrashCapture looks for). A root that has
# usr/bin/makedumpfile is used without the network. Needs no root. Cold: seconds (~3 MB of packages).
# On any failure: says why on stderr, prints nothing on stdout, exits 1 (the capture then makes no
# trixie files and the tests on them skip, saying so).
#
# Usage: scripts/makedumpfile-trixie.sh            ensure it is there, print the root's path
#        scripts/makedumpfile-trixie.sh --refresh  fetch again even when a root is cached
set -uo pipefail

SUITE=trixie
PACKAGE=makedumpfile
cache="${XDG_CACHE_HOME:-$HOME/.cache}/granule/makedumpfile-trixie"
link="$cache/root"

say() { echo "makedumpfile-trixie: $*" >&2; }

if [ "${1:-}" != "--refresh" ] && [ -f "$link/.unpacked" ] && [ -f "$link/usr/bin/makedumpfile" ]; then
    echo "$link"
    exit 0
fi

source "$(dirname "${BASH_SOURCE[0]}")/debian-private-root.sh"
private_root "$cache" arm64 "$SUITE" "$SUITE" "$PACKAGE" || exit 1
[ -f "$ROOT/usr/bin/makedumpfile" ] || { say "$ROOT has no usr/bin/makedumpfile"; exit 1; }
libdir="$ROOT/usr/lib/aarch64-linux-gnu"
[ -f "$libdir/ld-linux-aarch64.so.1" ] || { say "$ROOT has no arm64 dynamic loader in usr/lib/aarch64-linux-gnu"; exit 1; }
command -v readelf >/dev/null 2>&1 || { say "readelf is not installed (binutils)"; exit 1; }
# The shared objects makedumpfile loads, DT_NEEDED followed through the root (the closure also holds
# perl, which makedumpfile-R.pl wants and the capture does not): the capture copies only these.
needed=() todo=("$ROOT/usr/bin/makedumpfile")
while [ ${#todo[@]} -gt 0 ]; do
    f=${todo[0]} todo=("${todo[@]:1}")
    for so in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -e "$libdir/$so" ] || { say "$so, which $(basename "$f") needs, is not in $libdir"; exit 1; }
        case " ${needed[*]-} " in *" $so "*) continue;; esac
        needed+=("$so") todo+=("$libdir/$so")
    done
done
printf '%s\n' "${needed[@]}" > "$ROOT/.needed"
ln -sfn "$(basename "$ROOT")" "$link"
say "Debian $PACKAGE $VERSION (arm64, $SUITE) in $ROOT"
echo "$link"
