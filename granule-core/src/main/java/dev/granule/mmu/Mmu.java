package dev.granule.mmu;

import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.Shareability;
import dev.granule.format.TableAttributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.PhysicalMemory;
import dev.granule.table.LeafWalk;
import dev.granule.table.LeafWalk128;
import dev.granule.table.Slot;

/**
 * Stage-1 translation as the Arm ARM's AArch64.S1Translate does it, from register values (a
 * {@link TranslationRegime}: EL1&amp;0, with stage 2 under it when HCR_EL2.VM is set, EL2 or
 * EL2&amp;0), over tables in {@link PhysicalMemory}, through a {@link Tlb}.
 *
 * <p>Architectural outcomes are results, never exceptions: a walk that reads garbage ends in a
 * fault at a level. Checks run in the manual's priority order: translation (VA range, EPDn,
 * invalid descriptors), address size (TTBR, table and output addresses), access flag, permission.
 * With TCR.HA the Access flag is set in table memory instead of faulting; with TCR.HD a write to a
 * DBM=1 read-only page clears AP[2] in memory. Both happen only for an access that is permitted,
 * and under stage 2 only when stage 2 permits the write of the descriptor.
 *
 * <p>With TCR2_EL1.PIE (FEAT_S1PIE) a leaf's rights come from PIR_EL1/PIRE0_EL1 by its PIIndex and
 * bit 7 is nDirty (cleared by a write under HA and HD, else such a write faults); with TCR2_EL1.POE /
 * E0POE (FEAT_S1POE) POR_EL1/POR_EL0 narrow them by POIndex ({@link IndirectPermissions}); with
 * either, the walk ignores APTable/UXNTable/PXNTable. The TLB keeps what the Arm ARM lets it cache
 * (TCR2, PIR, PIRE0); POR_EL1/POR_EL0 and PSTATE.PAN are applied again on every hit.
 *
 * <p>With TCR2_EL1.D128 (FEAT_D128) the same path translates VMSAv9-128 tables: {@link D128Walk}
 * descends (start levels -2..3, SKL skips, 56-bit addresses) and the leaf is handled here as a
 * 64-bit one is (AF, PIIndex/POIndex rights from the high word, nDirty, HA/HD writing back all 128
 * bits, AttrIndx[3] with TCR2_EL1.AIE, the TLB entry).
 *
 * <p>Not thread-safe (one per simulated CPU).
 */
public final class Mmu {

    // VMSAv8-64 leaf bits the hardware updates (the format owns every other bit).
    private static final long AF = 1L << 10;
    private static final long AP2 = 1L << 7;
    private static final long DBM = 1L << 51;
    private static final long NDIRTY = 1L << 7;  // bit 7 under permission indirection (AP[2]'s place)

    private final TranslationRegime regime;
    private final PhysicalMemory memory;
    private final Tlb tlb;
    private final Slot slot;
    private final Descriptor d = new Descriptor();
    // What the TLB-hit path needs from the (immutable) regime, read once: a hit then touches the
    // MMU's own fields and the TLB's arrays only. A shift by 8 drops the tag byte under TBI.
    private final boolean enabled;
    // Bit n set where the regime translates for ELn (TranslationRegime.Kind.serves), read on a TLB miss.
    private final int servedEls;
    // Stage 1 off: SCTLR_EL1.M = 0, or HCR_EL2.DC/TGE for EL1&0; with DC the flat output is Normal WB.
    private final boolean stage1Off;
    private final boolean defaultCacheable;
    // The ASID of each half's translations: both the current ASID, or TTBR0's and TTBR1's with TCR2_EL1.A2.
    private final int lowerAsid;
    private final int upperAsid;
    private final boolean pan;
    // POR_EL1 / POR_EL0: not permitted to be cached in a TLB, so applied on every hit.
    private final long porEl1;
    private final long porEl0;
    // PIE/POE evaluator, or null (direct AP/UXN/PXN rights, no overlays).
    private final IndirectPermissions s1Permissions;
    private final int lowerVaBits;
    private final int upperVaBits;
    private final int lowerTagShift;
    private final int upperTagShift;
    // Stage 2 (HCR_EL2.VM = 1), or null. Two-stage translations are cached as combined entries.
    private final Stage2Regime stage2;
    private final Stage2Walker stage2Walker;
    // The TLB context of this regime's entries: the VMID for EL1&0 (0 without EL2).
    private final int context;
    // What the stage-1 leaf left for the combined TLB entry that secondStage inserts (fields, so the
    // walk allocates nothing for it): its permissions and log2 of the span it covers.
    private int s1Perms;
    private int s1EntryShift;
    // The address of the descriptor being read, before stage 2 (an IPA under stage 2): a hardware
    // update of a stage-1 descriptor is a write to it that stage 2 must permit.
    private long descriptorIpa;
    // Each half's walk compiled for its geometry (VMSAv8-64, one stage), or null: it finds the leaf
    // of a walk that reaches one, and the checks below run on it as on any leaf.
    private final LeafWalk lowerLeafWalk;
    private final LeafWalk upperLeafWalk;
    // The common leaf of each compiled walk checked by table look-ups, or null (see LeafCheckTables).
    private final LeafCheckTables lowerLeafTables;
    private final LeafCheckTables upperLeafTables;
    // What checkLeaf found: the fault, or null and the leaf's attributes (for a Translated record).
    private Translation.Fault leafFault;
    private boolean leafContiguous;
    private int leafAttr;
    private Shareability leafShareability;
    private boolean leafGlobal;
    // TCR2_EL1.D128: the VMSAv9-128 descent, else null (VMSAv8-64).
    private final D128Walk d128Walk;
    // Each half's VMSAv9-128 walk compiled for its geometry and start level (one stage), or null;
    // and whether the last VMSAv9-128 leaf's Contiguous bit is in effect, whichever walk found it.
    private final LeafWalk128 lowerLeafWalk128;
    private final LeafWalk128 upperLeafWalk128;
    private boolean d128Contiguous;

    public Mmu(TranslationRegime regime, PhysicalMemory memory, Tlb tlb) {
        this(regime, null, memory, tlb);
    }

    /**
     * EL1&amp;0 translation in two stages when {@code stage2} is enabled (HCR_EL2.VM): every
     * stage-1 table address and the stage-1 output address are IPAs that stage 2 translates.
     */
    public Mmu(TranslationRegime regime, Stage2Regime stage2, PhysicalMemory memory, Tlb tlb) {
        boolean el10 = regime.kind() == TranslationRegime.Kind.EL1_0;
        // Stage 2 translates the EL1&0 regime only.
        this.stage2 = el10 && stage2 != null && stage2.enabled() ? stage2 : null;
        // With EL2 the EL1&0 entries are tagged with VTTBR_EL2.VMID even when stage 2 is off; the
        // EL2 and EL2&0 regimes have their own tags, which no VMID equals.
        this.context = switch (regime.kind()) {
            case EL1_0 -> stage2 == null ? 0 : stage2.vmid();
            case EL2 -> Tlb.EL2;
            case EL2_0 -> Tlb.EL2_0;
        };
        this.stage2Walker = this.stage2 == null ? null : new Stage2Walker(this.stage2, memory);
        this.regime = regime;
        this.memory = memory;
        this.tlb = tlb;
        this.slot = new Slot(memory, regime.d128() ? 4 : 3);
        this.d128Walk = regime.d128() ? new D128Walk(memory, stage2Walker, regime.hardwareTableAccessFlag()) : null;
        // HCR_EL2.DC and TGE turn EL1&0 stage 1 off (the Stage2Regime carries HCR_EL2 even when VM is 0).
        this.stage1Off = !regime.mmuEnabled() || el10 && stage2 != null && stage2.stage1Disabled();
        this.defaultCacheable = el10 && stage2 != null && stage2.defaultCacheable();
        this.enabled = !stage1Off;
        int served = 0;
        for (int el = 0; el <= 3; el++) if (regime.kind().serves(el)) served |= 1 << el;
        this.servedEls = served;
        this.lowerAsid = regime.asid(false);
        this.upperAsid = regime.asid(true);
        this.pan = regime.pan();
        this.porEl1 = regime.permissionRegisters().porEl1();
        this.porEl0 = regime.permissionRegisters().porEl0();
        this.s1Permissions = regime.indirectPermissions();
        this.lowerVaBits = regime.lower().geometry().vaBits();
        this.upperVaBits = regime.upper().geometry().vaBits();
        this.lowerTagShift = regime.lower().tbi() ? 8 : 0;
        this.upperTagShift = regime.upper().tbi() ? 8 : 0;
        this.lowerLeafWalk = compiledWalk(regime.lower());
        this.upperLeafWalk = compiledWalk(regime.upper());
        this.lowerLeafTables = leafTables(lowerLeafWalk, regime.lower());
        this.upperLeafTables = leafTables(upperLeafWalk, regime.upper());
        this.lowerLeafWalk128 = compiledWalk128(regime.lower());
        this.upperLeafWalk128 = compiledWalk128(regime.upper());
    }

    /**
     * The look-up tables of {@code half}'s common leaf, each rights entry from {@link #directRights}
     * as the general check computes it; null without a compiled walk or with PIE/POE.
     */
    private LeafCheckTables leafTables(LeafWalk compiled, TranslationRegime.Half half) {
        if (compiled == null || s1Permissions != null) return null;
        return new LeafCheckTables(regime, half, context, i -> {
            TableAttributes t = half.format().tableAttributes(new Descriptor().set(LeafCheckTables.tableBitsOf(i), 0));
            return directRights(LeafCheckTables.leafBitsOf(i), t.apTable(), t.unprivilegedExecuteNeverTable(),
                    t.privilegedExecuteNeverTable());
        });
    }

    /**
     * The compiled VMSAv9-128 leaf walk of {@code half}'s tables, or null where {@link D128Walk} does
     * it all: 64-bit descriptors, stage 2 (every table address is an IPA, translated level by level),
     * the MMU off or the half's walks disabled, a start level past 3 or a TTBR beyond the PA size
     * (faults before the first read), or TCR2.HAFT (the walk writes the tables' Access flags).
     */
    private LeafWalk128 compiledWalk128(TranslationRegime.Half half) {
        if (!regime.d128() || stage2 != null || !regime.mmuEnabled() || !half.walks() || half.startLevel() > 3
                || regime.hardwareTableAccessFlag()) return null;
        long paLimit = paLimit();
        if (Long.compareUnsigned(half.root(), paLimit) > 0) return null;
        return LeafWalk128.compiled(half.format(), memory, half.root(), paLimit, half.startLevel(),
                half.disableContiguous());
    }

    /**
     * The compiled leaf walk of {@code half}'s tables, or null where the general walk must do it all:
     * with stage 2 (every table address is an IPA), with the MMU off or the half's walks disabled
     * (EPDn), a TTBR beyond the PA size, VMSAv9-128 (its own descent, {@link D128Walk}), or with
     * TCR2_EL1.HAFT (the walk writes the tables' Access flags, which the compiled walk does not).
     */
    private LeafWalk compiledWalk(TranslationRegime.Half half) {
        if (stage2 != null || !regime.mmuEnabled() || !half.walks() || regime.d128()
                || regime.hardwareTableAccessFlag()) return null;
        long paLimit = paLimit();
        if (Long.compareUnsigned(half.root(), paLimit) > 0) return null;
        return LeafWalk.compiled(half.format(), memory, half.root(), paLimit);
    }

    private long paLimit() {
        return regime.paBits() == 64 ? -1L : (1L << regime.paBits()) - 1;
    }

    public TranslationRegime regime() { return regime; }

    public Tlb tlb() { return tlb; }

    /** Stage 2 when it is on, else null. */
    public Stage2Regime stage2() { return stage2; }

    /**
     * The hot path: the output address of {@code va}, or -1 if the access faults (call
     * {@link #translate} for the fault). A TLB hit allocates nothing and reads no table.
     */
    public long outputAddress(long va, Access access, int el) {
        if (enabled && inRange(va)) {
            int hit = tlb.lookup(va, context, (va >>> 55 & 1) != 0 ? upperAsid : lowerAsid);
            if (hit >= 0 && permitted(tlb.perms(hit), access, el)) return tlb.pa(hit, va);
            if (hit < 0) return missOutputAddress(va, access, el);
        }
        return translate(va, access, el) instanceof Translation.Translated t ? t.pa() : -1;
    }

    /**
     * {@link #outputAddress} after a TLB miss, out of line so that the hit path stays small enough
     * to inline: a walk the compiled walk takes to a leaf is checked and cached without a record
     * and without a second TLB lookup; any other goes through {@link #translate}.
     */
    private long missOutputAddress(long va, Access access, int el) {
        if (d128Walk != null) return missOutputAddress128(va, access, el);
        boolean upperHalf = (va >>> 55 & 1) != 0;
        LeafWalk compiled = upperHalf ? upperLeafWalk : lowerLeafWalk;
        if (compiled != null && (servedEls >>> el & 1) != 0) {
            long lo = compiled.leaf(va);
            if (lo != 0) {
                // The common leaf: checked and cached by the tables, nothing else written (not leafFault).
                LeafCheckTables tables = upperHalf ? upperLeafTables : lowerLeafTables;
                if (tables != null) {
                    long pa = tables.check(tlb, va, lo, compiled.outputAddress(), compiled.tableDescriptors(),
                            compiled.level(), access, el);
                    if (pa != LeafCheckTables.GENERAL) return pa;
                }
                long pa = checkCompiledLeaf(compiled, lo, va, access, el, upperHalf ? regime.upper() : regime.lower());
                return leafFault == null ? pa : -1;
            }
        }
        return translate(va, access, el) instanceof Translation.Translated t ? t.pa() : -1;
    }

    /** {@link #missOutputAddress} with VMSAv9-128 tables: the compiled walk where there is one, as for 64-bit ones. */
    private long missOutputAddress128(long va, Access access, int el) {
        boolean upperHalf = (va >>> 55 & 1) != 0;
        LeafWalk128 compiled = upperHalf ? upperLeafWalk128 : lowerLeafWalk128;
        if (compiled != null && (servedEls >>> el & 1) != 0) {
            long pa = compiledLeaf128(compiled, va, access, el, upperHalf ? regime.upper() : regime.lower());
            if (pa != NO_LEAF) return leafFault == null ? pa : -1;
        }
        return translate(va, access, el) instanceof Translation.Translated t ? t.pa() : -1;
    }

    /**
     * The VMSAv9-128 leaf of {@code va} through {@code compiled}, checked and cached by
     * {@link #checkLeaf} as one {@link D128Walk} found would be, or {@link #NO_LEAF} where the walk
     * does not reach one (a fault: {@link D128Walk} walks again to name it and its level).
     */
    private long compiledLeaf128(LeafWalk128 compiled, long va, Access access, int el, TranslationRegime.Half half) {
        long lo = compiled.leaf(va);
        if (lo == 0) return NO_LEAF;
        d.set(lo, compiled.high());
        slot.at(compiled.leafAddress(), 0);
        descriptorIpa = compiled.leafAddress();
        d128Contiguous = compiled.contiguous();
        // No hierarchical permissions: permission indirection is always on.
        return checkLeaf(va, access, el, half, compiled.level(), 0, false, false, paLimit());
    }

    /** What {@link #compiledLeaf} answers when the compiled walk found no leaf. */
    private static final long NO_LEAF = Long.MIN_VALUE;

    /**
     * The leaf of {@code va} through {@code compiled}, checked and cached by {@link #checkLeaf}
     * (its output address, or -1 with {@link #leafFault}), or {@link #NO_LEAF} where the walk does
     * not reach one, for the general walk to find the fault and its level.
     */
    private long compiledLeaf(LeafWalk compiled, long va, Access access, int el, TranslationRegime.Half half) {
        long lo = compiled.leaf(va);
        if (lo == 0) return NO_LEAF;
        return checkCompiledLeaf(compiled, lo, va, access, el, half);
    }

    /** {@link #checkLeaf} of leaf {@code lo}, which {@code compiled} has just found for {@code va}. */
    private long checkCompiledLeaf(LeafWalk compiled, long lo, long va, Access access, int el, TranslationRegime.Half half) {
        DescriptorFormat f = half.format();
        int apTable = 0;
        boolean uxnTable = false, pxnTable = false;
        // HPDn, and PIE or POE (AArch64.S1NextWalkStateTable; rule R_BVXDG for POE), turn them off.
        if (!half.hpd() && (s1Permissions == null || !s1Permissions.ignoresTablePermissions())) {
            // The tables' bits ORed are what the general walk accumulates level by level.
            TableAttributes t = f.tableAttributes(d.set(compiled.tableDescriptors(), 0));
            apTable = t.apTable();
            uxnTable = t.unprivilegedExecuteNeverTable();
            pxnTable = t.privilegedExecuteNeverTable();
        }
        d.set(lo, 0);
        slot.at(compiled.leafAddress(), 0);
        return checkLeaf(va, access, el, half, compiled.level(), apTable, uxnTable, pxnTable, paLimit());
    }

    /** Bits [63:VA] (or [55:VA] with TBI) all equal bit 55: the VA is in a half's range. */
    private boolean inRange(long va) {
        if ((va >>> 55 & 1) != 0) return (va << upperTagShift >> upperTagShift) >> upperVaBits == -1L;
        return (va << lowerTagShift >> lowerTagShift) >> lowerVaBits == 0L;
    }

    /**
     * Translates {@code va} for {@code access} at EL{@code el} (0 or 1): in two stages when stage 2
     * is on (what AT S12E1R/W and S12E0R/W report), else stage 1.
     */
    public Translation translate(long va, Access access, int el) {
        return translate(va, access, el, false);
    }

    /**
     * Stage 1 only (AT S1E1R/W, S1E0R/W): the output is the IPA; with stage 2 on, the stage-1 table
     * reads still go through it and may fault there (S1PTW).
     */
    public Translation translateStage1(long va, Access access, int el) {
        return translate(va, access, el, true);
    }

    private Translation translate(long va, Access access, int el, boolean stage1Only) {
        if (!regime.kind().serves(el)) {
            throw new IllegalArgumentException("the " + regime.kind() + " regime does not translate for EL" + el);
        }
        if (stage1Off) {
            // SCTLR_EL1.M = 0 (or HCR_EL2.DC/TGE): flat mapping; VA bits above the PA size are an
            // address size fault. The attributes are AArch64.S1DisabledOutput's: with HCR_EL2.DC
            // Normal Write-Back Read/Write-Allocate Non-shareable, else Normal for a fetch and
            // Device-nGnRnE for data, Outer Shareable.
            // With stage 1 off the VA is checked against the CPU's PA size, not TCR.IPS, up to bit 55
            // with TBI (AArch64.S1DisabledOutput: va<AddrTop:PAMax()> must be zero).
            int tagShift = (va >>> 55 & 1) != 0 ? upperTagShift : lowerTagShift;
            if ((va << tagShift >>> tagShift >>> regime.cpuPaBits()) != 0) {
                return new Translation.Fault(va, FaultType.ADDRESS_SIZE, 0, "MMU off, VA beyond the CPU's PA size");
            }
            boolean normal = defaultCacheable || access == Access.EXECUTE;
            var flat = new Translation.Translated(va, va & 0x00FF_FFFF_FFFF_FFFFL, 0, 1L << 12, false, normal ? 0xFF : 0x00,
                    normal ? MemoryType.NORMAL_CACHEABLE : MemoryType.DEVICE_nGnRnE,
                    defaultCacheable ? Shareability.NON_SHAREABLE : Shareability.OUTER_SHAREABLE, true, regime.asid());
            return stage2 == null || stage1Only ? flat : secondStage(flat, access, el, false);
        }
        boolean upperHalf = (va >>> 55 & 1) != 0;
        TranslationRegime.Half half = upperHalf ? regime.upper() : regime.lower();
        Geometry g = half.geometry();
        // Outside the half's range: a level 0 translation fault.
        if (!inRange(va)) {
            return new Translation.Fault(va, FaultType.TRANSLATION, 0, "VA outside the " + g.vaBits() + "-bit "
                    + (upperHalf ? "TTBR1" : "TTBR0") + " range");
        }
        // The TLB holds final translations: with stage 2 on, AT S1E1* (stage 1 alone) walks.
        int hit = stage2 != null && stage1Only ? -1 : tlb.lookup(va, context, upperHalf ? upperAsid : lowerAsid);
        if (hit >= 0 && permitted(tlb.perms(hit), access, el)) {
            int info = tlb.info(hit);
            int attr = info >>> 8 & 0xFF;
            return new Translation.Translated(va, tlb.pa(hit, va), (byte) info, 1L << (info >>> 24 & 0x3F),
                    (info >>> 20 & 1) != 0, attr, MemoryType.decode(attr), Shareability.decode(info >>> 16 & 3),
                    tlb.asid(hit) == -1, regime.asid(upperHalf));
        }
        if (!half.walks()) {
            return new Translation.Fault(va, FaultType.TRANSLATION, 0,
                    half.epd() ? "EPD" + (upperHalf ? 1 : 0) + " set: no walk" : half.txszFault());
        }
        return walk(va, access, el, half, stage1Only);
    }

    private Translation walk(long va, Access access, int el, TranslationRegime.Half half, boolean stage1Only) {
        if (d128Walk != null) return walk128(va, access, el, half, stage1Only);
        Geometry g = half.geometry();
        DescriptorFormat f = half.format();
        long paLimit = paLimit();
        long table = half.root();
        if (Long.compareUnsigned(table, paLimit) > 0) {
            return new Translation.Fault(va, FaultType.ADDRESS_SIZE, 0, "TTBR base address beyond the PA size");
        }
        int apTable = 0;
        boolean uxnTable = false, pxnTable = false;
        // HPDn, and PIE or POE (AArch64.S1NextWalkStateTable; rule R_BVXDG for POE), turn them off.
        boolean tablePermissions = !half.hpd() && (s1Permissions == null || !s1Permissions.ignoresTablePermissions());
        LeafWalk compiled = half == regime.upper() ? upperLeafWalk : lowerLeafWalk;
        if (compiled != null) {
            // No look-up tables here: the record needs the leaf fields the general check sets.
            long pa = compiledLeaf(compiled, va, access, el, half);
            if (pa != NO_LEAF) return leafFault != null ? leafFault : translated(va, pa, half, compiled.level());
        }
        // No leaf, or no compiled walk: the general walk finds the fault (or the leaf) level by level.
        for (int level = g.startLevel(); level <= 3; level++) {
            slot.at(table, g.index(va, level));
            descriptorIpa = slot.address();
            if (stage2 != null) {
                // The descriptor's address is an IPA: stage 2 translates it (a read, S1PTW).
                Stage2Walker.Mapped m = stage2Walker.walk(va, slot.address(), Access.READ, el, true);
                if (m == null) return stage2Walker.fault();
                slot.at(m.pa(), 0);
            }
            if (!memory.contains(slot.address(), 8)) {
                return new Translation.Fault(va, FaultType.EXTERNAL_ABORT_ON_WALK, level,
                        String.format("descriptor at PA 0x%x is not RAM", slot.address()));
            }
            slot.read(d);
            switch (f.kind(d, level)) {
                case INVALID, RESERVED -> {
                    return new Translation.Fault(va, FaultType.TRANSLATION, level, "invalid descriptor " + d);
                }
                case TABLE -> {
                    table = f.tableAddress(d);
                    if (Long.compareUnsigned(table, paLimit) > 0) {
                        return new Translation.Fault(va, FaultType.ADDRESS_SIZE, level, "table address beyond the PA size");
                    }
                    if (regime.hardwareTableAccessFlag() && (d.lo() & AF) == 0) {
                        // FEAT_HAFT: the walk sets the table descriptor's AF (bit 10), once its next
                        // table's address is known to be in range, whatever the walk then finds
                        // (AArch64.S1Walk). Under stage 2 the update is a write to the descriptor's IPA.
                        if (!DescriptorUpdate.write(d, slot, d.lo() | AF, stage2Walker, va, descriptorIpa, el)) {
                            return stage2Walker.fault();
                        }
                    }
                    if (tablePermissions) {
                        TableAttributes t = f.tableAttributes(d);
                        apTable |= t.apTable();
                        uxnTable |= t.unprivilegedExecuteNeverTable();
                        pxnTable |= t.privilegedExecuteNeverTable();
                    }
                }
                case BLOCK, PAGE -> {
                    Translation t = leaf(va, access, el, half, level, apTable, uxnTable, pxnTable, paLimit);
                    return stage2 == null || stage1Only || !(t instanceof Translation.Translated s1) ? t
                            : secondStage(s1, access, el, true);
                }
            }
        }
        throw new AssertionError("a walk ends at level 3");
    }

    /** The VMSAv9-128 walk: its own descent, then the leaf as the 64-bit walk handles one. */
    private Translation walk128(long va, Access access, int el, TranslationRegime.Half half, boolean stage1Only) {
        LeafWalk128 compiled = half == regime.upper() ? upperLeafWalk128 : lowerLeafWalk128;
        if (compiled != null) {
            // One stage only (compiledWalk128), so the result is final.
            long pa = compiledLeaf128(compiled, va, access, el, half);
            if (pa != NO_LEAF) return leafFault != null ? leafFault : translated(va, pa, half, compiled.level());
        }
        // No leaf (a fault to name), or no compiled walk (stage 2): the reference descent.
        long paLimit = paLimit();
        int level = d128Walk.descend(va, half, paLimit, slot, d, el);
        if (level == D128Walk.FAULTED) return d128Walk.fault();
        descriptorIpa = d128Walk.descriptorIpa();
        d128Contiguous = d128Walk.contiguous();
        // No hierarchical permissions: permission indirection is always on.
        Translation t = leaf(va, access, el, half, level, 0, false, false, paLimit);
        return stage2 == null || stage1Only || !(t instanceof Translation.Translated s1) ? t
                : secondStage(s1, access, el, true);
    }

    private Translation leaf(long va, Access access, int el, TranslationRegime.Half half, int level, int apTable,
                             boolean uxnTable, boolean pxnTable, long paLimit) {
        long pa = checkLeaf(va, access, el, half, level, apTable, uxnTable, pxnTable, paLimit);
        return leafFault != null ? leafFault : translated(va, pa, half, level);
    }

    /** The record of the leaf {@link #checkLeaf} accepted. */
    private Translation.Translated translated(long va, long pa, TranslationRegime.Half half, int level) {
        return new Translation.Translated(va, pa, level, half.geometry().entrySpan(level), leafContiguous, leafAttr,
                MemoryType.decode(leafAttr), leafShareability, leafGlobal, regime.asid(half == regime.upper()));
    }

    /**
     * Checks the leaf in {@link #d} (at {@link #slot}) for {@code access}, updates AF or the dirty
     * state in memory where the hardware would, and caches it: returns the output address with
     * {@link #leafFault} null and the leaf's attributes in the leaf fields, or sets
     * {@link #leafFault}. Fields rather than a record, so a TLB miss through {@link #outputAddress}
     * allocates nothing.
     */
    private long checkLeaf(long va, Access access, int el, TranslationRegime.Half half, int level, int apTable,
                           boolean uxnTable, boolean pxnTable, long paLimit) {
        leafFault = null;
        Geometry g = half.geometry();
        DescriptorFormat f = half.format();
        long span = g.entrySpan(level);
        long oa = f.outputAddress(d, level);
        // The whole output address, the block's base with the VA's offset in it (StageOA), is checked
        // against the PA size (AArch64.S1Walk, AArch64.OAOutOfRange): a block larger than the PA size
        // (a 64K level-1 block is 4 TiB) faults at an offset beyond it even when its base is 0.
        if (Long.compareUnsigned(oa | (va & (span - 1)), paLimit) > 0) {
            return fault(new Translation.Fault(va, FaultType.ADDRESS_SIZE, level, "output address beyond the PA size"));
        }
        // lo is the descriptor as the access leaves it: AF and the dirty state are updated in table
        // memory only once the access is known to be permitted (below).
        long original = d.lo(), lo = original;
        if ((lo & AF) == 0) {
            if (!regime.hardwareAccessFlag()) {
                return fault(new Translation.Fault(va, FaultType.ACCESS_FLAG, level, "AF is 0"));
            }
            lo |= AF;
        }
        int perms;
        String dirtyDenial = null;
        boolean singleRange = regime.kind().singleRange();
        if (s1Permissions != null && s1Permissions.enabled()) {
            // Permission indirection: rights by PIIndex; bit 7 is nDirty (AArch64.S1CheckPermissions).
            perms = s1Permissions.cacheable(piIndex(), poIndex());
            if ((lo & NDIRTY) != 0) {
                if (access == Access.WRITE && regime.hardwareDirty() && permitted(perms, access, el)) {
                    // A permitted write under HA and HD clears nDirty in table memory (no DBM needed).
                    lo &= ~NDIRTY;
                } else {
                    // Cached without write: a later write walks again, to fault or to set the dirty state.
                    if (access == Access.WRITE && permitted(perms, access, el)) {
                        dirtyDenial = "nDirty (bit 7) is 1 and TCR_EL1.HA/HD are not both 1";
                    }
                    perms = IndirectPermissions.withDirtyState(perms, lo, false);
                }
            }
        } else {
            perms = directRights(lo, apTable, uxnTable, pxnTable);
            if (!permitted(perms, access, el) && access == Access.WRITE && regime.hardwareDirty() && (lo & DBM) != 0
                    && (lo & AP2) != 0 && permitted(directRights(lo & ~AP2, apTable, uxnTable, pxnTable), access, el)) {
                // Hardware dirty state: the write makes the page writable (AP[2] := 0) in table memory.
                lo &= ~AP2;
                perms = directRights(lo, apTable, uxnTable, pxnTable);
            }
        }
        if (!permitted(perms, access, el)) {
            return fault(new Translation.Fault(va, FaultType.PERMISSION, level, dirtyDenial != null ? dirtyDenial
                    : "permissions " + describe(effective(perms)) + " deny " + access + " at EL" + el + rightsSource()));
        }
        if (lo != original) {
            // A faulting access updates nothing: on a permission fault the AF update is CONSTRAINED
            // UNPREDICTABLE (AArch64.SettingAccessFlagPermitted, Unpredictable_AFUPDATE) and this is
            // QEMU 10's choice. Under stage 2 the write must be permitted there first (DescriptorUpdate).
            if (!DescriptorUpdate.write(d, slot, lo, stage2Walker, va, descriptorIpa, el)) {
                return fault(stage2Walker.fault());
            }
        }
        // TCR2.PnCH (FEAT_THE): bit 52 is the Protected bit, so the leaf is not part of a Contiguous run.
        boolean contiguous = d128Walk != null ? d128Contiguous : f.contiguous(d) && !regime.protectedAttribute();
        int run = contiguous ? g.contiguousEntries(level) : 1;
        long runBase = oa - (va & (span * run - 1) & -span);
        if ((runBase & (span * run - 1)) != 0) {
            // A misprogrammed Contiguous run (its output address not aligned to the run) is
            // CONSTRAINED UNPREDICTABLE; caching just this entry is one permitted outcome, and the
            // only one that cannot make up an address (a run base below 0, or above the PA size).
            run = 1;
            runBase = oa;
        }
        int entryShift = Long.numberOfTrailingZeros(span * run);
        if (entryShift > regime.paBits()) {
            // A block larger than the PA size: cache only the part below it, which this VA is in.
            runBase += va & (span * run - 1) & -(1L << regime.paBits());
            entryShift = regime.paBits();
        }
        int attr = regime.mairAttr(regime.attrIndex(lo));
        Shareability sh = f.attributes(d).shareability();
        boolean upperHalf = half == regime.upper();
        // No ASIDs at EL2: nG is RES0. TCR2_EL1.FNGn (FEAT_ASID2) makes every leaf of the half non-global.
        boolean global = singleRange || (lo >>> 11 & 1) == 0 && !regime.forceNonGlobal(upperHalf);
        int leafAsid = upperHalf ? upperAsid : lowerAsid;
        int info = level | attr << 8 | sh.encoding() << 16 | (contiguous ? 1 : 0) << 20
                | Long.numberOfTrailingZeros(span) << 24;
        if (stage2 == null) {
            tlb.insert(va, runBase, entryShift, context, global ? -1 : leafAsid, perms, info, -1L); // -1: no stage 2
        } else {
            s1Perms = perms;       // secondStage caches the combined entry
            s1EntryShift = entryShift;
        }
        leafContiguous = contiguous;
        leafAttr = attr;
        leafShareability = sh;
        leafGlobal = global;
        return oa | (va & (span - 1));
    }

    private long fault(Translation.Fault f) {
        leafFault = f;
        return -1;
    }

    /**
     * Stage 2 of a stage-1 result: its output (an IPA) translated, the attributes combined, the
     * leaf size the smaller of the two.
     */
    private Translation secondStage(Translation.Translated s1, Access access, int el, boolean cache) {
        Stage2Walker.Mapped m = stage2Walker.walk(s1.va(), s1.pa(), access, el, false);
        if (m == null) return stage2Walker.fault();
        int attr = TwoStageAttributes.combine(s1.mairAttr(), m.memAttr(), stage2.forcedWriteBack());
        var t = new Translation.Translated(s1.va(), m.pa(), s1.level(), Math.min(s1.leafSize(), m.span()),
                s1.contiguous(), attr, MemoryType.decode(attr),
                TwoStageAttributes.shareability(s1.shareability(), m.sh()), s1.global(), s1.asid());
        if (cache) insertCombined(t, s1.pa(), m);
        return t;
    }

    /**
     * Caches a two-stage translation as one combined entry: it covers the smaller of the two
     * stages' spans (VA and IPA offsets agree within both), allows what both stages allow, and
     * remembers its stage-2 leaf for TLBI IPAS2E1. Faults are not cached.
     */
    private void insertCombined(Translation.Translated t, long ipa, Stage2Walker.Mapped m) {
        int s2Shift = Long.numberOfTrailingZeros(m.span());
        int s = Math.min(Math.min(s1EntryShift, s2Shift), stage2.paBits()); // a stage-2 block may exceed the PA size
        int info = t.level() | t.mairAttr() << 8 | t.shareability().encoding() << 16 | (t.contiguous() ? 1 : 0) << 20
                | Long.numberOfTrailingZeros(t.leafSize()) << 24;
        tlb.insert(t.va(), t.pa() - (t.va() & ((1L << s) - 1)), s, context, t.global() ? -1 : t.asid(),
                s1Perms & (m.perms() | ~0x3F), info, (ipa & -m.span()) | s2Shift); // keeps stage 1's PAN/overlay marks
    }

    /** The direct (AP/UXN/PXN) rights of leaf {@code lo} under its tables' APTable, UXNTable, PXNTable. */
    private int directRights(long lo, int apTable, boolean uxnTable, boolean pxnTable) {
        int ap = (int) (lo >>> 6 & 3);
        boolean uxn = (lo >>> 54 & 1) != 0 || uxnTable;
        boolean pxn = (lo >>> 53 & 1) != 0 || pxnTable;
        if (regime.kind().singleRange()) {
            // EL2 (E2H = 0) has one privilege level: AP[1] and APTable[0] give no EL0 access, bit 54
            // is XN for EL2 (XNTable with it) and PXN/PXNTable are RES0 (the Arm ARM's
            // AArch64.S1HasPermissionsFault for a regime without EL0; QEMU's get_S1prot uses
            // only AP[2] and XN when the regime has one range).
            ap &= 2;
            apTable &= 2;
            pxn = uxn;
        }
        return direct(ap, apTable, uxn, pxn, lo);
    }

    /**
     * Direct (AP/UXN/PXN) rights in the form the TLB keeps: with POE/E0POE on, the overlay is left
     * for each access ({@link IndirectPermissions#cacheableDirect}).
     */
    private int direct(int ap, int apTable, boolean uxn, boolean pxn, long lo) {
        if (s1Permissions == null) return permissions(ap, apTable, uxn, pxn);
        int folded = (ap | (apTable & 2)) & ~(apTable & 1);
        return s1Permissions.cacheableDirect(folded, uxn, pxn, regime.wxn(), false, IndirectPermissions.poIndex64(lo));
    }

    /** Where PIE or POE decided the rights: the descriptor's indices, for a permission fault's text. */
    private String rightsSource() {
        if (s1Permissions == null) return "";
        String po = s1Permissions.privilegedOverlays() || s1Permissions.unprivilegedOverlays()
                ? "POIndex " + poIndex() : "";
        String pi = s1Permissions.enabled() ? "PIIndex " + piIndex() : "";
        return " (" + pi + (pi.isEmpty() || po.isEmpty() ? "" : ", ") + po + ")";
    }

    /** The leaf's PIIndex: bits [118:115] of a VMSAv9-128 leaf, else UXN:PXN:DBM:AP[1]. */
    private int piIndex() {
        return d128Walk != null ? IndirectPermissions.piIndex128(d.hi()) : IndirectPermissions.piIndex64(d.lo());
    }

    /** The leaf's POIndex: bits [124:121] of a VMSAv9-128 leaf, else bits [62:60]. */
    private int poIndex() {
        return d128Walk != null ? IndirectPermissions.poIndex128(d.hi()) : IndirectPermissions.poIndex64(d.lo());
    }

    /** The access rights a leaf grants, folded with its tables' limits, WXN and the implied PXN. */
    private int permissions(int ap, int apTable, boolean uxn, boolean pxn) {
        ap = (ap | (apTable & 2)) & ~(apTable & 1);  // APTable[1]: read-only; APTable[0]: no EL0 access
        boolean el0Read = (ap & 1) != 0;
        boolean el0Write = ap == 0b01;
        boolean el1Write = (ap & 2) == 0;
        boolean el0Exec = !uxn;
        boolean el1Exec = !pxn && !el0Write; // memory writable at EL0 is never executable at EL1
        if (regime.wxn()) {
            el0Exec &= !el0Write;
            el1Exec &= !el1Write;
        }
        return (el0Read ? Tlb.R0 : 0) | (el0Write ? Tlb.W0 : 0) | (el0Exec ? Tlb.X0 : 0)
                | Tlb.R1 | (el1Write ? Tlb.W1 : 0) | (el1Exec ? Tlb.X1 : 0);
    }

    private boolean permitted(int perms, Access access, int el) {
        return Permissions.permitted(effective(perms), access, el, pan);
    }

    /** TLB-kept rights finished with the current POR_EL1/POR_EL0 where an overlay applies. */
    private int effective(int perms) {
        return (perms & IndirectPermissions.OVERLAID) == 0 ? perms : IndirectPermissions.withOverlays(perms, porEl1, porEl0);
    }

    private static String describe(int p) {
        return "EL1 " + ((p & Tlb.W1) != 0 ? "RW" : "RO") + ((p & Tlb.X1) != 0 ? "X" : "-")
                + " EL0 " + ((p & Tlb.R0) == 0 ? "--" : (p & Tlb.W0) != 0 ? "RW" : "RO") + ((p & Tlb.X0) != 0 ? "X" : "-");
    }
}
