# Sourced by scripts/install-test-deps.sh and scripts/qemu-trixie.sh: where this machine's Debian
# archive is, read from its own apt sources, so that no host name is written into the repository.
# debian_archive [CODENAME] prints "URI KEYRING" (KEYRING may be empty) of the deb822 stanza or
# one-line source whose suites name CODENAME itself (default: the machine's codename from
# /etc/os-release), not -security or -updates; returns 1 if there is none.
debian_archive() {
    local codename="${1:-}" f uri="" keyring=""
    [ -n "$codename" ] || codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || return 1
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        read -r uri keyring < <(awk -v want="$codename" '
            BEGIN { RS=""; FS="\n" }
            {
                u=""; k=""; s=0
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)      { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u = a[1] }
                    if ($i ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", $i); k = $i }
                    if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == want) s = 1 }
                }
                if (s && u != "") { print u, k; exit }
            }' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ]; then
        uri=$(grep -hs '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            | awk -v want="$codename" '{ sub(/\[[^]]*\][ \t]*/, ""); if ($3 == want) { print $2; exit } }')
    fi
    [ -n "$uri" ] || return 1
    echo "$uri $keyring"
}
