package dev.granule.compat;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/** jemalloc's page check, hand-assembled from the Arm ARM's encodings. */
class JemallocProbeTest {

    /** Text at 0x1000: CMP X0, #imm; B.HI print; RET; NOP; print: ADRP X0, 0x1000; ADD X0, X0, #0x800 — the string at 0x1800. */
    static byte[] jemalloc(int cmp) {
        ByteBuffer code = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        code.putInt(cmp);
        code.putInt(0x54000000 | (3 << 5) | 0x8);       // B.HI +12 (cond HI = 0b1000, imm19 = 3)
        code.putInt(0xd65f03c0);                         // RET
        code.putInt(0xd503201f);                         // NOP
        code.putInt(0x90000000);                         // ADRP X0, (pc & ~0xfff) + 0
        code.putInt(0x91000000 | (0x800 << 10));         // ADD X0, X0, #0x800
        return new ElfBuilder().size(0x2000)
                .load(ElfBuilder.R | ElfBuilder.X, 0, 0, 0x2000, 0x2000, 0x10000)
                .put(0x1000, code.array())
                .put(0x1800, "<jemalloc>: Unsupported system page size\n".getBytes())
                .build();
    }

    @Test
    void aJemallocBuiltFor16KPagesMayFailAt64K() {
        // SUBS XZR, X0, #4, LSL #12 = CMP X0, #0x4000: sf=1 op=1 S=1 100010 sh=1 imm12=4 Rn=0 Rd=31.
        ElfReport r = ElfAnalyzer.analyze("libjemalloc.so.2", MemorySegment.ofArray(jemalloc(0xf1000000 | 1 << 22 | 4 << 10 | 31)));
        assertThat(r.mayFail()).singleElement().satisfies(m -> {
            assertThat(m.upTo()).isEqualTo(16384);
            assertThat(m.evidence()).contains("file offset 0x1800").contains("CMP #0x4000 at 0x1000").contains("branch at 0x1004")
                    .contains("print at 0x1010");
        });
    }

    @Test
    void withoutTheCompareThePageSizeIsUnknownNotGuessed() {
        ElfReport r = ElfAnalyzer.analyze("libjemalloc.so.2", MemorySegment.ofArray(jemalloc(0xd503201f)));   // NOP instead of CMP
        assertThat(r.mayFail()).singleElement().satisfies(m -> {
            assertThat(m.upTo()).isZero();
            assertThat(m.what()).contains("its value was not found");
        });
    }

    @Test
    void aLibraryWithoutTheMarkerHasNoEvidence() {
        assertThat(ElfAnalyzer.analyze("libfoo.so", MemorySegment.ofArray(ElfBuilder.sharedObject(0x10000).build())).mayFail()).isEmpty();
    }

    @Test
    void theMarkerIsFoundAcrossTheSearchsChunkBoundaryAndAtTheEnd() {
        for (int at : new int[] {0, (1 << 20) - 10, (1 << 20) - 1, (1 << 20), (2 << 20) + 5 - JemallocProbe.MARKER.length}) {
            byte[] data = new byte[(2 << 20) + 5];
            java.util.Arrays.fill(data, (byte) 'e');   // a byte of the needle everywhere, so shifts are short
            System.arraycopy(JemallocProbe.MARKER, 0, data, at, JemallocProbe.MARKER.length);
            assertThat(JemallocProbe.indexOf(MemorySegment.ofArray(data), JemallocProbe.MARKER)).isEqualTo(at);
        }
        assertThat(JemallocProbe.indexOf(MemorySegment.ofArray(new byte[100]), JemallocProbe.MARKER)).isEqualTo(-1);
    }
}
