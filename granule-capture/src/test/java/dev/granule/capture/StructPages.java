package dev.granule.capture;

import dev.granule.dump.KernelDump;
import dev.granule.dump.VmcoreInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;

/**
 * What the crashed kernel's own {@code struct page} array says about a physical page, read from the
 * ELF of the crash with the offsets VMCOREINFO publishes: the test's independent reason for a page
 * that {@code makedumpfile -d 31} left out. Dump level 31 is 1 (pages of zeros) + 2 and 4 (page
 * cache, with or without private data) + 8 (user: anonymous pages, {@code mapping & 1}) + 16
 * (free: inside a buddy block, whose head page has the buddy page type and its order in
 * {@code private}); makedumpfile also always leaves out offline and hardware-poisoned pages.
 */
final class StructPages {

    private final KernelDump elf;
    private final long vmemmap;
    private final long pageSize;
    private final long structSize;
    private final long offFlags;
    private final long offMapping;
    private final long offMapcount;
    private final long offPrivate;
    private final OptionalLong offCompoundHead;
    private final long pgLru;
    private final int buddy;
    private final OptionalLong offline;

    StructPages(KernelDump elf, VmcoreInfo info) {
        this.elf = elf;
        this.pageSize = info.pageSize().orElseThrow();
        this.structSize = info.size("page").orElseThrow();
        long pageShift = Long.numberOfTrailingZeros(pageSize);
        // arm64: vmemmap = (struct page *)VMEMMAP_START - (memstart_addr >> PAGE_SHIFT); newer kernels publish SYMBOL(vmemmap).
        this.vmemmap = info.symbol("vmemmap").isPresent() ? info.symbol("vmemmap").getAsLong()
                : info.number("VMEMMAP_START").orElseThrow() - (info.physOffset().orElseThrow() >>> pageShift) * structSize;
        this.offFlags = info.offset("page.flags").orElseThrow();
        this.offMapping = info.offset("page.mapping").orElseThrow();
        this.offMapcount = info.offset("page._mapcount").orElseThrow();
        this.offPrivate = info.offset("page.private").orElseThrow();
        this.offCompoundHead = info.offset("page.compound_head");
        this.pgLru = info.number("PG_lru").orElseThrow();
        this.buddy = (int) info.number("PAGE_BUDDY_MAPCOUNT_VALUE").orElseThrow();
        this.offline = info.number("PAGE_OFFLINE_MAPCOUNT_VALUE");
    }

    private ByteBuffer page(long pfn) {
        byte[] b = new byte[(int) structSize];
        elf.readVirtual(vmemmap + pfn * structSize, b, 0, b.length);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Linux 6.1 keeps the page type in _mapcount as the whole value; 6.12 in its top byte (PGTY_*). */
    private static boolean hasType(int field, int published) {
        return field == published || ((published & 0xffffff) == 0 && (field >>> 24) == (published >>> 24));
    }

    /** The class of dump level 31 the page belongs to, or null if it belongs to none. */
    String whyLeftOut(long pa) {
        long base = pa & -pageSize;
        byte[] content = new byte[(int) pageSize];
        elf.memory().read(base, content, 0, content.length);
        boolean zero = true;
        for (byte x : content) zero &= x == 0;
        if (zero) return "zero";
        long pfn = base / pageSize;
        ByteBuffer p = page(pfn);
        ByteBuffer head = p;
        if (offCompoundHead.isPresent() && (p.getLong((int) offCompoundHead.getAsLong()) & 1) != 0) {
            long headVa = p.getLong((int) offCompoundHead.getAsLong()) - 1;
            head = page((headVa - vmemmap) / structSize);
        }
        long mapping = head.getLong((int) offMapping);
        if ((mapping & 1) != 0) return "user";
        if (mapping != 0 && (head.getLong((int) offFlags) >>> pgLru & 1) != 0) return "cache";
        if (offline.isPresent() && hasType(p.getInt((int) offMapcount), (int) offline.getAsLong())) return "offline";
        for (int order = 0; order <= 13; order++) {
            long h = pfn & -(1L << order);
            ByteBuffer hp = page(h);
            if (hasType(hp.getInt((int) offMapcount), buddy) && hp.getLong((int) offPrivate) == order) return "free";
        }
        return null;
    }

    String describe(long pa) {
        try {
            ByteBuffer p = page((pa & -pageSize) / pageSize);
            return String.format("flags %#x mapping %#x _mapcount %#x private %#x", p.getLong((int) offFlags),
                    p.getLong((int) offMapping), p.getInt((int) offMapcount), p.getLong((int) offPrivate));
        } catch (RuntimeException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }
}
