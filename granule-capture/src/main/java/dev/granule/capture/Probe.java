package dev.granule.capture;

/**
 * One virtual address asked of QEMU's {@code gva2gpa}, and its answer.
 *
 * @param category where the address came from (symbol, linear, vmemmap, vmalloc, text, random)
 * @param pa       the physical address QEMU translated it to, or -1 for "Unmapped"
 */
public record Probe(String category, long va, long pa) {

    public boolean mapped() { return pa != -1; }

    /** One line of the oracle file: {@code category<TAB>0xVA<TAB>0xPA|unmapped}. */
    public String toLine() {
        return category + "\t" + String.format("0x%016x", va) + "\t" + (pa == -1 ? "unmapped" : String.format("0x%x", pa));
    }

    public static Probe parse(String line) {
        String[] f = line.split("\t");
        if (f.length != 3) throw new IllegalArgumentException("oracle line is not category<TAB>va<TAB>pa: " + line);
        long va = Long.parseUnsignedLong(f[1].substring(2), 16);
        long pa = f[2].equals("unmapped") ? -1 : Long.parseUnsignedLong(f[2].substring(2), 16);
        return new Probe(f[0], va, pa);
    }
}
