package dev.granule.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;
import dev.granule.mmu.Access;
import dev.granule.mmu.Armv7Mmu;
import dev.granule.mmu.Armv7Registers;
import dev.granule.mmu.Mmu;
import dev.granule.mmu.PermissionRegisters;
import dev.granule.mmu.Registers;
import dev.granule.mmu.Stage2Regime;
import dev.granule.mmu.Tlb;
import dev.granule.mmu.Translation;
import dev.granule.mmu.TranslationRegime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code granule translate}: EL1&amp;0 (one or two stages), EL2 and EL2&amp;0 translation from raw
 * register values over table images, printing the output address and attributes or the exact
 * architectural fault.
 */
@Command(name = "translate",
        footerHeading = "%nExamples:%n",
        footer = {"  granule translate --tcr 0x500800010 --ttbr0 0x40000000 --image tables.bin@0x40000000 0x1234 0x2000", "  granule translate --ttbcr 0 --ttbr0 0x40000000 --dacr 0 --image l1.bin@0x40000000 0x00100000"},
        description = {"Translate VAs as an arm64 MMU would, from TCR/TTBR/MAIR/SCTLR values and raw table images;",
                "with --ttbcr instead of --tcr, as an Armv7-A/AArch32 MMU (short descriptors or LPAE).",
                "Example: granule translate --tcr 0x500000010 --ttbr0 0x40000000 --image tables.bin@0x40000000 0x1000"},
        mixinStandardHelpOptions = true)
final class TranslateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "VA", description = "Virtual addresses (hex).")
    List<String> vas;

    /** Table images are read whole into the memory model; a larger file is not a table image. */
    static final long MAX_IMAGE_BYTES = 1L << 30;

    @Option(names = "--tcr", paramLabel = "HEX", description = "TCR_EL1 (AArch64 translation).")
    String tcr;

    @Option(names = "--ttbcr", paramLabel = "HEX",
            description = "TTBCR instead of --tcr: Armv7-A/AArch32 translation (EAE [31] selects LPAE, else short descriptors).")
    String ttbcr;

    @Option(names = "--dacr", paramLabel = "HEX", description = "DACR for short descriptors (default 0x55555555: every domain client).")
    String dacr = "0x55555555";

    @Option(names = {"--mair0", "--prrr"}, paramLabel = "HEX", description = "AArch32 MAIR0 (LPAE) or PRRR (short descriptors); default 0.")
    String mair0 = "0";

    @Option(names = {"--mair1", "--nmrr"}, paramLabel = "HEX", description = "AArch32 MAIR1 (LPAE) or NMRR (short descriptors); default 0.")
    String mair1 = "0";

    @Option(names = "--contextidr", paramLabel = "HEX", description = "AArch32 CONTEXTIDR: its ASID [7:0] tags non-global short-descriptor translations (default 0).")
    String contextidr = "0";

    @Option(names = "--armv8", description = "AArch32 on an Armv8 PE: LPAE bits [47:40] are an address size fault (default: Armv7, ignored).")
    boolean armv8;

    @Option(names = "--ttbr0", paramLabel = "HEX",
            description = "TTBR0_EL1 (default 0). With TCR2_EL1.D128 a 128-bit value: up to 32 hex digits, '_' ignored, e.g. 0x<hi16>_<lo16> (BADDR[55:48] in bits [87:80]).")
    String ttbr0;

    @Option(names = "--ttbr1", paramLabel = "HEX", description = "TTBR1_EL1 (default 0); 128 bits with TCR2_EL1.D128, as --ttbr0.")
    String ttbr1;

    @Option(names = "--mair2", paramLabel = "HEX",
            description = "MAIR2_EL1: the attributes of AttrIndx 8..15 under TCR2_EL1.AIE [4] with VMSAv9-128 tables (default 0).")
    String mair2 = "0";

    @Option(names = "--mair", paramLabel = "HEX", description = "MAIR_EL1 (default 0xff: Attr0 Normal WB).")
    String mair = "0xff";

    @Option(names = "--sctlr", paramLabel = "HEX", description = "SCTLR_EL1 (default 0x1: MMU on).")
    String sctlr = "0x1";

    @Option(names = "--pan", description = "PSTATE.PAN = 1.")
    boolean pan;

    @Option(names = "--tcr2", paramLabel = "HEX",
            description = "TCR2_EL1 (default 0): PIE [1] takes leaf rights from --pir/--pire0, E0POE [2] and POE [3] apply --por-el0/--por (FEAT_S1PIE/S1POE CPUs only); D128 [5] walks VMSAv9-128 tables (FEAT_D128), AIE [4] reads --mair2, PnCH [0] makes leaf bit 52 the Protected bit (FEAT_THE). At --el 2 it is TCR2_EL2 (with HCR_EL2.E2H = 0 only PnCH, PIE, POE, AIE and HAFT).")
    String tcr2 = "0";

    @Option(names = "--pir", paramLabel = "HEX", description = "PIR_EL1: privileged rights per PIIndex (default 0).")
    String pir = "0";

    @Option(names = "--pire0", paramLabel = "HEX", description = "PIRE0_EL1: unprivileged rights per PIIndex (default 0).")
    String pire0 = "0";

    @Option(names = {"--por", "--por-el1"}, paramLabel = "HEX", description = "POR_EL1: privileged overlay per POIndex (default 0).")
    String por = "0";

    @Option(names = "--por-el0", paramLabel = "HEX", description = "POR_EL0: unprivileged overlay per POIndex (default 0).")
    String porEl0 = "0";

    @Option(names = "--hcr", paramLabel = "HEX",
            description = "HCR_EL2 (default 0): VM [0] = 1 translates in two stages through --vtcr/--vttbr.")
    String hcr = "0";

    @Option(names = "--vtcr", paramLabel = "HEX",
            description = "VTCR_EL2 for stage 2 (default 0); D128 [38] walks VMSAv9-128 stage-2 tables (FEAT_D128) with S2PIR/S2POR.")
    String vtcr = "0";

    @Option(names = "--vttbr", paramLabel = "HEX",
            description = "VTTBR_EL2 for stage 2 (default 0). With VTCR_EL2.D128 a 128-bit value as --ttbr0 (BADDR[55:48] in bits [87:80], SKL [2:1]).")
    String vttbr = "0";

    @Option(names = "--tcr-el2", paramLabel = "HEX",
            description = "TCR_EL2 for --el 2 (and EL0 with HCR_EL2.E2H and TGE): its own layout, or the TCR_EL1 layout with HCR_EL2.E2H [34] = 1.")
    String tcrEl2;

    @Option(names = "--ttbr0-el2", paramLabel = "HEX", description = "TTBR0_EL2 (default 0); 128 bits as --ttbr0 with E2H and TCR2_EL2.D128 (--tcr2).")
    String ttbr0El2;

    @Option(names = "--ttbr1-el2", paramLabel = "HEX", description = "TTBR1_EL2, the upper range with HCR_EL2.E2H = 1 (default 0).")
    String ttbr1El2;

    @Option(names = "--s2pir", paramLabel = "HEX", description = "S2PIR_EL2 for stage 2 under VTCR_EL2.S2PIE [36] (default 0).")
    String s2pir = "0";

    @Option(names = "--s2por", paramLabel = "HEX", description = "S2POR_EL1 for stage 2 under VTCR_EL2.S2POE [37] (default 0).")
    String s2por = "0";

    @Option(names = "--image", required = true, paramLabel = "FILE@PA",
            description = "Raw little-endian memory contents loaded at a physical address; repeatable.")
    List<String> images;

    @Option(names = "--access", paramLabel = "r|w|x", description = "Access kind (default r).")
    String access = "r";

    @Option(names = "--el", paramLabel = "0|1|2",
            description = "Exception level of the access (default 1). 2 translates in the EL2 regime (--tcr-el2; --mair and --sctlr are MAIR_EL2 and SCTLR_EL2), or EL2&0 with HCR_EL2.E2H = 1 (where --tcr2, --pir, --pire0, --por, --por-el0 and --mair2 are the _EL2 registers); so does 0 with E2H and TGE [27] = 1.")
    int el = 1;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    CpuOptions cpuOptions = new CpuOptions();

    @Mixin
    CommonOptions common;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Access kind = switch (access.toLowerCase()) {
            case "r", "read" -> Access.READ;
            case "w", "write" -> Access.WRITE;
            case "x", "exec", "execute" -> Access.EXECUTE;
            default -> throw new UserException("--access " + access + ": expected r, w or x");
        };
        if (el < 0 || el > 2) throw new UserException("--el " + el + ": expected 0, 1 or 2");
        long hcrValue = hex("--hcr", hcr);
        boolean e2h = (hcrValue >>> 34 & 1) != 0, tge = (hcrValue >>> 27 & 1) != 0;
        // EL2, and EL0 of a VHE host (E2H and TGE), translate in an EL2 regime.
        boolean el2Regime = el == 2 || (el == 0 && e2h && tge);
        if (el2Regime) {
            if (tcrEl2 == null) throw new UserException("--el " + el + (el == 0 ? " with HCR_EL2.E2H and TGE" : "")
                    + " translates in the EL2" + (e2h ? "&0" : "") + " regime: give --tcr-el2");
            if (ttbcr != null) throw new UserException("--ttbcr is AArch32 EL1&0 translation, not EL2");
        } else if ((tcr == null) == (ttbcr == null)) {
            throw new UserException("give --tcr (AArch64) or --ttbcr (Armv7/AArch32), exactly one of them");
        }
        List<long[]> loads = new ArrayList<>();
        List<byte[]> contents = new ArrayList<>();
        List<MemoryRange> ram = new ArrayList<>();
        for (String spec : images) {
            int at = spec.lastIndexOf('@');
            if (at <= 0) throw new UserException("--image " + spec + ": expected FILE@PA, e.g. tables.bin@0x40000000");
            byte[] bytes;
            Path file = Path.of(spec.substring(0, at));
            InputFile.requireReadable("--image " + file, file, MAX_IMAGE_BYTES);
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UserException("--image " + spec + ": cannot read " + spec.substring(0, at) + " (" + e.getMessage() + ")", e);
            }
            long pa = hex("--image", spec.substring(at + 1));
            if (bytes.length == 0) throw new UserException("--image " + spec + ": the file is empty");
            long base = pa & -SparseMemory.CHUNK_SIZE;
            long end = (pa + bytes.length + SparseMemory.CHUNK_SIZE - 1) & -SparseMemory.CHUNK_SIZE;
            ram.add(new MemoryRange(base, end - base));
            loads.add(new long[]{pa});
            contents.add(bytes);
        }
        try (SparseMemory memory = SparseMemory.of(merge(ram))) {
            for (int i = 0; i < loads.size(); i++) memory.write(loads.get(i)[0], contents.get(i), 0, contents.get(i).length);
            java.util.function.LongFunction<Translation> translate;
            if (el2Regime) {
                long tcr2 = hex("--tcr-el2", tcrEl2);
                TranslationRegime regime;
                if (e2h) {
                    // EL2&0: --tcr2, --pir, --pire0, --por, --por-el0 and --mair2 are TCR2_EL2, PIR_EL2, PIRE0_EL2,
                    // POR_EL2, POR_EL0 and MAIR2_EL2; TTBR0/1_EL2 are 128-bit under TCR2_EL2.D128.
                    long[] t0 = hex128("--ttbr0-el2", ttbr0El2), t1 = hex128("--ttbr1-el2", ttbr1El2);
                    regime = TranslationRegime.el20(new Registers(tcr2, t0[0], t1[0], hex("--mair", mair), hex("--sctlr", sctlr),
                                    pan, t0[1], t1[1], hex("--mair2", mair2)),
                            new PermissionRegisters(hex("--tcr2", this.tcr2), hex("--pir", pir), hex("--pire0", pire0),
                                    hex("--por", por), hex("--por-el0", porEl0)), cpuOptions.features());
                } else {
                    // EL2 (E2H = 0): --tcr2, --pir, --por and --mair2 are TCR2_EL2, PIR_EL2, POR_EL2 and MAIR2_EL2 (no
                    // EL0 here, so --pire0 and --por-el0 are not read; TCR2_EL2's E2H = 0 layout has no D128).
                    regime = TranslationRegime.el2(tcr2, hex("--ttbr0-el2", ttbr0El2), hex("--mair", mair), hex("--sctlr", sctlr),
                            hex("--mair2", mair2), new PermissionRegisters(hex("--tcr2", this.tcr2), hex("--pir", pir), 0,
                                    hex("--por", por), 0), cpuOptions.features());
                }
                Mmu mmu = new Mmu(regime, memory, new Tlb(64, 4));
                translate = va -> mmu.translate(va, kind, el);
            } else if (tcr != null) {
                // 128-bit TTBRs: the high halves are read only under TCR2_EL1.D128.
                long[] t0 = hex128("--ttbr0", ttbr0), t1 = hex128("--ttbr1", ttbr1);
                Registers r = new Registers(hex("--tcr", tcr), t0[0], t1[0], hex("--mair", mair), hex("--sctlr", sctlr), pan,
                        t0[1], t1[1], hex("--mair2", mair2));
                // HCR_EL2.VM = 1: stage 2 translates every stage-1 table address and the output (an IPA).
                // 128-bit VTTBR_EL2: its high half is read only under VTCR_EL2.D128.
                long[] vt = hex128("--vttbr", vttbr);
                Stage2Regime stage2 = new Stage2Regime(hcrValue, hex("--vtcr", vtcr), vt[0], vt[1],
                        hex("--s2pir", s2pir), hex("--s2por", s2por), cpuOptions.features());
                PermissionRegisters p = new PermissionRegisters(hex("--tcr2", tcr2), hex("--pir", pir),
                        hex("--pire0", pire0), hex("--por", por), hex("--por-el0", porEl0));
                Mmu mmu = new Mmu(new TranslationRegime(r, p, cpuOptions.features()), stage2, memory, new Tlb(64, 4));
                translate = va -> mmu.translate(va, kind, el);
            } else {
                Armv7Registers r = new Armv7Registers(hex("--sctlr", sctlr), hex("--ttbcr", ttbcr), hex("--ttbr0", ttbr0),
                        hex("--ttbr1", ttbr1), hex("--dacr", dacr), hex("--mair0", mair0), hex("--mair1", mair1), pan,
                        hex("--contextidr", contextidr));
                Armv7Mmu mmu = new Armv7Mmu(r, memory, armv8 ? Armv7Mmu.Profile.ARMV8 : Armv7Mmu.Profile.ARMV7);
                translate = va -> {
                    if (va >>> 32 != 0) throw new UserException(String.format("VA 0x%x: AArch32 addresses have 32 bits", va));
                    return mmu.translate(va, kind, el);
                };
            }
            PrintWriter out = spec.commandLine().getOut();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (String text : vas) {
                long va = hex("VA", text);
                Translation t = translate.apply(va);
                if (json) {
                    rows.add(toJson(t));
                } else {
                    out.println(render(t));
                }
            }
            if (json) out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
            out.flush();
        }
        return 0;
    }

    static String render(Translation t) {
        return switch (t) {
            case Translation.Translated x -> String.format("0x%016x -> 0x%013x  level %d %s%s  MAIR 0x%02x %s %s %s",
                    x.va(), x.pa(), x.level(), Units.bytes(x.leafSize()), x.contiguous() ? " CON" : "",
                    x.mairAttr(), x.memoryType(), shareability(x), x.global() ? "global" : "ASID " + x.asid());
            case Translation.Fault f -> f.stage() == 2
                    ? String.format("0x%016x -> %s fault, stage 2%s, level %d: %s (IPA 0x%x)", f.va(), f.type(),
                            f.s1ptw() ? " on a stage-1 table walk" : "", f.level(), f.detail(), f.ipa())
                    : String.format("0x%016x -> %s fault, level %d: %s", f.va(), f.type(), f.level(), f.detail());
        };
    }

    /**
     * The shareability the memory system uses (Device and Non-cacheable memory are Outer Shareable,
     * as PAR_EL1 reports), with the descriptor's field beside it where that says otherwise.
     */
    private static String shareability(Translation.Translated x) {
        String effective = x.effectiveShareability().label();
        return x.effectiveShareability() == x.shareability() ? effective
                : effective + " (descriptor " + x.shareability().label() + ")";
    }

    static Map<String, Object> toJson(Translation t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("va", String.format("0x%x", t.va()));
        switch (t) {
            case Translation.Translated x -> {
                m.put("pa", String.format("0x%x", x.pa()));
                m.put("level", x.level());
                m.put("leafSize", x.leafSize());
                m.put("contiguous", x.contiguous());
                m.put("mairAttr", x.mairAttr());
                m.put("memoryType", x.memoryType().name());
                m.put("shareability", x.effectiveShareability().label());
                m.put("descriptorShareability", x.shareability().label());
                m.put("global", x.global());
            }
            case Translation.Fault f -> {
                m.put("fault", f.type().name());
                m.put("stage", f.stage());
                m.put("level", f.level());
                if (f.stage() == 2) {
                    m.put("s1ptw", f.s1ptw());
                    m.put("ipa", String.format("0x%x", f.ipa()));
                }
                m.put("detail", f.detail());
            }
        }
        return m;
    }

    private static List<MemoryRange> merge(List<MemoryRange> ranges) {
        List<MemoryRange> sorted = new ArrayList<>(ranges);
        sorted.sort(null);
        List<MemoryRange> out = new ArrayList<>();
        for (MemoryRange r : sorted) {
            if (!out.isEmpty() && out.getLast().end() >= r.base()) {
                MemoryRange last = out.removeLast();
                out.add(new MemoryRange(last.base(), Math.max(last.end(), r.end()) - last.base()));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * A value of up to 128 bits as {low, high}: hex digits with '_' ignored, the last 16 the low word
     * (so {@code 0x<hi>_<lo>} with a 16-digit low half, or 32 digits in one run).
     */
    static long[] hex128(String option, String text) {
        if (text == null) return new long[]{0, 0};
        String t = text.trim().replace("_", "");
        if (t.startsWith("0x") || t.startsWith("0X")) t = t.substring(2);
        if (!t.matches("[0-9a-fA-F]+")) throw new UserException(option + " " + text + ": not a hex value");
        if (t.length() <= 16) return new long[]{hex(option, text), 0};
        if (t.length() > 32) throw new UserException(option + " " + text + ": more than 128 bits (32 hex digits)");
        return new long[]{hex(option, t.substring(t.length() - 16)), hex(option, t.substring(0, t.length() - 16))};
    }

    private static long hex(String option, String text) {
        return text == null ? 0 : CpuOptions.parseHex(option, text);
    }
}
