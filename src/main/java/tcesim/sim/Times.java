package tcesim.sim;

/**
 * Simulated times, first in first out: when each item of a queue between two actors was produced (descriptors
 * on a ring, packets in the tap, MISS messages, eventfd ranges), so that the step consuming an item starts no
 * earlier. A ring of primitive doubles, kept beside the queue it times.
 */
final class Times {
    private double[] t = new double[16];
    private int head;
    private int size;

    void add(double time) {
        if (size == t.length) {
            double[] n = new double[size * 2];
            for (int i = 0; i < size; i++) n[i] = t[(head + i) & (t.length - 1)];
            t = n;
            head = 0;
        }
        t[(head + size++) & (t.length - 1)] = time;
    }

    /** The oldest time, or 0 when there is none (timing does not survive a restored state: nothing waits then). */
    double peek() { return size == 0 ? 0 : t[head]; }

    /** Takes the oldest time (0 when there is none). */
    double poll() {
        if (size == 0) return 0;
        double v = t[head];
        head = (head + 1) & (t.length - 1);
        size--;
        return v;
    }

    void clear() {
        head = 0;
        size = 0;
    }
}
