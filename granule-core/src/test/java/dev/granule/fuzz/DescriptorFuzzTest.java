package dev.granule.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.format.Descriptor;
import dev.granule.format.DescriptorFormat;
import dev.granule.format.DescriptorKind;
import dev.granule.geometry.Geometry;

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
}
