package tcesim.sim;

import tcesim.kvm.KvmPolicy;
import tcesim.qemu.QemuPolicy;

/**
 * The invalidation designs of spec 03, each a configuration of the one model: a design changes only
 * what the real change would touch (KVM's handlers, QEMU's placement rule, a new KVM-to-QEMU eventfd, a
 * new KVM-to-vhost link), or, for V, puts a VFIO passthrough device where virtio-net was.
 */
public enum Design {
    D0("as in 2019: table in KVM, in-kernel handlers never notify vhost", KvmPolicy.STOCK, QemuPolicy.STOCK, Link.NONE),
    D1("KVM returns H_TOO_HARD from H_STUFF_TCE(0): QEMU clears and invalidates (the Dec 2019 patch)", new KvmPolicy(true), QemuPolicy.STOCK, Link.NONE),
    D2("QEMU keeps the table in userspace while vhost's notifier is registered", KvmPolicy.STOCK, new QemuPolicy(true), Link.NONE),
    D3a("KVM signals an eventfd per cleared range; QEMU sends INVALIDATE later; the hypercall returns at once", KvmPolicy.STOCK, QemuPolicy.STOCK, Link.EVENTFD_ASYNC),
    D3b("as D3a, but the vCPU waits until QEMU acknowledges the INVALIDATE", KvmPolicy.STOCK, QemuPolicy.STOCK, Link.EVENTFD_SYNC),
    D4("KVM invalidates vhost's IOTLB itself through a link set by QEMU, like tce_kill, before returning: the entries each call wrote",
            KvmPolicy.STOCK, QemuPolicy.STOCK, Link.VHOST_LINK),
    D4k("as D4, the link reusing the VFIO path's TCE kills and their ranges (a 2019 H_STUFF_TCE kills the entries after the cleared ones)",
            KvmPolicy.STOCK, QemuPolicy.STOCK, Link.VHOST_LINK_TCE_KILL),
    V("a VFIO passthrough device on the same window: hardware table, PHB TCE cache, tce_kill", KvmPolicy.STOCK, QemuPolicy.STOCK, Link.NONE);

    /** What KVM is connected to besides the guest table. */
    public enum Link {
        NONE, EVENTFD_ASYNC, EVENTFD_SYNC, VHOST_LINK, VHOST_LINK_TCE_KILL;

        /** A direct KVM-to-vhost link (D4, D4k). */
        public boolean vhostLink() { return this == VHOST_LINK || this == VHOST_LINK_TCE_KILL; }
    }

    private final String summary;
    private final KvmPolicy kvm;
    private final QemuPolicy qemu;
    private final Link link;

    Design(String summary, KvmPolicy kvm, QemuPolicy qemu, Link link) {
        this.summary = summary;
        this.kvm = kvm;
        this.qemu = qemu;
        this.link = link;
    }

    public String summary() { return summary; }
    public KvmPolicy kvmPolicy() { return kvm; }
    public QemuPolicy qemuPolicy() { return qemu; }
    public Link link() { return link; }

    /** Whether the guest's device traffic goes through a passthrough device instead of vhost. */
    public boolean passthrough() { return this == V; }

    /** A configuration's workload as this design runs it: V moves all the packets to the passthrough NIC. */
    public StackConfig applyTo(StackConfig c) {
        if (!passthrough() || c.passthroughPackets() > 0) return c.withDesign(this);
        return c.toBuilder().design(this).passthroughPackets(c.rxPackets() + c.txPackets()).rxPackets(0).txPackets(0).build();
    }
}
