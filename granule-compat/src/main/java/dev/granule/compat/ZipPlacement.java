package dev.granule.compat;

/**
 * Where an APK keeps a native library: a STORED (uncompressed) library whose data starts at
 * {@code dataOffset} in the APK is mapped straight from the APK when {@code mappedInPlace} (the manifest's
 * android:extractNativeLibs="false"), so the loader needs dataOffset to be a multiple of the page size as
 * well (Android 15's 16 KiB requirement, `zipalign -c -P 16`). Extracted at install, it does not matter.
 */
public record ZipPlacement(long dataOffset, boolean stored, boolean mappedInPlace, String manifestSays) {

    PageVerdict apply(PageVerdict v) {
        if (!stored || Long.remainderUnsigned(dataOffset, v.pageSize()) == 0) return v;
        String where = "stored uncompressed at APK offset 0x" + Long.toHexString(dataOffset) + ", not a multiple of " + PageSizes.name(v.pageSize());
        var problems = new java.util.ArrayList<>(v.problems());
        var warnings = new java.util.ArrayList<>(v.warnings());
        if (mappedInPlace) problems.add(where + ", and mapped in place (" + manifestSays + ")");
        else warnings.add(where + "; extracted at install (" + manifestSays + "), so only the ELF's own alignment counts");
        return new PageVerdict(v.pageSize(), problems, warnings);
    }
}
