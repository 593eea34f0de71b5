package dev.granule.geometry;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An immutable translation geometry: page size, VA and PA widths and descriptor format, with every
 * value Linux derives from them (PAGE_SHIFT, PTRS_PER_*, *_SHIFT, CONT_*).
 *
 * <p>It is a record on purpose: HotSpot trusts record fields as truly final, so a geometry held in
 * a {@code static final} field (the "compile-time" path, see {@link #FOUR_K_48}) folds to constants
 * in compiled code, and one chosen at start-up is a handful of loads that loops hoist. The derived
 * values that need a division ({@code levels}, {@code startLevel}) are therefore stored, and the
 * compact constructor rejects any set of components that {@link #of} would not have produced.
 *
 * <p>Levels are numbered as in the Arm ARM: the leaf level is 3, and the start level is
 * {@code 4 - levels} (level -1 exists for 4K pages with 52-bit VA under FEAT_LPA2, and levels -1
 * and -2 for VMSAv9-128). The Armv7 short-descriptor format's first and second levels are numbered
 * 2 and 3 here so that every format's leaf level is 3; {@link #architecturalLevelName} gives Arm's
 * name.
 */
public record Geometry(
        Granule granule,
        TranslationFormat format,
        int vaBits,
        int paBits,
        boolean lpa2,
        int pageShift,
        int bitsPerLevel,
        int levels,
        int startLevel) {

    /** Smallest page size any geometry can have: what static sizing must assume as a lower bound. */
    public static final long PAGE_SIZE_MIN = 4096;
    /** Largest page size any geometry can have: what static buffers sized "one page" must hold. */
    public static final long PAGE_SIZE_MAX = 65536;
    public static final int PAGE_SHIFT_MIN = 12;
    public static final int PAGE_SHIFT_MAX = 16;

    /** Valid PA sizes: the ID_AA64MMFR0_EL1.PARange / TCR.IPS values, in encoding order. */
    private static final int[] PA_SIZES = {32, 36, 40, 42, 44, 48, 52, 56};

    /** Smallest VA size without FEAT_TTST (TxSZ at most 39), and the floor Boot applies. */
    public static final int MIN_VA_BITS = 25;
    /**
     * Smallest VMSAv8-64 VA size with FEAT_TTST (small translation tables): TxSZ up to 48 for the
     * 4K and 16K granules and 47 for 64K, so that one table level remains (Arm ARM D8.1.x, TxSZ).
     */
    public static final int MIN_VA_BITS_TTST = 16;

    /** Lowest level any geometry has: -2, for 4K VMSAv9-128 with a VA above 52 bits. */
    public static final int MIN_LEVEL = -2;
    /** The leaf level of every geometry. */
    public static final int MAX_LEVEL = 3;

    /** Compile-time constants, as a kernel built with fixed CONFIG_ARM64_*K_PAGES would have. */
    public static final Geometry FOUR_K_39 = of(Granule.FOUR_K, 39, 48);
    public static final Geometry FOUR_K_48 = of(Granule.FOUR_K, 48, 48);
    public static final Geometry SIXTEEN_K_47 = of(Granule.SIXTEEN_K, 47, 48);
    public static final Geometry SIXTEEN_K_48 = of(Granule.SIXTEEN_K, 48, 48);
    public static final Geometry SIXTY_FOUR_K_42 = of(Granule.SIXTY_FOUR_K, 42, 48);
    public static final Geometry SIXTY_FOUR_K_48 = of(Granule.SIXTY_FOUR_K, 48, 48);
    public static final Geometry SIXTY_FOUR_K_52 = of(Granule.SIXTY_FOUR_K, 52, 52);

    public Geometry {
        validate(granule, format, vaBits, paBits);
        int expectedBits = format.bitsPerLevel(granule.pageShift());
        int expectedLevels = levelsFor(format, granule.pageShift(), expectedBits, vaBits);
        if (lpa2 != usesLpa2(granule, format, vaBits, paBits) || pageShift != granule.pageShift()
                || bitsPerLevel != expectedBits || levels != expectedLevels || startLevel != 4 - expectedLevels) {
            throw new GeometryException("inconsistent geometry components for " + granule + "/" + vaBits
                    + "-bit VA; build geometries with Geometry.of(...)");
        }
    }

    /** A VMSAv8-64 geometry. Validates the combination against the architecture, not against a CPU. */
    public static Geometry of(Granule granule, int vaBits, int paBits) {
        return of(granule, TranslationFormat.D64, vaBits, paBits);
    }

    public static Geometry of(Granule granule, TranslationFormat format, int vaBits, int paBits) {
        validate(granule, format, vaBits, paBits);
        int pageShift = granule.pageShift();
        int bitsPerLevel = format.bitsPerLevel(pageShift);
        int levels = levelsFor(format, pageShift, bitsPerLevel, vaBits);
        return new Geometry(granule, format, vaBits, paBits, usesLpa2(granule, format, vaBits, paBits),
                pageShift, bitsPerLevel, levels, 4 - levels);
    }

    /** Parses a kernel-style command line for a CPU that implements every feature; see {@link Boot}. */
    public static Geometry boot(String commandLine) {
        return Boot.resolve(commandLine, CpuFeatures.ALL).geometry();
    }

    private static void validate(Granule granule, TranslationFormat format, int vaBits, int paBits) {
        if (granule == null || format == null) {
            throw new GeometryException("granule and format are required");
        }
        int maxVa = maxVaBits(format);
        int minVa = minVaBits(granule, format);
        if (vaBits < minVa || vaBits > maxVa) {
            throw new GeometryException("VA size " + vaBits + " bits is outside " + minVa + ".." + maxVa
                    + " for " + format.archName() + " with " + granule.label() + " pages (TxSZ "
                    + (format.addressBits() - maxVa) + ".." + (format.addressBits() - minVa) + ")");
        }
        if (encodePaBits(paBits) < 0) {
            throw new GeometryException("PA size " + paBits + " bits is not an architectural PA size; expected one of "
                    + java.util.Arrays.toString(PA_SIZES));
        }
        if (format.isAArch32() && granule != Granule.FOUR_K) {
            throw new GeometryException(format.archName() + " has only the 4K granule, not " + granule.label());
        }
        int maxPa = switch (format) {
            case D128 -> 56;
            case D64 -> 52;
            case LPAE, SHORT -> 40;
        };
        if (paBits > maxPa) {
            throw new GeometryException("PA size " + paBits + " bits needs " + TranslationFormat.D128.archName()
                    + "; " + format.archName() + " outputs at most " + maxPa + " bits");
        }
    }

    /**
     * Linux's ARM64_HW_PGTABLE_LEVELS generalised to any descriptor size: ceil((va - page) / bits).
     * Short descriptors always walk two levels: the first resolves VA[31-N:20] (Arm ARM B3.5.4).
     */
    private static int levelsFor(TranslationFormat format, int pageShift, int bitsPerLevel, int vaBits) {
        if (format == TranslationFormat.SHORT) return 2;
        return (vaBits - pageShift + bitsPerLevel - 1) / bitsPerLevel;
    }

    /** 4K and 16K reach 52 bits only through FEAT_LPA2 (TCR.DS=1); 64K has its own LPA/LVA encodings. */
    private static boolean usesLpa2(Granule granule, TranslationFormat format, int vaBits, int paBits) {
        return format == TranslationFormat.D64 && granule != Granule.SIXTY_FOUR_K && (vaBits > 48 || paBits > 48);
    }

    /** VMSAv8-64 goes down to one level of table (FEAT_TTST); the other formats to TxSZ 39 (or 7 for AArch32). */
    static int minVaBits(Granule granule, TranslationFormat format) {
        if (format != TranslationFormat.D64) return MIN_VA_BITS;
        return granule == Granule.SIXTY_FOUR_K ? MIN_VA_BITS_TTST + 1 : MIN_VA_BITS_TTST;
    }

    static int maxVaBits(TranslationFormat format) {
        return switch (format) {
            case D128 -> 56;
            case D64 -> 52;
            case LPAE, SHORT -> 32;
        };
    }

    /** TCR.IPS / ID_AA64MMFR0_EL1.PARange encoding of a PA size, or -1 if it is not one. */
    public static int encodePaBits(int paBits) {
        for (int i = 0; i < PA_SIZES.length; i++) {
            if (PA_SIZES[i] == paBits) return i;
        }
        return -1;
    }

    /** PA size for a TCR.IPS / PARange encoding, or -1 for a reserved encoding. */
    public static int decodePaBits(int encoding) {
        return encoding >= 0 && encoding < PA_SIZES.length ? PA_SIZES[encoding] : -1;
    }

    // ---- page -----------------------------------------------------------------------------------

    public long pageSize() { return 1L << pageShift; }

    /** Linux PAGE_MASK: clears the offset within a page. */
    public long pageMask() { return -(1L << pageShift); }

    public int descriptorBytes() { return 1 << format.descriptorShift(); }

    /** Entries in a full (non-start-level) table: the hardware's PTRS_PER_PTE. */
    public int ptrsPerTable() { return 1 << bitsPerLevel; }

    /**
     * Bytes of a full (non-start-level) table: the unit table memory is allocated in. A page for
     * every format but short descriptors, whose second-level tables are 1 KiB.
     */
    public long fullTableBytes() { return (long) ptrsPerTable() << format.descriptorShift(); }

    // ---- levels ---------------------------------------------------------------------------------

    /** Lowest VA bit resolved at {@code level}, i.e. log2 of the size one entry at that level maps. */
    public int shift(int level) {
        return pageShift + bitsPerLevel * (3 - level);
    }

    /** Number of VA bits resolved at {@code level} (the start level may resolve fewer). */
    public int bitsAt(int level) {
        return level == startLevel ? vaBits - shift(level) : bitsPerLevel;
    }

    /** Entries in a table at {@code level}. */
    public int entries(int level) {
        return 1 << bitsAt(level);
    }

    /** Bytes occupied by a table at {@code level}: a start-level table can be smaller than a page. */
    public long tableBytes(int level) {
        return (long) entries(level) << format.descriptorShift();
    }

    /** Index of {@code va} in the table at {@code level}. */
    public int index(long va, int level) {
        return (int) ((va >>> shift(level)) & (entries(level) - 1));
    }

    /** Size of the region one entry at {@code level} maps: a page at level 3, a block above. */
    public long entrySpan(int level) {
        return 1L << shift(level);
    }

    public boolean isLevel(int level) {
        return level >= startLevel && level <= 3;
    }

    /**
     * Whether a block descriptor is architecturally permitted at {@code level}: the Arm ARM's
     * AArch64.BlockDescSupported(d128, ds, tgx, level) for the AArch64 formats (for VMSAv9-128 also
     * Table D8-46: 64G/256M/1M blocks for 4K, 16G/16M for 16K, 1T/256M for 64K), 1G and 2M blocks
     * for LPAE, and 1 MiB sections at the short format's first level (granule level 2). Level 3
     * holds pages, not blocks.
     */
    public boolean blockAllowed(int level) {
        if (level < startLevel || level >= 3) return false;
        if (format == TranslationFormat.SHORT) return level == 2;
        if (format == TranslationFormat.LPAE) return level >= 1; // 1G and 2M blocks
        if (format == TranslationFormat.D128) {
            return switch (granule) {
                case FOUR_K -> level >= 0;
                case SIXTEEN_K, SIXTY_FOUR_K -> level >= 1;
            };
        }
        return switch (granule) {
            case FOUR_K -> level == 2 || level == 1 || (level == 0 && lpa2);
            case SIXTEEN_K -> level == 2 || (level == 1 && lpa2);
            case SIXTY_FOUR_K -> level == 2 || (level == 1 && paBits == 52);
        };
    }

    /** Sizes a single leaf descriptor can map, largest first (blocks, then the page). */
    public long[] leafSizes() {
        long[] sizes = new long[levels];
        int n = 0;
        for (int level = startLevel; level <= 3; level++) {
            if (level == 3 || blockAllowed(level)) sizes[n++] = entrySpan(level);
        }
        return java.util.Arrays.copyOf(sizes, n);
    }

    // ---- contiguous hint ------------------------------------------------------------------------

    /**
     * Entries that form one contiguous run at {@code level}: the Arm ARM's tables of contiguous
     * ranges (D8-104 for VMSAv8-64: 16 for 4K, 128 at level 3 or 32 at level 2 for 16K, 32 for
     * 64K; D8-105 for VMSAv9-128: 4 at level 1, 16 at level 2, 16 (4K/64K) or 64 (16K) at level 3
     * and 64 at 64K level 2), and for short descriptors the 16 replicated entries of a 16 MiB
     * supersection (level 2) or a 64 KiB large page (level 3). Levels where the Contiguous bit is
     * RES0 (the 512G/64G LPA2 blocks, the 4T/1T level-1 64K blocks, the 64G 4K/d128 block) and
     * levels without blocks return 1.
     */
    public int contiguousEntries(int level) {
        if (level != 3 && !blockAllowed(level)) return 1;
        return switch (format) {
            case SHORT -> 16;
            case D128 -> switch (granule) {
                case FOUR_K -> level == 0 ? 1 : level == 1 ? 4 : 16;
                case SIXTEEN_K -> level == 1 ? 4 : level == 2 ? 16 : 64;
                case SIXTY_FOUR_K -> level == 1 ? 1 : level == 2 ? 64 : 16;
            };
            case D64, LPAE -> switch (granule) {
                case FOUR_K -> level == 0 ? 1 : 16;
                case SIXTEEN_K -> level == 3 ? 128 : level == 2 ? 32 : 1;
                case SIXTY_FOUR_K -> level == 3 || level == 2 ? 32 : 1;
            };
        };
    }

    public int contPtes() { return contiguousEntries(3); }

    public int contPmds() { return contiguousEntries(2); }

    public long contPteSize() { return (long) contPtes() << pageShift; }

    public long contPmdSize() { return (long) contPmds() << shift(2); }

    // ---- Linux names ----------------------------------------------------------------------------

    /** CONFIG_PGTABLE_LEVELS. */
    public int pgtableLevels() { return levels; }

    /**
     * PGDIR_SHIFT. For short descriptors this is Linux's software view (pgtable-2level.h): a Linux
     * PGD entry is a pair of hardware first-level entries (2 MiB, PGDIR_SHIFT 21, 2048 of them),
     * and a Linux PTE page holds two hardware 256-entry tables (PTRS_PER_PTE 512) next to Linux's
     * own shadow entries. The hardware view is {@link #shift}, {@link #entries}.
     */
    public int pgdirShift() { return format == TranslationFormat.SHORT ? shift(startLevel) + 1 : shift(startLevel); }

    public int ptrsPerPgd() { return format == TranslationFormat.SHORT ? entries(startLevel) / 2 : entries(startLevel); }

    /** P4D exists only with five levels; otherwise it is folded into the PGD as in pgtable-nop4d.h. */
    public int p4dShift() { return levels >= 5 ? shift(0) : pgdirShift(); }

    public int ptrsPerP4d() { return levels >= 5 ? ptrsPerTable() : 1; }

    public int pudShift() { return levels >= 4 ? shift(1) : pgdirShift(); }

    public int ptrsPerPud() { return levels >= 4 ? ptrsPerTable() : 1; }

    public int pmdShift() { return levels >= 3 ? shift(2) : pgdirShift(); }

    public int ptrsPerPmd() { return levels >= 3 ? ptrsPerTable() : 1; }

    public int ptrsPerPte() { return format == TranslationFormat.SHORT ? 2 * ptrsPerTable() : ptrsPerTable(); }

    /**
     * Linux's name for the table level {@code level}: the start level is always the PGD, the last
     * is the PTE, and the levels between are named from the bottom (PMD, PUD, P4D) as the kernel
     * folds the ones a configuration lacks.
     */
    public String linuxLevelName(int level) {
        if (level == startLevel && level != 3) return "PGD";
        return switch (level) {
            case 3 -> "PTE";
            case 2 -> "PMD";
            case 1 -> "PUD";
            case 0 -> "P4D";
            // Six levels (4K VMSAv9-128 above 52 bits) are one more than Linux can fold names for.
            case -1 -> "-";
            default -> throw new IllegalArgumentException("no level " + level + " in " + label());
        };
    }

    /** The Arm ARM's number for granule's {@code level}: the same, except 1 and 2 for the short format's 2 and 3. */
    public int architecturalLevel(int level) {
        return format == TranslationFormat.SHORT ? level - 1 : level;
    }

    /** The Arm ARM's name for granule's {@code level}, e.g. {@code level 0}, or {@code first level} for short descriptors. */
    public String architecturalLevelName(int level) {
        if (format == TranslationFormat.SHORT) {
            return switch (level) {
                case 2 -> "first level";
                case 3 -> "second level";
                default -> throw new IllegalArgumentException("no level " + level + " in " + label());
            };
        }
        return "level " + level;
    }

    // ---- register encodings ---------------------------------------------------------------------

    /**
     * TCR.T0SZ / T1SZ (TTBCR.T0SZ / T1SZ for LPAE, against a 32-bit VA) for this VA size; for short
     * descriptors TTBCR.N, which shrinks TTBR0's region and first-level table the same way.
     */
    public int txsz() { return format.addressBits() - vaBits; }

    public int tg0() { return granule.tg0(); }

    public int tg1() { return granule.tg1(); }

    /** TCR.IPS encoding of the PA size. */
    public int ips() { return encodePaBits(paBits); }

    /** Mask of the VA bits a table walk resolves (below the top byte / sign bits). */
    public long vaMask() { return vaBits == 64 ? -1L : (1L << vaBits) - 1; }

    public long paMask() { return (1L << paBits) - 1; }

    /**
     * The kernel's names for this geometry, in the order pgtable-hwdef.h defines them. Values that
     * do not fit an int (sizes) are longs.
     */
    public Map<String, Long> linuxDefines() {
        if (format == TranslationFormat.SHORT) return shortLinuxDefines();
        Map<String, Long> m = pageAndPgdDefines();
        m.put("P4D_SHIFT", (long) p4dShift());
        m.put("PTRS_PER_P4D", (long) ptrsPerP4d());
        m.put("PUD_SHIFT", (long) pudShift());
        m.put("PTRS_PER_PUD", (long) ptrsPerPud());
        m.put("PMD_SHIFT", (long) pmdShift());
        m.put("PTRS_PER_PMD", (long) ptrsPerPmd());
        m.put("PTRS_PER_PTE", (long) ptrsPerPte());
        m.put("CONT_PTES", (long) contPtes());
        m.put("CONT_PTE_SIZE", contPteSize());
        m.put("CONT_PMDS", (long) contPmds());
        m.put("CONT_PMD_SIZE", contPmdSize());
        m.put("PAGE_SIZE_MIN", PAGE_SIZE_MIN);
        m.put("PAGE_SIZE_MAX", PAGE_SIZE_MAX);
        return m;
    }

    /** The names every configuration has, arm64 and arch/arm alike: the page and the PGD. */
    private Map<String, Long> pageAndPgdDefines() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("PAGE_SHIFT", (long) pageShift);
        m.put("PAGE_SIZE", pageSize());
        m.put("PAGE_MASK", pageMask());
        m.put("VA_BITS", (long) vaBits);
        m.put("PA_BITS", (long) paBits);
        m.put("CONFIG_PGTABLE_LEVELS", (long) levels);
        m.put("PGDIR_SHIFT", (long) pgdirShift());
        m.put("PTRS_PER_PGD", (long) ptrsPerPgd());
        return m;
    }

    /** arch/arm's pgtable-2level.h and pgtable-2level-hwdef.h names (Linux's doubled-PGD software view). */
    private Map<String, Long> shortLinuxDefines() {
        Map<String, Long> m = pageAndPgdDefines();
        m.put("PMD_SHIFT", (long) pgdirShift());
        m.put("PTRS_PER_PMD", 1L);
        m.put("PTRS_PER_PTE", (long) ptrsPerPte());
        m.put("SECTION_SHIFT", (long) shift(2));
        m.put("SUPERSECTION_SHIFT", (long) shift(2) + 4);
        m.put("PAGE_SIZE_MIN", PAGE_SIZE_MIN);
        m.put("PAGE_SIZE_MAX", PAGE_SIZE_MAX);
        return m;
    }

    /** Short name such as {@code 4K/48-bit VA/48-bit PA/d64}. */
    public String label() {
        return granule.label() + "/" + vaBits + "-bit VA/" + paBits + "-bit PA/" + format.option()
                + (lpa2 ? "/LPA2" : "");
    }

    @Override
    public String toString() { return "Geometry[" + label() + "]"; }
}
