#!/usr/bin/env python3
"""Disassemble a method HotSpot's C2 compiled, on a JDK without the hsdis plugin.

Without hsdis, -XX:CompileCommand=print,<Class::method> still prints each compiled method's code as
hex words (HotSpot's "abstract disassembly") with its annotations (calls, oops, safepoint polls).
This script takes the last C2 compile in such a log (or the one whose header line contains
--match, e.g. a compile id "951 "), turns the hex back into bytes and runs objdump on them, keeping
the annotations at their addresses. It is how BENCHMARKS.md counts the instructions of the MMU's
TLB-miss path (issue 20, seventh round); x86-64 hosts only (objdump's i386:x86-64).

  java ... -jar benchmarks.jar TlbMissBenchmark.paired -p granule=64K -f 1 -i 1 \\
       -jvmArgsAppend "-XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,dev.granule.mmu.Mmu::outputAddress" > log
  scripts/jit-disassemble.py log > outputAddress.s
"""
import argparse
import re
import signal
import subprocess
import sys
import tempfile

CODE = re.compile(r'\s+0x([0-9a-f]+): ([0-9a-f| ]+)$')
NOTE = re.compile(r'\s+0x([0-9a-f]+): ;(.*)$')
INSN = re.compile(r'\s*([0-9a-f]+):\t')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('log')
    p.add_argument('--match', help='a string of the "Compiled method (c2) ..." line to pick (default: the last one)')
    a = p.parse_args()
    compiles = [c for c in open(a.log, errors='replace').read().split('Compiled method (')[1:] if c.startswith('c2)')]
    if a.match:
        compiles = [c for c in compiles if a.match in c.split('\n', 1)[0]]
    if not compiles:
        sys.exit(f'{a.log}: no C2 compile{" matching " + repr(a.match) if a.match else ""} '
                 '(was the method printed with -XX:CompileCommand=print and run long enough for C2?)')
    chosen = compiles[-1]
    if '[MachCode]' not in chosen:
        sys.exit(f'{a.log}: the compile has no [MachCode] section')
    code = chosen[chosen.index('[MachCode]'):]
    code = code[:code.index('[/MachCode]')] if '[/MachCode]' in code else code
    memory, notes = {}, {}
    for line in code.split('\n'):
        m = CODE.match(line)
        words = m.group(2).replace('|', '').replace(' ', '') if m else ''
        if m and len(words) % 2 == 0:
            base = int(m.group(1), 16)
            for i in range(0, len(words), 2):
                memory[base + i // 2] = int(words[i:i + 2], 16)
            continue
        m = NOTE.match(line)
        if m and 'post_call_nop' not in m.group(2):
            notes.setdefault(int(m.group(1), 16), []).append(m.group(2).strip())
    if not memory:
        sys.exit(f'{a.log}: no code words in the compile (a JDK with hsdis prints text, not hex: read it directly)')
    lo, hi = min(memory), max(memory)
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(bytes(memory.get(x, 0x90) for x in range(lo, hi + 1)))   # gaps (none expected) as nops
        f.flush()
        listing = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', f'--adjust-vma={lo:#x}', f.name],
                                 capture_output=True, text=True, check=True).stdout
    print(chosen.split('\n', 1)[0])
    for line in listing.split('\n'):
        m = INSN.match(line)
        if m:
            for note in notes.get(int(m.group(1), 16), []):
                print('        ;; ' + note)
            print(line)


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends the listing quietly
    main()
