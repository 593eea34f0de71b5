package dev.granule.cli;

import dev.granule.geometry.Geometry;
import dev.granule.table.KernelLayout;
import picocli.CommandLine.Option;

/** The machine a demo kernel address space is built for. */
final class KernelTablesOptions {

    enum Rodata { full, on, off }

    @Option(names = "--dram", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "DRAM size for the kernel tables, e.g. 4G (DRAM starts at 1 GiB as on QEMU virt).")
    Long dram;

    @Option(names = "--rodata", paramLabel = "MODE",
            description = "Linux rodata= mode: full (arm64 default: linear map in pages only), on, off. Default: full.")
    Rodata rodata = Rodata.full;

    boolean rodataFull() { return rodata == Rodata.full; }

    KernelLayout.Built build(Geometry g, long defaultDram) {
        long size = dram == null ? defaultDram : dram;
        try {
            return KernelLayout.virt(g, size).build(rodataFull());
        } catch (IllegalArgumentException e) {
            throw new UserException("cannot build kernel tables: " + e.getMessage(), e);
        }
    }
}
