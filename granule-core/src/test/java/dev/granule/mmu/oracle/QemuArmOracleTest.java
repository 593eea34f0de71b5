package dev.granule.mmu.oracle;

import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Armv7Mmu;
import dev.granule.mmu.Armv7Registers;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Translation;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Differential test of {@link Armv7Mmu} against QEMU's Armv7 walker: random short-descriptor and
 * LPAE regimes with random raw tables ({@link Armv7CaseGenerator}), answered by ATS12NSOPR/PW/UR/UW
 * (stage 1 only with HCR.VM = 0) on {@code qemu-system-arm -M virt,virtualization=on}, run in Hyp
 * mode on an Armv7 CPU ({@code -cpu cortex-a15}) and on an Armv8 one in AArch32 state ({@code -cpu
 * max}), which differ in LPAE descriptor bits [47:40] ({@link Armv7Mmu.Profile}). Compared: F and the fault status code (kind and level; the short-descriptor FS
 * codes, Domain faults included, in the 32-bit PAR; the long-descriptor FSC in the 64-bit PAR of
 * LPAE), the PA (PA[31:24] and SS for a supersection, whose PA[39:32] the 32-bit PAR does not
 * hold); for LPAE also ATTR and SH. QEMU fills no memory attributes for short descriptors.
 *
 * <p>{@code -Dgranule.oracle.probes=N} probes per format (10,000 by default, 200,000 nightly),
 * {@code -Dgranule.oracle.seed=S}.
 */
@Tag("qemu")
class QemuArmOracleTest {

    static final int PROBES_PER_CASE = 500;
    static final int CASES_PER_BATCH = 60;

    @TempDir
    Path work;

    enum Cpu {
        CORTEX_A15(QemuAt.Target.ARMV7, Armv7Mmu.Profile.ARMV7),
        MAX_AARCH32(QemuAt.Target.ARMV8_AARCH32, Armv7Mmu.Profile.ARMV8);

        final QemuAt.Target target;
        final Armv7Mmu.Profile profile;

        Cpu(QemuAt.Target target, Armv7Mmu.Profile profile) {
            this.target = target;
            this.profile = profile;
        }
    }

    private static final String SHORT = "short", LPAE = "LPAE";

    private OracleDriver oracle;
    private Cpu cpu;
    private OracleDriver.Count aborts, reservedShareability;

    @ParameterizedTest
    @EnumSource(Cpu.class)
    void shortDescriptorAndLpaeTranslationAgreeWithQemu(Cpu cpu) throws Exception {
        this.cpu = cpu;
        oracle = OracleDriver.start("QEMU Armv7 oracle", cpu.target, work, "probes", "per format");
        int perFormat = Integer.getInteger("granule.oracle.probes", 10_000);
        aborts = oracle.count("walks ended in a synchronous external abort, taken to Hyp mode with the expected DFSC");
        reservedShareability = oracle.count("LPAE translations through a descriptor with the reserved SH = 0b01,"
                + " reported as read (CONSTRAINED UNPREDICTABLE)");
        oracle.spreadOver(List.of(SHORT, LPAE));

        oracle.runBatches(() -> oracle.fewest() >= perFormat, (seed, memory) -> runBatch(seed, memory, perFormat));

        oracle.finish(cpu.profile.toString());
    }

    private void runBatch(long seed, SparseMemory memory, int perFormat) throws Exception {
        Armv7CaseGenerator generator = new Armv7CaseGenerator(seed, memory, cpu.profile == Armv7Mmu.Profile.ARMV8);
        List<Armv7CaseGenerator.Case> cases = new ArrayList<>();
        int total = 0;
        while (cases.size() < CASES_PER_BATCH && oracle.fewest() < perFormat
                && generator.tablesEnd() < QemuAt.RAM_BASE + QemuAt.RAM_SIZE - (64L << 20)) {
            int shorts = oracle.spread().get(SHORT), lpaes = oracle.spread().get(LPAE);
            boolean lpae = lpaes < shorts || (lpaes == shorts && cases.size() % 2 == 1);
            cases.add(generator.next(PROBES_PER_CASE, lpae));
            oracle.spread(lpae ? LPAE : SHORT, PROBES_PER_CASE);
            total += PROBES_PER_CASE;
        }
        Translation[] model = new Translation[total];
        int n = 0;
        for (var c : cases) {
            Armv7Mmu mmu = new Armv7Mmu(c.registers(), memory, cpu.profile);
            for (var p : c.probes()) {
                mmu.tlb().invalidateAll(); // every probe is a walk, as QEMU's ATS is
                model[n] = mmu.translate(p.va(), p.write() ? Access.WRITE : Access.READ, p.pl());
                oracle.tally("model outcomes", (c.registers().lpae() ? "LPAE  " : "short ") + outcome(model[n]));
                n++;
            }
        }
        byte[] tables = new byte[(int) (generator.tablesEnd() - QemuAt.TABLES_BASE)];
        memory.read(QemuAt.TABLES_BASE, tables, 0, tables.length);
        QemuAt.Answers answers = oracle.qemu.ask(job(cases, total), tables, total);
        if (oracle.batches() == 0) {
            assertThat(answers.id()[2] & 0x1F).as("the probe must run in Hyp mode (CPSR.M)").isEqualTo(0x1A);
        }
        n = 0;
        for (var c : cases) {
            boolean lpae = c.registers().lpae();
            for (var p : c.probes()) {
                QemuAt.Answer a = answers.answer(n);
                long par = a.par();
                boolean exception = a.exception();
                Translation t = model[n];
                boolean agree;
                if (t instanceof Translation.Fault f && f.type() == FaultType.EXTERNAL_ABORT_ON_WALK) {
                    agree = a.tookWalkAbort(f);
                    if (agree) aborts.add();
                } else if (exception) {
                    agree = false;
                } else if (!lpae) {
                    agree = (par & ~0x200L) == shortPar(t);
                } else {
                    long actual = Par.compared(par);
                    agree = actual == Par.expected(t);
                    if (!agree && t instanceof Translation.Translated && (actual >>> 7 & 3) == 1
                            && (actual & ~(3L << 7)) == (Par.expected(t) & ~(3L << 7))) {
                        // SH = 0b01 is reserved (CONSTRAINED UNPREDICTABLE): QEMU reports it as read.
                        agree = true;
                        reservedShareability.add();
                    }
                }
                if (!agree) {
                    oracle.mismatch((lpae ? "LPAE " : "short ") + p.op() + ": model " + outcome(t)
                            + ", QEMU " + (exception ? "exception" : lpae ? Par.kind(Par.compared(par))
                            : (par & 1) == 0 ? "ok" : "FS 0x" + Long.toHexString(par >>> 1 & 0x1F)),
                            () -> String.format("op %d VA 0x%08x: QEMU %s, model %s%n    case %s", p.op(), p.va(),
                                    exception ? String.format("exception HSR 0x%x", a.esr())
                                            : lpae ? Par.describe(par) : String.format("PAR32 0x%08x", par),
                                    t, c.summary()));
                }
                n++;
            }
        }
        oracle.asked(cases.size(), total);
    }

    /**
     * The 32-bit PAR (Arm ARM B4.1.112) for a short-descriptor result, without NS (bit 9), which is
     * not compared. Success: PA[31:12], or PA[31:24] with SS (bit 1) for a supersection. Fault: F,
     * FS[4:0] in [5:1] (section/page: translation 0b00101/0b00111, access flag 0b00011/0b00110,
     * domain 0b01001/0b01011, permission 0b01101/0b01111).
     */
    static long shortPar(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> ok.leafSize() == 1L << 24
                    ? (ok.pa() & 0xFF00_0000L) | 1 << 1
                    : ok.pa() & 0xFFFF_F000L;
            case Translation.Fault f -> {
                int section = switch (f.type()) {
                    case TRANSLATION -> 0b00101;
                    case ACCESS_FLAG -> 0b00011;
                    case DOMAIN -> 0b01001;
                    case PERMISSION -> 0b01101;
                    default -> throw new IllegalArgumentException(f + " has no short-descriptor PAR code here");
                };
                int page = switch (f.type()) {
                    case TRANSLATION -> 0b00111;
                    case ACCESS_FLAG -> 0b00110;
                    case DOMAIN -> 0b01011;
                    default -> 0b01111;
                };
                yield (long) (f.level() == 1 ? section : page) << 1 | 1;
            }
        };
    }

    private static String outcome(Translation t) {
        return switch (t) {
            case Translation.Translated ok -> "translated, level " + ok.level() + " (" + (ok.leafSize() >> 10) + "K)";
            case Translation.Fault f -> OracleDriver.fault(f);
        };
    }

    private static byte[] job(List<Armv7CaseGenerator.Case> cases, int probes) {
        ByteBuffer b = QemuAt.le(4 + cases.size() * 40 + probes * 8);
        b.putInt(cases.size());
        for (var c : cases) {
            Armv7Registers r = c.registers();
            b.putInt((int) r.sctlr()).putInt((int) r.ttbcr()).putLong(r.ttbr0()).putLong(r.ttbr1()).putInt((int) r.dacr())
                    .putInt((int) r.mair0()).putInt((int) r.mair1()).putInt(c.probes().size());
            for (var p : c.probes()) b.putInt((int) p.va()).putInt(p.op());
        }
        return b.array();
    }
}
