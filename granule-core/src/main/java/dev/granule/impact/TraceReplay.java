package dev.granule.impact;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import dev.granule.geometry.CpuFeatures;
import dev.granule.table.AddressSpace;
import dev.granule.table.FrameAllocator;
import dev.granule.table.MapFlag;
import dev.granule.table.VaRange;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * Replays an address trace through the MMU and TLB model once per page size.
 *
 * <p>Trace format (text, one access per line): {@code [r|w|x] <address>}, the access kind
 * optional (read by default), the virtual address in hex with or without {@code 0x}; blank lines
 * and lines starting with {@code #} are skipped. Addresses must be user addresses below 2^48.
 * (Such a trace comes e.g. from {@code perf mem record} / {@code perf script -F addr}, or a
 * Valgrind lackey run, with the columns cut down.)
 *
 * <p>Each page size gets an empty 48-bit address space; a translation fault maps the page (a
 * first touch, counted as a page fault) and the access is retried, as demand paging does. TLB
 * misses are the accesses that needed a walk.
 */
public final class TraceReplay {

    /** What one page size does with the trace. */
    public record Result(Granule granule, long accesses, long tlbMisses, long pageFaults, int tlbEntries, int tlbWays) {
        public double missRate() { return accesses == 0 ? 0 : (double) tlbMisses / accesses; }

        /** Bytes the TLB can map at once with this page size. */
        public long reach() { return (long) tlbEntries * granule.pageSize(); }
    }

    /** One parsed access. */
    record Step(Access access, long va) {}

    private TraceReplay() {}

    public static List<Result> replay(BufferedReader trace, String source, int tlbEntries, int tlbWays) throws IOException {
        List<Step> steps = parse(trace, source);
        List<Result> out = new ArrayList<>();
        for (Granule g : ImpactAnalysis.GRANULES) out.add(replay(steps, g, tlbEntries, tlbWays));
        return out;
    }

    static List<Step> parse(BufferedReader in, String source) throws IOException {
        List<Step> steps = new ArrayList<>();
        String line;
        int number = 0;
        while ((line = in.readLine()) != null) {
            number++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) continue;
            Access access = Access.READ;
            String[] f = t.split("\\s+");
            String address = f[0];
            if (f.length == 2) {
                access = switch (f[0]) {
                    case "r", "R" -> Access.READ;
                    case "w", "W" -> Access.WRITE;
                    case "x", "X" -> Access.EXECUTE;
                    default -> throw new IllegalArgumentException(source + ":" + number + ": access kind must be r, w or x: '" + t + "'");
                };
                address = f[1];
            } else if (f.length != 1) {
                throw new IllegalArgumentException(source + ":" + number + ": expected '[r|w|x] <hex address>': '" + t + "'");
            }
            if (address.startsWith("0x") || address.startsWith("0X")) address = address.substring(2);
            long va;
            try {
                va = Long.parseUnsignedLong(address, 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(source + ":" + number + ": not a hex address: '" + t + "'");
            }
            if (Long.compareUnsigned(va, 1L << 48) >= 0) {
                throw new IllegalArgumentException(source + ":" + number + ": 0x" + Long.toHexString(va)
                        + " is not a user address below 2^48");
            }
            steps.add(new Step(access, va));
        }
        return steps;
    }

    static Result replay(List<Step> steps, Granule granule, int tlbEntries, int tlbWays) {
        Geometry g = Geometry.of(granule, 48, 48);
        try (SparseMemory memory = SparseMemory.confinedOfPaBits(48)) {
            FrameAllocator frames = FrameAllocator.over(memory, g.pageSize(), new MemoryRange(0xFF00_0000_0000L, 1L << 36));
            AddressSpace space = AddressSpace.create(g, memory, frames, VaRange.LOWER);
            // TCR_EL1: T0SZ = 16, TG0 for the granule, IPS = 48 bits, EPD1; SCTLR_EL1.M; MAIR Attr0 = Normal WB.
            long tcr = 16 | (long) granule.tg0() << 14 | 0b101L << 32 | 1L << 23;
            Registers registers = new Registers(tcr, space.root(), 0, 0xFF, 1, false);
            Tlb tlb = new Tlb(tlbEntries, tlbWays);
            Mmu mmu = new Mmu(new TranslationRegime(registers, CpuFeatures.ALL), memory, tlb);
            long faults = 0;
            // Mapped with every permission, so that only a missing page faults.
            Attributes rwx = Attributes.userData().withUnprivilegedExecuteNever(false);
            for (Step s : steps) {
                Translation t = mmu.translate(s.va(), s.access(), 0);
                if (t instanceof Translation.Fault) {
                    long page = s.va() & -g.pageSize();
                    space.map(page, page, g.pageSize(), rwx, EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS));
                    faults++;
                    tlb.invalidateVa(s.va(), 0);
                    t = mmu.translate(s.va(), s.access(), 0);
                    if (t instanceof Translation.Fault f) throw new IllegalStateException("mapped page still faults: " + f);
                }
            }
            // Each fault's first translate missed without filling the TLB: those are page faults, not TLB misses.
            return new Result(granule, steps.size(), tlb.misses() - faults, faults, tlbEntries, tlbWays);
        }
    }
}
