package dev.granule.dump;

import java.util.List;

/**
 * What a user knows about a dump beyond its bytes. Every field is optional: zero or -1 means "not
 * given". A value given here overrides what VMCOREINFO says.
 *
 * @param rawBase       read the file as a raw physical image starting at this PA (-1: it is an ELF core)
 * @param pageSize      page size in bytes (4096, 16384, 65536), or 0
 * @param vaBits        kernel VA size, or 0
 * @param rootPa        physical address of the TTBR1 root table, or -1
 * @param ttbr1         TTBR1_EL1 value, or -1
 * @param useVmcoreInfo whether to use the VMCOREINFO note / the copy found in RAM
 * @param expect        addresses the kernel is known to map, to validate candidate geometries
 */
public record DumpOptions(long rawBase, long pageSize, int vaBits, long rootPa, long ttbr1, boolean useVmcoreInfo,
                          List<GeometrySearch.Expectation> expect) {

    public DumpOptions {
        expect = List.copyOf(expect);
        if (pageSize != 0 && pageSize != 4096 && pageSize != 16384 && pageSize != 65536) {
            throw new IllegalArgumentException("page size must be 4096, 16384 or 65536 (4K, 16K, 64K), was " + pageSize);
        }
        if (vaBits != 0 && (vaBits < 25 || vaBits > 52)) {
            throw new IllegalArgumentException("VA size must be 25..52 bits, was " + vaBits);
        }
    }

    public static DumpOptions defaults() {
        return new DumpOptions(-1, 0, 0, -1, -1, true, List.of());
    }

    public DumpOptions withRawBase(long base) {
        return new DumpOptions(base, pageSize, vaBits, rootPa, ttbr1, useVmcoreInfo, expect);
    }

    public DumpOptions withoutVmcoreInfo() {
        return new DumpOptions(rawBase, pageSize, vaBits, rootPa, ttbr1, false, expect);
    }

    public DumpOptions withRoot(long root) {
        return new DumpOptions(rawBase, pageSize, vaBits, root, ttbr1, useVmcoreInfo, expect);
    }

    public DumpOptions withGeometry(long pageSize, int vaBits) {
        return new DumpOptions(rawBase, pageSize, vaBits, rootPa, ttbr1, useVmcoreInfo, expect);
    }
}
