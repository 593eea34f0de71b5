package dev.granule.geometry;

/**
 * The memory-model ID registers that decide which geometries a CPU can run, decoded as the Arm ARM
 * defines their fields:
 * <ul>
 *   <li>ID_AA64MMFR0_EL1: PARange [3:0], TGran16 [23:20], TGran64 [27:24], TGran4 [31:28];</li>
 *   <li>ID_AA64MMFR2_EL1: VARange [19:16];</li>
 *   <li>ID_AA64MMFR3_EL1: TCRX [3:0] (FEAT_TCR2), S1PIE [11:8], S2PIE [15:12], S1POE [19:16], S2POE [23:20], AIE [27:24] (FEAT_AIE), D128 [35:32] (FEAT_D128);</li>
 *   <li>ID_AA64MMFR1_EL1: HAFDBS [3:0] (0b0011: FEAT_HAFT, the hardware Access flag of table descriptors);</li>
 *   <li>ID_AA64MMFR4_EL1: ASID2 [11:8] (FEAT_ASID2: TCR2_EL1.A2, FNG0, FNG1);</li>
 *   <li>ID_AA64PFR1_EL1: THE [51:48] (FEAT_THE: TCR2_ELx.PnCH, bit 52 of a VMSAv8-64 leaf as the Protected bit).</li>
 * </ul>
 * The last three are the record's last components, so that a CPU named by MMFR0/2/3 alone (the
 * three-argument constructor) has none of those features, as a CPU before Armv8.9 has not.
 */
public record CpuFeatures(long idAa64mmfr0, long idAa64mmfr2, long idAa64mmfr3, long idAa64mmfr1, long idAa64mmfr4,
                          long idAa64pfr1) {

    /** A CPU described by the four MMFRs: ID_AA64PFR1_EL1 reads 0 (no FEAT_THE). */
    public CpuFeatures(long idAa64mmfr0, long idAa64mmfr2, long idAa64mmfr3, long idAa64mmfr1, long idAa64mmfr4) {
        this(idAa64mmfr0, idAa64mmfr2, idAa64mmfr3, idAa64mmfr1, idAa64mmfr4, 0);
    }

    /** A CPU described by MMFR0, MMFR2 and MMFR3 only: MMFR1 and MMFR4 read 0 (no HAFDBS, no ASID2). */
    public CpuFeatures(long idAa64mmfr0, long idAa64mmfr2, long idAa64mmfr3) {
        this(idAa64mmfr0, idAa64mmfr2, idAa64mmfr3, 0, 0);
    }

    /**
     * A CPU implementing every feature granule models: all granules with 52-bit forms, 52-bit PA,
     * 56-bit VA (FEAT_LVA3), FEAT_TCR2, FEAT_S1PIE/S2PIE, FEAT_S1POE/S2POE, FEAT_AIE, FEAT_D128, FEAT_HAFT
     * (HAFDBS 0b0011), FEAT_ASID2 and FEAT_THE. Used when no CPU is named.
     */
    public static final CpuFeatures ALL = new CpuFeatures(
            field(0, 0b0111) | field(20, 0b0010) | field(24, 0b0000) | field(28, 0b0001),
            field(16, 0b0010) | field(28, 0b0001),
            field(0, 0b0001) | field(8, 0b0001) | field(12, 0b0001) | field(16, 0b0001) | field(20, 0b0001)
                    | field(24, 0b0001) | field(32, 0b0001),
            field(0, 0b0011),
            field(8, 0b0001),
            field(48, 0b0001));

    private static long field(int lsb, long value) {
        return value << lsb;
    }

    private static int get(long reg, int lsb) {
        return (int) ((reg >>> lsb) & 0xF);
    }

    public int paRange() { return get(idAa64mmfr0, 0); }
    public int tgran16() { return get(idAa64mmfr0, 20); }
    public int tgran64() { return get(idAa64mmfr0, 24); }
    public int tgran4() { return get(idAa64mmfr0, 28); }
    public int vaRange() { return get(idAa64mmfr2, 16); }
    /** ID_AA64MMFR2_EL1.ST: FEAT_TTST, small translation tables (TxSZ above 39). */
    public int smallTranslationTables() { return get(idAa64mmfr2, 28); }
    public int d128() { return get(idAa64mmfr3, 32); }
    /** ID_AA64MMFR3_EL1.TCRX: FEAT_TCR2, the TCR2_ELx registers. */
    public int tcrx() { return get(idAa64mmfr3, 0); }
    /** ID_AA64MMFR3_EL1.S1PIE: FEAT_S1PIE, stage-1 permission indirection. */
    public int s1pie() { return get(idAa64mmfr3, 8); }
    /** ID_AA64MMFR3_EL1.S1POE: FEAT_S1POE, stage-1 permission overlays. */
    public int s1poe() { return get(idAa64mmfr3, 16); }
    /** ID_AA64MMFR3_EL1.S2PIE: FEAT_S2PIE, stage-2 permission indirection. */
    public int s2pie() { return get(idAa64mmfr3, 12); }
    /** ID_AA64MMFR3_EL1.S2POE: FEAT_S2POE, stage-2 permission overlays. */
    public int s2poe() { return get(idAa64mmfr3, 20); }

    /** ID_AA64MMFR1_EL1.HAFDBS: 0b0001 Access flag, 0b0010 and dirty state, 0b0011 and table Access flag (FEAT_HAFT). */
    public int hafdbs() { return get(idAa64mmfr1, 0); }
    /** ID_AA64MMFR4_EL1.ASID2: FEAT_ASID2, two ASIDs at once and forced non-global translations. */
    public int asid2() { return get(idAa64mmfr4, 8); }

    /** Implemented PA size in bits, per PARange; reserved encodings are reported as the largest defined. */
    public int paBits() {
        int bits = Geometry.decodePaBits(paRange());
        return bits < 0 ? 56 : bits;
    }

    public boolean supports(Granule granule) {
        return switch (granule) {
            case FOUR_K -> tgran4() != 0b1111;     // 0b0000 supported, 0b0001 with 52-bit
            case SIXTEEN_K -> tgran16() != 0b0000;  // 0b0001 supported, 0b0010 with 52-bit
            case SIXTY_FOUR_K -> tgran64() == 0b0000;
        };
    }

    /** FEAT_LPA2 for this granule: 52-bit VA and PA through TCR.DS=1. */
    public boolean supportsLpa2(Granule granule) {
        return switch (granule) {
            case FOUR_K -> tgran4() == 0b0001;
            case SIXTEEN_K -> tgran16() == 0b0010;
            case SIXTY_FOUR_K -> false;
        };
    }

    /** FEAT_LVA (64K granule) or FEAT_LVA3. */
    public boolean supportsLva() {
        return vaRange() >= 0b0001;
    }

    /** FEAT_TTST: TxSZ up to 48 (4K, 16K) or 47 (64K) instead of 39. */
    public boolean supportsTtst() {
        return smallTranslationTables() >= 0b0001;
    }

    /** FEAT_TCR2: TCR2_EL1 exists (without it every TCR2_EL1 field reads as 0). */
    public boolean supportsTcr2() {
        return tcrx() >= 0b0001;
    }

    /** FEAT_S1PIE (with FEAT_TCR2, which holds its enable TCR2_EL1.PIE). */
    public boolean supportsS1pie() {
        return supportsTcr2() && s1pie() >= 0b0001;
    }

    /** FEAT_S1POE (with FEAT_TCR2, which holds its enables TCR2_EL1.POE and E0POE). */
    public boolean supportsS1poe() {
        return supportsTcr2() && s1poe() >= 0b0001;
    }

    /** FEAT_S2PIE: VTCR_EL2.S2PIE and S2PIR_EL2. */
    public boolean supportsS2pie() {
        return s2pie() >= 0b0001;
    }

    /** FEAT_S2POE: VTCR_EL2.S2POE and S2POR_EL1. */
    public boolean supportsS2poe() {
        return s2poe() >= 0b0001;
    }

    /** ID_AA64MMFR3_EL1.AIE: FEAT_AIE, MAIR2_ELx and the fourth AttrIndx bit (with FEAT_TCR2, which holds TCR2_EL1.AIE). */
    public boolean supportsAie() {
        return supportsTcr2() && get(idAa64mmfr3, 24) >= 0b0001;
    }

    /** FEAT_D128 (with FEAT_TCR2, which holds its enable TCR2_EL1.D128). */
    public boolean supportsD128() {
        return d128() >= 0b0001;
    }

    /** FEAT_HAFT (HAFDBS 0b0011, with FEAT_TCR2, which holds its enable TCR2_EL1.HAFT). */
    public boolean supportsHaft() {
        return supportsTcr2() && hafdbs() >= 0b0011;
    }

    /**
     * FEAT_HAFT for stage 2 (VTCR_EL2.HAFT, which needs no TCR2): HAFDBS 0b0011. Every CPU with
     * FEAT_HAFT has FEAT_TCR2 (FEAT_HAFT requires FEAT_HAFDBS and is an Armv8.9 feature).
     */
    public boolean supportsStage2Haft() {
        return hafdbs() >= 0b0011;
    }

    /** FEAT_ASID2 (with FEAT_TCR2, which holds TCR2_EL1.A2, FNG0 and FNG1). */
    public boolean supportsAsid2() {
        return supportsTcr2() && asid2() >= 0b0001;
    }

    /** ID_AA64PFR1_EL1.THE: FEAT_THE, the Translation Hardening Extension. */
    public int the() { return get(idAa64pfr1, 48); }

    /** FEAT_THE (with FEAT_TCR2, which holds PnCH): TCR2_ELx.PnCH makes leaf bit 52 the Protected bit. */
    public boolean supportsThe() {
        return supportsTcr2() && the() >= 0b0001;
    }

    /** Largest VA size this CPU can translate with {@code granule} in {@code format}. */
    public int maxVaBits(Granule granule, TranslationFormat format) {
        if (format == TranslationFormat.D128) {
            return vaRange() >= 0b0010 ? 56 : vaRange() == 0b0001 ? 52 : 48;
        }
        boolean wide = granule == Granule.SIXTY_FOUR_K ? supportsLva() : supportsLpa2(granule);
        return wide ? 52 : 48;
    }

    /** Largest PA size this CPU can output with {@code granule} in {@code format}. */
    public int maxPaBits(Granule granule, TranslationFormat format) {
        int pa = paBits();
        if (format == TranslationFormat.D64) {
            int formatMax = granule == Granule.SIXTY_FOUR_K || supportsLpa2(granule) ? 52 : 48;
            pa = Math.min(pa, formatMax);
        }
        return pa;
    }

    @Override
    public String toString() {
        return String.format("CpuFeatures[ID_AA64MMFR0_EL1=%#018x, ID_AA64MMFR1_EL1=%#018x, ID_AA64MMFR2_EL1=%#018x,"
                        + " ID_AA64MMFR3_EL1=%#018x, ID_AA64MMFR4_EL1=%#018x, ID_AA64PFR1_EL1=%#018x]",
                idAa64mmfr0, idAa64mmfr1, idAa64mmfr2, idAa64mmfr3, idAa64mmfr4, idAa64pfr1);
    }
}
