#!/usr/bin/env bash
# Wall time of `granule boot` and `granule translate` with and without the AOT cache, for ./granule
# and for the bundle (scripts/bundle.sh first), plus the plain `java -jar` start ./granule used before.
# Needs hyperfine (Debian package). Prints min, median and CPU time per command; RUNS=N runs per command.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
runs=${RUNS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$(ls "$root"/granule-dist/target/granule-*-linux-*.tar.gz | head -n1)"
bundle=$(ls -d "$work"/granule-*/bin/granule)
"$root/granule" -V >/dev/null # builds the jar and the AOT cache if needed
# 4K/48-bit tables by hand: L0/L1/L2 chained through entry 0 from PA 0x40000000, L3 entry 1 -> 0x80000000.
python3 - "$work/tables.bin" <<'PY'
import struct, sys
b = bytearray(4 * 4096)
for off, d in ((0, 0x40001003), (4096, 0x40002003), (8192, 0x40003003), (3 * 4096 + 8, 0x80000403)):
    struct.pack_into('<Q', b, off, d)
open(sys.argv[1], 'wb').write(b)
PY
boot=(boot "arm64.pagesize=16k granule.va_bits=47")
translate=(translate --tcr 0x500800010 --ttbr0 0x40000000 --image "$work/tables.bin@0x40000000" 0x1234 0x2000)
q() { printf '%q ' "$@"; }
plain="$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -jar $root/granule-cli/target/granule.jar"
hyperfine --warmup 2 --runs "$runs" --style basic --export-json "$work/startup.json" \
    -n "boot: java -jar (before)" "$plain $(q "${boot[@]}")" \
    -n "boot: ./granule, no AOT" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $root/granule $(q "${boot[@]}")" \
    -n "boot: ./granule, AOT" "$root/granule $(q "${boot[@]}")" \
    -n "boot: bundle, no AOT" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $bundle $(q "${boot[@]}")" \
    -n "boot: bundle, AOT" "$bundle $(q "${boot[@]}")" \
    -n "translate: java -jar (before)" "$plain $(q "${translate[@]}")" \
    -n "translate: ./granule, no AOT" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $root/granule $(q "${translate[@]}")" \
    -n "translate: ./granule, AOT" "$root/granule $(q "${translate[@]}")" \
    -n "translate: bundle, no AOT" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $bundle $(q "${translate[@]}")" \
    -n "translate: bundle, AOT" "$bundle $(q "${translate[@]}")" >&2
python3 - "$work/startup.json" <<'PY'
import json, sys
print("| command | min (s) | median (s) | mean user+sys CPU (s) |")
print("|---|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| {r['command']} | {r['min']:.3f} | {r['median']:.3f} | {r['user'] + r['system']:.3f} |")
PY
