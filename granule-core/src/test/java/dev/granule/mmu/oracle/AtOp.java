package dev.granule.mmu.oracle;

import dev.granule.mmu.Access;

/** The AT instructions at-probe.S runs, in the order of its jump table. */
public enum AtOp {
    S1E1R(Access.READ, 1, false),
    S1E1W(Access.WRITE, 1, false),
    S1E0R(Access.READ, 0, false),
    S1E0W(Access.WRITE, 0, false),
    /** FEAT_PAN2: AT S1E1RP run with PSTATE.PAN = 1 (S1E1R ignores PAN; S1E1RP honours it). */
    S1E1RP_PAN1(Access.READ, 1, true),
    S1E1WP_PAN1(Access.WRITE, 1, true),
    /** AT S1E1RP with PSTATE.PAN = 0: the same as S1E1R. */
    S1E1RP_PAN0(Access.READ, 1, false),
    S1E1WP_PAN0(Access.WRITE, 1, false),
    /** Two stages (run at EL2 with HCR_EL2.VM = 1): the PA of an EL1&amp;0 access. */
    S12E1R(Access.READ, 1, false),
    S12E1W(Access.WRITE, 1, false),
    S12E0R(Access.READ, 0, false),
    S12E0W(Access.WRITE, 0, false);

    /** The stage-1 instructions (the first eight). */
    public static final java.util.List<AtOp> STAGE1 = java.util.List.of(values()).subList(0, 8);

    public final Access access;
    public final int el;
    public final boolean pan;

    AtOp(Access access, int el, boolean pan) {
        this.access = access;
        this.el = el;
        this.pan = pan;
    }

    /** AT S12E*: stage 1 and stage 2; the others stop at stage 1 (an IPA when stage 2 is on). */
    public boolean twoStages() { return ordinal() >= 8; }
}
