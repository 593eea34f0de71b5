package dev.granule.table;

import dev.granule.format.Attributes;
import dev.granule.geometry.Geometry;
import dev.granule.memory.MemoryRange;
import dev.granule.memory.SparseMemory;

import java.util.EnumSet;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The early kernel page tables Linux/arm64 builds in {@code swapper_pg_dir} (TTBR1), built with
 * the engine: the linear map of all DRAM with the largest blocks the geometry allows, and the
 * kernel image mapped with text read-only executable, rodata read-only and data read/write
 * never-executable.
 *
 * <p>Addresses follow the kernel's layout since Linux 5.11 (asm/memory.h): the linear map starts
 * at {@code PAGE_OFFSET = -(1 << VA_BITS)} and fills the lower half of the kernel range up to
 * {@code PAGE_END}; modules take {@code MODULES_VSIZE} (2 GiB since 6.3) from
 * {@code _PAGE_END(VA_BITS_MIN)}, and the kernel image ({@code KIMAGE_VADDR}) follows them.
 *
 * @param geometry     the geometry the kernel booted with
 * @param dram         physical RAM (the linear map covers all of it)
 * @param imagePa      where the kernel image was loaded (inside DRAM, aligned to 2 MiB as the boot protocol asks)
 * @param textSize     bytes of .text
 * @param rodataSize   bytes of .rodata
 * @param dataSize     bytes of .data and .bss
 */
public record KernelLayout(Geometry geometry, MemoryRange dram, long imagePa, long textSize, long rodataSize,
                           long dataSize) {

    /** Modules area size since Linux 6.3 (MODULES_VSIZE = SZ_2G). */
    public static final long MODULES_VSIZE = 2L << 30;

    public KernelLayout {
        if (geometry.format().isAArch32()) {
            throw new IllegalArgumentException("the kernel layout models arm64 Linux; " + geometry.format().archName()
                    + " kernels (arch/arm) lay out memory differently");
        }
        long page = geometry.pageSize();
        for (long v : new long[]{dram.base(), dram.size(), textSize, rodataSize, dataSize}) {
            if ((v & (page - 1)) != 0) {
                throw new IllegalArgumentException("DRAM and kernel section sizes must be multiples of the "
                        + geometry.granule().label() + " page size, got 0x" + Long.toHexString(v));
            }
        }
        if ((imagePa & ((2L << 20) - 1)) != 0) {
            throw new IllegalArgumentException("the kernel image must be loaded 2 MiB aligned, was 0x"
                    + Long.toHexString(imagePa));
        }
        if (!dram.contains(imagePa, imageSize(textSize, rodataSize, dataSize))) {
            throw new IllegalArgumentException("the kernel image does not fit in DRAM " + dram);
        }
        if (Long.compareUnsigned(dram.size(), linearMapSize(geometry)) > 0) {
            throw new IllegalArgumentException("DRAM of " + dram.size() + " bytes exceeds the linear map of a "
                    + geometry.vaBits() + "-bit kernel (" + linearMapSize(geometry) + " bytes)");
        }
    }

    /** A QEMU-virt-like machine: DRAM at 1 GiB, a 2 MiB-aligned kernel of typical section sizes. */
    public static KernelLayout virt(Geometry geometry, long dramSize) {
        long page = geometry.pageSize();
        return new KernelLayout(geometry, new MemoryRange(0x4000_0000L, dramSize), 0x4020_0000L,
                roundUp(18L << 20, page), roundUp(8L << 20, page), roundUp(6L << 20, page));
    }

    private static long imageSize(long text, long rodata, long data) { return text + rodata + data; }

    private static long roundUp(long v, long page) { return (v + page - 1) & -page; }

    private static long linearMapSize(Geometry g) { return 1L << (g.vaBits() - 1); }

    public long pageOffset() { return -(1L << geometry.vaBits()); }

    public long pageEnd() { return -(1L << (geometry.vaBits() - 1)); }

    public long modulesVaddr() { return -(1L << (Math.min(geometry.vaBits(), 48) - 1)); }

    public long kimageVaddr() { return modulesVaddr() + MODULES_VSIZE; }

    /** Linear-map address of a physical address in DRAM: Linux's __phys_to_virt. */
    public long linearVa(long pa) { return pageOffset() + (pa - dram.base()); }

    /**
     * The VMCOREINFO text arm64 Linux writes into a crash dump (crash_save_vmcoreinfo and
     * arch_crash_save_vmcoreinfo), in its formats, for this layout with swapper_pg_dir at physical
     * address {@code root}: what a dump written from {@link #build} needs to be read back.
     */
    public String vmcoreInfo(long root) {
        long voffset = kimageVaddr() - imagePa;
        return "OSRELEASE=6.99.0-synthetic\n"
                + "PAGESIZE=" + geometry.pageSize() + "\n"
                + "SYMBOL(swapper_pg_dir)=" + Long.toHexString(root + voffset) + "\n"
                + "SYMBOL(_stext)=" + Long.toHexString(kimageVaddr()) + "\n"
                + "NUMBER(MAX_PHYSMEM_BITS)=" + geometry.paBits() + "\n"
                + "NUMBER(VA_BITS)=" + geometry.vaBits() + "\n"
                + "NUMBER(kimage_voffset)=0x" + Long.toHexString(voffset) + "\n"
                + "NUMBER(PHYS_OFFSET)=0x" + Long.toHexString(dram.base()) + "\n"
                + "NUMBER(TCR_EL1_T1SZ)=0x" + Integer.toHexString(64 - geometry.vaBits()) + "\n"
                + "KERNELOFFSET=0\n";
    }

    /** The built tables and what they cost. */
    public record Built(AddressSpace space, SparseMemory memory, NavigableMap<Long, String> markers) {
        public FrameAllocator.FrameStats frames() { return space.frames().stats(); }
    }

    /**
     * Builds the tables into a fresh memory model: DRAM as RAM, tables allocated from a pool at
     * the top of DRAM.
     *
     * @param rodataFull as Linux with {@code rodata=full} (the arm64 default,
     *                   CONFIG_RODATA_FULL_DEFAULT_ENABLED), debug_pagealloc or KFENCE: the linear
     *                   map uses pages only, with no blocks and no contiguous runs, so that single
     *                   pages can later change permissions. That costs table memory.
     */
    public Built build(boolean rodataFull) {
        SparseMemory memory = SparseMemory.of(dram);
        // A page-granular linear map needs about dram / PTRS_PER_PTE of PTE tables; leave room.
        long tablePool = Math.min(dram.size() / 2, Math.max(dram.size() / 64, 16L << 20)) & -geometry.pageSize();
        FrameAllocator frames = FrameAllocator.over(memory, geometry.pageSize(),
                new MemoryRange(dram.end() - tablePool, tablePool));
        AddressSpace space = AddressSpace.create(geometry, memory, frames, VaRange.UPPER);
        space.map(pageOffset(), dram.base(), dram.size(), Attributes.kernelData(), rodataFull
                ? EnumSet.of(MapFlag.NO_BLOCK_MAPPINGS, MapFlag.NO_CONT_MAPPINGS) : EnumSet.noneOf(MapFlag.class));
        long va = kimageVaddr();
        long pa = imagePa;
        space.map(va, pa, textSize, Attributes.kernelText());
        space.map(va + textSize, pa + textSize, rodataSize, Attributes.kernelReadOnly());
        space.map(va + textSize + rodataSize, pa + textSize + rodataSize, dataSize, Attributes.kernelData());
        NavigableMap<Long, String> markers = new TreeMap<>(Long::compareUnsigned);
        markers.put(pageOffset(), "Linear Mapping start");
        markers.put(pageOffset() + dram.size(), "Linear Mapping end");
        markers.put(modulesVaddr(), "Modules start");
        markers.put(kimageVaddr(), "Kernel Mapping start (text)");
        markers.put(va + textSize, "Kernel rodata");
        markers.put(va + textSize + rodataSize, "Kernel data");
        markers.put(va + imageSize(textSize, rodataSize, dataSize), "Kernel Mapping end");
        return new Built(space, memory, markers);
    }
}
