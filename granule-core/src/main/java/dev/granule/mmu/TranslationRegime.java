package dev.granule.mmu;

import dev.granule.format.DescriptorFormat;
import dev.granule.format.Shareability;
import dev.granule.format.Vmsa128Format;
import dev.granule.format.Vmsa64Format;
import dev.granule.geometry.CpuFeatures;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;

/**
 * TCR_EL1, TTBR0/1_EL1, MAIR_EL1 and SCTLR_EL1 decoded once into what a walk needs, per half of
 * the address space. Each half has its own geometry, so a 4K TTBR0 and a 64K TTBR1 coexist.
 *
 * <p>Where the architecture leaves a choice to the implementation, the choice QEMU makes is taken,
 * so that QEMU can serve as an oracle: a TxSZ below the minimum (AArch64.S1MinTxSZ) makes every
 * walk of that half a level 0 translation fault (AArch64.S1TxSZFaults: required with FEAT_LVA,
 * otherwise IMPLEMENTATION DEFINED, and QEMU faults), one above the maximum is clamped to it (39,
 * 48/47 with FEAT_TTST); a reserved or unimplemented TGn encoding selects the 4K granule.
 *
 * <p>With TCR2_EL1.D128 on a CPU with FEAT_TCR2 and FEAT_D128 the EL1&amp;0 regime translates with
 * VMSAv9-128 descriptors (AArch64.S1TTWParamsEL10): 128-bit TTBRs (BADDR[55:48] in bits [87:80],
 * BADDR[47:5], SKL [2:1]), start levels down to -2, a 56-bit output size (PS 0b111), and permission
 * indirection always on (the effective value of TCR2_EL1.PIE is 1). The EL2&amp;0 regime does the same
 * with TCR2_EL2.D128 ({@link #el20(Registers, PermissionRegisters, CpuFeatures)}).
 */
public final class TranslationRegime {

    /**
     * Which translation regime the registers control: EL1&amp;0 (TCR_EL1 and friends), EL2 with
     * HCR_EL2.E2H = 0 (TCR_EL2 in its own layout, one VA range, no ASID, one privilege level) or
     * EL2&amp;0 with E2H = 1 (TCR_EL2 in the EL1 layout, TTBR0/TTBR1_EL2, ASIDs, EL0 and EL2).
     */
    public enum Kind {
        EL1_0, EL2, EL2_0;

        /** One VA range and one privilege level: AP[1], PXN, nG, PAN and the implied PXN do not apply. */
        public boolean singleRange() { return this == EL2; }

        /** Whether an access at EL{@code el} is translated by this regime. */
        public boolean serves(int el) {
            return switch (this) {
                case EL1_0 -> el == 0 || el == 1;
                case EL2 -> el == 2;
                case EL2_0 -> el == 0 || el == 2;
            };
        }
    }

    /**
     * One half (TTBR0 or TTBR1).
     *
     * @param geometry the geometry the half's tables have (descriptor format included)
     * @param format   descriptor decoding for it
     * @param root     start-level table address (TTBR BADDR)
     * @param epd      EPDn: a TLB miss faults instead of walking
     * @param tbi      TBIn: the top byte is ignored for addresses in this half
     * @param hpd      HPDn: hierarchical permissions (APTable, XNTable, PXNTable) disabled
     * @param skl      VMSAv9-128 only: TTBRn_EL1.SKL, the levels the walk skips at its start
     *                 (AArch64.S1StartLevel adds it to the level TxSZ gives); 0 for VMSAv8-64
     * @param disableContiguous VMSAv9-128 only: TCR2_EL1.DisCHn, the Contiguous bit of a leaf in the
     *                 start-level table is ignored (deeper leaves follow their table's DisCH bit)
     */
    public record Half(Geometry geometry, DescriptorFormat format, long root, boolean epd, boolean tbi, boolean hpd,
                       int skl, boolean disableContiguous, String txszFault) {

        /** A VMSAv8-64 half. */
        public Half(Geometry geometry, DescriptorFormat format, long root, boolean epd, boolean tbi, boolean hpd) {
            this(geometry, format, root, epd, tbi, hpd, 0, false, null);
        }

        /** A half whose TxSZ is in range. */
        public Half(Geometry geometry, DescriptorFormat format, long root, boolean epd, boolean tbi, boolean hpd,
                    int skl, boolean disableContiguous) {
            this(geometry, format, root, epd, tbi, hpd, skl, disableContiguous, null);
        }

        /** Whether a TLB miss walks: not with EPDn set, nor with TxSZ below the minimum ({@link #txszFault}). */
        public boolean walks() { return !epd && txszFault == null; }

        /** The level the walk starts at: the geometry's, after TTBR.SKL's skipped levels (may exceed 3). */
        public int startLevel() { return geometry.startLevel() + skl; }
    }

    /**
     * TCR2_EL1 fields beside PIE/POE (Arm ARM, TCR2_EL1): AIE [4], D128 [5], HAFT [11], DisCH0 [14],
     * DisCH1 [15], A2 [16], FNG0 [17], FNG1 [18].
     */
    static final long TCR2_PNCH = 1L, TCR2_AIE = 1L << 4, TCR2_HAFT = 1L << 11, TCR2_DISCH0 = 1L << 14, TCR2_DISCH1 = 1L << 15,
            TCR2_A2 = 1L << 16, TCR2_FNG0 = 1L << 17, TCR2_FNG1 = 1L << 18;

    /**
     * TCR2_EL2's fields when HCR_EL2.E2H is 0 (Arm ARM, TCR2_EL2 when !ELIsInHost(EL2)) that the model
     * reads: PnCH [0], PIE [1], POE [3], AIE [4], HAFT [11]. Bit 2 (E0POE) and bits [9:5] (D128) are
     * RES0 there, and so are [63:13] (DisCH0/1, A2, FNG0/1).
     */
    static final long TCR2_EL2_E2H0_FIELDS = TCR2_PNCH | IndirectPermissions.TCR2_PIE | IndirectPermissions.TCR2_POE
            | TCR2_AIE | TCR2_HAFT;

    private final Registers registers;
    private final PermissionRegisters permissionRegisters;
    // PIE/POE rights of leaves, or null when the CPU or TCR2_EL1 leaves both off (direct AP/UXN/PXN).
    private final IndirectPermissions indirectPermissions;
    private final Half lower;
    private final Half upper;
    private final int paBits;
    private final int cpuPaBits;
    private final int asid;
    private final Kind kind;
    // TCR2_EL1.D128 in effect: VMSAv9-128 descriptors in both halves.
    private final boolean d128;
    // TCR2_EL1.AIE in effect: AttrIndx has four bits, 8..15 select MAIR2_EL1.
    private final boolean aie;
    // TCR2_EL1.HAFT in effect (FEAT_HAFT, with TCR_EL1.HA): a walk sets AF (bit 10) in the table
    // descriptors it passes through.
    private final boolean haft;
    // TCR2_EL1.PnCH in effect (FEAT_THE, VMSAv8-64 only): leaf bit 52 is the Protected bit, not Contiguous.
    private final boolean protectedAttribute;
    // TCR2_EL1.FNG0/FNG1 in effect (FEAT_ASID2): every leaf of that half is taken as nG = 1.
    private final boolean forceNonGlobalLower;
    private final boolean forceNonGlobalUpper;
    // The ASID each half's translations are tagged with: both TCR.A1's choice, or with TCR2_EL1.A2
    // (FEAT_ASID2) TTBR0's for the lower half and TTBR1's for the upper.
    private final int lowerAsid;
    private final int upperAsid;

    /** The EL1&amp;0 regime: TCR_EL1, TTBR0/1_EL1, MAIR_EL1, SCTLR_EL1, PSTATE.PAN. */
    public TranslationRegime(Registers r, CpuFeatures cpu) {
        this(r, PermissionRegisters.NONE, cpu, Kind.EL1_0);
    }

    /**
     * With TCR2_EL1, PIR_EL1, PIRE0_EL1, POR_EL1 and POR_EL0 as well: TCR2_EL1.PIE (FEAT_S1PIE) and
     * POE/E0POE (FEAT_S1POE) are read where the CPU implements them (ID_AA64MMFR3_EL1), and are 0
     * otherwise, as AArch64.S1TTWParamsEL10 reads them. TCR2_EL1.D128 (FEAT_D128) selects VMSAv9-128
     * translation with TTBR0/1_EL1 as 128-bit values ({@link Registers#ttbr0High()}), and turns
     * permission indirection on whatever TCR2_EL1.PIE says; TCR2_EL1.AIE (FEAT_AIE) gives AttrIndx a
     * fourth bit that selects MAIR2_EL1 (bit 5 of a VMSAv9-128 leaf, bit 59 of a VMSAv8-64 one).
     * TCR2_EL1.HAFT (FEAT_HAFT) sets table descriptors' Access flag on a walk; TCR2_EL1.FNG0/FNG1 and
     * A2 (FEAT_ASID2) force non-global leaves per half and give each half its own TTBR's ASID.
     */
    public TranslationRegime(Registers r, PermissionRegisters p, CpuFeatures cpu) {
        this(r, p, cpu, Kind.EL1_0);
    }

    /**
     * The EL2 regime with HCR_EL2.E2H = 0: TCR_EL2 in its own layout (T0SZ [5:0], IRGN0/ORGN0/SH0
     * [13:8], TG0 [15:14], PS [18:16], TBI [20], HA [21], HD [22], HPD [24], DS [32]), TTBR0_EL2
     * (no ASID field), MAIR_EL2, SCTLR_EL2 (M, WXN). PSTATE.PAN does not apply. No TCR2_EL2.
     */
    public static TranslationRegime el2(long tcrEl2, long ttbr0El2, long mairEl2, long sctlrEl2, CpuFeatures cpu) {
        return el2(tcrEl2, ttbr0El2, mairEl2, sctlrEl2, 0, PermissionRegisters.NONE, cpu);
    }

    /**
     * The EL2 regime with HCR_EL2.E2H = 0 and its TCR2 registers: {@code el2Permissions} holds TCR2_EL2,
     * PIR_EL2 and POR_EL2 (in the {@code porEl1} component); its {@code pire0} and {@code porEl0} are not
     * read, as the regime has no unprivileged level. {@code mair2El2} is MAIR2_EL2.
     *
     * <p>AArch64.S1TTWParamsEL2 reads TCR2_EL2 in its E2H = 0 layout, each field where the CPU has its
     * feature: PnCH [0] (FEAT_THE: bit 52 of a leaf is the Protected bit, not Contiguous), PIE [1]
     * (FEAT_S1PIE, rights from PIR_EL2 alone), POE [3] (FEAT_S1POE, POR_EL2), AIE [4] (FEAT_AIE,
     * MAIR2_EL2) and HAFT [11] (FEAT_HAFT, with TCR_EL2.HA). The other bits are RES0 in that layout:
     * there is no E0POE, no DisCH, A2 or FNG, and no D128 — S1TTWParamsEL2 never sets walkparams.d128,
     * so the EL2 regime with E2H = 0 has VMSAv8-64 tables only.
     */
    public static TranslationRegime el2(long tcrEl2, long ttbr0El2, long mairEl2, long sctlrEl2, long mair2El2,
                                        PermissionRegisters el2Permissions, CpuFeatures cpu) {
        PermissionRegisters p = new PermissionRegisters(el2Permissions.tcr2() & TCR2_EL2_E2H0_FIELDS,
                el2Permissions.pir(), 0, el2Permissions.porEl1(), 0);
        return new TranslationRegime(new Registers(el1LayoutOf(tcrEl2), ttbr0El2 & 0x0000_FFFF_FFFF_FFFFL, 0, mairEl2,
                sctlrEl2, false, 0, 0, mair2El2), p, cpu, Kind.EL2);
    }

    /**
     * The EL2&amp;0 regime with HCR_EL2.E2H = 1: TCR_EL2 has the TCR_EL1 layout, TTBR0/TTBR1_EL2
     * carry ASIDs, so {@code el2} holds TCR_EL2, TTBR0_EL2, TTBR1_EL2, MAIR_EL2, SCTLR_EL2, PSTATE.PAN.
     */
    public static TranslationRegime el20(Registers el2, CpuFeatures cpu) {
        return new TranslationRegime(el2, PermissionRegisters.NONE, cpu, Kind.EL2_0);
    }

    /**
     * The EL2&amp;0 regime with its TCR2 registers: {@code el2Permissions} holds TCR2_EL2, PIR_EL2,
     * PIRE0_EL2, POR_EL2 and POR_EL0. With E2H = 1, TCR2_EL2 has TCR2_EL1's layout and
     * AArch64.S1TTWParamsEL20 reads it as AArch64.S1TTWParamsEL10 reads TCR2_EL1: D128 (VMSAv9-128 with
     * 128-bit TTBR0/TTBR1_EL2, {@link Registers#ttbr0High()}), PIE, POE/E0POE, AIE (MAIR2_EL2 in
     * {@link Registers#mair2()}), DisCH0/1, HAFT, FNG0/1, A2 and PnCH, each where the CPU has the
     * feature. The EL2 regime with E2H = 0 reads fewer of TCR2_EL2's fields
     * ({@link #el2(long, long, long, long, long, PermissionRegisters, CpuFeatures)}).
     */
    public static TranslationRegime el20(Registers el2, PermissionRegisters el2Permissions, CpuFeatures cpu) {
        return new TranslationRegime(el2, el2Permissions, cpu, Kind.EL2_0);
    }

    /**
     * TCR_EL2 (E2H = 0) rewritten in the TCR_EL1 layout the walk decodes: its fields moved to the
     * TTBR0 half's positions, and the TTBR1 half shut off (EPD1), as there is no upper range. Bits
     * 6 and 7 are RES0 in TCR_EL2 (there is no EPD0) and are dropped.
     */
    static long el1LayoutOf(long tcrEl2) {
        long t = tcrEl2 & 0xFF3FL;                  // T0SZ, IRGN0, ORGN0, SH0, TG0
        t |= (tcrEl2 >>> 16 & 7) << 32;             // PS -> IPS
        t |= (tcrEl2 >>> 20 & 1) << 37;             // TBI -> TBI0
        t |= (tcrEl2 >>> 21 & 1) << 39;             // HA
        t |= (tcrEl2 >>> 22 & 1) << 40;             // HD
        t |= (tcrEl2 >>> 24 & 1) << 41;             // HPD -> HPD0
        t |= (tcrEl2 >>> 32 & 1) << 59;             // DS
        return t | 1L << 23 | (tcrEl2 & 0x3F) << 16 | 0b10L << 30; // EPD1; T1SZ, TG1 4K: never walked
    }

    private TranslationRegime(Registers r, PermissionRegisters p, CpuFeatures cpu, Kind kind) {
        this.kind = kind;
        this.registers = r;
        this.permissionRegisters = p;
        this.cpuPaBits = cpu.paBits();
        // EL1&0 reads TCR2_EL1, EL2&0 TCR2_EL2 in the same layout; EL2 (E2H = 0) TCR2_EL2 with only the
        // fields of its own layout (el2 masks the others: they are RES0 there, D128 included).
        this.d128 = kind != Kind.EL2 && cpu.supportsTcr2() && cpu.supportsD128()
                && (p.tcr2() & IndirectPermissions.TCR2_D128) != 0;
        // AIE as written, under D128 too: TCR2_ELx.AIE is RES1 when D128 is 1 (software writes 1), but
        // AArch64.S1TTWParamsEL10/EL20 take walkparams.aie = TCR2_ELx.AIE with no D128 override (unlike
        // pie, which they force to 1), and S1NextWalkStateLeaf reads AttrIndx[3] only when aie is 1.
        this.aie = cpu.supportsAie() && (p.tcr2() & TCR2_AIE) != 0;
        // AArch64.S1TTWParamsEL10/EL20/EL2: pnch = TCR2.PnCH where FEAT_THE is implemented and d128 is 0.
        this.protectedAttribute = !d128 && cpu.supportsThe() && (p.tcr2() & TCR2_PNCH) != 0;
        // AArch64.S1TTWParamsEL10: haft = TCR2_EL1.HAFT where FEAT_HAFT is implemented and walkparams.ha
        // is 1; fng = TCR2_EL1.FNG0 (lower range) or FNG1 (upper) where FEAT_ASID2 is implemented.
        this.haft = cpu.supportsHaft() && Registers.ha(r.tcr()) && (p.tcr2() & TCR2_HAFT) != 0;
        boolean asid2 = kind != Kind.EL2 && cpu.supportsAsid2();
        this.forceNonGlobalLower = asid2 && (p.tcr2() & TCR2_FNG0) != 0;
        this.forceNonGlobalUpper = asid2 && (p.tcr2() & TCR2_FNG1) != 0;
        boolean twoAsids = asid2 && (p.tcr2() & TCR2_A2) != 0;
        long tcr2 = (cpu.supportsS1pie() ? p.tcr2() & IndirectPermissions.TCR2_PIE : 0)
                | (cpu.supportsS1poe() ? p.tcr2() & (IndirectPermissions.TCR2_POE | IndirectPermissions.TCR2_E0POE) : 0)
                | (d128 ? IndirectPermissions.TCR2_D128 : 0);
        this.indirectPermissions = tcr2 == 0 ? null
                : IndirectPermissions.of(tcr2, p.pir(), p.pire0(), p.porEl1(), p.porEl0());
        long tcr = r.tcr();
        boolean ds = Registers.ds(tcr);
        int ips = Geometry.decodePaBits(Registers.ips(tcr));
        int pa = Math.min(ips < 0 ? cpu.paBits() : ips, cpu.paBits());
        if (d128) {
            // AArch64.PhysicalAddressSize with d128: min(PS, PAMax), up to 56 bits.
            this.lower = half128(Granule.fromTg0(Registers.tg0(tcr)), Registers.t0sz(tcr), ds, r.ttbr0(), r.ttbr0High(),
                    Registers.epd0(tcr), Registers.tbi0(tcr), Registers.hpd0(tcr), Registers.sh0(tcr),
                    (p.tcr2() & TCR2_DISCH0) != 0, cpu);
            this.upper = half128(Granule.fromTg1(Registers.tg1(tcr)), Registers.t1sz(tcr), ds, r.ttbr1(), r.ttbr1High(),
                    Registers.epd1(tcr), Registers.tbi1(tcr), Registers.hpd1(tcr), Registers.sh1(tcr),
                    (p.tcr2() & TCR2_DISCH1) != 0, cpu);
            this.paBits = pa;
        } else {
            // AArch64.S1TTWParamsEL10 sets walkparams.hpd to 1 when AIE, PIE or POE is on: with AIE, bit
            // 59 of a leaf is AttrIndx[3] and the tables' hierarchical permission bits are not used.
            // (PIE/POE are applied by IndirectPermissions.ignoresTablePermissions.)
            this.lower = half(granule(Granule.fromTg0(Registers.tg0(tcr)), cpu), Registers.t0sz(tcr), ds, pa, r.ttbr0(),
                    Registers.epd0(tcr), Registers.tbi0(tcr), Registers.hpd0(tcr) || aie, Registers.sh0(tcr), cpu);
            this.upper = half(granule(Granule.fromTg1(Registers.tg1(tcr)), cpu), Registers.t1sz(tcr), ds, pa, r.ttbr1(),
                    Registers.epd1(tcr), Registers.tbi1(tcr), Registers.hpd1(tcr) || aie, Registers.sh1(tcr), cpu);
            this.paBits = pa;
        }
        int asidMask = Registers.as(tcr) ? 0xFFFF : 0xFF;
        long ttbr = Registers.a1(tcr) ? r.ttbr1() : r.ttbr0();
        this.asid = kind == Kind.EL2 ? 0 : (int) (ttbr >>> 48) & asidMask;
        // AArch64.GetS1TLBContext for EL1&0: with FEAT_ASID2 and TCR2_EL1.A2 the ASID comes from the
        // TTBR of the VA's range, TCR_EL1.A1 notwithstanding.
        this.lowerAsid = twoAsids ? (int) (r.ttbr0() >>> 48) & asidMask : asid;
        this.upperAsid = twoAsids ? (int) (r.ttbr1() >>> 48) & asidMask : asid;
    }

    public Kind kind() { return kind; }

    private static Granule granule(Granule requested, CpuFeatures cpu) {
        return requested != null && cpu.supports(requested) ? requested : Granule.FOUR_K;
    }

    private static Half half(Granule g, int txsz, boolean ds, int paBits, long ttbr, boolean epd, boolean tbi,
                             boolean hpd, int sh, CpuFeatures cpu) {
        boolean lpa2 = ds && g != Granule.SIXTY_FOUR_K && cpu.supportsLpa2(g);
        boolean wideVa = lpa2 || (g == Granule.SIXTY_FOUR_K && cpu.supportsLva());
        // AArch64.S1MinTxSZ: 12 with LPA2 or 64K with LVA, else 16; below it every walk faults
        // (txszFault). Above the maximum (39, or with FEAT_TTST 48, 47 for 64K, which keeps one level
        // of table) TxSZ is clamped.
        int minTxsz = wideVa ? 12 : 16;
        int maxTxsz = !cpu.supportsTtst() ? 39 : g == Granule.SIXTY_FOUR_K ? 47 : 48;
        int vaBits = 64 - Math.max(minTxsz, Math.min(txsz, maxTxsz));
        // The geometry's PA size is the descriptors' form, not the regime's output size (checked
        // against paBits by the walk). Without DS the 4K and 16K descriptors carry 48 OA bits at
        // most; with DS they are the 52-bit form even for a smaller PA size (the geometry's lpa2
        // flag). For 64K the form follows the CPU, not TCR.IPS: on a CPU with a 52-bit PARange
        // bits [15:12] are OA[51:48] (AArch64.LeafBase, NextTableBase) and level 1 holds 4T blocks
        // (AArch64.BlockDescSupported asks AArch64.PAMax()), even under a 48-bit IPS.
        int descriptorPa = g == Granule.SIXTY_FOUR_K ? (cpu.paBits() >= 52 ? 52 : Math.min(paBits, 48))
                : lpa2 ? 52 : Math.min(paBits, 48);
        Geometry geometry = Geometry.of(g, vaBits, lpa2 ? 52 : descriptorPaSize(descriptorPa));
        DescriptorFormat format = new Vmsa64Format(geometry, Shareability.decode(sh));
        // TTBR bits [5:2] are BADDR[51:48] with DS, or for 64K under a 52-bit PA size
        // (AArch64.S1TTBaseAddress: ps = 0b110 with FEAT_LPA); otherwise below the table alignment.
        boolean wideBaddr = lpa2 || (g == Granule.SIXTY_FOUR_K && paBits == 52);
        long root = ttbr & 0x0000_FFFF_FFFF_FFFEL;
        long align = Math.max(geometry.tableBytes(geometry.startLevel()), wideBaddr ? 64 : 8);
        root &= -align;
        if (wideBaddr) root = (root & 0x0000_FFFF_FFFF_FFC0L) | ((ttbr >>> 2 & 0xF) << 48);
        return new Half(geometry, format, root, epd, tbi, hpd, 0, false, txszFault(txsz, minTxsz));
    }

    /** AArch64.S1TxSZFaults below the minimum, as a fault's detail, or null. */
    private static String txszFault(int txsz, int minTxsz) {
        return txsz < minTxsz ? "TxSZ = " + txsz + " is below the minimum " + minTxsz + " (AArch64.S1TxSZFaults)" : null;
    }

    /**
     * A VMSAv9-128 half (AArch64.S1TTWParamsEL10, S1StartLevel, S1TTBaseAddress with d128 = 1). TxSZ
     * follows the VMSAv8-64 rule: below AArch64.S1MinTxSZ every walk is a level 0 translation fault, above
     * 39 it is clamped. The minimum is 9 with FEAT_LVA3 (a 55-bit VA: bit 55 selects the TTBR), 12 for
     * 64K with FEAT_LVA or with DS, else 16.
     * FEAT_TTST's larger TxSZ is not modelled for VMSAv9-128 (the geometry stops at 25 VA bits).
     */
    private static Half half128(Granule requested, int txsz, boolean ds, long ttbr, long ttbrHigh, boolean epd,
                                boolean tbi, boolean hpd, int sh, boolean disch, CpuFeatures cpu) {
        Granule g = granule(requested, cpu);
        boolean dsEffective = ds && g != Granule.SIXTY_FOUR_K && cpu.supportsLpa2(g);
        int minTxsz = cpu.vaRange() >= 0b0010 ? 9 : (g == Granule.SIXTY_FOUR_K && cpu.supportsLva()) || dsEffective ? 12 : 16;
        int vaBits = 64 - Math.max(minTxsz, Math.min(txsz, 39));
        Geometry geometry = Geometry.of(g, TranslationFormat.D128, vaBits, 56);
        int skl = (int) (ttbr >>> 1 & 3);
        // The start-level table holds every VA bit above the (skipped-to) start level: aligned to its
        // size, at least 32 bytes (BADDR starts at bit 5).
        int startLevel = geometry.startLevel() + skl;
        int stride = g.pageShift() - 4;
        int tableShift = Math.max(5, vaBits - ((3 - startLevel) * stride + g.pageShift()) + 4);
        long root = (ttbrHigh >>> 16 & 0xFF) << 48 | (ttbr & 0x0000_FFFF_FFFF_FFE0L);
        root &= tableShift >= 56 ? 0 : -(1L << tableShift);
        return new Half(geometry, new Vmsa128Format(geometry), root, epd, tbi, hpd, skl, disch, txszFault(txsz, minTxsz));
    }

    /** A PA size Geometry accepts (its list of architectural sizes) at or above {@code bits}. */
    private static int descriptorPaSize(int bits) {
        for (int size : new int[]{32, 36, 40, 42, 44, 48, 52}) if (size >= bits) return size;
        return 52;
    }

    public Registers registers() { return registers; }

    public PermissionRegisters permissionRegisters() { return permissionRegisters; }

    /** The PIE/POE evaluator when TCR2_EL1 turns either on (and the CPU has it), else null. */
    IndirectPermissions indirectPermissions() { return indirectPermissions; }

    /** TCR2_EL1.PIE in effect: leaves take their rights from PIR_EL1/PIRE0_EL1 by PIIndex. */
    public boolean permissionIndirection() { return indirectPermissions != null && indirectPermissions.enabled(); }

    /** TCR2_EL1.POE or E0POE in effect: POR_EL1/POR_EL0 narrow the rights by POIndex. */
    public boolean permissionOverlays() {
        return indirectPermissions != null
                && (indirectPermissions.privilegedOverlays() || indirectPermissions.unprivilegedOverlays());
    }

    public Half lower() { return lower; }

    public Half upper() { return upper; }

    /** The output address size: min(TCR.IPS, PARange). */
    public int paBits() { return paBits; }

    /** The CPU's PA size (ID_AA64MMFR0_EL1.PARange, the Arm ARM's AArch64.PAMax()). */
    public int cpuPaBits() { return cpuPaBits; }

    /** The current ASID (from TTBR1 if TCR.A1, 8 or 16 bits per TCR.AS); 0 for EL2, which has none. */
    public int asid() { return asid; }

    /**
     * The ASID the translations of one half are tagged with: {@link #asid()}, or with TCR2_EL1.A2
     * (FEAT_ASID2) the ASID of that half's own TTBR.
     */
    public int asid(boolean upperHalf) { return upperHalf ? upperAsid : lowerAsid; }

    /**
     * TCR2_EL1.FNG0 (lower half) or FNG1 (upper half) in effect (FEAT_ASID2): the half's leaves are
     * non-global whatever their nG bit says (AArch64.S1NextWalkStateLeaf), so they are tagged with the
     * ASID in the TLB and a TLBI by ASID removes them.
     */
    public boolean forceNonGlobal(boolean upperHalf) { return upperHalf ? forceNonGlobalUpper : forceNonGlobalLower; }

    /**
     * TCR2_EL1.HAFT in effect (FEAT_HAFT, and TCR_EL1.HA): a walk sets the Access flag, bit 10, of each
     * table descriptor it uses (AArch64.S1Walk), in VMSAv8-64 and VMSAv9-128 tables alike.
     */
    public boolean hardwareTableAccessFlag() { return haft; }

    /**
     * TCR2_ELx.PnCH in effect (FEAT_THE, VMSAv8-64 tables): bit 52 of a stage-1 leaf is the Protected
     * attribute and the leaf has no Contiguous bit (AArch64.S1NextWalkStateLeaf: contiguous = 0 when
     * walkparams.pnch is 1).
     */
    public boolean protectedAttribute() { return protectedAttribute; }

    public boolean hardwareAccessFlag() { return Registers.ha(registers.tcr()); }

    public boolean hardwareDirty() { return Registers.hd(registers.tcr()) && hardwareAccessFlag(); }

    public boolean mmuEnabled() { return registers.mmuEnabled(); }

    public boolean wxn() { return registers.wxn(); }

    public boolean pan() { return registers.pan(); }

    /** The MAIR_EL1 attribute byte for AttrIndx {@code index}; 8..15 read MAIR2_EL1 (FEAT_AIE). */
    public int mairAttr(int index) {
        return (int) ((index < 8 ? registers.mair() : registers.mair2()) >>> (8 * (index & 7))) & 0xFF;
    }

    /** TCR2_EL1.D128 in effect: both halves hold VMSAv9-128 tables. */
    public boolean d128() { return d128; }

    /**
     * TCR2_EL1.AIE in effect: leaves carry AttrIndx[3], in bit 5 of a VMSAv9-128 descriptor and bit
     * 59 of a VMSAv8-64 one, and the VMSAv8-64 tables' hierarchical permissions are disabled.
     */
    public boolean attributeIndexExtension() { return aie; }

    /**
     * The AttrIndx of a stage-1 leaf whose bits [63:0] are {@code lo}: AttrIndx[2:0] in [4:2], and
     * with AIE AttrIndx[3] in bit 5 (VMSAv9-128) or bit 59 (VMSAv8-64, where bit 59 is otherwise
     * PBHA[0]), as AArch64.S1NextWalkStateLeaf reads them.
     */
    public int attrIndex(long lo) {
        int index = (int) (lo >>> 2) & 7;
        if (!aie) return index;
        return index | (int) (lo >>> (d128 ? 5 : 59) & 1) << 3;
    }
}
