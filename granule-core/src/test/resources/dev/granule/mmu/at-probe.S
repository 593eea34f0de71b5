/*
 * Bare-metal AT probe for qemu-system-aarch64 -M virt,virtualization=on -cpu max.
 *
 * Runs at EL2 so that it can load any EL1&0 translation regime (TCR/TTBR0/TTBR1/MAIR/SCTLR_EL1,
 * SCTLR_EL1.M = 1) without translating its own fetches, then asks the CPU's walker about each probe
 * with an AT instruction and prints PAR_EL1 over the PL011 UART, one line per probe.
 *
 * Input, placed in RAM with -device loader at JOB:
 *   u64 cases
 *   per case: u64 tcr, ttbr0, ttbr1, mair, sctlr, hcr, vtcr, vttbr, probes;
 *             then per probe: u64 va, op
 *   op: 0 AT S1E1R, 1 S1E1W, 2 S1E0R, 3 S1E0W, 4 S1E1RP and 5 S1E1WP with PSTATE.PAN = 1,
 *       6 S1E1RP and 7 S1E1WP with PSTATE.PAN = 0, 8 S12E1R, 9 S12E1W, 10 S12E0R, 11 S12E0W
 *   hcr is HCR_EL2 as given (RW must be set; VM = 1 turns stage 2 on for EL1&0)
 *   With bit 63 of "cases" set (a CPU with FEAT_TCR2, S1PIE and S2PIE; QemuPieOracleTest), every
 *   case has four more u64 after probes (the count), before the probe list: tcr2, pir, pire0, s2pir (TCR2_EL1,
 *   PIR_EL1, PIRE0_EL1, S2PIR_EL2), and HCRX_EL2.TCR2En is set so that TCR2_EL1 takes effect.
 *   With bit 62 set as well (a CPU with FEAT_AIE), each case has one more u64 after those four:
 *   mair2 (MAIR2_EL1, the attributes of AttrIndx 8..15 under TCR2_EL1.AIE).
 * Output lines:
 *   I <ID_AA64MMFR0_EL1> <ID_AA64MMFR1_EL1> <ID_AA64MMFR2_EL1> <CurrentEL> <ID_AA64MMFR3_EL1>
 *   <PAR_EL1>                 one per probe, 16 hex digits
 *   !<ESR_EL2>                before a probe's line if its AT raised an exception instead (a
 *                             synchronous external abort on the walk is taken, not reported in PAR)
 *   END
 * then PSCI SYSTEM_OFF (QEMU's built-in PSCI answers SMC at EL2 when there is no EL3).
 */
        .equ UART, 0x09000000
        .equ JOB, 0x40400000
        .include "probe-uart.inc"       // read_case, set_el1_regime, the exception handler, the routines

        .text
        .global _start
_start:
        adr     x0, vectors
        msr     vbar_el2, x0
        mov     x0, #(1 << 31)          // HCR_EL2.RW: EL1 is AArch64; no stage 2, nothing trapped
        msr     hcr_el2, x0
        isb
        bl      id_line                 // I <MMFR0> <MMFR1> <MMFR2> <CurrentEL> <MMFR3>

        ldr     x20, =JOB
        ldr     x21, [x20], #8          // cases left
        lsr     x23, x21, #63           // the job's cases carry TCR2/PIR/PIRE0/S2PIR
        ubfx    x24, x21, #62, #1       // ... and MAIR2_EL1
        and     x21, x21, #0x3fffffffffffffff
        cbz     x23, case_loop
        mov     x0, #(1 << 14)          // HCRX_EL2.TCR2En (names from binutils >= 2.41: generic forms)
        msr     S3_4_C1_C2_2, x0
        isb
case_loop:
        cbz     x21, done
        read_case
        ldr     x22, [x20], #8          // probes in this case
        cbz     x23, 1f
        read_and_set_pie
        cbz     x24, 1f
        ldr     x12, [x20], #8          // mair2
        msr     S3_0_C10_C2_1, x12      // MAIR2_EL1
1:
        set_el1_regime
probe_loop:
        cbz     x22, next_case
        ldp     x0, x1, [x20], #16      // va, op
        and     x1, x1, #15
        adr     x2, at_table
        add     x2, x2, x1, lsl #4      // four instructions per entry
        br      x2
at_table:
        at      s1e1r, x0
        b       at_done
        nop
        nop
        at      s1e1w, x0
        b       at_done
        nop
        nop
        at      s1e0r, x0
        b       at_done
        nop
        nop
        at      s1e0w, x0
        b       at_done
        nop
        nop
        msr     pan, #1                 // S1E1RP/WP take PSTATE.PAN into account
        at      s1e1rp, x0
        msr     pan, #0
        b       at_done
        msr     pan, #1
        at      s1e1wp, x0
        msr     pan, #0
        b       at_done
        at      s1e1rp, x0              // ... and with PAN = 0 they are S1E1R/W
        b       at_done
        nop
        nop
        at      s1e1wp, x0
        b       at_done
        nop
        nop
        at      s12e1r, x0
        b       at_done
        nop
        nop
        at      s12e1w, x0
        b       at_done
        nop
        nop
        at      s12e0r, x0
        b       at_done
        nop
        nop
        at      s12e0w, x0
        b       at_done
        nop
        nop
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
        b       psci_off

        probe_routines

/* Any exception taken to EL2 (an AT's external abort on the walk): report it, go on. */
exception:
        report_and_resume 2

        vector_table vectors, exception
