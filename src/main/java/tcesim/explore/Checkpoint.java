package tcesim.explore;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * A breadth-first search between two levels, or a depth-first one between two states of the level it goes on from, as
 * a file: what {@code check --checkpoint} writes and {@code --resume}
 * reads, for the local {@link Checker} and for a search cut into shards ({@link PartitionedSearch}) alike, so that
 * either goes on from what the other wrote.
 *
 * <p>The file, in {@link DataOutputStream}'s big-endian encoding: a magic number, the configuration's signature, the
 * states generated, the end states, the depth (levels done), the node count and each node's parent and choice (node
 * 0 is the root, of parent -1; every other node's parent is an earlier node, so each node stands for the path of
 * choices from the root to it), the frontier's states (each its node, its word count and its saved words), every
 * fingerprint seen (those of the frontier included), and a CRC32 of all that comes before it.
 *
 * <p>A search that went {@linkplain DepthFirst depth-first} writes the same, under a magic number of its own
 * ({@link #MAGIC_DEPTH_FIRST}), between two states of the level it goes on from: the frontier is what is left of
 * that level (every state seen is then either expanded or on it), and the longest path followed so far comes after
 * the fingerprints. Resumed, the search goes on depth-first from the first state left. A search cut into shards
 * refuses it: it would go on breadth-first, and find another counterexample.
 *
 * <p>The frontier is in the order the local checker takes it: its states' paths in lexicographic order, each of
 * {@code depth} choices. The local checker's nodes are those it made (every state's); a partitioned search has
 * only its frontier's paths, and its nodes are their trie ({@link #ofPaths}): the frontier and its ancestors.
 */
public final class Checkpoint {
    /** The first word of a checkpoint (of this format: the body is followed by its CRC32). */
    static final int MAGIC = 0x7ce5c4b9;
    /** The first word of a depth-first search's checkpoint. */
    static final int MAGIC_DEPTH_FIRST = 0x7ce5c4da;
    /** The header: magic, signature, generated, terminals, depth, node count. */
    static final int HEADER = 4 + 8 + 8 + 8 + 4 + 4;

    private final long generated;
    private final long terminals;
    private final int depth;
    private final int nodes;
    private final int[] parent;
    private final int[] choice;
    private final int states;
    private final int[] node;
    private final int[] off;
    private final long[] words;
    /** The frontier's order in the file: its k-th state is state {@code order[k]} of node/off/words; null: as they are. */
    private final int[] order;
    private final long[] seen;
    private final int seenCount;
    /** The seen set itself, written as it is (the local checker's, not copied), or null: {@link #seen}. */
    private final FingerprintSet seenSet;
    /** Whether the search went depth-first, and the longest path it followed (0 when it did not). */
    private final boolean depthFirst;
    private final int deepest;

    /**
     * A search's state; the arrays are used as they are (not copied), each possibly longer than its count.
     *
     * @param parent each node's parent (node 0, the root: -1)
     * @param node the node of each frontier state
     * @param off where each frontier state's words start in {@code words} (and state {@code states - 1}'s end)
     * @param order the frontier's order in the file (indexes into node and off), or null: as they are
     * @param seen every fingerprint seen, the first {@code seenCount}
     */
    Checkpoint(long generated, long terminals, int depth, int nodes, int[] parent, int[] choice, int states, int[] node, int[] off, long[] words,
               int[] order, long[] seen, int seenCount) {
        this(generated, terminals, depth, nodes, parent, choice, states, node, off, words, order, seen, seenCount, null, false, 0, null, 0);
    }

    /**
     * The local checker's state: its level's states from {@code from} on as the frontier (a breadth-first search: the
     * whole level; a {@code depthFirst} one: the states of the level it goes on from that are left), every fingerprint
     * {@code seen}, and for a depth-first search the longest path it followed. The level's states and the fingerprints
     * are written as they are read from the level and the set, without a copy of them.
     */
    static Checkpoint ofLevel(long generated, long terminals, int depth, int nodes, int[] parent, int[] choice, Checker.Level level, int from,
                              FingerprintSet seen, boolean depthFirst, int deepest) {
        return new Checkpoint(generated, terminals, depth, nodes, parent, choice, level.count - from, null, null, null, null, null, seen.size(), seen,
                depthFirst, deepest, level, from);
    }

    /** The local checker's level, whose states from {@link #levelFrom} on are the frontier, written as they are read; or null. */
    private final Checker.Level level;
    private final int levelFrom;

    private Checkpoint(long generated, long terminals, int depth, int nodes, int[] parent, int[] choice, int states, int[] node, int[] off, long[] words,
                       int[] order, long[] seen, int seenCount, FingerprintSet seenSet, boolean depthFirst, int deepest, Checker.Level level, int levelFrom) {
        this.level = level;
        this.levelFrom = levelFrom;
        this.seenSet = seenSet;
        this.depthFirst = depthFirst;
        this.deepest = deepest;
        this.generated = generated;
        this.terminals = terminals;
        this.depth = depth;
        this.nodes = nodes;
        this.parent = parent;
        this.choice = choice;
        this.states = states;
        this.node = node;
        this.off = off;
        this.words = words;
        this.order = order;
        this.seen = seen;
        this.seenCount = seenCount;
    }

    /**
     * The checkpoint of a frontier known by its states' paths: state {@code i}'s path is {@code paths[i * depth, (i + 1)
     * * depth)} and its words {@code words[off[i], off[i + 1])}. The frontier goes into the file in path order, its
     * nodes the trie of the paths (a node per distinct prefix, parents before children).
     */
    static Checkpoint ofPaths(long generated, long terminals, int depth, int states, int[] paths, int[] off, long[] words, long[] seen, int seenCount) {
        int[] order = com.carrotsearch.hppc.sorting.IndirectSort.mergesort(0, states,
                (a, b) -> PartitionedSearch.compare(paths, a * depth, paths, b * depth, depth));
        int[] parent = new int[Math.max(16, states + 1)];
        int[] choice = new int[parent.length];
        parent[0] = -1;
        choice[0] = -1;
        int nodes = 1;
        int[] node = new int[states];
        // The nodes of the previous path's prefixes: a path in order shares its first `common` choices' nodes with it.
        int[] chain = new int[depth + 1];
        int prev = -1;
        for (int k = 0; k < states; k++) {
            int i = order[k];
            int common = 0;
            if (prev >= 0) while (common < depth && paths[prev * depth + common] == paths[i * depth + common]) common++;
            for (int d = common; d < depth; d++) {
                if (nodes == parent.length) {
                    parent = Arrays.copyOf(parent, nodes * 2);
                    choice = Arrays.copyOf(choice, nodes * 2);
                }
                parent[nodes] = chain[d];
                choice[nodes] = paths[i * depth + d];
                chain[d + 1] = nodes++;
            }
            node[i] = chain[depth];
            prev = i;
        }
        return new Checkpoint(generated, terminals, depth, nodes, parent, choice, states, node, off, words, order, seen, seenCount);
    }

    public long generated() { return generated; }

    public long terminals() { return terminals; }

    /** Levels done: every frontier state's path has this many choices. */
    public int depth() { return depth; }

    /** States on the frontier. */
    public int states() { return states; }

    /** Whether the search went depth-first: it goes on depth-first from the first frontier state. */
    public boolean depthFirst() { return depthFirst; }

    /** The longest path a depth-first search followed (0 for a breadth-first one). */
    int deepest() { return deepest; }

    /** Fingerprints seen (distinct states found). */
    public int distinct() { return seenCount; }

    int nodes() { return nodes; }

    int[] parents() { return parent; }

    int[] choices() { return choice; }

    /** The frontier's nodes, word offsets and words, in file order (a checkpoint read has no other order). */
    int[] frontierNodes() { return order == null ? node : null; }

    int[] frontierOffsets() { return order == null ? off : null; }

    long[] frontierWords() { return order == null ? words : null; }

    long[] seen() { return seen; }

    /** Frontier state {@code k}'s path (in file order): the choices from the root. */
    int[] path(int k) {
        int n = node[order == null ? k : order[k]];
        int len = 0;
        for (int m = n; parent[m] >= 0; m = parent[m]) len++;
        int[] p = new int[len];
        for (int m = n; parent[m] >= 0; m = parent[m]) p[--len] = choice[m];
        return p;
    }

    /** Where frontier state {@code k}'s words start in {@link #wordsOf}, and end. */
    int wordsFrom(int k) { return off[order == null ? k : order[k]]; }

    int wordsTo(int k) { return off[(order == null ? k : order[k]) + 1]; }

    long[] wordsOf() { return words; }

    /**
     * Writes the checkpoint to {@code file}: beside it under a name of its own, then moved over it, so that a failure (a
     * full disk) leaves neither a partial checkpoint nor the temporary file, and never touches another file that
     * happens to be there.
     *
     * @throws UncheckedIOException "cannot write checkpoint FILE: why"
     */
    public void write(Path file, long signature) {
        Path tmp;
        try {
            Path dir = file.toAbsolutePath().getParent();
            tmp = Files.createTempFile(dir, "." + file.getFileName() + "-", ".tmp");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
        CheckedOutputStream checked;
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                checked = new CheckedOutputStream(Files.newOutputStream(tmp), new CRC32()), 1 << 16))) {
            out.writeInt(depthFirst ? MAGIC_DEPTH_FIRST : MAGIC);
            out.writeLong(signature);
            out.writeLong(generated);
            out.writeLong(terminals);
            out.writeInt(depth);
            out.writeInt(nodes);
            for (int i = 0; i < nodes; i++) {
                out.writeInt(parent[i]);
                out.writeInt(choice[i]);
            }
            out.writeInt(states);
            if (level != null) {
                Checker.Level.Reader r = level.reader();
                for (int k = levelFrom; k < level.count; k++) {
                    r.read(k);
                    out.writeInt(level.node[k]);
                    out.writeInt(r.length());
                    long[] w = r.words();
                    for (int i = 0; i < r.length(); i++) out.writeLong(w[i]);
                }
            }
            for (int k = 0; level == null && k < states; k++) {
                int s = order == null ? k : order[k];
                out.writeInt(node[s]);
                out.writeInt(off[s + 1] - off[s]);
                for (int i = off[s]; i < off[s + 1]; i++) out.writeLong(words[i]);
            }
            out.writeInt(seenCount);
            if (seenSet != null) seenSet.writeTo(out);
            else for (int i = 0; i < seenCount; i++) out.writeLong(seen[i]);
            if (depthFirst) out.writeInt(deepest);
            out.flush();
            out.writeLong(checked.getChecksum().getValue());
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e instanceof IOException io ? new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), io) : (RuntimeException) e;
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the write already failed; that error is the one reported
        }
    }

    /**
     * The depth (levels done) of {@code file} when it is a regular file that starts as a checkpoint written for the
     * configuration of {@code signature} does (one of this format, damaged or not), else -1: a file that a check of that
     * configuration may replace once it has gone as far.
     */
    public static int depthIfFor(Path file, long signature) {
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return -1;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), HEADER))) {
            int magic = in.readInt();
            if (magic != MAGIC && magic != MAGIC_DEPTH_FIRST || in.readLong() != signature) return -1;
            in.readLong();
            in.readLong();
            return Math.max(0, in.readInt());
        } catch (IOException e) {
            return -1; // too short, or unreadable: not one to replace
        }
    }

    /**
     * Reads a checkpoint written for the configuration of {@code signature}. One of another configuration, not a
     * checkpoint, or damaged (its CRC32 does not match, a node's parent is not an earlier node, a frontier state is not
     * at the checkpoint's depth) is refused with a one-line message.
     *
     * @throws IllegalArgumentException the file's name and what is wrong with it
     */
    public static Checkpoint read(Path file, long signature) {
        String corrupt = file + " is corrupt";
        try {
            long size = Files.size(file);
            long body = size - 8;
            boolean depthFirst;
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
                int magic = size < 4 ? 0 : in.readInt();
                if (magic != MAGIC && magic != MAGIC_DEPTH_FIRST) throw new IllegalArgumentException(file + " is not a tcesim checkpoint (of this version)");
                depthFirst = magic == MAGIC_DEPTH_FIRST;
            }
            if (body < HEADER) throw new IllegalArgumentException(file + " is truncated");
            CRC32 crc = new CRC32();
            long stored;
            try (InputStream raw = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                long left = body;
                while (left > 0) {
                    int k = raw.read(buf, 0, (int) Math.min(buf.length, left));
                    if (k < 0) throw new EOFException();
                    crc.update(buf, 0, k);
                    left -= k;
                }
                stored = new DataInputStream(raw).readLong();
            }
            if (stored != crc.getValue()) throw new IllegalArgumentException(file + " is damaged or truncated (its checksum does not match)");
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
                in.readInt();
                if (in.readLong() != signature) throw new IllegalArgumentException(file + " was written for another configuration");
                long generated = in.readLong();
                long terminals = in.readLong();
                int depth = in.readInt();
                int n = in.readInt();
                long left = body - HEADER;
                if (generated < 1 || terminals < 0 || depth < 0 || n < 1 || n > 1 << 28 || 8L * n + 8 > left) {
                    throw new IllegalArgumentException(corrupt + " (header)");
                }
                left -= 8L * n;
                int[] parent = new int[n];
                int[] choice = new int[n];
                // Each node's depth, to check that every frontier state is at the checkpoint's.
                int[] level = new int[n];
                for (int i = 0; i < n; i++) {
                    int p = in.readInt();
                    int c = in.readInt();
                    // Node 0 is the root; every other node's parent comes before it, so paths end at the root.
                    if (i == 0 ? p != -1 || c < -1 : p < 0 || p >= i || c < 0) {
                        throw new IllegalArgumentException(corrupt + ": node " + i + " has parent " + p + " and choice " + c);
                    }
                    parent[i] = p;
                    choice[i] = c;
                    level[i] = i == 0 ? 0 : level[p] + 1;
                }
                int fl = in.readInt();
                left -= 4;
                if (fl < 0 || fl > n) throw new IllegalArgumentException(corrupt + " (frontier of " + fl + " states)");
                int[] node = new int[fl];
                int[] off = new int[fl + 1];
                long[] words = new long[1024];
                for (int k = 0; k < fl; k++) {
                    int nd = in.readInt();
                    int len = in.readInt();
                    left -= 8;
                    if (nd < 0 || nd >= n || level[nd] != depth || len < 0 || len > 1 << 24 || 8L * len + 4 > left || off[k] + (long) len > Integer.MAX_VALUE - 8) {
                        throw new IllegalArgumentException(corrupt + " (frontier state " + k + ")");
                    }
                    if (off[k] + len > words.length) words = Arrays.copyOf(words, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * words.length, off[k] + len)));
                    for (int i = 0; i < len; i++) words[off[k] + i] = in.readLong();
                    left -= 8L * len;
                    node[k] = nd;
                    off[k + 1] = off[k] + len;
                }
                int m = in.readInt();
                left -= 4 + (depthFirst ? 4 : 0);
                if (m < 1 || 8L * m != left) throw new IllegalArgumentException(corrupt + " (" + m + " fingerprints)");
                long[] seen = new long[m];
                for (int i = 0; i < m; i++) seen[i] = in.readLong();
                int deepest = depthFirst ? in.readInt() : 0;
                if (depthFirst && deepest < depth) throw new IllegalArgumentException(corrupt + " (longest path " + deepest + ")");
                return new Checkpoint(generated, terminals, depth, n, parent, choice, fl, node, off, words, null, seen, m, null, depthFirst, deepest, null, 0);
            }
        } catch (EOFException e) {
            throw new IllegalArgumentException(file + " is truncated");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read checkpoint " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read checkpoint " + file + ": " + e.getMessage());
        }
    }
}
