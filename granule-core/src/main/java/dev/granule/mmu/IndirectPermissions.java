package dev.granule.mmu;

import dev.granule.format.PermissionIndirection;

/**
 * Stage 1 access rights of the EL1&amp;0 regime under permission indirection (FEAT_S1PIE) and
 * permission overlays (FEAT_S1POE), as the Arm ARM's AArch64.S1ComputePermissions computes them:
 * AArch64.S1IndirectBasePermissions (PIR_EL1 / PIRE0_EL1 by PIIndex), then
 * AArch64.S1OverlayPermissions (POR_EL1 / POR_EL0 by POIndex) where the base value allows an
 * overlay and TCR2_EL1.POE / E0POE enable it, then WXN.
 *
 * <p>The result is {@link Tlb}'s permission layout (R0, W0, X0 for EL0; R1, W1, X1 for EL1). The
 * rules folded in, each from the pseudocode:
 * <ul>
 *   <li>a location executable (or GCS) at EL1 and writable (or GCS) at EL0 grants nothing at either;</li>
 *   <li>PSTATE.PAN removes EL1 read and write when PIRE0_EL1's value for the index is not 0b0000 —
 *       any value, so execute-only user memory is PAN-protected too (PIE implies EPAN) — and it is
 *       applied before overlays, so an overlay that takes EL0's access away does not lift it.
 *       Instruction fetches are not PAN-checked; EL1's X bit is never touched by PAN;</li>
 *   <li>the value 0b0110 is read/write/execute with WXN: without an overlay the execute right goes;
 *       with an overlay that grants execute, the overlay's write right goes instead;</li>
 *   <li>GCS values (0b1001) grant read to ordinary accesses: GCS memory is read-only data for
 *       loads and stores. GCS accesses themselves (GCSSTR, BL/RET pushes) are not modelled.</li>
 * </ul>
 * SCTLR_EL1.WXN and the table descriptors' APTable/UXNTable/PXNTable play no part here: with PIE
 * on, the walk ignores hierarchical permissions ({@link #ignoresTablePermissions()}).
 *
 * <p>What the caller still owns: a write to a leaf whose nDirty bit (descriptor bit 7, AP[2]'s
 * place) is 1 faults unless TCR_EL1.HA and HD are both 1, in which case hardware clears nDirty
 * (AArch64.S1CheckPermissions' dirty-state check) — {@link #withDirtyState}.
 *
 * <p>The rights are those PIE gives; whether PIE is on at all ({@link #enabled()}) is the caller's
 * choice. With PIE off, {@link #direct} gives the direct AP/UXN/PXN rights with the same overlays
 * (FEAT_S1POE does not need PIE).
 *
 * <p>Every (PIIndex, POIndex, PAN) outcome is computed once, here, into a 512-entry table: a leaf
 * then costs one array read. {@link #cacheable} gives the same rights in the form a TLB may keep
 * (POR values may not be cached). Immutable.
 */
public final class IndirectPermissions {

    /** TCR2_EL1 fields this evaluator reads (TCR2_EL1.D128 forces PIE on). */
    public static final long TCR2_PIE = 1L << 1, TCR2_E0POE = 1L << 2, TCR2_POE = 1L << 3, TCR2_D128 = 1L << 5;

    // Descriptor bits (VMSAv8-64 leaf; for VMSAv9-128 the high word's bits, i.e. bit n - 64).
    private static final int PI_INDEX_128_SHIFT = 115 - 64, PO_INDEX_128_SHIFT = 121 - 64;
    private static final long NDIRTY = 1L << 7;

    private final long tcr2;
    private final PermissionIndirection pir;
    private final long porEl1;
    private final long porEl0;
    private final int[] table = new int[2 * 16 * 16];
    private final int[] cacheable = new int[16 * 16];

    /*
     * The cacheable form (what a TLB entry may keep, see cacheable()): Tlb's R0..X1 and PAN bits, and
     * for each level whose rights the overlay still narrows, a flag, its WXN and the POIndex.
     */
    static final int RIGHTS = 0x3F;
    static final int EL0_OVERLAY = 1 << 7, EL1_OVERLAY = 1 << 8, EL0_WXN = 1 << 9, EL1_WXN = 1 << 10;
    /** Either level's rights still need POR_EL0 / POR_EL1 ({@link #withOverlays}). */
    static final int OVERLAID = EL0_OVERLAY | EL1_OVERLAY;
    private static final int PO_SHIFT = 12;

    private IndirectPermissions(long tcr2, PermissionIndirection pir, long porEl1, long porEl0) {
        this.tcr2 = tcr2;
        this.pir = pir;
        this.porEl1 = porEl1;
        this.porEl0 = porEl0;
        for (int pi = 0; pi < 16; pi++) {
            for (int po = 0; po < 16; po++) {
                int c = indirectBase(pi, po);
                cacheable[pi << 4 | po] = c;
                table[slot(pi, po, false)] = finalRights(c, false);
                table[slot(pi, po, true)] = finalRights(c, true);
            }
        }
    }

    /**
     * The evaluator for these register values.
     *
     * @param tcr2   TCR2_EL1 (PIE, POE, E0POE, D128 are read; other bits ignored)
     * @param pir    PIR_EL1
     * @param pire0  PIRE0_EL1
     * @param porEl1 POR_EL1 (used when TCR2_EL1.POE = 1)
     * @param porEl0 POR_EL0 (used when TCR2_EL1.E0POE = 1)
     */
    public static IndirectPermissions of(long tcr2, long pir, long pire0, long porEl1, long porEl0) {
        return new IndirectPermissions(tcr2, new PermissionIndirection(pir, pire0), porEl1, porEl0);
    }

    /** Whether permission indirection is on: TCR2_EL1.PIE, or TCR2_EL1.D128 (VMSAv9-128 has no AP bits). */
    public boolean enabled() { return (tcr2 & (TCR2_PIE | TCR2_D128)) != 0; }

    /** TCR2_EL1.POE: POR_EL1 overlays privileged accesses. */
    public boolean privilegedOverlays() { return (tcr2 & TCR2_POE) != 0; }

    /** TCR2_EL1.E0POE: POR_EL0 overlays unprivileged accesses. */
    public boolean unprivilegedOverlays() { return (tcr2 & TCR2_E0POE) != 0; }

    /**
     * Whether the walk must ignore APTable/UXNTable/PXNTable: always with PIE (the Arm ARM's
     * AArch64.S1NextWalkStateTable applies table permissions only when HPD = 0 and PIE = 0), and
     * with POE or E0POE (rule R_BVXDG, which Linux KVM's AT emulation cites; the v9.4 pseudocode
     * in rems-project/sail-arm still applies them with POE alone, so this case follows the later text).
     */
    public boolean ignoresTablePermissions() {
        return (tcr2 & (TCR2_PIE | TCR2_D128 | TCR2_POE | TCR2_E0POE)) != 0;
    }

    public PermissionIndirection indirection() { return pir; }

    public long porEl1() { return porEl1; }

    public long porEl0() { return porEl0; }

    /**
     * The R/W/X rights at EL0 and EL1 ({@link Tlb} layout) of a leaf with this PIIndex and POIndex.
     *
     * @param piIndex 0..15
     * @param poIndex 0..15 (0..7 from a VMSAv8-64 descriptor); ignored where no overlay applies
     * @param pan     PSTATE.PAN for the privileged data accesses being checked
     */
    public int permissions(int piIndex, int poIndex, boolean pan) {
        if ((piIndex | poIndex) >>> 4 != 0) {
            throw new IllegalArgumentException("PIIndex and POIndex are 0..15, were " + piIndex + ", " + poIndex);
        }
        return table[slot(piIndex, poIndex, pan)];
    }

    /** {@link #permissions} of a VMSAv8-64 leaf descriptor (its low 64 bits). */
    public int ofVmsa64(long descriptor, boolean pan) {
        return table[slot(piIndex64(descriptor), poIndex64(descriptor), pan)];
    }

    /** {@link #permissions} of a VMSAv9-128 leaf descriptor, given its high 64 bits (descriptor[127:64]). */
    public int ofVmsa128(long high, boolean pan) {
        return table[slot(piIndex128(high), poIndex128(high), pan)];
    }

    /** PIIndex of a VMSAv8-64 leaf: {@code descriptor[54:53]:descriptor[51]:descriptor[6]} (UXN:PXN:DBM:AP[1]). */
    public static int piIndex64(long descriptor) {
        return (int) ((descriptor >>> 54 & 1) << 3 | (descriptor >>> 53 & 1) << 2 | (descriptor >>> 51 & 1) << 1
                | (descriptor >>> 6 & 1));
    }

    /** POIndex of a VMSAv8-64 leaf: {@code descriptor[62:60]} (three bits, so POR fields 0..7). */
    public static int poIndex64(long descriptor) { return (int) (descriptor >>> 60 & 7); }

    /** PIIndex of a VMSAv9-128 leaf, descriptor[118:115], from its high 64 bits. */
    public static int piIndex128(long high) { return (int) (high >>> PI_INDEX_128_SHIFT & 0xF); }

    /** POIndex of a VMSAv9-128 leaf, descriptor[124:121], from its high 64 bits. */
    public static int poIndex128(long high) { return (int) (high >>> PO_INDEX_128_SHIFT & 0xF); }

    /**
     * {@code perms} with the write rights removed when the leaf's nDirty bit (bit 7 in both
     * formats) is 1 and hardware dirty-state management (TCR_EL1.HA and HD both 1) is off. With it
     * on, the write is allowed and the MMU must clear nDirty in the descriptor.
     *
     * @param descriptorLow the leaf's low 64 bits
     */
    public static int withDirtyState(int perms, long descriptorLow, boolean hardwareAccessAndDirty) {
        if ((descriptorLow & NDIRTY) == 0 || hardwareAccessAndDirty) return perms;
        return perms & ~(Tlb.W0 | Tlb.W1);
    }

    /**
     * Direct (AP/UXN/PXN) permissions with this evaluator's overlays: FEAT_S1POE without PIE
     * (AArch64.S1DirectBasePermissions, then the overlay and WXN steps of
     * AArch64.S1ComputePermissions). Every direct-model value allows an overlay, so TCR2_EL1.POE and
     * E0POE alone decide whether POR_EL1 / POR_EL0 apply. With both off this is the direct model
     * itself (the rights {@link Mmu}'s own computation gives, PAN included).
     *
     * @param ap      AP[2:1] (with any APTable already folded in by the caller)
     * @param uxn     UXN (or UXNTable)
     * @param pxn     PXN (or PXNTable)
     * @param wxn     SCTLR_EL1.WXN
     * @param epan    SCTLR_EL1.EPAN with FEAT_PAN3: PAN also protects memory EL0 can only execute
     * @param poIndex the leaf's POIndex
     * @param pan     PSTATE.PAN for the privileged data accesses being checked
     */
    public int direct(int ap, boolean uxn, boolean pxn, boolean wxn, boolean epan, int poIndex, boolean pan) {
        return finalRights(cacheableDirect(ap, uxn, pxn, wxn, epan, poIndex), pan);
    }

    /**
     * {@link #direct} in the cacheable form of {@link #cacheable}: the overlay (if POE or E0POE is
     * on) and PAN are left to {@link #withOverlays} and the access check.
     */
    public int cacheableDirect(int ap, boolean uxn, boolean pxn, boolean wxn, boolean epan, int poIndex) {
        if (ap >>> 2 != 0 || poIndex >>> 4 != 0) {
            throw new IllegalArgumentException("AP[2:1] is 0..3 and POIndex 0..15, were " + ap + ", " + poIndex);
        }
        boolean ur = (ap & 1) != 0, uw = ap == 0b01;
        boolean pr = true, pw = (ap & 2) == 0;
        boolean px = !(pxn || uw), ux = !uxn;  // memory writable at EL0 is never executable at EL1
        // AArch64.S1DirectBasePermissions: PAN applies where EL0 may read or write (or, with EPAN, execute).
        boolean panApplies = ur || uw || (epan && ux);
        return cacheableForm(pr, pw, px, wxn && pw && px, privilegedOverlays(),
                ur, uw, ux, wxn && uw && ux, unprivilegedOverlays(), panApplies, poIndex);
    }

    /**
     * The rights of a leaf with this PIIndex and POIndex as a TLB may keep them. The Arm ARM lets a
     * TLB cache TCR2_EL1, PIR_EL1 and PIRE0_EL1 ("permitted to be cached in a TLB") but not POR_EL1
     * or POR_EL0 ("not permitted to be cached in a TLB"), and PSTATE.PAN is not a table attribute at
     * all; so this form holds the base rights with WXN applied where no overlay follows, and for each
     * level an overlay still narrows, the POIndex, a flag and its WXN. {@link #withOverlays} finishes
     * it with the POR values of the moment, and {@link Permissions} checks PAN through the
     * {@code Tlb.PAN} bit (set where PIRE0's value is not 0b0000). Bits 0..5 are Tlb's R0..X1.
     */
    public int cacheable(int piIndex, int poIndex) {
        if ((piIndex | poIndex) >>> 4 != 0) {
            throw new IllegalArgumentException("PIIndex and POIndex are 0..15, were " + piIndex + ", " + poIndex);
        }
        return cacheable[piIndex << 4 | poIndex];
    }

    /**
     * A {@link #cacheable} form finished with the current POR_EL1 / POR_EL0: Tlb's R0..X1 rights and
     * its PAN bit (AArch64.S1OverlayPermissions, then the overlay's part of WXN).
     */
    static int withOverlays(int cacheable, long porEl1, long porEl0) {
        if ((cacheable & OVERLAID) == 0) return cacheable & (RIGHTS | Tlb.PAN);
        int po = cacheable >>> PO_SHIFT & 0xF;
        int el0 = cacheable & 7, el1 = cacheable >>> 3 & 7;
        if ((cacheable & EL0_OVERLAY) != 0) el0 = overlaid(el0, (cacheable & EL0_WXN) != 0, overlay(porEl0, po));
        if ((cacheable & EL1_OVERLAY) != 0) el1 = overlaid(el1, (cacheable & EL1_WXN) != 0, overlay(porEl1, po));
        return el0 | el1 << 3 | (cacheable & Tlb.PAN);
    }

    /** Whether {@code perms} (this class's result layout) grant {@code access} at EL{@code el} (0 or 1). */
    public static boolean allows(int perms, Access access, int el) {
        if (el != 0 && el != 1) throw new IllegalArgumentException("EL0 or EL1, not EL" + el);
        return (perms & (Tlb.R0 << (access.ordinal() + 3 * el))) != 0;
    }

    /** {@code perms} as "EL1 RW- EL0 R-X". */
    public static String describe(int perms) {
        return "EL1 " + rwx(perms >> 3) + " EL0 " + rwx(perms);
    }

    private static String rwx(int p) {
        return ((p & 1) != 0 ? "R" : "-") + ((p & 2) != 0 ? "W" : "-") + ((p & 4) != 0 ? "X" : "-");
    }

    private static int slot(int pi, int po, boolean pan) { return (pan ? 256 : 0) | pi << 4 | po; }

    /** This evaluator's final rights (no PAN bit) from a cacheable form, under PSTATE.PAN or not. */
    private int finalRights(int cacheable, boolean pan) {
        int rights = withOverlays(cacheable, porEl1, porEl0);
        if (pan && (rights & Tlb.PAN) != 0) rights &= ~(Tlb.R1 | Tlb.W1);
        return rights & RIGHTS;
    }

    /**
     * AArch64.S1IndirectBasePermissions for one (PIIndex, POIndex), both Exception levels at once, in
     * the cacheable form (the overlay step of AArch64.S1ComputePermissions left to withOverlays).
     */
    private int indirectBase(int pi, int po) {
        int ppi = pir.privileged(pi), upi = pir.unprivileged(pi);
        PermissionIndirection.Access p = PermissionIndirection.Access.of(ppi);
        PermissionIndirection.Access u = PermissionIndirection.Access.of(upi);
        boolean pr = p.read(), pw = p.write(), px = p.execute();
        boolean ur = u.read(), uw = u.write(), ux = u.execute();
        // Executable (or a shadow stack) at EL1 and writable (or a shadow stack) at EL0: nothing at either.
        if ((px || p.gcs()) && (uw || u.gcs())) {
            pr = pw = px = false;
            ur = uw = ux = false;
        }
        // PAN with PIE looks at PIRE0's raw value, not at what it decodes to (nor at what POR_EL0 leaves).
        return cacheableForm(pr, pw, px, p.wxn(), p.overlay() && privilegedOverlays(),
                ur, uw, ux, u.wxn(), u.overlay() && unprivilegedOverlays(), upi != 0, po);
    }

    private static int cacheableForm(boolean pr, boolean pw, boolean px, boolean pWxn, boolean pOverlaid,
                                     boolean ur, boolean uw, boolean ux, boolean uWxn, boolean uOverlaid,
                                     boolean panApplies, int po) {
        // Without an overlay WXN takes the execute right now; with one, POR decides (overlaid()).
        if (pWxn && !pOverlaid) px = false;
        if (uWxn && !uOverlaid) ux = false;
        int c = rwx(ur, uw, ux) | rwx(pr, pw, px) << 3;
        if (panApplies) c |= Tlb.PAN;
        if (pOverlaid) c |= EL1_OVERLAY | (pWxn ? EL1_WXN : 0);
        if (uOverlaid) c |= EL0_OVERLAY | (uWxn ? EL0_WXN : 0);
        if (pOverlaid || uOverlaid) c |= po << PO_SHIFT;
        return c;
    }

    private static int rwx(boolean r, boolean w, boolean x) {
        return (r ? 1 : 0) | (w ? 2 : 0) | (x ? 4 : 0);
    }

    /** One level's R | W << 1 | X << 2 under the overlay value {@code po}, then WXN as S1ComputePermissions has it. */
    private static int overlaid(int rights, boolean wxn, int po) {
        boolean or = (po & 0b0001) != 0, ow = (po & 0b0100) != 0, ox = (po & 0b0010) != 0;
        boolean x = (rights & 4) != 0;
        if (wxn && ox) {
            ow = false;
        } else if (wxn) {
            x = false;
        }
        return rights & ((or ? 1 : 0) | (ow ? 2 : 0)) | (x && ox ? 4 : 0);
    }

    /** POR_ELx field {@code index} (AArch64.S1OverlayPermissions): bit 0 read, bit 1 execute, bit 2 write; 0b1xxx is reserved and grants nothing. */
    private static int overlay(long por, int index) {
        int value = (int) (por >>> (4 * index)) & 0xF;
        return (value & 0b1000) != 0 ? 0 : value;
    }

    @Override
    public String toString() {
        return String.format("IndirectPermissions[TCR2=0x%x, PIR=0x%016x, PIRE0=0x%016x, POR_EL1=0x%016x, POR_EL0=0x%016x]",
                tcr2, pir.pir(), pir.pire0(), porEl1, porEl0);
    }
}
