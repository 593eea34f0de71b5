package dev.granule.mmu.oracle;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.IndirectPermissions;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToLongFunction;

/**
 * Where QEMU 11.1.3 departs from the Arm ARM in {@link QemuPieOracleTest}'s probes, and what it answers
 * instead (docs/translation.md lists them): the model's answer with the departure's rule left out,
 * so that a probe is kept out only when QEMU's PAR is exactly that. Also the walks that find the
 * descriptors those rules read.
 */
final class QemuPieDepartures {

    private QemuPieDepartures() {}

    /**
     * Where QEMU 11.1 departs from the Arm ARM under permission indirection, what it answers instead.
     * Both departures are proven from the pseudocode in docs/translation.md; a probe is kept out only
     * when QEMU's PAR is exactly this answer.
     *
     * @param qemu the model's answer with the departure's rule left out
     * @param what the rule(s) QEMU leaves out
     */
    record Departure(Translation qemu, String what) {}

    /** PIRE0 values that are reserved (no access at EL0) yet not 0b0000. */
    private static boolean reservedNonZero(int upi) {
        return upi == 0b0100 || upi == 0b1011 || upi == 0b1101 || upi == 0b1111;
    }

    /**
     * The QEMU 11.1 answer for a stage-1 permission fault the model gives under PIE, or null:
     * <ul>
     * <li>AArch64.S1CheckPermissions faults a write to a leaf whose nDirty bit (7) is 1 when PIE is on
     *     and TCR_EL1.HA/HD are not both 1; QEMU does not check nDirty at all;
     * <li>AArch64.S1IndirectBasePermissions applies PAN when PIRE0's value for the index is not
     *     0b0000; QEMU applies it when that value decodes to some access, so not for the reserved
     *     0b0100, 0b1011, 0b1101, 0b1111.
     * </ul>
     */
    static Departure of(SparseMemory memory, Mmu[] mmu, long va, AtOp op, Translation t) {
        if (!(t instanceof Translation.Fault fault) || fault.type() != FaultType.PERMISSION) return null;
        TranslationRegime regime = mmu[op.pan ? 1 : 0].regime();
        boolean write = op.access == Access.WRITE;
        boolean panRule = false, dirtyRule = false;
        long leaf = fault.stage() == 1 && regime.permissionIndirection() ? leafAddress(memory, regime, va) : -1;
        long word = leaf < 0 ? 0 : memory.readLong(leaf);
        if (leaf >= 0) {
            int upi = (int) (regime.permissionRegisters().pire0() >>> 4 * IndirectPermissions.piIndex64(word)) & 0xF;
            panRule = op.pan && reservedNonZero(upi);
            dirtyRule = write && (word & 1L << 7) != 0 && !(regime.hardwareAccessFlag() && regime.hardwareDirty());
            if (dirtyRule) memory.writeLong(leaf, word & ~(1L << 7));
        }
        Mmu relaxed = mmu[op.pan && !panRule ? 1 : 0];
        long s2leaf = -1, s2word = 0;
        try {
            Translation qemu = panRule || dirtyRule ? answer(relaxed, va, op) : t;
            // Stage 2 has the same rule (AArch64.S2CheckPermissions: a write to a leaf whose Dirty
            // bit is 0 faults under S2PIE without VTCR_EL2.HA/HD), and QEMU leaves it out as well.
            Stage2Regime s2 = relaxed.stage2();
            if (op.twoStages() && write && qemu instanceof Translation.Fault f2 && f2.stage() == 2 && !f2.s1ptw()
                    && f2.type() == FaultType.PERMISSION && s2.indirectPermissions() != null
                    && !(s2.hardwareAccessFlag() && s2.hardwareDirty())) {
                s2leaf = stage2LeafAddress(memory, s2, f2.ipa());
                if (s2leaf >= 0 && ((s2word = memory.readLong(s2leaf)) & 1L << 7) == 0) {
                    memory.writeLong(s2leaf, s2word | 1L << 7);
                    qemu = answer(relaxed, va, op);
                } else {
                    s2leaf = -1;
                }
            }
            if (Par.expected(qemu) == Par.expected(t)) return null;
            List<String> rules = new ArrayList<>();
            if (dirtyRule) rules.add("nDirty were 0");
            if (panRule) rules.add("PAN ignored a reserved PIRE0 value");
            if (s2leaf >= 0) rules.add("stage-2 Dirty were 1");
            return new Departure(qemu, String.join(" and ", rules));
        } finally {
            if (dirtyRule) memory.writeLong(leaf, word);
            if (s2leaf >= 0) memory.writeLong(s2leaf, s2word);
        }
    }

    /**
     * QEMU 11.1's answer where stage 1's transient hint meets a Write-Through stage 2, or -1: the model's
     * PAR (its compared fields) with every Write-Through transient half of ATTR (0b00RW, RW not 0b00,
     * in a Normal memory byte) made Write-Through non-transient (0b10RW). S2CombineS1AttrHints keeps
     * stage 1's transient hint in the combined attribute; QEMU's combine_cacheattr_nibble returns the
     * Write-Through type without it (docs/translation.md). -1 where the model's answer is no translation
     * or has no such half, so that nothing else is ever kept out by it.
     */
    static long transientHintDropped(Translation t) {
        if (!(t instanceof Translation.Translated ok) || (ok.mairAttr() & 0xF0) == 0) return -1; // Device: 0b0000ddxx
        int attr = ok.mairAttr(), dropped = attr;
        for (int shift = 0; shift <= 4; shift += 4) {
            int half = attr >>> shift & 0xF;
            if ((half & 0b1100) == 0 && (half & 0b0011) != 0) dropped |= 0b1000 << shift;
        }
        return dropped == attr ? -1 : Par.expected(t) & ~(0xFFL << 56) | (long) dropped << 56;
    }

    /** The stage-2 block or page descriptor a walk for {@code ipa} ends at, or -1. */
    static long stage2LeafAddress(SparseMemory memory, Stage2Regime s2, long ipa) {
        var g = s2.geometry();
        // The start level may be a run of concatenated tables: its index takes every IPA bit above.
        return leaf(memory, s2.format(), s2.root(), s2.startLevel(), level -> level == s2.startLevel()
                ? (ipa >>> g.shift(level)) & (s2.rootEntries() - 1) : g.index(ipa, level));
    }

    /**
     * The large-block departure ({@code QemuLargeBlockOaTest}) at either stage, with what QEMU does
     * after it: the model's address size fault at a level whose blocks are larger than that stage's
     * PA size (the Arm ARM checks the whole output address, QEMU only the descriptor's), and QEMU
     * translating beyond the PA size, or going on to the same leaf's Access flag or permission fault,
     * or (a stage-1 block, its IPA beyond stage 2's input size) to a stage-2 fault.
     */
    static boolean largeBlock(QemuPieOracleTest.PieCase c, Translation t, long par, CpuFeatures cpu) {
        if (!(t instanceof Translation.Fault f) || f.type() != FaultType.ADDRESS_SIZE || f.level() < 0) return false;
        Geometry g;
        int paBits;
        if (f.stage() == 1) {
            var regime = new TranslationRegime(c.stage1().registers(), c.pie(), cpu);
            g = ((f.va() >>> 55 & 1) == 0 ? regime.lower() : regime.upper()).geometry();
            paBits = regime.paBits();
        } else {
            var s2 = new Stage2Regime(c.hcr(), c.vtcr(), c.vttbr(), c.s2pir(), 0, cpu);
            g = s2.geometry();
            paBits = s2.paBits();
        }
        return largeBlock(f, g, paBits, par);
    }

    /** The same for a stage-1-only regime (EL2, EL2&amp;0: QemuEl2PieOracleTest). */
    static boolean largeBlock(TranslationRegime regime, Translation t, long par) {
        if (!(t instanceof Translation.Fault f) || f.type() != FaultType.ADDRESS_SIZE || f.level() < 0 || f.stage() != 1) return false;
        Geometry g = ((f.va() >>> 55 & 1) == 0 ? regime.lower() : regime.upper()).geometry();
        return largeBlock(f, g, regime.paBits(), par);
    }

    private static boolean largeBlock(Translation.Fault f, Geometry g, int paBits, long par) {
        if (paBits >= 52 || !g.isLevel(f.level()) || g.entrySpan(f.level()) <= 1L << paBits) return false;
        if ((par & 1) == 0) return (par & Par.PA_MASK) >>> paBits != 0;
        boolean stage2 = (par >>> 9 & 1) != 0, ptw = (par >>> 8 & 1) != 0;
        int fst = (int) (par >>> 1 & 0x3F);
        boolean sameLeaf = fst == Par.faultStatus(FaultType.ACCESS_FLAG, f.level())
                || fst == Par.faultStatus(FaultType.PERMISSION, f.level());
        return f.stage() == 1 ? !stage2 && sameLeaf || stage2 && !ptw : stage2 && !ptw && sameLeaf;
    }

    /** The address of the block or page descriptor a walk for {@code va} ends at (identity IPAs), or -1. */
    static long leafAddress(SparseMemory memory, TranslationRegime regime, long va) {
        var half = (va >>> 55 & 1) == 0 ? regime.lower() : regime.upper();
        var g = half.geometry();
        return leaf(memory, half.format(), half.root(), g.startLevel(), level -> g.index(va, level));
    }

    /** Walks from {@code root} taking each level's entry index from {@code index}; the leaf's address or -1. */
    private static long leaf(SparseMemory memory, DescriptorFormat f, long root, int startLevel, IntToLongFunction index) {
        var d = new Descriptor();
        long table = root;
        for (int level = startLevel; level <= 3; level++) {
            long address = table + (index.applyAsLong(level) << 3);
            if (!memory.contains(address, 8)) return -1;
            d.set(memory.readLong(address), 0);
            DescriptorKind kind = f.kind(d, level);
            if (kind == DescriptorKind.BLOCK || kind == DescriptorKind.PAGE) return address;
            if (level == 3 || kind != DescriptorKind.TABLE) return -1;
            table = f.tableAddress(d);
        }
        return -1;
    }

    static Translation answer(Mmu mmu, long va, AtOp op) {
        mmu.tlb().invalidateAll(); // every probe is a walk, as QEMU's AT is
        return op.twoStages() ? mmu.translate(va, op.access, op.el) : mmu.translateStage1(va, op.access, op.el);
    }
}
