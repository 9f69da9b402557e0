package tcesim.sim;

import java.util.function.Supplier;
import tcesim.guest.DmaDirection;
import tcesim.guest.PseriesIommu;
import tcesim.mem.GuestMemory;
import tcesim.papr.Tce;
import tcesim.qemu.IommuTlbEvent;
import tcesim.vfio.DmaResult;
import tcesim.vhost.VhostNet;

/**
 * The safety properties of spec 03, checked at every device access to guest memory.
 * <ol>
 * <li>No stale access: the access uses the translation the guest's table holds now for that IOVA, with a
 *     permitted direction, unless a hypercall changing that entry has not yet returned to the guest (a vCPU
 *     waiting for the BQL, or in design D3b for QEMU's acknowledgement).
 * <li>No corruption: a device write lands only in memory the guest has mapped for DMA from the device at
 *     that IOVA (byte for byte: buffers cut from one page are mapped one by one).
 * <li>Isolation: no access outside the guest's memory.
 * <li>(4, progress, is judged by {@link Stack}.)
 * <li>Host memory: KVM never indexes past a table it owns (its TCE table's window, {@code stt->pages[]}), whatever
 *     the guest passes ({@link tcesim.mem.HostMemoryListener}).
 * </ol>
 * vhost's copies, a passthrough device's DMA and the accesses QEMU's own devices make through the window's IOMMU
 * region are checked. Progress (4) is judged by {@link Stack} when the run can go no further.
 */
public final class Oracles implements VhostNet.AccessListener, tcesim.mem.HostMemoryListener {
    private final Stack stack;
    private Violation first;
    private final java.util.EnumMap<Violation.Property, Violation> firstOf = new java.util.EnumMap<>(Violation.Property.class);
    private Violation.Property stopAt;
    private boolean runThrough;
    private long accesses;

    Oracles(Stack stack) {
        this.stack = stack;
    }

    /** The first violation of any property. */
    public Violation first() { return first; }

    /** The first violation of {@code p}, or null. */
    public Violation firstOf(Violation.Property p) { return firstOf.get(p); }

    public long accesses() { return accesses; }

    /** Keep running past other properties' violations until {@code p} is broken (null: stop at the first of any). */
    public void stopAt(Violation.Property p) { this.stopAt = p; }

    /** Record violations but never end the run for them (cost runs of unsafe designs go to the end of the workload). */
    public void runThrough() { this.runThrough = true; }

    /** The violation that ends the run, or null while it may go on. */
    public Violation stopping() {
        if (runThrough) return null;
        return stopAt == null ? first : firstOf.get(stopAt);
    }

    /** Forgets the violations seen (the state was restored to one the checker had judged clean). */
    void reset() {
        if (first == null) return; // nothing reported: firstOf is empty too
        first = null;
        firstOf.clear();
    }

    void report(Violation v) {
        if (v == null) return;
        if (first == null) first = v;
        firstOf.putIfAbsent(v.property(), v);
    }

    @Override
    public void access(int vq, long iova, long len, long hva, boolean write) {
        GuestMemory mem = stack.memory();
        VhostAccess acc = vhostAccess.set(vq, iova, len, hva, write);
        check("vhost", acc, iova, len, mem.containsHva(hva, len) ? mem.hvaToGpa(hva) : -1, write);
    }

    /** The description of the vhost access being checked, built only when it is reported (one object for every access). */
    private static final class VhostAccess implements Supplier<String> {
        private int vq;
        private long iova, len, hva;
        private boolean write;

        VhostAccess set(int vq, long iova, long len, long hva, boolean write) {
            this.vq = vq;
            this.iova = iova;
            this.len = len;
            this.hva = hva;
            this.write = write;
            return this;
        }

        @Override
        public String get() {
            return String.format("%s vq%d iova 0x%x len %d -> hva 0x%x", write ? "write" : "read", vq, iova, len, hva);
        }
    }

    private final VhostAccess vhostAccess = new VhostAccess();

    /** Host memory (5): KVM or QEMU indexed past a table it owns; the hypercall that did it is the access. */
    @Override
    public void outside(String who, String access, String bound) {
        report(new Violation(Violation.Property.HOST_MEMORY, stack.trace().step(), who, access, "past its bound: " + bound, -1, -1));
    }

    /** A passthrough device's DMA: every page it reached, through the PHB cache or the hardware table. */
    public void deviceDma(String actor, DmaResult r) {
        for (int i = 0; i < r.segments(); i++) {
            long gpa = r.gpa(i);
            int k = i;
            Supplier<String> acc = () -> String.format("%s iova 0x%x len %d -> hpa 0x%x (%s)", r.isWrite() ? "DMA write" : "DMA read", r.iova(k),
                    r.length(k), r.hpa(k), r.fromCache(k) ? "PHB TCE cache" : "hardware table");
            check(actor, acc, r.iova(i), r.length(i), stack.memory().contains(gpa, r.length(i)) ? gpa : -1, r.isWrite());
        }
    }

    /** An access of a device QEMU emulates itself (virtio-blk): {@code gpa} is where QEMU's translation through the window took it. */
    public void qemuDma(String actor, String what, long iova, long len, long gpa, boolean write) {
        Supplier<String> acc = () -> String.format("%s iova 0x%x len %d (%s)", write ? "write" : "read", iova, len, what);
        check(actor, acc, iova, len, stack.memory().contains(gpa, len) ? gpa : -1, write);
    }

    /** @param gpa where the access landed in guest memory, or -1 when it landed outside */
    private void check(String who, Supplier<String> acc, long iova, long len, long gpa, boolean write) {
        accesses++;
        long step = stack.trace().step();
        if (gpa < 0) {
            report(new Violation(Violation.Property.ISOLATION, step, who, acc.get(), "the address is outside the guest's memory", iova, -1));
            return;
        }
        String expected = stack.hypercallInFlight(iova) ? null : expectedTranslation(iova, gpa, write);
        if (expected != null) {
            report(new Violation(Violation.Property.STALE_ACCESS, step, who, acc.get() + String.format(" (gpa 0x%x)", gpa), expected, iova, gpa));
        }
        if (write) {
            PseriesIommu dma = stack.driver().iommu();
            if (!dma.mappedForWrite(iova, gpa, len)) {
                String atIova = dma.mappingAt(iova);
                String now = dma.anyMappingOf(gpa, len) ? "belongs to another DMA buffer" : "is not mapped for DMA (page " + stack.pageState(gpa) + ")";
                report(new Violation(Violation.Property.CORRUPTION, step, who, acc.get() + String.format(" (gpa 0x%x)", gpa),
                        String.format("guest memory 0x%x %s; iova 0x%x is %s", gpa, now, iova, atIova == null ? "not mapped" : "mapped to " + atIova), iova, gpa));
            }
        }
    }

    /** Null when the guest's table agrees with the access; else what the table says. */
    private String expectedTranslation(long iova, long gpa, boolean write) {
        IommuTlbEvent e = stack.spapr().translate(iova);
        if (e == null) return "no DMA window covers this IOVA";
        long need = write ? Tce.WRITE : Tce.READ;
        if ((e.perm() & need) == 0) {
            return e.perm() == 0 ? "the guest's TCE for this IOVA is clear" : String.format("the guest's TCE allows %s only", Tce.permName(e.perm()));
        }
        long want = e.translatedAddr() + (iova & e.addrMask());
        if (want != gpa) return String.format("the guest's TCE maps this IOVA to gpa 0x%x", want);
        return null;
    }
}
