package tcesim.guest;

/** A buffer a driver has mapped for a device: descriptor id, guest page, bus address, length, direction. */
public record DmaBuffer(int id, long pfn, long dma, int len, DmaDirection dir) {}
