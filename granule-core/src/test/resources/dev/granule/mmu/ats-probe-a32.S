/*
 * Bare-metal ATS1C* probe for qemu-system-arm -M virt,virtualization=on -cpu cortex-a15.
 *
 * Runs in Hyp mode so that it can load any Non-secure PL1&0 translation regime (SCTLR.M = 1,
 * TTBCR, TTBR0/1, DACR, PRRR/NMRR or MAIR0/1) without translating its own fetches, asks the walker
 * about each probe with ATS12NSOPR, ATS12NSOPW, ATS12NSOUR or ATS12NSOUW (with HCR.VM = 0 these
 * are stage 1 only; unlike ATS1C* in Hyp mode they report short-descriptor results in the 32-bit
 * PAR format with the short-descriptor fault codes, domain faults included, which QEMU 7.2 cannot
 * put in the 64-bit format), and prints PAR over the PL011 UART, one line per probe.
 *
 * Input, placed in RAM with -device loader at JOB (all u32, little-endian):
 *   cases
 *   per case: sctlr, ttbcr, ttbr0 low, ttbr0 high, ttbr1 low, ttbr1 high, dacr, mair0/prrr,
 *             mair1/nmrr, probes; then per probe: va, op (0 PL1 read, 1 PL1 write, 2 PL0 read, 3 PL0 write)
 * Output lines:
 *   I <MIDR> <ID_MMFR0> <CPSR>
 *   <PAR>                     one per probe, 16 hex digits (64-bit format with LPAE, else 32-bit)
 *   !<HSR>                    before a probe's line if its ATS raised an exception instead
 *   END
 * then PSCI SYSTEM_OFF by SMC (QEMU's built-in PSCI).
 */
        .arch_extension virt
        .arch_extension sec
        .equ UART, 0x09000000
        .equ JOB, 0x40400000

        .text
        .arm
        .global _start
_start:
        ldr     r0, =hyp_vectors
        mcr     p15, 4, r0, c12, c0, 0  @ HVBAR
        mov     r0, #0
        mcr     p15, 4, r0, c1, c1, 0   @ HCR: no stage 2, nothing trapped
        isb
        mov     r0, #'I'
        bl      putc
        mrc     p15, 0, r0, c0, c0, 0   @ MIDR
        bl      space_hex32
        mrc     p15, 0, r0, c0, c1, 4   @ ID_MMFR0
        bl      space_hex32
        mrs     r0, cpsr
        bl      space_hex32
        bl      newline

        ldr     r4, =JOB
        ldr     r5, [r4], #4            @ cases left
case_loop:
        cmp     r5, #0
        beq     done
        ldr     r0, [r4, #4]            @ TTBCR first: EAE decides what TTBRs and PRRR/MAIR mean
        mcr     p15, 0, r0, c2, c0, 2
        ldr     r0, [r4, #8]
        ldr     r1, [r4, #12]
        mcrr    p15, 0, r0, r1, c2      @ TTBR0, 64 bits
        ldr     r0, [r4, #16]
        ldr     r1, [r4, #20]
        mcrr    p15, 1, r0, r1, c2      @ TTBR1, 64 bits
        ldr     r0, [r4, #24]
        mcr     p15, 0, r0, c3, c0, 0   @ DACR
        ldr     r0, [r4, #28]
        mcr     p15, 0, r0, c10, c2, 0  @ PRRR / MAIR0
        ldr     r0, [r4, #32]
        mcr     p15, 0, r0, c10, c2, 1  @ NMRR / MAIR1
        ldr     r0, [r4, #0]
        mcr     p15, 0, r0, c1, c0, 0   @ SCTLR (M = 1)
        isb
        mcr     p15, 0, r0, c8, c7, 0   @ TLBIALL: nothing cached from the previous case
        dsb
        isb
        ldr     r6, [r4, #36]           @ probes in this case
        add     r4, r4, #40
probe_loop:
        cmp     r6, #0
        beq     next_case
        ldr     r0, [r4], #4            @ va
        ldr     r1, [r4], #4            @ op
        and     r1, r1, #3
        add     pc, pc, r1, lsl #3      @ two instructions per entry; pc reads 8 ahead
        nop
        mcr     p15, 0, r0, c7, c8, 4   @ ATS12NSOPR
        b       ats_done
        mcr     p15, 0, r0, c7, c8, 5   @ ATS12NSOPW
        b       ats_done
        mcr     p15, 0, r0, c7, c8, 6   @ ATS12NSOUR
        b       ats_done
        mcr     p15, 0, r0, c7, c8, 7   @ ATS12NSOUW
        b       ats_done
ats_done:
        isb
        mrrc    p15, 0, r0, r1, c7      @ PAR, 64 bits: r0 low, r1 high
        mov     r7, r0
        mov     r0, r1
        bl      hex32
        mov     r0, r7
        bl      hex32
        bl      newline
        sub     r6, r6, #1
        b       probe_loop
next_case:
        sub     r5, r5, #1
        b       case_loop
done:
        mov     r0, #'E'
        bl      putc
        mov     r0, #'N'
        bl      putc
        mov     r0, #'D'
        bl      putc
        bl      newline
        ldr     r0, =0x84000008         @ PSCI SYSTEM_OFF
        smc     #0
1:      wfi
        b       1b

/* putc(r0): waits while the transmit FIFO is full (UARTFR.TXFF), then writes the byte. Uses r9, r10. */
putc:
        ldr     r9, =UART
1:      ldr     r10, [r9, #0x18]
        tst     r10, #0x20
        bne     1b
        strb    r0, [r9]
        bx      lr

newline:
        mov     r3, lr
        mov     r0, #'\n'
        bl      putc
        bx      r3

space_hex32:
        mov     r3, lr
        mov     r2, r0
        mov     r0, #' '
        bl      putc
        mov     r0, r2
        mov     lr, r3
        /* fall through */
/* hex32(r0): 8 hex digits, most significant first. Uses r8, r11, r12. */
hex32:
        mov     r8, lr
        mov     r11, r0
        mov     r12, #28
1:      lsr     r0, r11, r12
        and     r0, r0, #0xF
        cmp     r0, #10
        addlo   r0, r0, #'0'
        addhs   r0, r0, #('a' - 10)
        bl      putc
        subs    r12, r12, #4
        bge     1b
        bx      r8

/* Any exception taken to Hyp mode: report HSR and resume after the instruction that raised it. */
exception:
        mov     r1, lr
        mov     r0, #'!'
        bl      putc
        mrc     p15, 4, r0, c5, c2, 0   @ HSR
        bl      hex32
        bl      newline
        mrs     r0, ELR_hyp
        add     r0, r0, #4
        msr     ELR_hyp, r0
        mov     lr, r1
        eret

        .balign 32
hyp_vectors:
        .rept   8
        b       exception
        .endr
