package tcesim.guest;

/** A buffer a driver has mapped for a device: descriptor id, guest physical address, bus address, length, direction. */
public record DmaBuffer(int id, long gpa, long dma, int len, DmaDirection dir) {
    void save(tcesim.state.StateWriter out) {
        out.put(((long) id << 32) | ((long) dir.ordinal() << 24) | len, gpa);
        out.put(dma);
    }

    static DmaBuffer restore(tcesim.state.StateReader in) {
        long h = in.next();
        long gpa = in.next();
        return new DmaBuffer((int) (h >>> 32), gpa, in.next(), (int) (h & 0xff_ffff), DmaDirection.of((int) ((h >>> 24) & 0xff)));
    }
}
