#!/usr/bin/env bash
# Fetches Debian trixie-backports' QEMU (qemu-system-arm, 11.x: -cpu max has FEAT_S1PIE/S2PIE, which
# bookworm-backports' 10.0 lacks) into a private root under the cache, and prints the path of a
# launcher that runs it; for the permission-indirection oracle (QemuPieOracleTest).
#
# Trixie's QEMU needs trixie's glibc and libraries, which a bookworm machine cannot install; so nothing
# is installed and the system's apt state is never touched: a private apt configuration (its own
# status file, lists, cache and sources) downloads qemu-system-arm and its whole Depends closure
# (apt-get -s against an empty status gives it), dpkg-deb -x unpacks every package into one root, and
# the launcher runs that root's qemu-system-aarch64 through that root's own dynamic loader with that
# root's libraries (ld.so --library-path), its own firmware/data (-L) and modules (QEMU_MODULE_DIR).
#
# The sources are the machine's own: the URI and keyring of its Debian archive stanza (deb822 or
# one-line format, the one whose suites name the machine's codename), with suites trixie and
# trixie-backports; no host name is written here. apt checks the downloads against the signed
# Release files as for any install. Proxy and date-check settings are taken from the host's apt
# configuration; nothing else of it (no hooks).
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

for tool in apt-get apt-config dpkg dpkg-deb awk; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (needs a Debian host)"
done

# "URI KEYRING" of the machine's Debian archive (its own codename's stanza or line).
source "$(dirname "${BASH_SOURCE[0]}")/debian-archive.sh"

read -r uri keyring < <(debian_archive) || true
[ -n "${uri:-}" ] || fail "found no Debian apt source for this machine's codename to take the archive URI from"
arch=$(dpkg --print-architecture)

apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/apt.conf.d" "$apt/etc/preferences.d" \
    "$cache/debs" || fail "cannot create $cache"
: > "$apt/status" # nothing installed: the simulation below lists the whole dependency closure
signed=${keyring:+ signed-by=$keyring}
{
    echo "deb [arch=$arch$signed] $uri $SUITE main"
    echo "deb [arch=$arch$signed] $uri $BACKPORTS main"
} > "$apt/etc/sources.list"
{
    echo "Dir::State \"$apt\";"
    echo "Dir::State::status \"$apt/status\";"
    echo "Dir::State::Lists \"$apt/lists\";"
    echo "Dir::Cache \"$apt/cache\";"
    echo "Dir::Cache::pkgcache \"\";"
    echo "Dir::Cache::srcpkgcache \"\";"
    echo "Dir::Etc::sourcelist \"$apt/etc/sources.list\";"
    echo "Dir::Etc::sourceparts \"$apt/etc/sources.list.d\";"
    echo "Dir::Etc::parts \"$apt/etc/apt.conf.d\";"
    echo "Dir::Etc::preferences \"$apt/etc/preferences\";"
    echo "Dir::Etc::preferencesparts \"$apt/etc/preferences.d\";"
    echo "APT::Architecture \"$arch\";"
    echo "APT::Architectures { \"$arch\"; };"
    echo "APT::Install-Recommends \"false\";"
    echo "APT::Sandbox::User \"root\";"   # the private dirs belong to whoever runs this
    echo "Acquire::Languages \"none\";"
    # The host's proxies and date checks (a mirror may serve an older Release).
    apt-config dump 2>/dev/null | grep -E '^Acquire::(https?::Proxy|Check-Valid-Until|Check-Date|Retries|ForceIPv4)' || true
} > "$apt/apt.conf"
export APT_CONFIG="$apt/apt.conf"

say "updating the private package lists ($SUITE, $BACKPORTS)"
out=$(apt-get update -qq 2>&1) || fail "apt-get update of the private $SUITE lists failed: $(echo "$out" | tail -n 3)"
# apt-get update exits 0 when a source cannot be fetched; without the backports index nothing below works.
ls "$apt"/lists/*_dists_${BACKPORTS}_*Packages* >/dev/null 2>&1 \
    || fail "apt-get update fetched no $BACKPORTS index from $uri (network?): $(echo "$out" | tail -n 2)"

# name=version of every package an install of $PACKAGE from backports would unpack on an empty system.
closure=$(apt-get -s -qq install -t "$BACKPORTS" "$PACKAGE" 2>&1) \
    || fail "apt cannot resolve $PACKAGE from $BACKPORTS: $(echo "$closure" | tail -n 3)"
closure=$(echo "$closure" | awk '/^Inst /{ v = $3; gsub(/[()]/, "", v); print $2 "=" v }')
version=$(echo "$closure" | awk -F= -v p="$PACKAGE" '$1 == p { print $2 }')
[ -n "$version" ] || fail "$PACKAGE is not in $BACKPORTS for $arch"
root="$cache/root-$(echo "$version" | tr ':~+' '___')"

if [ ! -f "$root/.unpacked" ]; then
    say "downloading $PACKAGE $version and $(($(echo "$closure" | wc -l) - 1)) packages it depends on"
    out=$(cd "$cache/debs" && apt-get download -qq $closure 2>&1) || fail "apt-get download failed: $(echo "$out" | tail -n 3)"
    rm -rf "$root" && mkdir -p "$root"
    say "unpacking into $root"
    for spec in $closure; do
        name=${spec%%=*} ver=${spec#*=}
        # apt-get download names files name_version-with-':'-as-%3a_arch.deb
        deb=$(ls "$cache/debs/${name}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || fail "no .deb for $spec in $cache/debs"
        dpkg-deb -x "$deb" "$root" || fail "dpkg-deb -x $deb failed"
        basename "$deb" >> "$root/.debs"
    done
    touch "$root/.unpacked"
    # Earlier versions' roots and packages go.
    for old in "$cache"/root-*; do [ "$old" = "$root" ] || rm -rf "$old"; done
    for f in "$cache"/debs/*.deb; do grep -qxF "$(basename "$f")" "$root/.debs" || rm -f "$f"; done
fi

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
