/*
 * Bare-metal AT S1E2R/W probe for qemu-system-aarch64 -M virt,virtualization=on,secure=on -cpu max
 * -semihosting: the EL2 and EL2&0 (HCR_EL2.E2H = 1) regimes.
 *
 * Runs at EL3, so that it can load any EL2 translation regime (TCR/TTBR0/TTBR1/MAIR/SCTLR_EL2 with
 * SCTLR_EL2.M = 1) without translating its own fetches, as at-probe.S does for EL1&0 from EL2.
 * SCR_EL3.NS = 1, so the AT instructions ask the Non-secure EL2 regime.
 *
 * Input, placed in RAM with -device loader at JOB (the layout of at-probe.S):
 *   u64 cases
 *   per case: u64 tcr_el2, ttbr0_el2, ttbr1_el2, mair_el2, sctlr_el2, hcr_el2, 0, 0, probes;
 *             then per probe: u64 va, op
 *   op: 0 AT S1E2R, 1 AT S1E2W, 2 AT S1E0R, 3 AT S1E0W (EL2&0 when HCR_EL2.{E2H, TGE} = {1, 1})
 *   With bit 63 of "cases" set (a CPU with FEAT_TCR2, S1PIE and AIE; QemuEl2PieOracleTest), every case
 *   has four more u64 after probes (the count), before the probe list: tcr2_el2, pir_el2, pire0_el2,
 *   mair2_el2; SCR_EL3.{TCR2En, PIEn, AIEn} are set so that those registers take effect.
 * Output lines as at-probe.S's (ESR_EL3 for an AT that raised an exception), then a semihosting
 * SYS_EXIT (there is no PSCI without firmware at EL3).
 */
        .equ UART, 0x09000000
        .equ JOB, 0x40400000
        .include "probe-uart.inc"       // read_case, the exception handler, the routines

        .text
        .global _start
_start:
        adr     x0, vectors
        msr     vbar_el3, x0
        mov     x0, #((1 << 10) | (1 << 8) | 1) // SCR_EL3: RW (EL2 is AArch64), HCE, NS
        msr     scr_el3, x0
        mov     x0, #(1 << 31)          // HCR_EL2.RW
        msr     hcr_el2, x0
        isb
        bl      id_line                 // I <MMFR0> <MMFR1> <MMFR2> <CurrentEL>

        ldr     x20, =JOB
        ldr     x21, [x20], #8          // cases left
        lsr     x23, x21, #63           // the job's cases carry TCR2_EL2/PIR_EL2/PIRE0_EL2/MAIR2_EL2
        and     x21, x21, #0x7fffffffffffffff
        cbz     x23, case_loop
        mrs     x0, scr_el3
        orr     x0, x0, #(1 << 43)      // SCR_EL3.TCR2En
        orr     x0, x0, #(3 << 45)      // SCR_EL3.PIEn, AIEn
        msr     scr_el3, x0
        isb
case_loop:
        cbz     x21, done
        read_case                       // x6, x7 unused
        ldr     x22, [x20], #8          // probes in this case
        msr     hcr_el2, x5             // E2H first: it selects TCR_EL2's layout
        isb
        cbz     x23, 1f
        ldp     x8, x9, [x20], #16      // tcr2_el2, pir_el2
        ldp     x10, x11, [x20], #16    // pire0_el2, mair2_el2 (generic names: binutils 2.40 lacks them)
        msr     S3_4_C2_C0_3, x8        // TCR2_EL2
        msr     S3_4_C10_C2_3, x9       // PIR_EL2
        msr     S3_4_C10_C2_2, x10      // PIRE0_EL2
        msr     S3_4_C10_C1_1, x11      // MAIR2_EL2
1:
        msr     tcr_el2, x0
        msr     ttbr0_el2, x1
        msr     ttbr1_el2, x2
        msr     mair_el2, x3
        msr     sctlr_el2, x4
        isb
        tlbi    alle2                   // nothing cached from the previous case's tables
        dsb     sy
        isb
probe_loop:
        cbz     x22, next_case
        ldp     x0, x1, [x20], #16      // va, op
        tbnz    x1, #1, 2f
        tbnz    x1, #0, 1f
        at      s1e2r, x0
        b       at_done
1:      at      s1e2w, x0
        b       at_done
2:      tbnz    x1, #0, 3f
        at      s1e0r, x0
        b       at_done
3:      at      s1e0w, x0
at_done:
        isb
        mrs     x0, par_el1
        bl      hex_line
        sub     x22, x22, #1
        b       probe_loop
next_case:
        sub     x21, x21, #1
        b       case_loop
done:
        bl      end_line
        mov     x0, #0x18               // semihosting SYS_EXIT
        adr     x1, exit_block
        hlt     #0xf000
1:      wfi
        b       1b

        .balign 8
exit_block:
        .quad   0x20026                 // ADP_Stopped_ApplicationExit
        .quad   0                       // exit status

        probe_routines

/* Any exception taken to EL3 (an AT's external abort on the walk): report it, go on. */
exception:
        report_and_resume 3

        vector_table vectors, exception
