#!/usr/bin/env bash
# Builds granule-<version>-linux-<arch>.tar.gz in granule-dist/target: the tool with its own trimmed
# Java runtime, so it runs on a machine without a JDK. Needs the same set-up as ./granule (JDK 25, Maven).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/jdk.sh"
cd "$root"
mvn -q -DskipTests -pl granule-dist -am package "$@"
ls "$root"/granule-dist/target/granule-*-linux-*.tar.gz
