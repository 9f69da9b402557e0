package tcesim.guest;

import tcesim.papr.Tce;

/**
 * {@code enum dma_data_direction} and the TCE permission a pseries guest builds for it: TCE_PCI_READ
 * always, plus TCE_PCI_WRITE unless the direction is DMA_TO_DEVICE ({@code tce_build_pSeriesLP} /
 * {@code tce_buildmulti_pSeriesLP} in Linux {@code arch/powerpc/platforms/pseries/iommu.c}). So an RX
 * buffer (DMA_FROM_DEVICE) is mapped read-write and a TX buffer (DMA_TO_DEVICE) read-only.
 */
public enum DmaDirection {
    BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE;

    private static final DmaDirection[] ALL = values();

    /** The direction of ordinal {@code i} (as saved; without the copy {@code values()} makes). */
    public static DmaDirection of(int i) { return ALL[i]; }

    public long tcePerm() {
        return this == TO_DEVICE ? Tce.READ : Tce.READ | Tce.WRITE;
    }
}
