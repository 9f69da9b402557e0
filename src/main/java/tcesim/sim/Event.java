package tcesim.sim;

/**
 * One thing that happened in a run: who did what, to which bus address (IOVA) and guest physical page.
 * {@code iova} and {@code gpa} are -1 where they do not apply.
 */
public record Event(long seq, long step, String actor, String action, String detail, long iova, long gpa) {
    public static final long NONE = -1;

    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("#%-6d %-10s %-16s %s", step, actor, action, detail));
        return sb.toString();
    }
}
