#!/usr/bin/env bash
# Wall and CPU time of `granule boot` and `granule translate` with and without the AOT cache, for
# ./granule and for the bundle (scripts/bundle.sh first), beside the floor: a Hello class on the same
# JVM, alone and with its own AOT cache. BEFORE_JAR=path/to/granule.jar adds that jar (e.g. one built
# from an earlier commit) with an AOT cache trained the same way, for a before/after in one run.
# Every command runs once per round, rounds shuffled (so a change in the machine's load spreads over
# all lines), after one warm-up round; RUNS=N rounds (default 15). Prints a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
runs=${RUNS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$(ls "$root"/granule-dist/target/granule-*-linux-*.tar.gz | head -n1)"
bundle=$(ls -d "$work"/granule-*/bin/granule)
"$root/granule" -V >/dev/null # builds the jar and the AOT cache if needed
java=("$JAVA_HOME/bin/java" -XX:+UseSerialGC)

# The floor: what any Java program pays to start on this machine.
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/Hello.java"
mkdir "$work/hello"
"$JAVA_HOME/bin/javac" -d "$work/hello" "$work/Hello.java"
"$JAVA_HOME/bin/jar" cf "$work/hello.jar" -C "$work/hello" Hello.class # an AOT cache takes jars, not directories
"${java[@]}" -XX:AOTCacheOutput="$work/hello.aot" -Xlog:aot=off -Xlog:cds=off -cp "$work/hello.jar" Hello >/dev/null

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
cli_options="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"

lines="$work/lines"
{
    printf 'floor: Hello\t%s\n' "$(q "${java[@]}") -cp $work/hello.jar Hello"
    printf 'floor: Hello, its own AOT cache\t%s\n' "$(q "${java[@]}") -XX:AOTCache=$work/hello.aot -cp $work/hello.jar Hello"
} >"$lines"
if [ -n "${BEFORE_JAR:-}" ]; then
    "${java[@]}" $cli_options -XX:AOTCacheOutput="$work/before.aot" -Xlog:aot=off -Xlog:cds=off \
        -cp "$BEFORE_JAR" dev.granule.cli.AotTraining >/dev/null 2>&1
fi
for name in boot translate; do
    declare -n args=$name
    if [ -n "${BEFORE_JAR:-}" ]; then
        printf '%s: before (BEFORE_JAR), AOT\t%s\n' "$name" \
            "$(q "${java[@]}") $cli_options -XX:AOTCache=$work/before.aot -cp $BEFORE_JAR dev.granule.cli.Main $(q "${args[@]}")"
    fi
    # The same java command ./granule ends in, without the script's staleness check (a find over the sources).
    printf '%s: java + ./granule'"'"'s jar and cache\t%s\n' "$name" \
        "$(q "${java[@]}") $cli_options -XX:AOTCache=$root/granule-cli/target/granule.aot -Xlog:aot=off -Xlog:cds=off -cp $root/granule-cli/target/granule.jar dev.granule.cli.Main $(q "${args[@]}")"
    printf '%s: ./granule, no AOT\t%s\n' "$name" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $root/granule $(q "${args[@]}")"
    printf '%s: ./granule, AOT\t%s\n' "$name" "$root/granule $(q "${args[@]}")"
    printf '%s: bundle, no AOT\t%s\n' "$name" "GRANULE_JAVA_OPTS=-XX:AOTMode=off $bundle $(q "${args[@]}")"
    printf '%s: bundle, AOT\t%s\n' "$name" "$bundle $(q "${args[@]}")"
    unset -n args
done >>"$lines"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$runs" "$lines" <<'PY'
import os, random, shlex, statistics, sys, time
rounds, lines = int(sys.argv[1]), [l.rstrip('\n').split('\t', 1) for l in open(sys.argv[2]) if l.strip()]
def run(command):
    words, env = shlex.split(command), dict(os.environ)
    while '=' in words[0] and not words[0].startswith('/'):
        key, value = words.pop(0).split('=', 1)
        env[key] = value
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1); os.dup2(null, 2)
        os.execvpe(words[0], words, env)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {command}")
    return time.monotonic() - start, usage.ru_utime + usage.ru_stime
results = {label: ([], []) for label, _ in lines}
for r in range(rounds + 1):
    for label, command in random.sample(lines, len(lines)):
        wall, cpu = run(command)
        if r: results[label][0].append(wall); results[label][1].append(cpu)
print("| command | wall min (s) | wall median (s) | CPU min (s) | CPU median (s) |")
print("|---|---:|---:|---:|---:|")
for label, _ in lines:
    wall, cpu = results[label]
    print(f"| {label} | {min(wall):.3f} | {statistics.median(wall):.3f} | {min(cpu):.3f} | {statistics.median(cpu):.3f} |")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
