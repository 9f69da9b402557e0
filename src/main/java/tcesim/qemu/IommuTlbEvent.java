package tcesim.qemu;

/**
 * One change of an IOMMU translation, as QEMU's memory API reports it to IOMMU notifiers.
 *
 * <p>Models {@code IOMMUTLBEvent} / {@code IOMMUTLBEntry} ({@code include/exec/memory.h}): the event
 * type (MAP or UNMAP), the bus address (iova, relative to the IOMMU region as
 * {@code put_tce_emu} computes {@code ioba - bus_offset}), the translated guest physical address, the
 * address mask (page size - 1) and the access permission (the TCE's READ/WRITE bits).
 */
public record IommuTlbEvent(Type type, long iova, long translatedAddr, long addrMask, int perm) {
    public enum Type { MAP, UNMAP }
}
