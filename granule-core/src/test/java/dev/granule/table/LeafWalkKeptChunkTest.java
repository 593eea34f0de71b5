package dev.granule.table;

import dev.granule.format.DescriptorFormat;
import dev.granule.geometry.Geometry;
import dev.granule.memory.SparseMemory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MMU's compiled leaf walk keeps, per level, the SparseMemory chunk of the table it read last
 * and reads through it: it must still read every descriptor as memory holds it now. Hand-made
 * 4K/48 tables (descriptor values from the Arm ARM's VMSAv8-64 format: table = address | 0b11,
 * page = output address | AF | 0b11), edited between walks without anything else being told.
 */
class LeafWalkKeptChunkTest {

    private static final long AF = 1L << 10;
    // Four tables in one 64 KiB chunk (0x10000-0x1FFFF): root, level 1, level 2, level 3.
    private static final long ROOT = 0x10000, L1 = 0x11000, L2 = 0x12000, L3 = 0x13000;
    // A level-3 table in a chunk nothing has written yet.
    private static final long FRESH_L3 = 0x30000;

    @Test
    void editsBetweenWalksAreSeenThroughTheKeptChunk() {
        SparseMemory memory = SparseMemory.ofPaBits(48);
        memory.writeLong(ROOT, L1 | 0b11);                 // VA[47:39] = 0
        memory.writeLong(L1, L2 | 0b11);                   // VA[38:30] = 0
        memory.writeLong(L2, L3 | 0b11);                   // VA[29:21] = 0
        memory.writeLong(L3, 0x4000_0000L | AF | 0b11);    // VA 0x0000 -> 0x4000_0000
        LeafWalk walk = LeafWalk.compiled(DescriptorFormat.of(Geometry.FOUR_K_48), memory, ROOT, (1L << 48) - 1);

        assertThat(walk.leaf(0x0)).isEqualTo(0x4000_0000L | AF | 0b11);
        assertThat(walk.level()).isEqualTo(3);
        assertThat(walk.outputAddress()).isEqualTo(0x4000_0000L);

        // A page written after the walk kept its table's chunk, then rewritten: each walk reads the current one.
        assertThat(walk.leaf(0x1000)).as("L3[1] still invalid").isZero();
        memory.writeLong(L3 + 8, 0x5000_0000L | AF | 0b11);
        assertThat(walk.leaf(0x1000)).isEqualTo(0x5000_0000L | AF | 0b11);
        memory.writeLong(L3 + 8, 0x5123_4000L | AF | 0b11);
        assertThat(walk.leaf(0x1000)).isEqualTo(0x5123_4000L | AF | 0b11);
        assertThat(walk.outputAddress()).isEqualTo(0x5123_4000L);

        // A table in a chunk never written reads as zeros (invalid), and once written, as written.
        memory.writeLong(L2 + 8, FRESH_L3 | 0b11);         // VA[29:21] = 1: VA 0x20_0000
        assertThat(walk.leaf(0x20_0000)).as("the fresh table is all zeros").isZero();
        memory.writeLong(FRESH_L3, 0x6000_0000L | AF | 0b11);
        assertThat(walk.leaf(0x20_0000)).isEqualTo(0x6000_0000L | AF | 0b11);
        assertThat(walk.leafAddress()).isEqualTo(FRESH_L3);

        // Back in the first chunk, and a table descriptor changed under the kept chunks: the new path.
        assertThat(walk.leaf(0x0)).isEqualTo(0x4000_0000L | AF | 0b11);
        memory.writeLong(L2, FRESH_L3 | 0b11);             // VA 0x0 now through the fresh table
        assertThat(walk.leaf(0x0)).isEqualTo(0x6000_0000L | AF | 0b11);
        memory.writeLong(L2, 0);                           // and unmapped
        assertThat(walk.leaf(0x0)).isZero();
    }
}
