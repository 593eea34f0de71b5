package dev.granule.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.geometry.Granule;
import dev.granule.geometry.TranslationFormat;

import java.util.List;

/**
 * Any 64-bit word at any level decodes without an exception; a leaf re-encoded from its decoded
 * meaning (output address, typed attributes, Contiguous bit) decodes to the same meaning, and
 * re-encoding it "like" itself (the split path) keeps every bit the format defines.
 */
class DescriptorFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void decodingAnyWordIsTotalAndLeavesRoundTrip(FuzzedDataProvider data) {
        Geometry g = data.pickValue(TableWalkerFuzzTest.GEOMETRIES);
        DescriptorFormat f = DescriptorFormat.of(g);
        int level = data.consumeInt(g.startLevel(), 3);
        Descriptor d = Descriptor.of64(data.consumeLong());
        DescriptorKind kind = f.kind(d, level);
        f.tableAttributes(d);
        f.attributes(d);
        f.tableAddress(d);
        if (!kind.isLeaf()) return;
        long pa = f.outputAddress(d, level);
        if ((pa >>> g.paBits()) != 0) return; // an address size fault for the MMU, not encodable
        Descriptor again = new Descriptor();
        f.encodeLeaf(again, pa, level, f.attributes(d), f.contiguous(d));
        if (f.outputAddress(again, level) != pa || !f.attributes(again).equals(f.attributes(d))
                || f.contiguous(again) != f.contiguous(d) || f.kind(again, level) != kind) {
            throw new AssertionError(d + " re-encoded as " + again);
        }
        Descriptor like = new Descriptor();
        f.encodeLeafLike(like, d, level, pa, level, f.contiguous(d));
        if (!f.sameLeafAttributes(like, d, level) || f.outputAddress(like, level) != pa) {
            throw new AssertionError(d + " re-encoded like itself as " + like);
        }
    }

    /** VMSAv9-128 (128-bit words, every granule, up to 56-bit PA) and Armv7 short descriptors (32-bit words). */
    static final List<Geometry> WIDE_AND_SHORT = List.of(
            Geometry.of(Granule.FOUR_K, TranslationFormat.D128, 56, 56),
            Geometry.of(Granule.SIXTEEN_K, TranslationFormat.D128, 48, 52),
            Geometry.of(Granule.SIXTY_FOUR_K, TranslationFormat.D128, 52, 56),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 40),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 32, 32),
            Geometry.of(Granule.FOUR_K, TranslationFormat.SHORT, 27, 40));

    /**
     * The same properties for the wider and the older format: any word at any level decodes; a
     * leaf re-encoded from its typed meaning (the level-aware decoders: a short descriptor's fields
     * move between sections and pages) means the same, and re-encoding it like itself keeps its bits.
     */
    @FuzzTest(maxDuration = "30s")
    void wideAndShortWordsDecodeTotallyAndLeavesRoundTrip(FuzzedDataProvider data) {
        Geometry g = data.pickValue(WIDE_AND_SHORT);
        DescriptorFormat f = DescriptorFormat.of(g);
        int level = data.consumeInt(g.startLevel(), 3);
        long lo = data.consumeLong();
        Descriptor d = switch (g.format()) {
            case SHORT -> Descriptor.of64(lo & 0xFFFF_FFFFL);
            default -> new Descriptor(lo, data.consumeLong());
        };
        DescriptorKind kind = f.kind(d, level);
        f.tableAttributes(d);
        f.tableAddress(d);
        f.skippedLevels(d, level);
        if (!kind.isLeaf()) return;
        Attributes attributes = f.attributes(d, level);
        boolean contiguous = f.contiguous(d, level);
        long pa = f.outputAddress(d, level);
        long va = data.consumeLong() & g.vaMask();
        long translated = f.translate(d, level, va);
        if ((translated & (g.entrySpan(level) - 1)) != (va & (g.entrySpan(level) - 1))) {
            throw new AssertionError(d + " translates 0x" + Long.toHexString(va) + " to 0x" + Long.toHexString(translated));
        }
        if ((pa >>> g.paBits()) != 0) return; // an address size fault for the MMU, not encodable
        Descriptor again = new Descriptor();
        f.encodeLeaf(again, pa, level, attributes, contiguous);
        if (f.outputAddress(again, level) != pa || !f.attributes(again, level).equals(attributes)
                || f.contiguous(again, level) != contiguous || f.kind(again, level) != kind
                || f.translate(again, level, va) != translated) {
            throw new AssertionError(d + " re-encoded as " + again);
        }
        Descriptor like = new Descriptor();
        f.encodeLeafLike(like, d, level, pa, level, contiguous);
        if (!f.sameLeafAttributes(like, d, level) || f.outputAddress(like, level) != pa) {
            throw new AssertionError(d + " re-encoded like itself as " + like);
        }
    }
}
