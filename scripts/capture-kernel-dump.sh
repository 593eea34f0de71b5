#!/usr/bin/env bash
# Captures real Debian arm64 kernel dumps for the dump tests and for trying `granule dump` by hand:
# downloads the kernel (.deb, with apt) and busybox-static, boots the kernel under
# qemu-system-aarch64 -M virt -cpu max with -device vmcoreinfo, dumps its memory over QMP
# (dump-guest-memory, ELF) and records QEMU's gva2gpa answers for ~500 kernel addresses.
#
#   scripts/capture-kernel-dump.sh            # both flavours: arm64 (4K pages) and arm64-16k
#   scripts/capture-kernel-dump.sh ARM64_16K  # one flavour
#
# Results are cached under ${XDG_CACHE_HOME:-$HOME/.cache}/granule/captures/<package>/
# (vmcore.elf, gva2gpa.tsv, config, console.log, capture.properties); delete a directory to redo it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-test-deps.sh"
flavours=("$@")
[ "${#flavours[@]}" = 0 ] && flavours=(ARM64 ARM64_16K)
for f in "${flavours[@]}"; do
    "$root/granule" dump capture --flavour "$f"
done
