#!/usr/bin/python3
"""drgn (Debian's python3-drgn, libkdumpfile inside) and granule on the same crash, in one run.

Usage: drgn-vs-granule.py CAPTURE_DIR GRANULE_LAUNCHER

CAPTURE_DIR is a crash capture of granule-capture's CrashCapture: guest/vmcore.elf (kexec's
/proc/vmcore, copied), guest/vmcore-*.kdump and guest/*.flat (Debian's arm64 makedumpfile), and
gva2gpa.tsv (QEMU's own translation of each probed address while the first kernel ran: the oracle).

For each file: whether drgn opens it without vmlinux; for every probe, drgn's 8 bytes at the
virtual address against the 8 bytes at QEMU's physical address in kexec's ELF (read here from its
PT_LOAD p_paddr, not through either tool), a fault where QEMU says unmapped; granule's
`dump translate -f` PA against QEMU's. Rates: drgn's prog.read over the probe list repeated for
about 3 s, and granule's `dump translate -f` (output to /dev/null, no symbols) over 20,000, 220,000 and 2,200,000
addresses, the per-address cost being the difference of two (the JVM's start-up cancels out; from
220,000 on, the JIT's compiling of the loop mostly does too);
both in CPU time (drgn's process, all of the JVM's threads), since the machine is shared.
With RUNS=N in the environment (default 1) each timing is the least of N runs: drgn's loop over the
probes, and granule's command at each batch size, per file. On a shared 2-core machine a run's CPU
time grows with its neighbours (caches, frequency), never shrinks, so the least is the closest to
the tool's own cost.
"""
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

import drgn


def runs():
    """RUNS from the environment: how many times each timing is taken, the least kept."""
    text = os.environ.get("RUNS", "1")
    if not text.isdigit() or int(text) < 1:
        sys.exit("drgn-vs-granule: RUNS is %r; it must be a whole number of runs, 1 or more" % text)
    return int(text)


def probes(capture):
    out = []
    for line in open(os.path.join(capture, "gva2gpa.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        cat, va, pa = line.rstrip("\n").split("\t")
        out.append((cat, int(va, 16), None if pa == "unmapped" else int(pa, 16)))
    return out


class ElfPhys:
    """Physical memory of an ELF core by its PT_LOADs' p_paddr (ELF64 little-endian, Elf64_Phdr)."""

    def __init__(self, path):
        self.f = open(path, "rb")
        h = self.f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        self.loads = []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            p_type, _flags, off, _vaddr, paddr, filesz, _memsz, _align = struct.unpack("<IIQQQQQQ", self.f.read(56))
            if p_type == 1:
                self.loads.append((paddr, filesz, off))

    def read(self, pa, n):
        for paddr, size, off in self.loads:
            if paddr <= pa and pa + n <= paddr + size:
                self.f.seek(off + pa - paddr)
                return self.f.read(n)
        return None


def drgn_side(path, ps, elf):
    prog = drgn.Program()
    try:
        prog.set_core_dump(path)
    except Exception as e:  # drgn's own words for a file it refuses
        return {"opens": False, "error": str(e).splitlines()[0]}
    agree = fault_on_mapped = wrong = 0
    first_wrong = first_fault = None
    wrong_kinds = {}
    for cat, va, pa in ps:
        want = elf.read(pa & ~7 | (va & 7), 8) if pa is not None else None
        try:
            got = prog.read(va, 8)
        except Exception as e:
            if pa is None or want is None:
                agree += 1  # unmapped, or mapped to device memory that no dump holds
            else:
                fault_on_mapped += 1
                first_fault = first_fault or "%s %#x (QEMU %#x): %s" % (cat, va, pa, str(e).splitlines()[0])
            continue
        if pa is not None and (want is None or got == want):
            agree += 1  # device memory (want None) is in no dump; drgn read something there
        else:
            wrong += 1
            kind = cat.split(":")[0] + (" (QEMU unmapped)" if pa is None else "")
            wrong_kinds[kind] = wrong_kinds.get(kind, 0) + 1
            first_wrong = first_wrong or "%s %#x: QEMU %s, drgn read %s" % (cat, va, "unmapped" if pa is None else hex(pa), got.hex())
    vas = [va for _, va, _ in ps]
    rate = 0
    for _ in range(runs()):
        n = 0
        t0 = time.perf_counter()
        c0 = time.process_time()
        while time.perf_counter() - t0 < 3.0:
            for va in vas:
                try:
                    prog.read(va, 8)
                except Exception:
                    pass
            n += len(vas)
        # CPU time: the machine is shared, wall time measures the neighbours. The best rate is the least time per read.
        rate = max(rate, n / (time.process_time() - c0))
    return {"opens": True, "agree": agree, "fault_on_mapped": fault_on_mapped, "wrong": wrong, "first_wrong": first_wrong,
            "first_fault": first_fault, "wrong_kinds": wrong_kinds,
            "rate": rate}


def granule_side(path, ps, launcher):
    with tempfile.TemporaryDirectory() as tmp:
        lst = os.path.join(tmp, "one.txt")
        with open(lst, "w") as f:
            for _, va, _ in ps:
                f.write("0x%016x\n" % va)
        r = subprocess.run([launcher, "dump", "translate", path, "-f", lst, "--no-symbols"], capture_output=True, text=True)
        if r.returncode != 0:
            return {"opens": False, "error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "exit %d" % r.returncode}
        answers = {}
        for line in r.stdout.splitlines():
            if line.startswith("0x"):
                answers[int(line[2:18], 16)] = line
        agree = not_in_dump = wrong = 0
        for cat, va, pa in ps:
            line = answers.get(va, "")
            if "not in the dump" in line:
                not_in_dump += 1
                continue
            i = line.find("  -> 0x")
            got = int(line[i + 7:i + 20], 16) if i >= 0 else None
            if got == pa:
                agree += 1
            else:
                wrong += 1
        times = {}
        for n in (20000, 220000, 2200000):
            big = os.path.join(tmp, "%d.txt" % n)
            with open(big, "w") as f:
                i = 0
                while i < n:
                    for _, va, _ in ps:
                        if i == n:
                            break
                        f.write("0x%016x\n" % va)
                        i += 1
            for _ in range(runs()):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([launcher, "dump", "translate", path, "-f", big, "--no-symbols"], stdout=subprocess.DEVNULL, check=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                # CPU time of the JVM, every thread (JIT compiler and GC included), as drgn's is of its process.
                t = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
                times[n] = min(times.get(n, t), t)
        rate = (220000 - 20000) / (times[220000] - times[20000])
        # From 220,000 on the JIT has compiled the loop: the steady rate of a long batch.
        steady = (2200000 - 220000) / (times[2200000] - times[220000])
        return {"opens": True, "agree": agree, "not_in_dump": not_in_dump, "wrong": wrong, "rate": rate, "steady": steady,
                "startup_and_20k": times[20000]}


def main():
    capture, launcher = sys.argv[1], sys.argv[2]
    runs()  # a bad RUNS stops here, before minutes of drgn
    guest = os.path.join(capture, "guest")
    ps = probes(capture)
    elf = ElfPhys(os.path.join(guest, "vmcore.elf"))
    files = ["vmcore.elf"] + sorted(f for f in os.listdir(guest) if f.endswith(".kdump") or f.endswith(".flat"))
    mapped = sum(1 for _, _, pa in ps if pa is not None)
    print("# %s: %d probes (%d mapped by QEMU); drgn %s, python3-drgn without vmlinux; each timing the least of RUNS=%d"
          % (capture, len(ps), mapped, drgn.__version__, runs()))
    print("| file | drgn opens | drgn agrees / faults on mapped RAM / wrong | drgn reads/CPU-s | granule agrees / not in dump / wrong "
          "| granule addresses/CPU-s, 20k to 220k | ratio | granule addresses/CPU-s, 220k to 2.2M | ratio |")
    print("|---|---|---|---:|---|---:|---:|---:|---:|")
    for name in files:
        path = os.path.join(guest, name)
        if os.path.getsize(path) == 0:
            continue
        d = drgn_side(path, ps, elf)
        g = granule_side(path, ps, launcher)
        dcol = "%d / %d / %d" % (d["agree"], d["fault_on_mapped"], d["wrong"]) if d["opens"] else "-"
        drate = "%.0f" % d["rate"] if d["opens"] else "-"
        gcol = "%d / %d / %d" % (g["agree"], g["not_in_dump"], g["wrong"]) if g["opens"] else "-"
        grate = "%.0f" % g["rate"] if g["opens"] else "-"
        ratio = "%.1fx" % (g["rate"] / d["rate"]) if d["opens"] and g["opens"] else "-"
        gsteady = "%.0f" % g["steady"] if g["opens"] else "-"
        steady_ratio = "%.1fx" % (g["steady"] / d["rate"]) if d["opens"] and g["opens"] else "-"
        opens = "yes" if d["opens"] else "no: " + d["error"]
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (name, opens, dcol, drate, gcol, grate, ratio, gsteady, steady_ratio))
        if d.get("first_fault"):
            print("#   drgn's first fault on a RAM page QEMU maps, in %s: %s" % (name, d["first_fault"]))
        if d.get("first_wrong"):
            print("#   drgn's wrong answers in %s by probe kind: %s; the first: %s" % (name, d["wrong_kinds"], d["first_wrong"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
