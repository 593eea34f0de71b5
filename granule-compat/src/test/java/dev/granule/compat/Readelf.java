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
 * apart from LoadRules: ld.so takes a PT_LOAD at page size P when p_align is a multiple of P and
 * p_vaddr - p_offset a multiple of p_align (glibc elf/dl-load.c).
 */
final class Readelf {

    record Load(long offset, long vaddr, long align) {}

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
                if (l.align % page != 0) return false;
                if (l.align != 0 && Math.floorMod(l.vaddr - l.offset, l.align) != 0) return false;
                if (l.align == 0 && l.vaddr != l.offset) return false;
            }
            return true;
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

    private static final Pattern LOAD = Pattern.compile("^\\s*LOAD\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)\\s+0x[0-9a-f]+\\s+0x[0-9a-f]+\\s+0x[0-9a-f]+\\s+[RWE ]+?\\s+0x([0-9a-f]+)\\s*$");

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
                    Long.parseUnsignedLong(m.group(3), 16)));
        }
        if (machine.contains("X86-64")) machine = "x86-64";
        return new Header(machine, type, loads, interp);
    }
}
