package dev.granule.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.granule.dump.KernelTables;
import dev.granule.dump.VmcoreInfo;
import dev.granule.dump.VmcoreInfoException;
import dev.granule.dump.VmcoreInfoGeometry;
import dev.granule.geometry.Geometry;

/**
 * Any text as VMCOREINFO: parsing never fails (stray lines are warnings), every typed accessor
 * returns a value or throws a {@link VmcoreInfoException} naming the entry, and a geometry derived
 * from it is a valid arm64 geometry with an aligned root.
 */
class VmcoreInfoFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void anyTextParsesAndEveryEntryReadsOrFailsWithAMessage(byte[] data) {
        VmcoreInfo info;
        try {
            info = VmcoreInfo.parse(data);
        } catch (VmcoreInfoException e) {
            if (data.length <= VmcoreInfo.MAX_BYTES) throw new AssertionError("refused a text within the size limit", e);
            return;
        }
        Runnable[] reads = {
            info::pageSize, info::vaBits, info::tcrEl1T1sz, info::kimageVoffset, info::physOffset, info::kernelOffset,
            () -> info.symbol("swapper_pg_dir"), () -> info.number("MAX_PHYSMEM_BITS"), () -> info.size("page"),
            () -> info.offset("page.flags"), () -> info.length("mem_section"), info::symbols, info::osRelease
        };
        for (Runnable r : reads) {
            try {
                r.run();
            } catch (VmcoreInfoException e) {
                if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
            }
        }
        try {
            KernelTables t = VmcoreInfoGeometry.detect(info);
            Geometry g = t.geometry();
            if (g.pageSize() != info.pageSize().getAsLong()) throw new AssertionError("page size changed: " + g);
            if ((t.rootPa() & 7) != 0 || t.rootPa() < 0) throw new AssertionError("bad root " + t);
            if (g.vaBits() < 25 || g.vaBits() > 52) throw new AssertionError("bad VA size " + g);
        } catch (VmcoreInfoException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("no message", e);
        }
    }
}
