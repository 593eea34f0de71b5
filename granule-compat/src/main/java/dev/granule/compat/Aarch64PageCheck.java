package dev.granule.compat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Decodes, in an AArch64 ELF, the compare that guards the code using a string: the string's address is
 * formed by ADRP Xd, page + ADD Xd', Xd, #lo12; a B.cond branches to it (or to the instruction before it),
 * and the compare just before that branch is CMP Xn, #imm (SUBS XZR, Xn, #imm12{, LSL #12}).
 * Encodings from the Arm ARM (C6.2 ADRP, ADD (immediate), B.cond, SUBS (immediate)).
 */
final class Aarch64PageCheck {

    record Check(long page, long cmpVaddr, long branchVaddr, long printVaddr) {}

    /** At most this many instructions of text are decoded, so a hostile file costs bounded time. */
    static final long MAX_INSTRUCTIONS = 1L << 24;

    private Aarch64PageCheck() {}

    static Optional<Check> find(Elf elf, long stringOffset) {
        ProgramHeader holder = null;
        for (ProgramHeader h : elf.programHeaders()) {
            if (h.isLoad() && stringOffset >= h.p_offset() && stringOffset - h.p_offset() < h.p_filesz()) holder = h;
        }
        if (holder == null) return Optional.empty();
        long stringVaddr = holder.p_vaddr() + (stringOffset - holder.p_offset());
        MemorySegment data = elf.data();
        var insn = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        long budget = MAX_INSTRUCTIONS;
        int candidates = 0;
        for (ProgramHeader text : elf.programHeaders()) {
            if (!text.isLoad() || (text.p_flags() & ProgramHeader.PF_X) == 0) continue;
            long start = text.p_offset();
            long end = Math.min(data.byteSize(), start + text.p_filesz());
            if (start < 0 || start >= end) continue;
            long delta = text.p_vaddr() - text.p_offset();
            for (long off = start + ((4 - (start & 3)) & 3); off + 8 <= end && budget-- > 0; off += 4) {
                int adrp = data.get(insn, off);
                if ((adrp & 0x9f000000) != 0x90000000) continue;
                int rd = adrp & 31;
                long pc = off + delta;
                long immlo = (adrp >>> 29) & 3;
                long immhi = (adrp >> 5) & 0x7ffff;
                long imm = ((immhi << 2) | immlo) << 43 >> 43;   // 21-bit signed page count
                long page = (pc & ~0xfffL) + (imm << 12);
                int add = data.get(insn, off + 4);
                // ADD (immediate), 64-bit: sf=1 op=0 S=0 100010 sh imm12 Rn Rd.
                if ((add & 0xff800000) != 0x91000000 || ((add >> 5) & 31) != rd) continue;
                long lo = ((add >>> 10) & 0xfff) << (((add >>> 22) & 1) * 12);
                if (page + lo != stringVaddr) continue;
                // Each candidate scans the text once more; a hostile file with many of them gets a few.
                if (++candidates > 4) return Optional.empty();
                Optional<Check> c = guardingCompare(data, insn, start, end, delta, pc);
                if (c.isPresent()) return c;
            }
        }
        return Optional.empty();
    }

    /** The B.cond whose target is the ADRP at {@code printPc} or the instruction before it, and the CMP before the branch. */
    private static Optional<Check> guardingCompare(MemorySegment data, ValueLayout.OfInt insn, long start, long end, long delta, long printPc) {
        for (long off = start + ((4 - (start & 3)) & 3); off + 4 <= end; off += 4) {
            int b = data.get(insn, off);
            if ((b & 0xff000010) != 0x54000000) continue;   // B.cond: 0101010 0 imm19 0 cond
            long pc = off + delta;
            long target = pc + ((((long) (b >> 5) & 0x7ffff) << 45 >> 45) << 2);
            if (target != printPc && target != printPc - 4) continue;
            for (int back = 1; back <= 4 && off - 4L * back >= start; back++) {
                int cmp = data.get(insn, off - 4L * back);
                // SUBS (immediate), 64-bit, Rd = XZR: 1 1 1 100010 sh imm12 Rn 11111.
                if ((cmp & 0xff80001f) == 0xf100001f) {
                    long imm = ((cmp >>> 10) & 0xfff) << (((cmp >>> 22) & 1) * 12);
                    if (imm >= 4096 && Long.bitCount(imm) == 1) {
                        return Optional.of(new Check(imm, pc - 4L * back, pc, printPc));
                    }
                }
            }
        }
        return Optional.empty();
    }
}
