package dev.granule.mmu;

import dev.granule.memory.SparseMemory;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link D128FaultLevelTest} (stage 1, a 55-bit VA) and {@link Stage2D128FaultLevelTest} (stage 2,
 * a 56-bit IPA) share: hand-written VMSAv9-128 tables on each granule's deepest walk and the fault kinds
 * every level can have (Arm ARM AArch64.S1Walk / S2Walk, DecodeDescriptorType, NextTableBase). Tables are
 * 1 MiB apart by level; a table descriptor is valid [0] with its address [55:12] and SKL [110:109]. The
 * leaf's own bits (stage 2's MemAttr, SH, Dirty) are the test's ({@link Leaf}).
 */
final class D128FaultFixture {

    static final long RAM_END = 1L << 36;
    static final long NOT_RAM = 1L << 40;                 // inside the 48-bit PA size, outside RAM
    static final long BEYOND_PA = 1L << 52;               // OA[52]: beyond a 48-bit PA size
    static final long TABLES = 0x1000_0000L;
    static final long SKIP_TABLE = 0x8000_0000L;          // 2 GiB: aligned for any skipped table here

    private D128FaultFixture() {}

    /**
     * A granule: its TG0 encoding, page shift, start level for the widest input address (55-bit VA, 56-bit
     * IPA: both -2 for 4K, -1 for 16K, 0 for 64K) and the first level with leaves.
     */
    record Granule(String name, int tg0, int pageShift, int startLevel, int firstLeaf) {
        int stride() { return pageShift - 4; }

        int shift(int level) { return pageShift + stride() * (3 - level); }

        long span(int level) { return 1L << shift(level); }

        /** The bits of {@code address} level {@code level} resolves: at the start level all from {@code bits} - 1 down. */
        long index(long address, int bits, int level) {
            int resolved = level == startLevel ? bits - shift(level) : stride();
            return address >>> shift(level) & ((1L << resolved) - 1);
        }

        @Override
        public String toString() { return name; }
    }

    // TG0 (TCR_EL1 and VTCR_EL2 alike): 0b00 4K, 0b10 16K, 0b01 64K.
    static final Granule G4 = new Granule("4K", 0b00, 12, -2, 0);
    static final Granule G16 = new Granule("16K", 0b10, 14, -1, 1);
    static final Granule G64 = new Granule("64K", 0b01, 16, 0, 1);

    static List<Granule> granules() { return List.of(G4, G16, G64); }

    /** Every granule with every level that can hold a leaf. */
    static List<Arguments> leaves() {
        List<Arguments> out = new ArrayList<>();
        for (Granule g : granules()) {
            for (int level = g.firstLeaf(); level <= 3; level++) out.add(Arguments.of(g, level));
        }
        return out;
    }

    /** The table of level {@code level}: 1 MiB apart, aligned for any granule's full table. */
    static long table(int level) { return TABLES + ((level + 2L) << 20); }

    static long[] tableDescriptor(long address, int skl) {
        return new long[]{address | 1, (long) skl << (109 - 64)};
    }

    /** The walk of one input address through {@code memory}, which is {@code bits} wide. */
    record Walk(SparseMemory memory, long address, int bits) {
        long slot(Granule g, int level) { return table(level) + 16 * g.index(address, bits, level); }

        void write(long at, long[] descriptor) {
            memory.writeLong(at, descriptor[0]);
            memory.writeLong(at + 8, descriptor[1]);
        }

        /** Tables from level {@code from} down to {@code stop}, whose entry for the address is {@code word}. */
        void chain(Granule g, int from, int stop, long[] word) {
            for (int level = from; level < stop; level++) write(slot(g, level), tableDescriptor(table(level + 1), 0));
            write(slot(g, stop), word);
        }

        void chain(Granule g, int stop, long[] word) { chain(g, g.startLevel(), stop, word); }

        /**
         * A start-level table descriptor with SKL = 1 to {@link #SKIP_TABLE}: one table resolving two strides
         * (AArch64.TTEntryAddress / S2TTEntryAddress with nstride = SKL + 1), whose entry is {@code leaf}, a
         * leaf at start level + 2.
         */
        void skipOneLevelTo(Granule g, long[] leaf) {
            write(slot(g, g.startLevel()), tableDescriptor(SKIP_TABLE, 1));
            int leafLevel = g.startLevel() + 2;
            write(SKIP_TABLE + 16 * (address >>> g.shift(leafLevel) & ((1L << 2 * g.stride()) - 1)), leaf);
        }

        /**
         * Tables for a walk that starts one level lower ((V)TTBR.SKL = 1, base {@link #SKIP_TABLE}): one
         * table holding every address bit above the level, then tables down to level 3, whose entry is {@code leaf}.
         */
        void startOneLevelLowerTo(Granule g, long[] leaf) {
            int start = g.startLevel() + 1;
            write(SKIP_TABLE + 16 * (address >>> g.shift(start) & ((1L << (bits - g.shift(start))) - 1)),
                    tableDescriptor(table(start + 1), 0));
            chain(g, start + 1, 3, leaf);
        }
    }

    /** A leaf at {@code level} with the output address, AF and PIIndex given (the test adds its stage's bits). */
    interface Leaf {
        long[] at(long oa, int level, boolean af, int pi);
    }

    /**
     * One fault: the walk's tables down to {@code stop}, whose entry is {@code word}; {@code base} and
     * {@code baseHigh} the (V)TTBR's halves; the fault's kind and level as the pseudocode names them.
     */
    record Case(String name, Granule g, FaultType type, int level, int stop, long[] word, long base, long baseHigh,
                Access access) {
        @Override
        public String toString() { return g + ": " + name; }
    }

    /**
     * The cases both stages have, for every granule and level: an invalid entry; a table address beyond the
     * PA size; the next table outside RAM (an external abort on the walk at the next level); a leaf's output
     * address beyond the PA size; AF = 0 (no hardware update); a write to PIIndex 1 (read-only), a read of
     * PIIndex 2 (none), an execute of PIIndex 0 (read/write, no execute); SKL past level 3; the root outside
     * RAM; BADDR[55:48] ({@code baseRegister} bit 80) beyond the PA size, reported at level 0. {@code more}
     * adds a stage's own cases at each leaf level, after these.
     */
    static List<Arguments> faultCases(Leaf leaf, String baseRegister, MoreLeafCases more) {
        List<Case> c = new ArrayList<>();
        for (Granule g : granules()) {
            long root = table(g.startLevel());
            for (int level = g.startLevel(); level <= 3; level++) {
                c.add(new Case("invalid entry at level " + level, g, FaultType.TRANSLATION, level, level,
                        new long[]{0, 0}, root, 0, Access.READ));
                if (level < 3) {
                    c.add(new Case("table address beyond the PA size at level " + level, g, FaultType.ADDRESS_SIZE,
                            level, level, tableDescriptor(BEYOND_PA | table(level + 1), 0), root, 0, Access.READ));
                    c.add(new Case("next table outside RAM, read at level " + (level + 1), g,
                            FaultType.EXTERNAL_ABORT_ON_WALK, level + 1, level, tableDescriptor(NOT_RAM, 0), root, 0,
                            Access.READ));
                }
                if (level >= g.firstLeaf()) {
                    long oa = 0x4000_0000_0000L & -g.span(level);
                    c.add(new Case("output address beyond the PA size at level " + level, g, FaultType.ADDRESS_SIZE,
                            level, level, leaf.at(BEYOND_PA, level, true, 0), root, 0, Access.READ));
                    c.add(new Case("AF = 0 (no HA) at level " + level, g, FaultType.ACCESS_FLAG, level, level,
                            leaf.at(oa, level, false, 0), root, 0, Access.READ));
                    c.add(new Case("write to PIIndex 1 (read-only) at level " + level, g, FaultType.PERMISSION, level,
                            level, leaf.at(oa, level, true, 1), root, 0, Access.WRITE));
                    c.add(new Case("read of PIIndex 2 (no access) at level " + level, g, FaultType.PERMISSION, level,
                            level, leaf.at(oa, level, true, 2), root, 0, Access.READ));
                    c.add(new Case("execute of PIIndex 0 (read/write) at level " + level, g, FaultType.PERMISSION,
                            level, level, leaf.at(oa, level, true, 0), root, 0, Access.EXECUTE));
                    c.addAll(more.at(g, level, oa, root));
                }
            }
            // Level + SKL beyond 3 (AArch64.DecodeDescriptorType: invalid).
            c.add(new Case("SKL 1 at level 3", g, FaultType.TRANSLATION, 3, 3, tableDescriptor(table(0), 1), root, 0,
                    Access.READ));
            c.add(new Case("SKL 2 at level 2", g, FaultType.TRANSLATION, 2, 2, tableDescriptor(table(0), 2), root, 0,
                    Access.READ));
            if (g != G4) {
                c.add(new Case("SKL 3 (4K only) at level " + g.startLevel(), g, FaultType.TRANSLATION, g.startLevel(),
                        g.startLevel(), tableDescriptor(table(0), 3), root, 0, Access.READ));
            }
            c.add(new Case("root table outside RAM, read at level " + g.startLevel(), g,
                    FaultType.EXTERNAL_ABORT_ON_WALK, g.startLevel(), g.startLevel(), new long[]{0, 0}, NOT_RAM, 0,
                    Access.READ));
            // Bit 80 is BADDR[48]: the first descriptor's address is beyond the PA size; the walk says level 0.
            c.add(new Case(baseRegister + " BADDR[55:48] beyond the PA size", g, FaultType.ADDRESS_SIZE, 0,
                    g.startLevel(), new long[]{0, 0}, root, 1L << (80 - 64), Access.READ));
        }
        return c.stream().map(Arguments::of).toList();
    }

    /** A stage's own fault cases at a leaf level (with {@code oa} aligned to it, the walk rooted at {@code root}). */
    interface MoreLeafCases {
        List<Case> at(Granule g, int level, long oa, long root);
    }
}
