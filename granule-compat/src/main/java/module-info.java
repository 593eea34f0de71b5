/**
 * Page-size compatibility of ELF files and the archives that carry them (`granule compat`): a lazy
 * ELF reader, the loaders' page-size rules, and a bounded scanner over directories, zips, Debian
 * packages and tar archives.
 */
module dev.granule.compat {
    requires org.apache.commons.compress;
    requires org.tukaani.xz;
    requires org.apache.commons.io; // commons-compress builders take its IOFunction
    // zstd-compressed tars (data.tar.zst); the jar names no module, so its name comes from the file.
    requires aircompressor;
    // An AAB's protobuf AndroidManifest.xml, read on the wire (CodedInputStream).
    requires com.google.protobuf;

    exports dev.granule.compat;
}
