/**
 * Capture of real kernels for granule's tests and `granule dump capture`: Debian's arm64 kernels
 * fetched with apt, booted under QEMU, dumped over QMP. The only granule module that starts
 * processes; the core library stays free of them.
 */
module dev.granule.capture {
    requires transitive dev.granule.core;

    exports dev.granule.capture;
}
