package tcesim.state;

/** Reads back, in order, the words a {@link StateWriter} took. */
public final class StateReader {
    private long[] words;
    private int pos;
    private int end;

    public StateReader() {}

    public StateReader(long[] words) {
        reset(words, 0, words.length);
    }

    /** Reads {@code n} words of {@code words} from {@code from} (the array is not copied). */
    public StateReader reset(long[] words, int from, int n) {
        this.words = words;
        this.pos = from;
        this.end = from + n;
        return this;
    }

    public long next() {
        if (pos >= end) throw new IllegalStateException("state record read past its end: a component restores more than it saved");
        return words[pos++];
    }

    public int nextInt() { return (int) next(); }

    public boolean nextBool() { return next() != 0; }

    public boolean atEnd() { return pos == end; }

    /** Where the next word is read from, in {@link #array()}. */
    int position() { return pos; }

    /** Where the words to read end, in {@link #array()}. */
    int limit() { return end; }

    /** The array read from (not a copy). */
    long[] array() { return words; }

    /** Passes over {@code n} words. */
    void skip(int n) {
        if (n < 0 || pos + n > end) throw new IllegalStateException("state record skipped past its end");
        pos += n;
    }
}
