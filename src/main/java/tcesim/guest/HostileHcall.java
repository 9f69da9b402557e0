package tcesim.guest;

import static tcesim.papr.Hcall.H_PUT_TCE;
import static tcesim.papr.Hcall.H_PUT_TCE_INDIRECT;
import static tcesim.papr.Hcall.H_STUFF_TCE;

import tcesim.papr.Tce;

/**
 * The small adversarial set of TCE hypercalls a hostile guest may make once, at any point between its driver's
 * activities, on its default window: the arguments at and just past the window's edges, the npages values around
 * the 512-entry list limit, and the TCE and list addresses that are not guest RAM. Small on purpose, so that the
 * small configuration stays exhaustive; the fuzz tests drive the same handlers with the whole argument space.
 */
public enum HostileHcall {
    /** H_STUFF_TCE(0) of two entries from the window's last: the second lies past the end. */
    STUFF_PAST_THE_END("H_STUFF_TCE of 2 entries from the window's last"),
    /** H_STUFF_TCE(0) of no entry, one past the window's end. */
    STUFF_NOTHING_AT_THE_END("H_STUFF_TCE of 0 entries one past the window's end"),
    /** H_PUT_TCE_INDIRECT of two TCEs from the window's last entry (a guest RAM page, read-write). */
    INDIRECT_PAST_THE_END("H_PUT_TCE_INDIRECT of 2 TCEs from the window's last entry"),
    /** H_PUT_TCE_INDIRECT of 513 TCEs, one more than a list page holds. */
    INDIRECT_513("H_PUT_TCE_INDIRECT of 513 TCEs from the window's first entry"),
    /** H_PUT_TCE_INDIRECT whose list page is not guest RAM. */
    INDIRECT_LIST_OUTSIDE_RAM("H_PUT_TCE_INDIRECT of 1 TCE with its list outside guest RAM"),
    /** H_PUT_TCE of a read-write TCE pointing past guest RAM, at the window's last entry. */
    PUT_OUTSIDE_RAM("H_PUT_TCE at the window's last entry of a TCE outside guest RAM"),
    /** H_PUT_TCE on a LIOBN no window has. */
    PUT_UNKNOWN_LIOBN("H_PUT_TCE on an unknown LIOBN");

    private final String description;

    HostileHcall(String description) { this.description = description; }

    public String description() { return description; }

    /** A LIOBN no PHB of the machine has (the default window is 0x80000000). */
    static final long UNKNOWN_LIOBN = 0x80000005L;

    /**
     * The call on window {@code liobn} (TCE page shift {@code shift}, entries {@code [first, first + entries)}), in a
     * guest of {@code ramBytes} whose page {@code ramPage} the TCEs point to: opcode, liobn, ioba, r6 (the TCE, the
     * value or the list address), npages, and the value written in each list entry (INDIRECT).
     */
    long[] registers(long liobn, int shift, long first, long entries, long ramBytes, long ramPage) {
        long last = (first + entries - 1) << shift, end = (first + entries) << shift;
        long rw = ramPage | Tce.READ | Tce.WRITE;
        return switch (this) {
            case STUFF_PAST_THE_END -> new long[] {H_STUFF_TCE, liobn, last, 0, 2, 0};
            case STUFF_NOTHING_AT_THE_END -> new long[] {H_STUFF_TCE, liobn, end, 0, 0, 0};
            case INDIRECT_PAST_THE_END -> new long[] {H_PUT_TCE_INDIRECT, liobn, last, -1, 2, rw};
            case INDIRECT_513 -> new long[] {H_PUT_TCE_INDIRECT, liobn, first << shift, -1, 513, rw};
            case INDIRECT_LIST_OUTSIDE_RAM -> new long[] {H_PUT_TCE_INDIRECT, liobn, first << shift, ramBytes, 1, rw};
            case PUT_OUTSIDE_RAM -> new long[] {H_PUT_TCE, liobn, last, ramBytes | Tce.READ | Tce.WRITE, 0, 0};
            case PUT_UNKNOWN_LIOBN -> new long[] {H_PUT_TCE, UNKNOWN_LIOBN, first << shift, rw, 0, 0};
        };
    }
}
