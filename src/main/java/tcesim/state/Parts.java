package tcesim.state;

import java.util.Arrays;

/**
 * A state made of parts saved one after the other, which can be restored part by part.
 *
 * <p>{@link #save} and {@link #restore} write and read every part, in order, and remember the words they
 * wrote or read. {@link #restoreChanged} restores another state by reading only the parts whose words
 * differ from the remembered ones and skipping the others, which already hold what the words say. That is
 * what the checker does between the successors of one state: each differs from its parent in the few parts
 * its steps touched, so putting the parent back costs those parts alone.
 *
 * <p>Skipping is exact because a part's words delimit themselves: its restore reads exactly the words its
 * save wrote, deciding from the words alone where to stop. So when the words of a state at a part's
 * position begin with the part's remembered words, those are the part's words in that state, and the part
 * is in it already. A part's restore may read other parts (restores run in order, so the parts before it
 * are in the new state), but must not depend on having been called: anything it alone resets must either
 * be in its words or be reset by {@link #restore}'s caller for every restore.
 */
public final class Parts implements Snapshot {
    private final Snapshot[] parts;
    /** The words last saved or restored, and where each part's words end in them. */
    private long[] last = new long[64];
    private final int[] end;
    private boolean remembered;
    private long partsRead;
    private long partsSkipped;

    /** @param parts the parts in order; a {@link Composite} counts as its smaller snapshots, each a part */
    public Parts(Snapshot... parts) {
        java.util.List<Snapshot> flat = new java.util.ArrayList<>();
        for (Snapshot p : parts) flatten(p, flat);
        this.parts = flat.toArray(new Snapshot[0]);
        this.end = new int[this.parts.length];
    }

    private static void flatten(Snapshot p, java.util.List<Snapshot> into) {
        if (p instanceof Composite c) for (Snapshot q : c.parts()) flatten(q, into);
        else into.add(p);
    }

    @Override
    public void save(StateWriter out) {
        int base = out.size();
        for (int i = 0; i < parts.length; i++) {
            parts[i].save(out);
            end[i] = out.size() - base;
        }
        remember(out.words(), base, out.size() - base);
    }

    @Override
    public void restore(StateReader in) {
        int base = in.position();
        for (int i = 0; i < parts.length; i++) {
            parts[i].restore(in);
            end[i] = in.position() - base;
        }
        partsRead += parts.length;
        remember(in.array(), base, in.position() - base);
    }

    /**
     * Restores the state {@code in} holds, as {@link #restore} does, reading only the parts whose words differ
     * from those last saved or restored. Only valid when the parts have not changed since that save or restore;
     * the first call (nothing remembered yet) restores every part.
     */
    public void restoreChanged(StateReader in) {
        if (!remembered) {
            restore(in);
            return;
        }
        long[] w = in.array();
        int limit = in.limit();
        int base = in.position();
        int lastLen = end[parts.length - 1];
        int from = 0; // where the part's remembered words start
        int firstRead = -1; // where the first part read starts in the state's words (before it, they are the remembered ones)
        int i = 0;
        while (i < parts.length) {
            // The words from here on that are the remembered ones from this part on: every part within them is skipped.
            int p = in.position();
            int m = Arrays.mismatch(w, p, limit, last, from, lastLen);
            int equal = m < 0 ? limit - p : m;
            int runStart = from;
            while (i < parts.length && end[i] - runStart <= equal) {
                int to = end[i];
                in.skip(to - from);
                partsSkipped++;
                end[i] = in.position() - base;
                from = to;
                i++;
            }
            if (i == parts.length) break;
            if (firstRead < 0) firstRead = in.position() - base;
            int to = end[i];
            parts[i].restore(in);
            partsRead++;
            end[i] = in.position() - base;
            from = to;
            i++;
        }
        // Skipped parts kept their words where they were, so only the words from the first part read on are new.
        if (firstRead >= 0) remember(w, base, firstRead, in.position() - base);
    }

    /** Parts restored by reading their words, and parts skipped because they held the state already (what skipping saves). */
    public long partsRead() { return partsRead; }

    public long partsSkipped() { return partsSkipped; }

    private void remember(long[] words, int from, int n) {
        if (last.length < n) last = new long[Math.max(n, 2 * last.length)];
        System.arraycopy(words, from, last, 0, n);
        remembered = true;
    }

    /** Remembers the {@code n} words at {@code from}, of which the first {@code same} are those remembered already. */
    private void remember(long[] words, int from, int same, int n) {
        if (last.length < n) last = Arrays.copyOf(last, Math.max(n, 2 * last.length));
        System.arraycopy(words, from + same, last, same, n - same);
    }

    @Override
    public String toString() { return "Parts" + Arrays.toString(end); }
}
