/*
 * Bare-metal hardware-update probe for qemu-system-aarch64 -M virt,virtualization=on -cpu max
 * (FEAT_HAFDBS: TCR_EL1.HA/HD and VTCR_EL2.HA/HD; under permission indirection too, on a QEMU
 * with FEAT_S1PIE/S2PIE).
 *
 * Runs at EL2 with its own MMU off. For each case it loads an EL1&0 regime (and stage 2 with
 * HCR_EL2.VM), then for each access drops to EL1 or EL0 with ERET and makes one REAL load, store
 * or instruction fetch through the case's tables. The lower-level code and EL1's vectors are in
 * the page(s) the generator maps at VA = IPA = PA 0x40000000 (read-only, executable at EL1 and EL0).
 * The lower EL comes back with HVC: #0 after a load, store or EL1 fetch that worked; #1 from EL1's
 * vectors with ESR_EL1 in x2 and FAR_EL1 in x3 (a stage-1 abort, EL0's SVC after its access, or the
 * UNDEFINED HVC an EL0 fetch executes); a stage-2 abort is taken to EL2 directly. After all cases
 * it prints the descriptor words it is asked for: every word the generator set up, after the accesses.
 *
 * Input, placed in RAM with -device loader at JOB:
 *   u64 scratch, scratch_bytes       filled with FILL (two "hvc #0") before anything runs
 *   u64 cases
 *   per case: u64 tcr, ttbr0, ttbr1, mair, sctlr, hcr, vtcr, vttbr, pan (0 or 1 << 22), accesses;
 *             then per access: u64 va, op
 *   op: 0 load at EL1, 1 store at EL1, 2 fetch at EL1, 3 load at EL0, 4 store at EL0, 5 fetch at EL0
 *   u64 words; then per word: u64 pa
 *   With bit 63 of "cases" set (QemuHafdbsPieOracleTest: a CPU with FEAT_TCR2, S1PIE and S2PIE), every
 *   case has four more u64 after accesses (the count), before the access list: tcr2, pir, pire0,
 *   s2pir (TCR2_EL1, PIR_EL1, PIRE0_EL1, S2PIR_EL2), and HCRX_EL2.TCR2En is set so that TCR2_EL1
 *   takes effect.
 * Output lines:
 *   I <ID_AA64MMFR0_EL1> <ID_AA64MMFR1_EL1> <ID_AA64MMFR2_EL1> <CurrentEL> <ID_AA64MMFR3_EL1>
 *   per access: O                          the EL1 access (or fetch) completed
 *               1 <ESR_EL1> <FAR_EL1>      an exception taken to EL1
 *               2 <ESR_EL2> <FAR_EL2> <HPFAR_EL2>   a stage-2 abort taken to EL2
 *   D, then per word its value (16 hex digits)
 *   END
 * then PSCI SYSTEM_OFF (QEMU's built-in PSCI answers SMC at EL2 when there is no EL3).
 */
        .equ UART, 0x09000000
        .equ JOB, 0x40400000
        .include "probe-uart.inc"       // read_case, set_el1_regime, the routines

        .text
        .global _start
_start:
        adr     x0, el2_vectors
        msr     vbar_el2, x0
        adr     x0, el1_vectors
        msr     vbar_el1, x0
        mov     x0, #(1 << 31)          // HCR_EL2.RW: EL1 is AArch64
        msr     hcr_el2, x0
        isb
        bl      id_line                 // I <MMFR0> <MMFR1> <MMFR2> <CurrentEL>

        ldr     x20, =JOB
        ldp     x0, x1, [x20], #16      // scratch, bytes
        ldr     x2, =0xd4000002d4000002 // hvc #0, twice: what a fetch from scratch executes
        add     x1, x0, x1
1:      cmp     x0, x1
        b.hs    2f
        str     x2, [x0], #8
        b       1b
2:      ldr     x21, [x20], #8          // cases left
        lsr     x25, x21, #63           // the job's cases carry TCR2/PIR/PIRE0/S2PIR
        and     x21, x21, #0x7fffffffffffffff
        cbz     x25, case_loop
        mov     x0, #(1 << 14)          // HCRX_EL2.TCR2En (names from binutils >= 2.41: generic forms)
        msr     S3_4_C1_C2_2, x0
        isb
case_loop:
        cbz     x21, dump
        read_case
        ldp     x23, x22, [x20], #16    // PSTATE.PAN for EL1, accesses
        cbz     x25, 1f
        read_and_set_pie
1:      set_el1_regime
access_loop:
        cbz     x22, next_case
        ldp     x0, x1, [x20], #16      // va, op
        adr     x2, stubs
        add     x2, x2, x1, lsl #3      // two instructions per stub
        msr     elr_el2, x2
        mov     x3, #0x3c5              // EL1h, DAIF masked
        orr     x3, x3, x23
        mov     x4, #0x3c0              // EL0t
        cmp     x1, #3
        csel    x3, x4, x3, hs
        msr     spsr_el2, x3
        ldr     x1, =0xd4000002d4000002 // what a store writes: scratch keeps its contents
        eret

/* Taken from EL1 or EL0 (offset 0x400 of EL2's vectors). */
lower_sync:
        mrs     x24, esr_el2
        lsr     x10, x24, #26
        cmp     x10, #0x16              // HVC from EL1
        b.ne    stage2_abort
        ands    x10, x24, #0xffff
        b.ne    el1_exception
        mov     x0, #'O'
        bl      putc
        bl      newline
        b       access_done
el1_exception:
        mov     x0, #'1'
        bl      putc
        mov     x0, x2
        bl      space_hex
        mov     x0, x3
        bl      space_hex
        bl      newline
        b       access_done
stage2_abort:
        mov     x0, #'2'
        bl      putc
        mov     x0, x24
        bl      space_hex
        mrs     x0, far_el2
        bl      space_hex
        mrs     x0, hpfar_el2
        bl      space_hex
        bl      newline
access_done:
        sub     x22, x22, #1
        b       access_loop
next_case:
        sub     x21, x21, #1
        b       case_loop

dump:
        mov     x0, #(1 << 31)          // stage 2 off; the words are read by PA anyway
        msr     hcr_el2, x0
        isb
        mov     x0, #'D'
        bl      putc
        bl      newline
        ldr     x21, [x20], #8          // words
1:      cbz     x21, done
        ldr     x0, [x20], #8
        ldr     x0, [x0]
        bl      hex_line
        sub     x21, x21, #1
        b       1b
done:
        bl      end_line
        b       psci_off

/* An exception at EL2 itself is a broken probe: say so and stop. */
fatal:
        mov     x0, #'!'
        bl      putc
        mrs     x0, esr_el2
        bl      hex
        mrs     x0, elr_el2
        bl      space_hex
        bl      newline
        b       psci_off

        probe_routines

        .balign 2048
el2_vectors:
        .rept   8                   // current EL, SP0 and SPx
        b       fatal
        .balign 128
        .endr
        b       lower_sync          // lower EL, AArch64, synchronous
        .balign 128
        .rept   7
        b       fatal
        .balign 128
        .endr

/* EL1's vectors and the lower-level stubs: executed at EL1 and EL0 through the case's tables. */
        .balign 2048
el1_vectors:
        .rept   16
        mrs     x2, esr_el1
        mrs     x3, far_el1
        hvc     #1
        .balign 128
        .endr
stubs:
        ldr     x1, [x0]            // 0: load at EL1
        hvc     #0
        str     x1, [x0]            // 1: store at EL1
        hvc     #0
        br      x0                  // 2: fetch at EL1 (scratch holds hvc #0)
        nop
        ldr     x1, [x0]            // 3: load at EL0
        svc     #0
        str     x1, [x0]            // 4: store at EL0
        svc     #0
        br      x0                  // 5: fetch at EL0 (hvc is UNDEFINED there: EC 0 to EL1)
        nop
