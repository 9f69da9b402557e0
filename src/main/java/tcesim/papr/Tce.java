package tcesim.papr;

/**
 * The 64-bit translation control entry.
 *
 * <p>Models {@code arch/powerpc/include/asm/tce.h}: {@code TCE_PCI_READ 0x1} (the device may read
 * memory, DMA_TO_DEVICE), {@code TCE_PCI_WRITE 0x2} (the device may write, DMA_FROM_DEVICE); the real
 * page number sits above {@code TCE_RPN_SHIFT} (12), as in tce.h of the seed's time (2019; next to
 * {@code TCE_RPN_MASK 0xfffffffffful}, "40-bit RPN (4K pages)"). Both defines were removed in 2021 by
 * "powerpc/pseries/iommu: Replace hard-coded page shift" (L. Bras, Aug 2021), which builds TCEs with the
 * table's own page shift; KVM's handlers take the address by stripping the permission bits ({@link #gpa}). An entry
 * with neither permission bit is invalid: no translation (KVM's {@code iommu_tce_direction()} returns
 * DMA_NONE for it).
 */
public final class Tce {
    private Tce() {}

    public static final long READ = 0x1;
    public static final long WRITE = 0x2;
    public static final long PERM_MASK = READ | WRITE;
    public static final int RPN_SHIFT = 12;

    /** The guest physical address part of a TCE (permission bits stripped, as KVM does: {@code tce & ~(TCE_PCI_READ | TCE_PCI_WRITE)}). */
    public static long gpa(long tce) {
        return tce & ~PERM_MASK;
    }

    public static int perm(long tce) {
        return (int) (tce & PERM_MASK);
    }

    public static boolean valid(long tce) {
        return (tce & PERM_MASK) != 0;
    }

    public static long make(long gpa, long perm) {
        return (gpa & ~PERM_MASK) | (perm & PERM_MASK);
    }

    public static String permName(int perm) {
        switch (perm & 3) {
            case 0: return "--";
            case 1: return "R-";
            case 2: return "-W";
            default: return "RW";
        }
    }

    public static String describe(long tce) {
        return valid(tce) ? String.format("0x%x[%s]", gpa(tce), permName(perm(tce))) : (tce == 0 ? "0" : String.format("0x%x[--]", tce));
    }
}
