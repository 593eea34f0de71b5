package dev.granule.mmu.oracle;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.geometry.Geometry;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;

/**
 * QEMU 10.0.2's large-block departure ({@link QemuLargeBlockOaTest}) as the stage-1 AT oracles
 * ({@link QemuAtOracleTest}, {@link QemuEl2OracleTest}) meet it, in each of its three forms.
 *
 * <p>The Arm ARM's {@code AArch64.S1Walk} takes the whole output address of a block ({@code StageOA}:
 * the descriptor's address with the VA's offset in the block) to {@code AArch64.OAOutOfRange}, so an
 * offset beyond the PA size is an address size fault at the block's level, found in the walk and so
 * before {@code AArch64.S1Translate} looks at the Access flag or the permissions. QEMU's
 * {@code get_phys_addr_lpae} (target/arm/ptw.c) tests only the descriptor's address field
 * ({@code descaddr >> outputsize}), then ORs in the VA's offset, and goes on as for any leaf: a
 * leaf whose AF is 0 (HA is off in these oracles) is an Access flag fault, then a permission fault
 * if the access is not allowed, else the translation to that address beyond its PA size. QEMU's
 * answer is the model's with the whole-OA check left out, so a probe is kept out only when:
 * the model's answer is the stage-1 address size fault at a level whose blocks are larger than the
 * PA size; the walk ends at a block at that level whose own address is inside the PA size and whose
 * address with the VA's offset is not; and QEMU's PAR is that address (AF 1), or an Access flag
 * fault at that level (AF 0), or a permission fault at that level (AF 1).
 */
final class QemuLargeBlockDeparture {

    /** The oracle table the forms are counted in. */
    static final String FORMS = "large-block departures by QEMU's answer";

    private QemuLargeBlockDeparture() {}

    /**
     * Whether QEMU's {@code par} for a stage-1 AT whose model answer is {@code model} is the departure;
     * if so, counts its form in {@code oracle}'s {@link #FORMS} table.
     */
    static boolean atStage1(OracleDriver oracle, Translation model, long par, TranslationRegime regime, SparseMemory memory) {
        String form = form(model, par, regime, memory);
        if (form != null) oracle.tally(FORMS, form);
        return form != null;
    }

    /** The departure's form QEMU answered with, or null where this is not the departure. */
    static String form(Translation model, long par, TranslationRegime regime, SparseMemory memory) {
        if (!(model instanceof Translation.Fault f) || f.type() != FaultType.ADDRESS_SIZE || f.stage() != 1) return null;
        int paBits = regime.paBits();
        TranslationRegime.Half half = (f.va() >>> 55 & 1) == 0 ? regime.lower() : regime.upper();
        if (half == null || paBits >= 52) return null;
        Geometry g = half.geometry();
        int level = f.level();
        if (!g.isLevel(level) || g.entrySpan(level) <= 1L << paBits) return null;
        Descriptor leaf = blockAt(memory, half, f.va(), level);
        if (leaf == null) return null;
        DescriptorFormat format = half.format();
        long base = format.outputAddress(leaf, level);
        long whole = format.translate(leaf, level, f.va());
        if (base >>> paBits != 0 || whole >>> paBits == 0) return null; // not (only) the VA's offset beyond the PA size
        boolean accessFlag = leaf.bit(10);
        if ((par & 1) == 0) return accessFlag && (par & Par.PA_MASK) == (whole & Par.PA_MASK) ? "translated beyond the PA size" : null;
        boolean stage2 = (par >>> 9 & 1) != 0, s1ptw = (par >>> 8 & 1) != 0;
        int fst = (int) (par >>> 1 & 0x3F);
        if (stage2 || s1ptw) return null;
        if (!accessFlag && fst == Par.faultStatus(FaultType.ACCESS_FLAG, level)) return "Access flag fault at the block's level";
        if (accessFlag && fst == Par.faultStatus(FaultType.PERMISSION, level)) return "permission fault at the block's level";
        return null;
    }

    /** The block descriptor a walk for {@code va} ends at, if it is a block at {@code level}; else null. */
    private static Descriptor blockAt(SparseMemory memory, TranslationRegime.Half half, long va, int level) {
        Geometry g = half.geometry();
        DescriptorFormat format = half.format();
        Descriptor d = new Descriptor();
        long table = half.root();
        for (int l = g.startLevel(); l <= level; l++) {
            long address = table + ((long) g.index(va, l) << 3);
            if (!memory.contains(address, 8)) return null;
            d.set(memory.readLong(address), 0);
            DescriptorKind kind = format.kind(d, l);
            if (l == level) return kind == DescriptorKind.BLOCK ? d : null;
            if (kind != DescriptorKind.TABLE) return null;
            table = format.tableAddress(d);
        }
        return null;
    }
}
