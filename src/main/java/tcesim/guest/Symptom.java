package tcesim.guest;

/**
 * A guest-visible failure: what the real guest shows before (or instead of) crashing, such as a packet or a disk
 * block holding bytes that are not its own.
 *
 * @param what a short tag ({@code rx-data}, {@code disk-status}, ...)
 * @param pfn the guest page it was seen in, or -1 when it was seen outside the guest (on the wire, on the disk)
 * @param detail one line for the report
 */
public record Symptom(String what, long pfn, String detail) {}
