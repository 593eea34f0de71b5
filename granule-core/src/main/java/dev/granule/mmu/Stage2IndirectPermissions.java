package dev.granule.mmu;

/**
 * Stage 2 access rights under stage 2 permission indirection (FEAT_S2PIE, VTCR_EL2.S2PIE) and
 * overlays (FEAT_S2POE, VTCR_EL2.S2POE), as the Arm ARM's AArch64.S2ComputePermissions computes
 * them: S2PIR_EL2 by the leaf's PIIndex (AArch64.S2IndirectBasePermissions), intersected with
 * S2POR_EL1 by its S2POIndex (AArch64.S2OverlayPermissions, the same sixteen encodings) when
 * S2POE is on. Stage 2 has one set of data rights for both Exception levels and separate
 * execute rights (privileged, unprivileged), so the result in {@link Tlb}'s layout has R0 = R1,
 * W0 = W1, X0 = unprivileged execute, X1 = privileged execute.
 *
 * <p>The "MMU read-only" encodings (0b0010, 0b0011, 0b0110, 0b0111) grant ordinary accesses read
 * only, but let the stage 1 walk write (hardware Access flag and dirty updates):
 * {@link #walkWritable}. Not modelled: the TopLevel0/1 checks of FEAT_THE (the TL variants behave
 * as plain MRO here) and RCW (read-check-write) accesses.
 *
 * <p>Immutable; each (PIIndex, S2POIndex) outcome is computed once.
 */
public final class Stage2IndirectPermissions {

    private static final long DIRTY = 1L << 7;
    // One decoded value: R = 1, W = 2, pX = 4, uX = 8, MMU write = 16.
    private static final int R = 1, W = 2, PX = 4, UX = 8, MMU_W = 16;

    private final long s2pir;
    private final long s2por;
    private final boolean overlays;
    private final int[] rights = new int[256];
    private final boolean[] walkWrite = new boolean[256];

    private Stage2IndirectPermissions(long s2pir, long s2por, boolean overlays) {
        this.s2pir = s2pir;
        this.s2por = s2por;
        this.overlays = overlays;
        for (int pi = 0; pi < 16; pi++) {
            for (int po = 0; po < 16; po++) {
                int v = decode((int) (s2pir >>> (4 * pi)) & 0xF);
                if (overlays) v &= decode((int) (s2por >>> (4 * po)) & 0xF);
                int r = v & R, w = v & W;
                rights[pi << 4 | po] = (r != 0 ? Tlb.R0 | Tlb.R1 : 0) | (w != 0 ? Tlb.W0 | Tlb.W1 : 0)
                        | ((v & UX) != 0 ? Tlb.X0 : 0) | ((v & PX) != 0 ? Tlb.X1 : 0);
                walkWrite[pi << 4 | po] = (v & MMU_W) != 0;
            }
        }
    }

    /**
     * @param s2pir S2PIR_EL2
     * @param s2por S2POR_EL1
     * @param s2poe VTCR_EL2.S2POE
     */
    public static Stage2IndirectPermissions of(long s2pir, long s2por, boolean s2poe) {
        return new Stage2IndirectPermissions(s2pir, s2por, s2poe);
    }

    public long s2pir() { return s2pir; }

    public long s2por() { return s2por; }

    public boolean overlays() { return overlays; }

    /** The rights of ordinary accesses ({@link Tlb} layout, see the class comment). */
    public int permissions(int piIndex, int poIndex) {
        return rights[index(piIndex, poIndex)];
    }

    /** Whether the stage 1 walk may read through this leaf (its read right, the same for walks). */
    public boolean walkReadable(int piIndex, int poIndex) {
        return (rights[index(piIndex, poIndex)] & Tlb.R1) != 0;
    }

    /** Whether the stage 1 walk's hardware updates may write through this leaf (MRO values allow it). */
    public boolean walkWritable(int piIndex, int poIndex) {
        return walkWrite[index(piIndex, poIndex)];
    }

    /** PIIndex of a VMSAv8-64 stage 2 leaf: descriptor[54:53]:[51]:[6], as at stage 1. */
    public static int piIndex64(long descriptor) { return IndirectPermissions.piIndex64(descriptor); }

    /** S2POIndex of a VMSAv8-64 stage 2 leaf: descriptor[62:59] (four bits, unlike stage 1's three). */
    public static int poIndex64(long descriptor) { return (int) (descriptor >>> 59 & 0xF); }

    /** PIIndex and S2POIndex of a VMSAv9-128 leaf sit where stage 1's do (descriptor[118:115], [124:121]). */
    public static int piIndex128(long high) { return IndirectPermissions.piIndex128(high); }

    public static int poIndex128(long high) { return IndirectPermissions.poIndex128(high); }

    /**
     * {@code perms} without write rights when the leaf's stage 2 Dirty bit (bit 7) is 0 and
     * hardware dirty-state management (VTCR_EL2.HA and HD) is off; with it on, the MMU sets Dirty.
     */
    public static int withDirtyState(int perms, long descriptorLow, boolean hardwareAccessAndDirty) {
        if ((descriptorLow & DIRTY) != 0 || hardwareAccessAndDirty) return perms;
        return perms & ~(Tlb.W0 | Tlb.W1);
    }

    private static int index(int pi, int po) {
        if ((pi | po) >>> 4 != 0) throw new IllegalArgumentException("PIIndex and S2POIndex are 0..15, were " + pi + ", " + po);
        return pi << 4 | po;
    }

    /** AArch64.S2IndirectBasePermissions' (and S2OverlayPermissions') table. */
    private static int decode(int value) {
        return switch (value) {
            case 0b0010, 0b0011, 0b0110, 0b0111 -> R | MMU_W;        // MRO, MRO-TL1, MRO-TL0, MRO-TL01
            case 0b0100 -> W;                                          // write only
            case 0b1000 -> R;                                          // read only
            case 0b1001 -> R | UX;
            case 0b1010 -> R | PX;
            case 0b1011 -> R | PX | UX;
            case 0b1100 -> R | W | MMU_W;
            case 0b1101 -> R | W | UX | MMU_W;
            case 0b1110 -> R | W | PX | MMU_W;
            case 0b1111 -> R | W | PX | UX | MMU_W;
            default -> 0;                                              // 0000 none; 0001, 0101 reserved
        };
    }

    @Override
    public String toString() {
        return String.format("Stage2IndirectPermissions[S2PIR=0x%016x, S2POR=0x%016x, S2POE=%s]", s2pir, s2por, overlays);
    }
}
