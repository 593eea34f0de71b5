/**
 * The {@code granule} command-line tool. Nothing is exported: it is an application. picocli fills the
 * commands' fields by reflection and Jackson writes the reports' records, so the package is open to both.
 */
module dev.granule.cli {
    requires dev.granule.core;
    requires dev.granule.compat;
    requires dev.granule.capture;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires me.tongfei.progressbar;
    requires org.knowm.xchart;
    requires java.desktop;

    opens dev.granule.cli to info.picocli, com.fasterxml.jackson.databind;
}
