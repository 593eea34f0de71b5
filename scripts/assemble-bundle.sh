#!/usr/bin/env bash
# Assembles granule-<version>-linux-<arch>.tar.gz: a runtime made by jlink with only the JDK modules
# the jars need (jdeps), the jars, a launcher, an AOT cache from a training run, completion and man
# pages. Called by granule-dist's build (scripts/bundle.sh runs that); arguments:
#   JDK VERSION LIB_DIR CLI_TARGET OUT_DIR
# LIB_DIR holds every runtime jar of granule-cli's dependency set (granule-cli's own jar included),
# so new dependencies and modules are picked up without editing this script.
set -euo pipefail
jdk=$1 version=$2 libs=$3 cli_target=$4 out=$5

case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) arch=$(uname -m) ;;
esac
name="granule-$version-linux-$arch"
stage="$out/bundle/$name"
rm -rf "$out/bundle"
mkdir -p "$stage/lib" "$stage/bin" "$stage/share/man/man1" "$stage/share/bash-completion/completions"

cp "$libs"/*.jar "$stage/lib/"
# The launcher names the jars in a fixed order: the AOT cache is only used with the class path it
# was trained with.
classpath=$(cd "$stage" && ls lib/*.jar | LC_ALL=C sort | sed 's|^|$here/|' | paste -sd: -)

# Only the JDK modules the jars use (jdeps over their classes).
# jdeps reads the classes of all jars unpacked together: on the class path the jars' own module
# descriptors are ignored, and one of them (progressbar) requires a module name no jar here declares.
classes="$out/bundle/classes"
mkdir -p "$classes"
for jar in "$stage"/lib/*.jar; do (cd "$classes" && "$jdk/bin/jar" xf "$jar"); done
find "$classes" -name module-info.class -delete
rm -rf "$classes/META-INF/versions"
modules=$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps "$classes")
rm -rf "$classes"
echo "granule bundle: JDK modules $modules"
"$jdk/bin/jlink" --add-modules "$modules" --output "$stage/runtime" \
    --strip-debug --no-man-pages --no-header-files --compress zip-6

cat > "$stage/bin/granule" <<LAUNCHER
#!/bin/sh
# granule $version: runs the bundled runtime; needs no JDK. GRANULE_JAVA_OPTS adds JVM options.
# The AOT cache (lib/granule.aot) starts it faster; a missing or stale cache is skipped silently.
# SerialGC: a short-lived tool gains nothing from G1's threads and start-up.
self=\$(readlink -f "\$0")
here=\${self%/*/*}    # the bundle: bin/granule's parent, with no dirname processes at every start
java="\$here/runtime/bin/java"
cp="$classpath"
# dump translate: the JIT's quick compiler alone costs less CPU for its one loop (see ./granule).
jit=
if [ "\${1-}" = dump ] && [ "\${2-}" = translate ]; then jit=-XX:TieredStopAtLevel=1; fi
if [ -f "\$here/lib/granule.aot" ]; then
    exec "\$java" -XX:AOTCache="\$here/lib/granule.aot" -Xlog:aot=off -Xlog:cds=off -XX:+UseSerialGC \$jit \\
        --enable-native-access=ALL-UNNAMED \${GRANULE_JAVA_OPTS:-} -cp "\$cp" dev.granule.cli.Main "\$@"
fi
exec "\$java" -XX:+UseSerialGC \$jit --enable-native-access=ALL-UNNAMED \${GRANULE_JAVA_OPTS:-} -cp "\$cp" dev.granule.cli.Main "\$@"
LAUNCHER
chmod +x "$stage/bin/granule"

# The AOT cache is made by the bundle's own runtime (a cache only fits the JVM that wrote it), from
# a training run of the common commands in one JVM (dev.granule.cli.AotTraining).
here="$stage"
"$stage/runtime/bin/java" -XX:AOTCacheOutput="$stage/lib/granule.aot" -Xlog:aot=error -Xlog:cds=error \
    -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED \
    -cp "$(eval echo "\"$classpath\"")" dev.granule.cli.AotTraining

cp "$cli_target"/man/*.1 "$stage/share/man/man1/"
cp "$cli_target/granule-completion.bash" "$stage/share/bash-completion/completions/granule"
cat > "$stage/README" <<README
granule $version for Linux $arch; runs without a JDK (runtime/ is a trimmed Java $("$jdk/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')).

  bin/granule boot "arm64.pagesize=16k"        # or link bin/granule into your PATH
  man -l share/man/man1/granule.1
  source share/bash-completion/completions/granule        # bash completion
  autoload -U +X bashcompinit && bashcompinit && source share/bash-completion/completions/granule   # zsh
README

tar -C "$out/bundle" -czf "$out/$name.tar.gz" "$name"
echo "granule bundle: $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
