#!/usr/bin/env bash
# The long fuzzing run: every Jazzer target in granule-core, one after another, until each has run
# EXECUTIONS inputs (10^7 by default) or MAX_DURATION (default 3h) has passed, whichever is first.
# Prints one line per target from libFuzzer's summary ("Done N runs in S second(s)") and leaves the
# full logs in target/fuzz-long/. Findings land as crash-* files next to the committed corpora
# (granule-core/src/test/resources/dev/granule/fuzz/<Target>Inputs/<method>/) and fail that target.
#   scripts/fuzz-long.sh                          # all targets
#   scripts/fuzz-long.sh MmuFuzzTest SmapsFuzzTest      (a class: each of its fuzz tests; or Class#method)
#   EXECUTIONS=1000000 MAX_DURATION=10m scripts/fuzz-long.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
cd "$root"
executions=${EXECUTIONS:-10000000}
duration=${MAX_DURATION:-3h}
logs=target/fuzz-long
mkdir -p "$logs"
# Jazzer fuzzes one @FuzzTest method per run, so the targets are Class#method.
classes=("$@")
if [ ${#classes[@]} -eq 0 ]; then
    for f in granule-core/src/test/java/dev/granule/fuzz/*FuzzTest.java; do classes+=("$(basename "$f" .java)"); done
fi
targets=()
for c in "${classes[@]}"; do
    if [[ $c == *"#"* ]]; then targets+=("$c"); continue; fi
    for m in $(grep -A1 '@FuzzTest' "granule-core/src/test/java/dev/granule/fuzz/$c.java" | grep -oE 'void [a-zA-Z0-9_]+' | cut -d' ' -f2); do
        targets+=("$c#$m")
    done
done
mvn -q -pl granule-core -am test-compile -DskipTests >/dev/null || exit 1
status=0
for t in "${targets[@]}"; do
    log="$logs/${t//#/.}.log"
    start=$(date +%s)
    JAZZER_FUZZ=1 mvn -q -o -pl granule-core test -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
        -Djazzer.max_executions="$executions" -Djazzer.max_duration="$duration" >"$log" 2>&1
    rc=$?
    [ $rc -ne 0 ] && status=1
    grep -E '^Done [0-9]+ runs' "$log" | while read -r line; do
        echo "$t: $line (exit $rc, $(( $(date +%s) - start )) s wall)"
    done
    [ $rc -ne 0 ] && echo "$t: FAILED, see $log"
done
exit $status
