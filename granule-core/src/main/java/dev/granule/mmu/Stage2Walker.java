package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.format.Shareability;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.Slot;

/**
 * The stage-2 walk of one IPA (Arm ARM AArch64.S2Walk and AArch64.S2Translate): the same descriptor
 * format and checks as stage 1, with the stage-2 leaf fields: MemAttr [5:2], S2AP [7:6] (bit 6
 * read, bit 7 write), SH [9:8], AF [10], DBM [51], XN [54:53] (FEAT_XNX: 0b00 executable at EL1
 * and EL0, 0b01 not at EL1, 0b10 at neither, 0b11 not at EL0). Stage-2 table descriptors carry no
 * hierarchical permissions. Faults are reported as stage 2 with the IPA, and as S1PTW when the IPA
 * was a stage-1 table descriptor's. With VTCR_EL2.S2PIE the rights come from S2PIR_EL2 (and S2POR_EL1
 * under S2POE) by the leaf's PIIndex and S2POIndex instead of S2AP/XN, and bit 7 is the Dirty bit
 * ({@link Stage2IndirectPermissions}). With VTCR_EL2.HAFT (FEAT_HAFT) the walk sets the Access flag,
 * bit 10, of each stage-2 table descriptor it follows.
 *
 * <p>With VTCR_EL2.D128 (FEAT_D128) the tables are VMSAv9-128: {@link Stage2D128Walk} descends, and the
 * leaf is checked here as a 64-bit one under S2PIE is (AF [10], MemAttr [5:2], SH [9:8], Dirty [7]), with
 * PIIndex [118:115] and S2POIndex [124:121] from the high word; hardware updates write all 128 bits back.
 *
 * <p>Not thread-safe (one per simulated CPU).
 */
final class Stage2Walker {

    static final long AF = 1L << 10, S2AP_R = 1L << 6, S2AP_W = 1L << 7, DBM = 1L << 51, CONTIGUOUS = 1L << 52;

    /**
     * A successful stage-2 translation.
     *
     * @param pa      output address of the IPA
     * @param level   level of the stage-2 leaf
     * @param span    bytes the leaf maps
     * @param memAttr MemAttr[3:0] (descriptor bits [5:2])
     * @param sh      the leaf's shareability (VTCR_EL2.SH0 with DS = 1)
     * @param perms   what the leaf allows, as {@link Tlb} permission bits (S2AP read and write at
     *                both levels, XN per level), for a combined TLB entry
     */
    record Mapped(long pa, int level, long span, int memAttr, Shareability sh, int perms) {
        /** MemAttr[3:2] = 0b00: Device memory (without FEAT_S2FWB). */
        boolean device() { return (memAttr & 0b1100) == 0; }
    }

    private final Stage2Regime regime;
    private final PhysicalMemory memory;
    private final Slot slot;
    private final Descriptor d = new Descriptor();
    // VTCR_EL2.D128: the VMSAv9-128 descent, else null.
    private final Stage2D128Walk d128Walk;
    /** The fault of the last {@link #walk} that returned null. */
    private Translation.Fault fault;

    Stage2Walker(Stage2Regime regime, PhysicalMemory memory) {
        this.regime = regime;
        this.memory = memory;
        this.slot = new Slot(memory, regime.d128() ? 4 : 3);
        this.d128Walk = regime.d128() ? new Stage2D128Walk(regime, memory) : null;
    }

    Translation.Fault fault() { return fault; }

    /**
     * Translates {@code ipa} for {@code access} at EL{@code el}; {@code s1ptw} when it is the address
     * of a stage-1 descriptor: READ for the walk's read, WRITE for a hardware update of the
     * descriptor (AF, dirty state). Null on a fault ({@link #fault()}).
     */
    Mapped walk(long va, long ipa, Access access, int el, boolean s1ptw) {
        Geometry g = regime.geometry();
        DescriptorFormat f = regime.format();
        if (regime.invalidReason() != null) return fail(va, ipa, FaultType.TRANSLATION, 0, regime.invalidReason(), s1ptw);
        if (regime.ipaBits() < 64 && (ipa >>> regime.ipaBits()) != 0) {
            return fail(va, ipa, FaultType.TRANSLATION, 0, "IPA beyond the " + regime.ipaBits() + "-bit IPA size", s1ptw);
        }
        long paLimit = (1L << regime.paBits()) - 1;
        if (d128Walk != null) {
            int level = d128Walk.descend(va, ipa, s1ptw, paLimit, slot, d);
            if (level == Stage2D128Walk.FAULTED) {
                fault = d128Walk.fault();
                return null;
            }
            return leaf(va, ipa, access, el, s1ptw, level, d128Walk.outputAddress());
        }
        long table = regime.root();
        if (Long.compareUnsigned(table, paLimit) > 0) {
            return fail(va, ipa, FaultType.ADDRESS_SIZE, 0, "VTTBR base address beyond the PA size", s1ptw);
        }
        int level = regime.startLevel();
        long index = (ipa >>> g.shift(level)) & (regime.rootEntries() - 1);
        while (true) {
            slot.at(table, index);
            if (!memory.contains(slot.address(), 8)) {
                return fail(va, ipa, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                        String.format("stage-2 descriptor at PA 0x%x is not RAM", slot.address()), s1ptw);
            }
            slot.read(d);
            DescriptorKind kind = f.kind(d, level);
            if (kind == DescriptorKind.INVALID || kind == DescriptorKind.RESERVED) {
                return fail(va, ipa, FaultType.TRANSLATION, level, "invalid stage-2 descriptor " + d, s1ptw);
            }
            if (kind == DescriptorKind.TABLE) {
                table = f.tableAddress(d);
                if (Long.compareUnsigned(table, paLimit) > 0) {
                    return fail(va, ipa, FaultType.ADDRESS_SIZE, level, "stage-2 table address beyond the PA size", s1ptw);
                }
                if (regime.hardwareTableAccessFlag() && (d.lo() & AF) == 0) {
                    // FEAT_HAFT at stage 2 (AArch64.S2Walk): the walk sets the table descriptor's AF,
                    // a write to its PA, once the next table's address is known to be in range.
                    d.set(d.lo() | AF, d.hi());
                    slot.write(d);
                }
                level++;
                index = g.index(ipa, level);
                continue;
            }
            long span = g.entrySpan(level);
            long oa = f.outputAddress(d, level) | (ipa & (span - 1));
            // The whole output address (StageOA: base and the IPA's offset), as AArch64.S2Walk checks it.
            if (Long.compareUnsigned(oa, paLimit) > 0) {
                return fail(va, ipa, FaultType.ADDRESS_SIZE, level, "stage-2 output address beyond the PA size", s1ptw);
            }
            return leaf(va, ipa, access, el, s1ptw, level, oa);
        }
    }

    /** The checks and updates of the leaf in {@link #d} at {@code level}, whose output address for {@code ipa} is {@code pa}. */
    private Mapped leaf(long va, long ipa, Access access, int el, boolean s1ptw, int level, long pa) {
        long span = regime.geometry().entrySpan(level);
        DescriptorFormat f = regime.format();
        // lo is the descriptor as the access leaves it; table memory is updated only for an access
        // stage 2 permits (AArch64.S2Translate: on a permission fault the AF update is CONSTRAINED
        // UNPREDICTABLE, Unpredictable_AFUPDATE, and QEMU 10 makes none).
        long original = d.lo(), lo = original;
        if ((lo & AF) == 0) {
            if (!regime.hardwareAccessFlag()) return fail(va, ipa, FaultType.ACCESS_FLAG, level, "stage-2 AF is 0", s1ptw);
            lo |= AF;
        }
        int memAttr = (int) (lo >>> 2 & 0xF);
        Stage2IndirectPermissions indirect = regime.indirectPermissions();
        if (indirect != null) {
            int pi = d128Walk != null ? Stage2IndirectPermissions.piIndex128(d.hi()) : Stage2IndirectPermissions.piIndex64(lo);
            int po = d128Walk != null ? Stage2IndirectPermissions.poIndex128(d.hi()) : Stage2IndirectPermissions.poIndex64(lo);
            String denied = deniedIndirect(indirect, pi, po, lo, access, el, s1ptw, memAttr);
            if (denied != null) return fail(va, ipa, FaultType.PERMISSION, level, denied, s1ptw);
            // A permitted write to a leaf whose Dirty bit is 0 (deniedIndirect let it through: HA and HD) sets it,
            // the hardware update of a stage-1 descriptor too (AArch64.S2Translate: any write but AT/DC/IC).
            if (access == Access.WRITE) lo |= S2AP_W;
            update(original, lo);
            Shareability sh = f.attributes(d).shareability();
            // Cached without write while Dirty (bit 7) was 0: a later write walks again, to set it or fault.
            int rights = indirect.permissions(pi, po) & ((lo & S2AP_W) == 0 ? ~(Tlb.W0 | Tlb.W1) : ~0);
            return new Mapped(pa, level, span, memAttr, sh, rights);
        }
        // A write: the access's, or (s1ptw) the hardware update of a stage-1 descriptor.
        boolean write = access == Access.WRITE;
        if (write && (lo & S2AP_W) == 0 && regime.hardwareDirty() && (lo & DBM) != 0) {
            // Hardware dirty state at stage 2: the write makes the page writable (S2AP[1] := 1).
            lo |= S2AP_W;
        }
        String denied = denied(lo, access, el, s1ptw, memAttr);
        if (denied != null) return fail(va, ipa, FaultType.PERMISSION, level, denied, s1ptw);
        update(original, lo);
        Shareability sh = f.attributes(d).shareability();
        return new Mapped(pa, level, span, memAttr, sh, perms(lo));
    }

    /** S2AP and XN[1:0] as Tlb bits: the same rules as {@link #denied}, for every access at once. */
    private static int perms(long lo) {
        int xn = (int) (lo >>> 53 & 3);
        return ((lo & S2AP_R) != 0 ? Tlb.R0 | Tlb.R1 : 0) | ((lo & S2AP_W) != 0 ? Tlb.W0 | Tlb.W1 : 0)
                | (xn == 0b00 || xn == 0b01 ? Tlb.X0 : 0) | (xn == 0b00 || xn == 0b11 ? Tlb.X1 : 0);
    }

    /**
     * Why S2PIR_EL2/S2POR_EL1, the Dirty bit or HCR_EL2.PTW deny the access, or null
     * (AArch64.S2CheckPermissions with S2PIE). A permitted write to a leaf whose Dirty bit (7) is 0
     * faults unless VTCR_EL2.HA and HD are both 1, when it sets the bit in table memory. With
     * {@code s1ptw} the access is AccessType_TTW: the walk's read needs the MMU read right, and the
     * hardware update of a stage-1 descriptor (a write, CreateAccDescTTEUpdate) the MMU write right
     * (RW and the MRO values, not WO) and then the same Dirty check.
     */
    private String deniedIndirect(Stage2IndirectPermissions p, int pi, int po, long lo, Access access, int el, boolean s1ptw,
                                  int memAttr) {
        if (s1ptw) {
            if (regime.protectedTableWalk() && (memAttr & 0b1100) == 0) return "HCR_EL2.PTW: stage-1 table in stage-2 Device memory";
            if (!p.walkReadable(pi, po)) return "S2PIR/S2POR deny the stage-1 table walk's read (PIIndex " + pi + ")";
            if (access == Access.WRITE && !p.walkWritable(pi, po)) {
                return "S2PIR/S2POR deny the hardware update of a stage-1 descriptor (PIIndex " + pi + ", S2POIndex " + po + ")";
            }
        } else if (!IndirectPermissions.allows(p.permissions(pi, po), access, el)) {
            return "S2PIR/S2POR deny " + access + " at EL" + el + " (PIIndex " + pi + ", S2POIndex " + po + ")";
        }
        if (access == Access.WRITE && (lo & S2AP_W) == 0 && !regime.hardwareDirty()) {
            return "stage-2 Dirty (bit 7) is 0 and VTCR_EL2.HA/HD are not both 1";
        }
        return null;
    }

    /** Writes the leaf back when the access changed it (AF, S2AP[1] or Dirty), a VMSAv9-128 one with its high word. */
    private void update(long original, long lo) {
        if (lo == original) return;
        d.set(lo, d.hi());
        slot.write(d);
    }

    /**
     * Why S2AP, XN or HCR_EL2.PTW deny the access, or null. With {@code s1ptw} the access is the
     * stage-1 walk's read of a descriptor or, as a write, its hardware update (AArch64.S2CheckPermissions
     * for AccessType_TTW: read and write both needed).
     */
    private String denied(long lo, Access access, int el, boolean s1ptw, int memAttr) {
        if (s1ptw) {
            if ((lo & S2AP_R) == 0) return "S2AP denies the stage-1 table walk's read";
            if (access == Access.WRITE && (lo & S2AP_W) == 0) return "S2AP denies the hardware update of a stage-1 descriptor";
            if (regime.protectedTableWalk() && (memAttr & 0b1100) == 0) {
                return "HCR_EL2.PTW: stage-1 table in stage-2 Device memory";
            }
            return null;
        }
        return switch (access) {
            case READ -> (lo & S2AP_R) == 0 ? "S2AP denies read" : null;
            case WRITE -> (lo & S2AP_W) == 0 ? "S2AP denies write" : null;
            case EXECUTE -> {
                int xn = (int) (lo >>> 53 & 3);
                boolean never = el == 0 ? xn == 0b10 || xn == 0b11 : xn == 0b01 || xn == 0b10;
                yield never ? "stage-2 XN = " + xn + " denies execution at EL" + el : null;
            }
        };
    }

    private Mapped fail(long va, long ipa, FaultType type, int level, String detail, boolean s1ptw) {
        fault = new Translation.Fault(va, type, level, detail, 2, s1ptw, ipa);
        return null;
    }
}
