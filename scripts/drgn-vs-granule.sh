#!/usr/bin/env bash
# drgn and granule side by side on the crash captures (kexec's ELF /proc/vmcore and Debian's arm64
# makedumpfile files of one crash per Debian kernel), in one run: which files each opens, whether
# their answers agree with QEMU's gva2gpa, addresses per second. Slow (a few minutes), so it is not
# part of ./run-tests. Makes the captures first if the cache has none (RealCrashDumpTest does too).
# Needs Debian's python3-drgn (apt-get install python3-drgn) and /usr/bin/python3.
# RUNS=N (default 1): each timing (drgn's and granule's, per file and batch size) is the least of N runs.
#   RUNS=5 scripts/drgn-vs-granule.sh
set -euo pipefail
runs=${RUNS:-1}
if ! [[ $runs =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ]; then
    echo "drgn-vs-granule: RUNS is '$runs'; it must be a whole number of runs, 1 or more" >&2
    exit 2
fi
export RUNS=$runs
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/granule/crash-captures"
if ! /usr/bin/python3 -c 'import drgn' 2>/dev/null; then
    echo "drgn-vs-granule: Debian's python3-drgn is not installed" >&2
    exit 2
fi
if ! ls "$cache"/*/capture.properties >/dev/null 2>&1; then
    (cd "$root" && source scripts/jdk.sh && mvn -q -pl granule-capture -am test -Dtest=RealCrashDumpTest \
        -Dsurefire.failIfNoSpecifiedTests=false)
fi
"$root/granule" --version >/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg), each timing the least of RUNS=$runs"
for dir in "$cache"/*/; do
    [ -f "$dir/capture.properties" ] || continue
    /usr/bin/python3 "$root/scripts/drgn-vs-granule.py" "${dir%/}" "$root/granule"
done
