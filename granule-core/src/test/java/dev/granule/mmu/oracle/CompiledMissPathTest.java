package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Mmu#outputAddress} checks and caches a TLB miss's leaf without building a record (the
 * compiled walk's path); {@link Mmu#translate} builds the record that {@link QemuAtOracleTest}
 * checks against QEMU. On the oracle's generated regimes and damaged tables (QEMU's -cpu max
 * features, without QEMU), for every probe: the same output address or fault, and the TLB entry
 * the fast path left answers a later {@code translate} with exactly the record a fresh walk gives
 * (level, span, attributes, shareability, global), so no check or attribute is lost on that path.
 */
class CompiledMissPathTest {

    /** ID_AA64MMFR0/2/3_EL1 of qemu-system-aarch64 10.0.2 -cpu max (FACTS.md). */
    static final CpuFeatures QEMU_MAX = new CpuFeatures(0x2100032310201126L, 0x1221011112011011L, 0x1000000000000000L);

    @Test
    void outputAddressOnAMissAgreesWithTheRecordOfTheWalk() {
        int probes = 0, translated = 0, faults = 0;
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            OracleCaseGenerator generator = new OracleCaseGenerator(20, QEMU_MAX, memory);
            for (int c = 0; c < 60 && generator.tablesEnd() < OracleCaseGenerator.BATCH_TABLES_LIMIT; c++) {
                OracleCase oracleCase = generator.next(OracleCaseGenerator.PROBES_PER_CASE);
                Registers r = oracleCase.registers();
                for (int pan = 0; pan < 2; pan++) {
                    var regs = new Registers(r.tcr(), r.ttbr0(), r.ttbr1(), r.mair(), r.sctlr(), pan == 1);
                    var regime = new TranslationRegime(regs, QEMU_MAX);
                    Mmu fast = new Mmu(regime, memory, new Tlb(16, 4));
                    Mmu walked = new Mmu(regime, memory, new Tlb(16, 4));
                    for (var p : oracleCase.probes()) {
                        if (p.op().pan != (pan == 1)) continue;
                        fast.tlb().invalidateAll();
                        walked.tlb().invalidateAll();
                        long pa = fast.outputAddress(p.va(), p.op().access, p.op().el);
                        Translation want = walked.translate(p.va(), p.op().access, p.op().el);
                        probes++;
                        if (want instanceof Translation.Translated t) {
                            translated++;
                            assertThat(pa).as("%s %s 0x%x", oracleCase.summary(), p.op(), p.va()).isEqualTo(t.pa());
                            long hits = fast.tlb().hits();
                            Translation cached = fast.translate(p.va(), p.op().access, p.op().el);
                            assertThat(fast.tlb().hits()).as("the fast path cached the leaf").isEqualTo(hits + 1);
                            assertThat(cached).as("%s %s 0x%x", oracleCase.summary(), p.op(), p.va()).isEqualTo(t);
                        } else {
                            faults++;
                            assertThat(pa).as("%s %s 0x%x: %s", oracleCase.summary(), p.op(), p.va(), want).isEqualTo(-1);
                            assertThat(fast.translate(p.va(), p.op().access, p.op().el)).isEqualTo(want);
                        }
                    }
                }
            }
        }
        assertThat(probes).isGreaterThan(10_000);
        assertThat(translated).isGreaterThan(1_000);
        assertThat(faults).isGreaterThan(1_000);
    }
}
