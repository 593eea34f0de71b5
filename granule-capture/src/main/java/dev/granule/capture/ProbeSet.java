package dev.granule.capture;

import dev.granule.dump.VmcoreInfo;
import dev.granule.memory.MappedMemory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel virtual addresses a capture asks QEMU to translate, chosen from what the kernel
 * itself published, so that every region of its address space is exercised:
 * <ul>
 *   <li>{@code symbol:NAME}: every SYMBOL(...) in VMCOREINFO (kernel image, and linear-map
 *       allocations such as mem_section);
 *   <li>{@code kallsyms:NAME}: text symbols and module symbols the guest printed from /proc/kallsyms;
 *   <li>{@code text}: pages across [_stext, _etext);
 *   <li>{@code linear}: PAGE_OFFSET + (PA - PHYS_OFFSET) across dumped RAM (Linux's __phys_to_virt);
 *   <li>{@code vmemmap}: the struct page of RAM pages (vmemmap + PFN * SIZE(page));
 *   <li>{@code vmalloc}: every page and the guard page of the areas in /proc/vmallocinfo
 *       (vmap stacks, ioremap of devices, module memory);
 *   <li>{@code random}: addresses across the whole kernel half, mostly unmapped.
 * </ul>
 * Nothing here decides an answer; QEMU does.
 */
public final class ProbeSet {

    private static final Pattern KALLSYMS = Pattern.compile("^([0-9a-f]{16}) ([A-Za-z]) (\\S+)(?:\\s+\\[(\\S+)\\])?\\s*$");
    private static final Pattern VMALLOC = Pattern.compile("^0x([0-9a-f]+)-0x([0-9a-f]+)\\s+(\\d+)\\s+(.*)$");

    private ProbeSet() {}

    /** Category to VA, in a stable order (duplicates keep the first category). */
    public static Map<Long, String> choose(VmcoreInfo info, List<MappedMemory.Segment> ram, List<String> console, long seed) {
        Map<Long, String> out = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(seed);
        long pageSize = info.pageSize().orElse(4096);
        int vaBits = (int) (64 - info.tcrEl1T1sz().orElse(64 - info.vaBits().orElse(48)));
        info.symbols().forEach((name, va) -> out.putIfAbsent(va, "symbol:" + name));

        Map<String, Long> kallsyms = new LinkedHashMap<>();
        for (String line : section(console, "GRANULE-KALLSYMS")) {
            Matcher m = KALLSYMS.matcher(line);
            if (m.matches()) {
                long va = Long.parseUnsignedLong(m.group(1), 16);
                String name = m.group(3) + (m.group(4) != null ? "[" + m.group(4) + "]" : "");
                kallsyms.put(name, va);
                out.putIfAbsent(va, "kallsyms:" + name);
            }
        }
        Long stext = kallsyms.getOrDefault("_stext", info.symbol("_stext").isPresent() ? info.symbol("_stext").getAsLong() : null);
        Long etext = kallsyms.get("_etext");
        if (stext != null && etext != null && Long.compareUnsigned(etext, stext) > 0) {
            long step = Math.max(pageSize, ((etext - stext) / 24) & -pageSize);
            for (long va = stext; Long.compareUnsigned(va, etext) < 0; va += step) {
                out.putIfAbsent(va + (random.nextLong(pageSize) & -8), "text");
            }
        }

        long pageOffset = -(1L << vaBits);
        long physOffset = info.physOffset().orElse(ram.isEmpty() ? 0 : ram.getFirst().pa());
        long pageShift = Long.numberOfTrailingZeros(pageSize);
        long structPage = info.size("page").orElse(64);
        // Kernels before 6.x do not publish SYMBOL(vmemmap); arm64 defines it as
        // (struct page *)VMEMMAP_START - (memstart_addr >> PAGE_SHIFT), memstart_addr being PHYS_OFFSET.
        java.util.OptionalLong vmemmap = info.symbol("vmemmap");
        if (vmemmap.isEmpty() && info.number("VMEMMAP_START").isPresent()) {
            vmemmap = java.util.OptionalLong.of(info.number("VMEMMAP_START").getAsLong() - (physOffset >>> pageShift) * structPage);
        }
        for (MappedMemory.Segment s : ram) {
            long step = Math.max(pageSize, (s.memorySize() / 48) & -pageSize);
            for (long pa = s.pa(); pa < s.end(); pa += step) {
                long at = pa + (random.nextLong(Math.min(step, s.end() - pa)) & -8);
                out.putIfAbsent(pageOffset + (at - physOffset), "linear");
            }
            out.putIfAbsent(pageOffset + (s.end() - 8 - physOffset), "linear");
            if (vmemmap.isPresent()) {
                for (long pa = s.pa(); pa < s.end(); pa += Math.max(step, 16L << 20)) {
                    out.putIfAbsent(vmemmap.getAsLong() + (pa >>> pageShift) * structPage, "vmemmap");
                }
            }
        }

        int areas = 0;
        for (String line : section(console, "GRANULE-VMALLOC")) {
            Matcher m = VMALLOC.matcher(line);
            if (!m.matches() || areas >= 96) continue;
            long start = Long.parseUnsignedLong(m.group(1), 16);
            long end = Long.parseUnsignedLong(m.group(2), 16);
            if (start == 0 || Long.compareUnsigned(end, start) <= 0 || end - start > (64L << 20)) continue;
            areas++;
            // The size includes the guard page after the area (unless VM_NO_GUARD): probe it apart.
            out.putIfAbsent(end - pageSize, "vmalloc-guard");
            int pages = 0;
            for (long va = start; Long.compareUnsigned(va, end - pageSize) < 0 && pages < 8; va += pageSize, pages++) {
                out.putIfAbsent(va, "vmalloc");
            }
        }

        for (int i = 0; i < 96; i++) {
            long va = pageOffset + (random.nextLong(1L << vaBits) & -8);
            out.putIfAbsent(va, "random");
        }
        return out;
    }

    /** Console lines between {@code NAME-BEGIN} and {@code NAME-END}. */
    static List<String> section(List<String> console, String name) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String raw : console) {
            String line = raw.replace("\r", "");
            if (line.equals(name + "-BEGIN")) in = true;
            else if (line.equals(name + "-END")) in = false;
            else if (in) out.add(line);
        }
        return out;
    }
}
