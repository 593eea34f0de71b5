package dev.granule.mmu.oracle;

import dev.granule.geometry.CpuFeatures;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.FaultType;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QEMU 11.1's departure under FEAT_AIE, pinned with hand-built tables: AArch64.S1TTWParamsEL2 and
 * S1TTWParamsEL20 set {@code walkparams.hpd} when {@code walkparams.aie} is 1 (as they do for PIE), so a
 * table's APTable/UXNTable/PXNTable no longer limit the pages below it; QEMU 11.1.3 keeps applying them
 * under TCR2_EL2.AIE alone. A level-1 table descriptor with APTable = 0b11 over a page with AP = 0b01
 * (read/write): {@code AT S1E2W} must translate with AIE (the model) and QEMU faults; with AIE and PIE
 * (PIR_EL2 read/write for every index) or with TCR_EL2.HPD both translate, and without AIE both fault.
 * The random oracles keep this case out by that rule ({@link QemuEl2PieOracleTest}).
 */
@Tag("qemu")
class QemuAieHierarchicalPermissionsTest {

    @TempDir
    Path work;

    static final long L1 = QemuAt.TABLES_BASE, L2 = L1 + 0x1000, L3 = L1 + 0x2000, VA = 0x1_2345_6000L, OA = 0x4832_1000L;
    static final long AIE = 1L << 4, PIE = 1L << 1, PIR_RW = 0x5555_5555_5555_5555L;
    /** TCR_EL2 with E2H = 0: T0SZ 30 (34-bit VA, start level 1), TG0 4K, PS 36 bits, RES1 [23] and [31]; HPD [24]. */
    static final long TCR_EL2 = 30 | 1L << 16 | 1L << 23 | 1L << 31, HPD = 1L << 24;
    static final long HCR_RW = QemuAt.HCR_RW;

    record Setting(String what, long tcr, long tcr2, boolean modelTranslates, boolean qemuTranslates) {}

    @Test
    void qemuKeepsTablePermissionsUnderAieWithoutPie() throws Exception {
        QemuAt.Target target = QemuPieOracleTest.onQemu11(QemuAt.Target.AARCH64_EL2, "QEMU AIE/HPD probe");
        QemuAt qemu = new QemuAt(target, work);
        QemuAt.Answers id = qemu.identify();
        CpuFeatures cpu = new CpuFeatures(id.id()[0], id.id()[2], id.mmfr3());
        assumeTrue(cpu.supportsAie() && cpu.supportsS1pie(), "QEMU without FEAT_AIE/S1PIE");

        List<Setting> settings = List.of(
                new Setting("AIE alone", TCR_EL2, AIE, true, false),
                new Setting("AIE and PIE", TCR_EL2, AIE | PIE, true, true),
                new Setting("AIE and TCR_EL2.HPD", TCR_EL2 | HPD, AIE, true, true),
                new Setting("no AIE", TCR_EL2, 0, false, false));
        ByteBuffer job = QemuAt.le(8 + settings.size() * (104 + 16));
        job.putLong(settings.size() | QemuEl2PieOracleTest.TCR2_JOB);
        for (Setting s : settings) {
            job.putLong(s.tcr()).putLong(L1).putLong(0).putLong(0xFF).putLong(0x1005).putLong(HCR_RW).putLong(0).putLong(0)
                    .putLong(1).putLong(s.tcr2()).putLong(PIR_RW).putLong(0).putLong(0);
            job.putLong(VA).putLong(1); // AT S1E2W
        }
        byte[] tables = new byte[0x3000];
        ByteBuffer t = ByteBuffer.wrap(tables).order(ByteOrder.LITTLE_ENDIAN);
        long table = 0b11, apTable11 = 0b11L << 61, page = 0b11 | 1L << 10 | 0b11L << 8 | 0b01L << 6;
        t.putLong((int) ((VA >>> 30 & 0xF) * 8), L2 | table | apTable11);
        t.putLong(0x1000 + (int) ((VA >>> 21 & 0x1FF) * 8), L3 | table);
        t.putLong(0x2000 + (int) ((VA >>> 12 & 0x1FF) * 8), OA | page);
        QemuAt.Answers answers = qemu.ask(job.array(), tables, settings.size());

        List<String> unexpected = new ArrayList<>();
        try (SparseMemory memory = SparseMemory.of(new MemoryRange(QemuAt.RAM_BASE, QemuAt.RAM_SIZE))) {
            memory.write(L1, tables, 0, tables.length);
            for (int i = 0; i < settings.size(); i++) {
                Setting s = settings.get(i);
                var regime = TranslationRegime.el2(s.tcr(), L1, 0xFF, 0x1005, 0, new PermissionRegisters(s.tcr2(), PIR_RW, 0, 0, 0), cpu);
                Translation model = new Mmu(regime, memory, new Tlb(16, 4)).translate(VA, Access.WRITE, 2);
                long par = answers.par()[i];
                boolean qemuTranslates = !answers.exception()[i] && (par & 1) == 0;
                boolean modelTranslates = model instanceof Translation.Translated;
                boolean qemuPermissionFault = !answers.exception()[i] && (par & 1) == 1 && (par >>> 1 & 0x3F) == 0b001111;
                String line = String.format("%s: QEMU %s, model %s", s.what(), answers.answer(i).describe(), model);
                System.out.println("QEMU AIE/HPD probe (" + qemu.version() + "): " + line);
                if (modelTranslates != s.modelTranslates()) unexpected.add("model: " + line);
                if (qemuTranslates != s.qemuTranslates() || !qemuTranslates && !qemuPermissionFault) unexpected.add("QEMU: " + line);
                if (!modelTranslates && !(model instanceof Translation.Fault f && f.type() == FaultType.PERMISSION && f.level() == 3)) {
                    unexpected.add("model fault: " + line);
                }
            }
        }
        assertThat(unexpected).as("the departure as pinned (if QEMU now follows the Arm ARM, the oracles' filter can go)").isEmpty();
    }
}
