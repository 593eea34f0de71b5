package dev.granule.impact.trace;

/**
 * What reading a trace found.
 *
 * @param format             the format read (detected or given)
 * @param records            lines (text) or records (binary) read, the skipped ones included
 * @param accesses           accesses produced (a lackey M line is two, a long access several pieces)
 * @param malformed          lines or records that did not parse and were skipped
 * @param firstMalformed     the first one's line number (text) or record index (binary), 0 if none
 * @param firstMalformedWhy  why it did not parse, with its text; empty if none
 * @param inputBytes         bytes read from the file or stream as stored (compressed, if it was)
 */
public record TraceStats(TraceFormat format, long records, long accesses, long malformed, long firstMalformed,
                         String firstMalformedWhy, long inputBytes) {}
