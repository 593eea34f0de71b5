package dev.granule.dump;

import dev.granule.geometry.Geometry;
import dev.granule.geometry.GeometryException;
import dev.granule.geometry.Granule;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Derives a dumped kernel's translation geometry and TTBR1 root from its VMCOREINFO, as the arm64
 * kernel defines the entries:
 * <ul>
 *   <li>page size from {@code PAGESIZE};
 *   <li>VA size from {@code NUMBER(TCR_EL1_T1SZ)} (64 - T1SZ, the size the CPU ran with) or, from
 *       kernels before it existed, {@code NUMBER(VA_BITS)} (the configured size);
 *   <li>PA size: a 4K/16K kernel with a 52-bit VA runs with FEAT_LPA2 (TCR.DS=1), so 52-bit
 *       descriptors; a 64K kernel built with {@code NUMBER(MAX_PHYSMEM_BITS)=52} always writes the
 *       52-bit (FEAT_LPA) descriptor form; anything else is 48;
 *   <li>root = {@code SYMBOL(swapper_pg_dir)} - {@code NUMBER(kimage_voffset)}: the symbol is a
 *       kernel-image address, and the image is mapped at PA + kimage_voffset. A kernel configured
 *       for 52 bits but running with fewer at the same number of levels (64K, no FEAT_LVA) points
 *       TTBR1 into the top of its larger PGD ({@code TTBR1_BADDR_4852_OFFSET}); with fewer levels
 *       (4K/16K without LPA2) the PGD itself is the root of the shorter walk.
 * </ul>
 */
public final class VmcoreInfoGeometry {

    private VmcoreInfoGeometry() {}

    public static KernelTables detect(VmcoreInfo info) {
        List<String> evidence = new ArrayList<>();
        long pageSize = info.pageSize().orElseThrow(() -> new VmcoreInfoException(
                "VMCOREINFO has no PAGESIZE entry; give the page size as an option"));
        Granule granule;
        try {
            granule = Granule.ofPageSize(pageSize);
        } catch (IllegalArgumentException e) {
            throw new VmcoreInfoException("VMCOREINFO PAGESIZE=" + pageSize + " is not an arm64 page size (4096, 16384, 65536)");
        }
        evidence.add("page size " + granule.label() + " from PAGESIZE=" + pageSize);

        OptionalLong configured = info.vaBits();
        OptionalLong t1sz = info.tcrEl1T1sz();
        int vaBits;
        if (t1sz.isPresent()) {
            long t = t1sz.getAsLong();
            if (t < 12 || t > 39) {
                throw new VmcoreInfoException("VMCOREINFO NUMBER(TCR_EL1_T1SZ)=" + t + " gives a " + (64 - t)
                        + "-bit VA; arm64 kernels run with T1SZ 12..39");
            }
            vaBits = (int) (64 - t);
            evidence.add("VA size " + vaBits + " bits from NUMBER(TCR_EL1_T1SZ)=" + t
                    + configured.stream().mapToObj(c -> " (configured VA_BITS=" + c + ")").findFirst().orElse(""));
        } else if (configured.isPresent()) {
            vaBits = (int) configured.getAsLong();
            evidence.add("VA size " + vaBits + " bits from NUMBER(VA_BITS) (no TCR_EL1_T1SZ: the configured size, "
                    + "which a CPU without 52-bit support would have lowered)");
        } else {
            throw new VmcoreInfoException("VMCOREINFO has neither NUMBER(TCR_EL1_T1SZ) nor NUMBER(VA_BITS); give the VA size as an option");
        }

        long maxPhys = info.number("MAX_PHYSMEM_BITS").orElse(48);
        int paBits = switch (granule) {
            case SIXTY_FOUR_K -> maxPhys >= 52 ? 52 : 48;
            case FOUR_K, SIXTEEN_K -> vaBits > 48 ? 52 : 48;
        };
        evidence.add("PA size " + paBits + " bits (" + (granule == Granule.SIXTY_FOUR_K
                ? "64K descriptors with NUMBER(MAX_PHYSMEM_BITS)=" + maxPhys
                : vaBits > 48 ? "a 52-bit VA on " + granule.label() + " runs with FEAT_LPA2" : "no LPA2 below a 52-bit VA") + ")");

        if (vaBits < Geometry.MIN_VA_BITS) {
            // Geometry takes down to 16 bits (FEAT_TTST tables), but no kernel runs that small:
            // Linux arm64 offers 36 to 52 bits.
            throw new VmcoreInfoException("VMCOREINFO gives a " + vaBits + "-bit kernel VA; Linux arm64 kernels use 36 to"
                    + " 52 bits (granule reads dumps from " + Geometry.MIN_VA_BITS + " bits up)");
        }
        Geometry geometry;
        try {
            geometry = Geometry.of(granule, vaBits, paBits);
        } catch (GeometryException e) {
            throw new VmcoreInfoException("VMCOREINFO describes no valid arm64 geometry: " + e.getMessage());
        }

        long pgd = info.symbol("swapper_pg_dir").orElseThrow(() -> new VmcoreInfoException(
                "VMCOREINFO has no SYMBOL(swapper_pg_dir); give the root table address (--root) or TTBR1 (--ttbr1)"));
        long voffset = info.kimageVoffset().orElseThrow(() -> new VmcoreInfoException(
                "VMCOREINFO has no NUMBER(kimage_voffset) to turn SYMBOL(swapper_pg_dir) into a physical address; give --root"));
        long root = pgd - voffset;
        evidence.add(String.format("root %#x = SYMBOL(swapper_pg_dir) %#x - NUMBER(kimage_voffset) %#x", root, pgd, voffset));
        if (configured.isPresent() && configured.getAsLong() > vaBits && configured.getAsLong() <= 52) {
            try {
                Geometry built = Geometry.of(granule, (int) configured.getAsLong(), Math.max(paBits, 48));
                if (built.levels() == geometry.levels()) {
                    long offset = (long) (built.ptrsPerPgd() - geometry.ptrsPerPgd()) * geometry.descriptorBytes();
                    root += offset;
                    evidence.add(String.format("root + %#x: the PGD is sized for the configured %d-bit VA and TTBR1 points at its top %d entries",
                            offset, configured.getAsLong(), geometry.ptrsPerPgd()));
                } else {
                    evidence.add("the " + configured.getAsLong() + "-bit PGD is walked from its first entry with "
                            + geometry.levels() + " levels (runtime-folded top level)");
                }
            } catch (GeometryException ignored) {
                // a configured size that is no geometry leaves the root as the symbol says
            }
        }
        if ((root & 7) != 0 || root < 0) {
            throw new VmcoreInfoException(String.format("root table address %#x derived from VMCOREINFO is not a valid 8-byte aligned PA", root));
        }
        return new KernelTables(geometry, root, evidence);
    }
}
