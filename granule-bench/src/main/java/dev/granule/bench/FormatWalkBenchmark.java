package dev.granule.bench;

import org.openjdk.jmh.annotations.Param;

/**
 * The one walker over every descriptor format: the same dense page-granular tables (every walk
 * reaches the last level) in VMSAv8-64, VMSAv9-128, Armv7 LPAE and Armv7 short descriptors. Each
 * fork sees one format only, as a process that booted with it would.
 */
public class FormatWalkBenchmark extends ProbeWalkBenchmark {

    @Param({"granule.format=d64", "granule.format=d128", "granule.format=d128 arm64.pagesize=64k granule.va_bits=42",
            "granule.format=lpae", "granule.format=short"})
    public String boot;

    @Override
    String boot() { return boot; }
}
