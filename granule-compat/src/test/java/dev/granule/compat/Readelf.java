package dev.granule.compat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The oracle: binutils' {@code readelf -hlW}, and the loaders' rule applied to what it prints, written here
 * apart from LoadRules: glibc 2.36's ld.so (the one LoaderOracleTest runs) takes a shared object at page size
 * P when every PT_LOAD has p_vaddr - p_offset a multiple of P (elf/dl-load.c) and, if the page-rounded
 * segments leave a hole, the last one does not start below the page-rounded end of the first
 * (elf/dl-map-segments.h).
 */
final class Readelf {

    record Load(long offset, long vaddr, long filesz, long align) {}

    record Header(String machine, String type, List<Load> loads, boolean interp) {
        /** Page sizes of the machine, by the name readelf prints for it. */
        List<Long> pageSizes() {
            return switch (machine) {
                case "AArch64", "LoongArch" -> List.of(4096L, 16384L, 65536L);
                case "PowerPC64", "PowerPC" -> List.of(4096L, 65536L);
                default -> List.of(4096L);
            };
        }

        boolean ldSoLoads(long page) {
            for (Load l : loads) {
                if (Math.floorMod(l.vaddr - l.offset, page) != 0) return false;
            }
            boolean hole = false;
            for (int i = 1; i < loads.size(); i++) {
                long endBefore = Math.ceilDiv(loads.get(i - 1).vaddr + loads.get(i - 1).filesz, page) * page;
                if (endBefore != Math.floorDiv(loads.get(i).vaddr, page) * page) hole = true;
            }
            if (!hole || loads.size() < 2) return true;
            long firstEnd = Math.ceilDiv(loads.getFirst().vaddr + loads.getFirst().filesz, page) * page;
            return Math.floorDiv(loads.getLast().vaddr, page) * page >= firstEnd;
        }
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder("readelf", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static final Pattern LOAD = Pattern.compile("^\\s*LOAD\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)\\s+0x[0-9a-f]+\\s+0x([0-9a-f]+)\\s+0x[0-9a-f]+\\s+[RWE ]+?\\s+0x([0-9a-f]+)\\s*$");

    static Header read(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("readelf", "-hlW", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) throw new IOException("readelf hung on " + file);
        String machine = "?";
        String type = "?";
        boolean interp = false;
        List<Load> loads = new ArrayList<>();
        for (String line : out.split("\n")) {
            String t = line.strip();
            if (t.startsWith("Machine:")) machine = t.substring(8).strip();
            if (t.startsWith("Type:")) type = t.substring(5).strip().split(" ")[0];
            if (t.startsWith("INTERP")) interp = true;
            Matcher m = LOAD.matcher(line);
            if (m.matches()) loads.add(new Load(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                    Long.parseUnsignedLong(m.group(3), 16), Long.parseUnsignedLong(m.group(4), 16)));
        }
        if (machine.contains("X86-64")) machine = "x86-64";
        return new Header(machine, type, loads, interp);
    }
}
