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
 * HCR_EL2, VTCR_EL2 and VTTBR_EL2 decoded once into what a stage-2 walk of EL1&amp;0 needs: the
 * translation of intermediate physical addresses (IPAs) under a VMID.
 *
 * <p>The start level comes from VTCR_EL2.SL0 (and SL2 for 4K with DS), not from T0SZ as at stage 1;
 * where it leaves more IPA bits than one table resolves, up to 16 tables are concatenated at the
 * start level. An SL0 the CPU does not implement (AArch64.S2InvalidSL) or one inconsistent with
 * T0SZ (AArch64.S2InconsistentSL) makes every stage-2 walk a translation fault at level 0: the
 * regime is still built, never an exception. A T0SZ below AArch64.S2MinTxSZ (an IPA wider than
 * PAMax allows: 48 bits for 4K and 16K without DS, else 52) is a level 0 translation fault too
 * (AArch64.S2TxSZFaults: required with FEAT_LPA, otherwise IMPLEMENTATION DEFINED, and QEMU faults),
 * as at stage 1; above the maximum it is clamped, and a reserved TG0 selects the 4K granule (QEMU's choices).
 *
 * <p>With VTCR_EL2.D128 [38] on a CPU with FEAT_D128 stage 2 uses VMSAv9-128 tables
 * (AArch64.NSS2TTWParams with d128 = 1): VTTBR_EL2 is 128 bits (BADDR[55:48] in [87:80], BADDR[47:5],
 * SKL [2:1], VMID [63:48]); SL0, SL2 and DS are RES0 and unused; the start level comes from T0SZ as at
 * stage 1 (AArch64.S2StartLevel), plus VTTBR_EL2.SKL, so no tables are concatenated; the output size is
 * min(PS, PARange) up to 56 bits; and permission indirection is always on (VTCR_EL2.S2PIE is RES1 with
 * D128): the rights come from S2PIR_EL2 by the leaf's PIIndex [118:115], and with VTCR_EL2.S2POE from
 * S2POR_EL1 by S2POIndex [124:121]. A T0SZ below AArch64.S2MinTxSZ is a level 0 translation fault (the
 * VMSAv8-64 rule); above 39 it is clamped (the VMSAv9-128 geometry has no FEAT_TTST tables).
 */
public final class Stage2Regime {

    // HCR_EL2 bits (Arm ARM D19, HCR_EL2).
    static final long HCR_VM = 1L, HCR_PTW = 1L << 2, HCR_DC = 1L << 12, HCR_TGE = 1L << 27, HCR_E2H = 1L << 34,
            HCR_FWB = 1L << 46;

    private final long hcr;
    private final Geometry geometry;
    private final DescriptorFormat format;
    // VTCR_EL2.D128 in effect: VMSAv9-128 stage-2 tables, VTTBR_EL2.SKL skipped at the start.
    private final boolean d128;
    private final int skl;
    private final int startLevel;
    private final int ipaBits;
    private final int paBits;
    private final long root;
    private final int vmid;
    private final String invalidReason;
    private final boolean ha;
    private final boolean hd;
    // VTCR_EL2.HAFT in effect (FEAT_HAFT, with VTCR_EL2.HA): the walk sets stage-2 table descriptors' AF.
    private final boolean haft;
    // S2PIR_EL2/S2POR_EL1 rights under VTCR_EL2.S2PIE, or null (S2AP/XN).
    private final Stage2IndirectPermissions indirectPermissions;

    /**
     * @param hcr   HCR_EL2 (VM [0], PTW [2], DC [12], TGE [27], E2H [34], FWB [46])
     * @param vtcr  VTCR_EL2 (T0SZ [5:0], SL0 [7:6], SH0 [13:12], TG0 [15:14], PS [18:16], VS [19],
     *              HA [21], HD [22], DS [32], SL2 [33], HAFT [44])
     * @param vttbr VTTBR_EL2 (VMID [63:48] or [55:48], BADDR [47:1] with [5:2] as BADDR[51:48], CnP [0])
     */
    public Stage2Regime(long hcr, long vtcr, long vttbr, CpuFeatures cpu) {
        this(hcr, vtcr, vttbr, 0, 0, cpu);
    }

    /**
     * With stage-2 permission indirection and overlays: VTCR_EL2.S2PIE [36] (FEAT_S2PIE) takes a leaf's
     * rights from {@code s2pir} by its PIIndex, and VTCR_EL2.S2POE [37] (FEAT_S2POE, with S2PIE)
     * narrows them by {@code s2por} and the S2POIndex; each is read only where the CPU has the feature.
     *
     * @param s2pir S2PIR_EL2
     * @param s2por S2POR_EL1
     */
    public Stage2Regime(long hcr, long vtcr, long vttbr, long s2pir, long s2por, CpuFeatures cpu) {
        this(hcr, vtcr, vttbr, 0, s2pir, s2por, cpu);
    }

    /**
     * With a 128-bit VTTBR_EL2, read when VTCR_EL2.D128 [38] (FEAT_D128) selects VMSAv9-128 stage-2 tables:
     * {@code vttbr} is bits [63:0] (VMID [63:48], BADDR[47:5], SKL [2:1], CnP [0]) and {@code vttbrHigh}
     * bits [127:64] (BADDR[55:48] in [87:80]). Without D128 the high half is not read.
     */
    public Stage2Regime(long hcr, long vtcr, long vttbr, long vttbrHigh, long s2pir, long s2por, CpuFeatures cpu) {
        this.hcr = hcr;
        this.d128 = cpu.supportsD128() && (vtcr >>> 38 & 1) != 0;
        // AArch64.NSS2TTWParams: s2pie is 1 with d128, else VTCR_EL2.S2PIE where FEAT_S2PIE is implemented.
        boolean s2pie = d128 || cpu.supportsS2pie() && (vtcr >>> 36 & 1) != 0;
        boolean s2poe = cpu.supportsS2poe() && (vtcr >>> 37 & 1) != 0;
        this.indirectPermissions = s2pie ? Stage2IndirectPermissions.of(s2pir, s2por, s2poe) : null;
        Granule requested = Granule.fromTg0((int) (vtcr >>> 14 & 3));
        Granule g = requested != null && cpu.supports(requested) ? requested : Granule.FOUR_K;
        this.ha = (vtcr >>> 21 & 1) != 0;
        this.hd = ha && (vtcr >>> 22 & 1) != 0;
        // AArch64.S2TTWParams: haft = VTCR_EL2.HAFT [44] where FEAT_HAFT is implemented and walkparams.ha is 1.
        this.haft = ha && cpu.supportsStage2Haft() && (vtcr >>> 44 & 1) != 0;
        this.vmid = (int) (vttbr >>> 48) & ((vtcr >>> 19 & 1) != 0 ? 0xFFFF : 0xFF);
        if (d128) {
            int ps = Geometry.decodePaBits((int) (vtcr >>> 16 & 7));
            // AArch64.PhysicalAddressSize with d128: min(PS, PAMax), 56 bits at most.
            this.paBits = Math.min(ps, cpu.paBits());
            // AArch64.S2MinTxSZ with d128 (DS is RES0): a 56-bit IPA on a 56-bit CPU; on a 52-bit one 52
            // bits for 64K, else 48; otherwise the PA size.
            int maxIpa = cpu.paBits() >= 56 ? 56 : cpu.paBits() >= 52 ? (g == Granule.SIXTY_FOUR_K ? 52 : 48)
                    : cpu.paBits();
            int t0sz = (int) (vtcr & 0x3F);
            boolean txszFault = t0sz < 64 - maxIpa;                         // S2TxSZFaults, as for VMSAv8-64
            this.ipaBits = 64 - Math.max(64 - maxIpa, Math.min(t0sz, 39));
            this.geometry = Geometry.of(g, TranslationFormat.D128, ipaBits, 56);
            this.format = new Vmsa128Format(geometry);
            this.skl = (int) (vttbr >>> 1 & 3);
            this.startLevel = geometry.startLevel() + skl;
            // AArch64.S2TTBaseAddress with d128: aligned to the start-level table, at least 32 bytes.
            int tsize = Math.max(5, ipaBits - geometry.shift(Math.min(startLevel, 3)) + 4);
            long base = (vttbrHigh >>> 16 & 0xFF) << 48 | (vttbr & 0x0000_FFFF_FFFF_FFE0L);
            this.root = tsize >= 56 ? 0 : base & -(1L << tsize);
            this.invalidReason = txszFault ? "VTCR_EL2.T0SZ = " + t0sz + " is below the minimum " + (64 - maxIpa)
                    : startLevel > 3 ? "VTTBR_EL2.SKL " + skl + " skips past level 3" : null;
            return;
        }
        this.skl = 0;
        boolean ds = (vtcr >>> 32 & 1) != 0 && g != Granule.SIXTY_FOUR_K && cpu.supportsLpa2(g);
        int ps = Geometry.decodePaBits((int) (vtcr >>> 16 & 7));
        this.paBits = Math.min(ps < 0 ? cpu.paBits() : ps, Math.min(cpu.paBits(), 52));
        boolean wideIpa = ds || (g == Granule.SIXTY_FOUR_K && cpu.supportsLva());
        int maxT0sz = !cpu.supportsTtst() ? 39 : g == Granule.SIXTY_FOUR_K ? 47 : 48;
        // AArch64.S2MinTxSZ: the IPA no wider than PAMax, and than 48 bits for 4K/16K without DS; and
        // no wider than the geometry's VA form (12 with DS or 64K with FEAT_LVA, else 16).
        int minT0sz = Math.max(wideIpa ? 12 : 16, 64 - Math.min(cpu.paBits(), g != Granule.SIXTY_FOUR_K && !ds ? 48 : 52));
        int t0sz = (int) (vtcr & 0x3F);
        this.ipaBits = 64 - Math.max(minT0sz, Math.min(t0sz, maxT0sz));
        int descriptorPa = g == Granule.SIXTY_FOUR_K ? (cpu.paBits() >= 52 ? 52 : Math.min(paBits, 48))
                : ds ? 52 : Math.min(paBits, 48);
        this.geometry = Geometry.of(g, ipaBits, ds ? 52 : atLeast(descriptorPa));
        this.format = new Vmsa64Format(geometry, Shareability.decode((int) (vtcr >>> 12 & 3)));
        int sl0 = (int) (vtcr >>> 6 & 3);
        boolean sl2 = (vtcr >>> 33 & 1) != 0 && g == Granule.FOUR_K && ds;
        String invalid = invalidStartLevel(g, sl0, sl2, ds, cpu);
        this.startLevel = invalid != null ? 0 : switch (g) {
            case FOUR_K -> sl2 ? -1 : switch (sl0) { case 0 -> 2; case 1 -> 1; case 2 -> 0; default -> 3; };
            case SIXTEEN_K -> 3 - sl0;
            case SIXTY_FOUR_K -> 3 - sl0;
        };
        String inconsistent = invalid != null ? invalid : t0sz < minT0sz
                ? "VTCR_EL2.T0SZ = " + t0sz + " is below the minimum " + minT0sz + " (AArch64.S2TxSZFaults)"
                : inconsistentStartLevel();
        boolean wideBaddr = ds || (g == Granule.SIXTY_FOUR_K && paBits == 52);
        long base = wideBaddr ? (vttbr & 0x0000_FFFF_FFFF_FFC0L) | ((vttbr >>> 2 & 0xF) << 48)
                : vttbr & 0x0000_FFFF_FFFF_FFFEL;
        int tsize = inconsistent != null ? 3 : Math.max(ipaBits - geometry.shift(startLevel) + 3, wideBaddr ? 6 : 3);
        this.root = base & -(1L << tsize);
        this.invalidReason = inconsistent;
    }

    /** A PA size Geometry accepts, at or above {@code bits}. */
    private static int atLeast(int bits) {
        for (int size : new int[]{32, 36, 40, 42, 44, 48, 52}) if (size >= bits) return size;
        return 52;
    }

    /** AArch64.S2InvalidSL: SL0 (with SL2) encodings this CPU and granule do not implement. */
    private static String invalidStartLevel(Granule g, int sl0, boolean sl2, boolean ds, CpuFeatures cpu) {
        int pamax = cpu.paBits();
        boolean bad = switch (g) {
            case FOUR_K -> sl2 ? sl0 != 0 || pamax < 52
                    : sl0 == 2 ? pamax < 44 : sl0 == 3 && !cpu.supportsTtst();
            case SIXTEEN_K -> sl0 == 3 ? !ds || pamax < 52 : sl0 == 2 && pamax < 42;
            case SIXTY_FOUR_K -> sl0 == 3 || (sl0 == 2 && pamax < 44);
        };
        return bad ? "VTCR_EL2.SL0 = " + sl0 + (sl2 ? " with SL2" : "") + " is not implemented for " + g.label() : null;
    }

    /**
     * AArch64.S2InconsistentSL: the IPA size must leave at least one bit for the start level and at
     * most one table's worth plus 16 concatenated tables.
     */
    private String inconsistentStartLevel() {
        int stride = geometry.pageShift() - 3;
        int minIpa = (3 - startLevel) * stride + geometry.pageShift() + 1;
        int maxIpa = minIpa + (stride - 1) + 4;
        if (ipaBits < minIpa || ipaBits > maxIpa) {
            return "VTCR_EL2 start level " + startLevel + " does not fit a " + ipaBits + "-bit IPA (needs "
                    + minIpa + ".." + maxIpa + " bits)";
        }
        return null;
    }

    /**
     * HCR_EL2.VM, or DC (which makes VM behave as 1: the Arm ARM's AArch64.NSS2TTWParams,
     * {@code walkparams.vm = HCR_EL2.VM OR HCR_EL2.DC}): stage 2 is on for EL1&amp;0.
     */
    public boolean enabled() { return (hcr & (HCR_VM | HCR_DC)) != 0; }

    /**
     * HCR_EL2.DC or TGE: EL1&amp;0 stage 1 is off whatever SCTLR_EL1.M says (AArch64.S1Enabled:
     * {@code HCR_EL2.{DC,TGE} == '00' && SCTLR_EL1.M == '1'}).
     */
    public boolean stage1Disabled() { return (hcr & (HCR_DC | HCR_TGE)) != 0; }

    /** HCR_EL2.DC: with stage 1 off, data is Normal Write-Back, Non-shareable (AArch64.S1DisabledOutput). */
    public boolean defaultCacheable() { return (hcr & HCR_DC) != 0; }

    /** HCR_EL2.PTW: a stage-1 table walk that lands in Device memory at stage 2 is a stage-2 permission fault. */
    public boolean protectedTableWalk() { return (hcr & HCR_PTW) != 0; }

    /** HCR_EL2.FWB: stage 2 forces the memory type instead of combining (FEAT_S2FWB). */
    public boolean forcedWriteBack() { return (hcr & HCR_FWB) != 0; }

    public long hcr() { return hcr; }

    /** The stage-2 tables' geometry (granule, IPA size as its VA size, descriptor form). */
    public Geometry geometry() { return geometry; }

    /** The stage-2 descriptor format: {@link Vmsa64Format}, or {@link Vmsa128Format} with VTCR_EL2.D128. */
    public DescriptorFormat format() { return format; }

    /** VTCR_EL2.D128 in effect (FEAT_D128): VMSAv9-128 stage-2 tables and a 128-bit VTTBR_EL2. */
    public boolean d128() { return d128; }

    /** VTTBR_EL2.SKL with D128: the levels the walk skips below the one T0SZ gives; else 0. */
    public int skl() { return skl; }

    /** Level of the (concatenated) root table, from SL0/SL2; with D128 from T0SZ and VTTBR_EL2.SKL (may exceed 3). */
    public int startLevel() { return startLevel; }

    /** IPA bits stage 2 translates (64 - VTCR_EL2.T0SZ). */
    public int ipaBits() { return ipaBits; }

    /** Output size: min(VTCR_EL2.PS, PARange). */
    public int paBits() { return paBits; }

    /** VTTBR_EL2.BADDR, aligned to the concatenated root tables. */
    public long root() { return root; }

    public int vmid() { return vmid; }

    /**
     * Why no stage-2 walk can succeed, a level 0 translation fault (S2InvalidSL / S2InconsistentSL; with
     * D128 S2TxSZFaults or a VTTBR_EL2.SKL past level 3), or null.
     */
    public String invalidReason() { return invalidReason; }

    /**
     * Root-table entries: one table's worth at the start level, times the concatenated tables; with D128
     * every IPA bit above the start level (one table).
     */
    public long rootEntries() { return 1L << Math.max(0, ipaBits - geometry.shift(Math.min(startLevel, 3))); }

    public boolean hardwareAccessFlag() { return ha; }

    public boolean hardwareDirty() { return hd; }

    /** VTCR_EL2.HAFT in effect: a stage-2 walk sets AF (bit 10) in the stage-2 table descriptors it uses. */
    public boolean hardwareTableAccessFlag() { return haft; }

    /** The S2PIR_EL2/S2POR_EL1 evaluator when VTCR_EL2.S2PIE is on, else null. */
    public Stage2IndirectPermissions indirectPermissions() { return indirectPermissions; }
}
