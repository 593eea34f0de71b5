package dev.granule.dump;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The registers in an arm64 NT_PRSTATUS note ({@code struct elf_prstatus}): the common part
 * (signal info, pid, times: 112 bytes on LP64), then {@code pr_reg} = x0..x30, sp, pc, pstate
 * (34 x 8 bytes), then {@code pr_fpvalid}. The kdump kernel writes one per CPU, as does QEMU.
 */
public record PrStatus(int pid, long[] x, long sp, long pc, long pstate) {

    static final int PID_OFFSET = 32;
    static final int REGS_OFFSET = 112;
    static final int REGS_BYTES = 34 * 8;
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public PrStatus {
        x = x.clone();
    }

    public static PrStatus parse(ElfNote note) {
        MemorySegment d = note.desc();
        if (d.byteSize() < REGS_OFFSET + REGS_BYTES) {
            throw new DumpFormatException(note.at(), "NT_PRSTATUS descriptor is " + d.byteSize()
                    + " bytes; an arm64 elf_prstatus needs at least " + (REGS_OFFSET + REGS_BYTES));
        }
        long[] x = new long[31];
        for (int i = 0; i < 31; i++) x[i] = d.get(U64, REGS_OFFSET + 8L * i);
        return new PrStatus(d.get(U32, PID_OFFSET), x, d.get(U64, REGS_OFFSET + 31 * 8),
                d.get(U64, REGS_OFFSET + 32 * 8), d.get(U64, REGS_OFFSET + 33 * 8));
    }

    @Override
    public long[] x() { return x.clone(); }

    /** Exception level from PSTATE.M[3:2] (AArch64 state). */
    public int exceptionLevel() { return (int) ((pstate >>> 2) & 3); }

    /** Whether the CPU was in AArch64 state (PSTATE.nRW, M[4], clear). */
    public boolean aarch64() { return (pstate & 0x10) == 0; }
}
