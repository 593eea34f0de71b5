# Sourced by scripts/qemu-trixie.sh and scripts/makedumpfile-trixie.sh: Debian packages of another
# release (or architecture) than the machine's, unpacked into a private root without installing
# anything and without touching the system's apt state. A private apt configuration (its own status
# file, lists, cache and sources) downloads PACKAGE and its whole Depends closure (apt-get -s against
# an empty status gives it), and dpkg-deb -x unpacks every package into one root.
#
# The sources are the machine's own: the URI and keyring of its Debian archive stanza (deb822 or
# one-line format, the one whose suites name the machine's codename), with the suites asked for; no
# host name is written here. apt checks the downloads against the signed Release files as for any
# install. Proxy and date-check settings are taken from the host's apt configuration; nothing else
# of it (no hooks).
#
# private_root CACHE ARCH "SUITE..." TARGET_SUITE PACKAGE
#   sets ROOT (CACHE/root-VERSION, holding .unpacked and .debs once complete) and VERSION; returns 1
#   after saying why on stderr (through the caller's `say`) when it cannot.
# Earlier versions' roots and packages under CACHE are removed.

source "$(dirname "${BASH_SOURCE[0]}")/debian-archive.sh"

private_root() {
    local cache=$1 arch=$2 suites=$3 target=$4 package=$5 uri keyring signed apt out closure spec name ver deb old f s
    for tool in apt-get apt-config dpkg dpkg-deb awk; do
        command -v "$tool" >/dev/null 2>&1 || { say "$tool is not installed (needs a Debian host)"; return 1; }
    done
    read -r uri keyring < <(debian_archive) || true
    [ -n "${uri:-}" ] || { say "found no Debian apt source for this machine's codename to take the archive URI from"; return 1; }
    apt="$cache/apt"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/apt.conf.d" "$apt/etc/preferences.d" \
        "$cache/debs" || { say "cannot create $cache"; return 1; }
    : > "$apt/status" # nothing installed: the simulation below lists the whole dependency closure
    signed=${keyring:+ signed-by=$keyring}
    for s in $suites; do echo "deb [arch=$arch$signed] $uri $s main"; done > "$apt/etc/sources.list"
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

    say "updating the private package lists ($suites, $arch)"
    out=$(apt-get update -qq 2>&1) || { say "apt-get update of the private $suites lists failed: $(echo "$out" | tail -n 3)"; return 1; }
    # apt-get update exits 0 when a source cannot be fetched; without the target's index nothing below works.
    ls "$apt"/lists/*_dists_${target}_*Packages* >/dev/null 2>&1 \
        || { say "apt-get update fetched no $target index from $uri (network?): $(echo "$out" | tail -n 2)"; return 1; }

    # name=version of every package an install of $package from $target would unpack on an empty system.
    closure=$(apt-get -s -qq install -t "$target" "$package" 2>&1) \
        || { say "apt cannot resolve $package from $target: $(echo "$closure" | tail -n 3)"; return 1; }
    closure=$(echo "$closure" | awk '/^Inst /{ v = $3; gsub(/[()]/, "", v); print $2 "=" v }')
    VERSION=$(echo "$closure" | awk -F= -v p="$package" '$1 == p { print $2 }')
    [ -n "$VERSION" ] || { say "$package is not in $target for $arch"; return 1; }
    ROOT="$cache/root-$(echo "$VERSION" | tr ':~+' '___')"

    if [ ! -f "$ROOT/.unpacked" ]; then
        say "downloading $package $VERSION and $(($(echo "$closure" | wc -l) - 1)) packages it depends on"
        out=$(cd "$cache/debs" && apt-get download -qq $closure 2>&1) || { say "apt-get download failed: $(echo "$out" | tail -n 3)"; return 1; }
        rm -rf "$ROOT" && mkdir -p "$ROOT"
        say "unpacking into $ROOT"
        for spec in $closure; do
            name=${spec%%=*} ver=${spec#*=}
            # apt-get download names files name_version-with-':'-as-%3a_arch.deb
            deb=$(ls "$cache/debs/${name}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1)
            [ -n "$deb" ] || { say "no .deb for $spec in $cache/debs"; return 1; }
            dpkg-deb -x "$deb" "$ROOT" || { say "dpkg-deb -x $deb failed"; return 1; }
            basename "$deb" >> "$ROOT/.debs"
        done
        touch "$ROOT/.unpacked"
        # Earlier versions' roots and packages go.
        for old in "$cache"/root-*; do [ "$old" = "$ROOT" ] || rm -rf "$old"; done
        for f in "$cache"/debs/*.deb; do grep -qxF "$(basename "$f")" "$ROOT/.debs" || rm -f "$f"; done
    fi
}
