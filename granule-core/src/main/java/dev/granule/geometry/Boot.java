package dev.granule.geometry;

import java.util.ArrayList;
import java.util.List;

/**
 * Resolves a boot command line against a CPU into a {@link Geometry}, the way the arm64 boot-time
 * page size design does at early boot: the request is honoured where the CPU can run it, and
 * otherwise falls back by these documented rules (each fallback is reported in
 * {@link BootResult#fallbacks()}):
 * <ol>
 *   <li>Format: d128 on a CPU without FEAT_D128 falls back to d64.</li>
 *   <li>Page size (default 4K): a granule the CPU does not implement falls back to the largest
 *       implemented granule smaller than it, else the smallest implemented one larger than it.</li>
 *   <li>VA size (default 48): above 48 bits needs FEAT_LPA2 (4K, 16K) or FEAT_LVA (64K), and is
 *       refused by {@code arm64.nolva}; without them it falls back to 48 bits, as Linux's
 *       {@code vabits_actual} does.</li>
 *   <li>PA size (default: the CPU's PARange, at most 48 bits): larger than the CPU implements is
 *       lowered to what it implements; 52 bits with 4K or 16K needs FEAT_LPA2 and is lowered to 48
 *       without it or with {@code arm64.nolva}.</li>
 * </ol>
 * Values the architecture never allows (a 47-bit PA, a 60-bit VA, {@code arm64.pagesize=8k}) are
 * errors, not fallbacks.
 */
public final class Boot {

    public static final Granule DEFAULT_GRANULE = Granule.FOUR_K;
    public static final int DEFAULT_VA_BITS = 48;
    public static final int DEFAULT_MAX_PA_BITS = 48;

    private Boot() {}

    public static BootResult resolve(String commandLine, CpuFeatures cpu) {
        return resolve(BootRequest.parse(commandLine), cpu);
    }

    public static BootResult resolve(BootRequest request, CpuFeatures cpu) {
        List<String> fallbacks = new ArrayList<>();

        TranslationFormat format = request.format() == null ? TranslationFormat.D64 : request.format();
        if (format.isAArch32()) return resolveAArch32(request, cpu, format);
        if (format == TranslationFormat.D128 && !cpu.supportsD128()) {
            fallbacks.add("granule.format=d128: CPU lacks FEAT_D128 (ID_AA64MMFR3_EL1.D128=0); using d64");
            format = TranslationFormat.D64;
        }

        Granule requested = request.pageSize() == null ? DEFAULT_GRANULE : request.pageSize();
        Granule granule = chooseGranule(requested, cpu);
        if (granule != requested) {
            fallbacks.add("arm64.pagesize=" + requested.label().toLowerCase() + ": CPU does not implement the "
                    + requested.label() + " granule (ID_AA64MMFR0_EL1); using " + granule.label());
        }

        int vaBits = request.vaBits() == null ? DEFAULT_VA_BITS : request.vaBits();
        int maxVa = Geometry.maxVaBits(format);
        if (format == TranslationFormat.D128 && vaBits == maxVa) {
            // AArch64.S1MinTxSZ / Arm ARM RVRKKV: with FEAT_LVA3 the minimum TnSZ is 8 only for a
            // regime with one VA range; EL1&0 has two (TTBR0/TTBR1, selected by VA[55]), so 9.
            throw new GeometryException("granule.va_bits=" + vaBits + ": the kernel's EL1&0 regime has two VA ranges,"
                    + " so " + format.archName() + " translates at most " + (maxVa - 1) + " bits per TTBR (TnSZ >= 9);"
                    + " 56 bits need a one-range regime (EL2, EL3): use Geometry.of for that");
        }
        if (vaBits < Geometry.MIN_VA_BITS || vaBits > maxVa) {
            throw new GeometryException("granule.va_bits=" + vaBits + ": " + format.archName() + " translates VAs of "
                    + Geometry.MIN_VA_BITS + " to " + maxVa + " bits");
        }
        if (vaBits > 48) {
            int cpuMax = cpu.maxVaBits(granule, format);
            if (request.noLva()) {
                fallbacks.add("granule.va_bits=" + vaBits + ": arm64.nolva given; using 48");
                vaBits = 48;
            } else if (vaBits > cpuMax) {
                String feature = granule == Granule.SIXTY_FOUR_K || format == TranslationFormat.D128
                        ? "FEAT_LVA" : "FEAT_LPA2 for " + granule.label();
                fallbacks.add("granule.va_bits=" + vaBits + ": CPU lacks " + feature + "; using " + cpuMax);
                vaBits = cpuMax;
            }
        }

        int paBits;
        if (request.paBits() == null) {
            paBits = Math.min(cpu.paBits(), DEFAULT_MAX_PA_BITS);
        } else {
            paBits = request.paBits();
            if (Geometry.encodePaBits(paBits) < 0) {
                throw new GeometryException("granule.pa_bits=" + paBits
                        + ": not an architectural PA size; expected 32, 36, 40, 42, 44, 48, 52 or 56");
            }
            int cpuMax = cpu.maxPaBits(granule, format);
            if (format == TranslationFormat.D64 && paBits > 52) {
                throw new GeometryException("granule.pa_bits=" + paBits + ": " + format.archName()
                        + " outputs at most 52 bits; use granule.format=d128 for 56");
            }
            if (paBits > cpuMax) {
                fallbacks.add("granule.pa_bits=" + paBits + ": CPU outputs at most " + cpuMax + " bits with "
                        + granule.label() + " " + format.option() + "; using " + cpuMax);
                paBits = cpuMax;
            }
        }
        if (request.noLva() && format == TranslationFormat.D64 && granule != Granule.SIXTY_FOUR_K && paBits > 48) {
            fallbacks.add("granule.pa_bits=" + paBits + ": arm64.nolva disables FEAT_LPA2; using 48");
            paBits = 48;
        }

        Geometry geometry = Geometry.of(granule, format, vaBits, paBits);
        return new BootResult(geometry, cpu, fallbacks, request.ignored());
    }

    /**
     * Armv7 formats: the AArch64 ID registers do not apply; the VA is 32 bits (TTBCR.T0SZ or
     * TTBCR.N = 0) unless the command line says otherwise. The PA defaults to 40 bits for LPAE and
     * to 32 bits for short descriptors, whose sections and pages output 32-bit addresses (only 16 MiB
     * supersections reach 40 bits, through their extended base address fields).
     */
    private static BootResult resolveAArch32(BootRequest request, CpuFeatures cpu, TranslationFormat format) {
        if (request.pageSize() != null && request.pageSize() != Granule.FOUR_K) {
            throw new GeometryException("granule.format=" + format.option() + ": " + format.archName()
                    + " translates with 4K pages only, not arm64.pagesize=" + request.pageSize().label().toLowerCase());
        }
        int vaBits = request.vaBits() == null ? 32 : request.vaBits();
        if (vaBits < Geometry.MIN_VA_BITS || vaBits > 32) {
            throw new GeometryException("granule.va_bits=" + vaBits + ": " + format.archName() + " translates VAs of "
                    + Geometry.MIN_VA_BITS + " to 32 bits ("
                    + (format == TranslationFormat.SHORT ? "TTBCR.N" : "TTBCR.T0SZ") + " 7..0)");
        }
        int paBits = request.paBits() == null ? (format == TranslationFormat.SHORT ? 32 : 40) : request.paBits();
        if (paBits != 32 && paBits != 36 && paBits != 40) {
            throw new GeometryException("granule.pa_bits=" + paBits + ": " + format.archName()
                    + " outputs 32, 36 or 40-bit addresses");
        }
        return new BootResult(Geometry.of(Granule.FOUR_K, format, vaBits, paBits), cpu, List.of(), request.ignored());
    }

    static Granule chooseGranule(Granule requested, CpuFeatures cpu) {
        if (cpu.supports(requested)) return requested;
        Granule[] all = Granule.values(); // ascending page size
        for (int i = requested.ordinal() - 1; i >= 0; i--) {
            if (cpu.supports(all[i])) return all[i];
        }
        for (int i = requested.ordinal() + 1; i < all.length; i++) {
            if (cpu.supports(all[i])) return all[i];
        }
        throw new GeometryException("CPU implements no translation granule (" + cpu + ")");
    }
}
