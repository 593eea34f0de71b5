package dev.granule.impact.trace;

/**
 * The trace formats read directly.
 *
 * <ul>
 *   <li>{@link #LACKEY}: {@code valgrind --tool=lackey --trace-mem=yes} output: {@code I  ADDR,SIZE}
 *       (an instruction fetch), {@code  L ADDR,SIZE} (load), {@code  S ADDR,SIZE} (store),
 *       {@code  M ADDR,SIZE} (modify: a load and then a store of the same bytes); addresses in hex
 *       without 0x; Valgrind's own {@code ==PID==} lines are skipped.
 *   <li>{@link #PERF}: {@code perf script -F event,addr} after {@code perf mem record} (fields
 *       before the event, e.g. comm, tid, time, may be kept): the event is the last field ending in
 *       ':', the data address is the hex field after it; the kind is the data source's operation
 *       ("|OP STORE", "LOAD", "EXEC") where data_src is printed, else an event whose name contains
 *       "store" is a write, any other a read; size 1. perf's default fields without addr (the IP
 *       and "SYMBOL+0xOFF (DSO)" after the event) are malformed lines, not addresses.
 *   <li>{@link #PLAIN}: {@code [r|w|x] ADDRESS}, hex with or without 0x, read by default; size 1.
 *   <li>{@link #BINARY}: {@link BinaryTrace#MAGIC} then one little-endian packed {@link Access} per
 *       8 bytes, as {@code granule trace convert} writes it.
 * </ul>
 * Text formats skip blank lines and lines starting with {@code #}.
 */
public enum TraceFormat {
    LACKEY, PERF, PLAIN, BINARY
}
