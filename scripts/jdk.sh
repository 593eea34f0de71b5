# Sourced by ./granule and ./run-tests: finds a JDK 25 (or newer) without the user editing files.
# Order: $JAVA_HOME if it is new enough, then /usr/lib/jvm/*, then the java on PATH.
granule_java_major() {
    # The JDK's release file names its version without starting a JVM (./granule runs this every time).
    # Read by bash itself, no sed or head: ./granule pays every process it starts before Java's.
    local line
    if [ -r "$1/release" ]; then
        while IFS= read -r line; do
            if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; return; fi
        done <"$1/release"
    fi
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}

granule_find_jdk() {
    local candidate major
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
        major=$(granule_java_major "$candidate")
        if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v javac >/dev/null 2>&1; then
        candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
        major=$(granule_java_major "$candidate")
        if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    fi
    echo "granule: no JDK 25 found (looked at \$JAVA_HOME and /usr/lib/jvm); install one, e.g. Temurin 25" >&2
    return 1
}

JAVA_HOME=$(granule_find_jdk) || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
