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

    /**
     * A configuration's workload as this design runs it. Under V the guest's NIC is the passthrough one, in place of
     * virtio-net: it carries the configuration's passthrough packets when it has some, else its RX and TX packets, and
     * virtio-net carries none (a vhost NIC beside a passthrough one is D0's, or another design's, with passthrough packets).
     */
    public StackConfig applyTo(StackConfig c) {
        if (!passthrough()) return c.withDesign(this);
        long packets = c.passthroughPackets() > 0 ? c.passthroughPackets() : c.rxPackets() + c.txPackets();
        return c.toBuilder().design(this).passthroughPackets(packets).rxPackets(0).txPackets(0).build();
    }

    /** Whether the design is a change of KVM's TCE handlers or of what KVM is linked to (D1, D3a, D3b, D4, D4k). */
    public boolean inKvm() {
        return kvm.stuffZeroToUserspace() || link != Link.NONE;
    }

    /**
     * Why this design cannot exist on host {@code h}, or null when it can. A change of KVM's handlers acts only while
     * the guest's table is in KVM with vhost's notifier registered: without in-kernel TCE (KVM_CAP_SPAPR_TCE) every
     * TCE hypercall goes to QEMU, and without KVM_CAP_SPAPR_TCE_VFIO QEMU moves the table to userspace when vhost
     * registers ({@code spapr_tce_set_need_vfio}), so the handlers the design changes never see the guest's calls.
     */
    public String unavailableOn(tcesim.kvm.HostCaps h) {
        if (!inKvm()) return null;
        if (!h.spaprTce()) {
            return this + " changes KVM's TCE handling, but this host has no in-kernel TCE (no KVM_CAP_SPAPR_TCE): every TCE hypercall goes to QEMU";
        }
        if (!h.spaprTceVfio()) {
            return this + " changes KVM's TCE handling, but this host does not report KVM_CAP_SPAPR_TCE_VFIO: QEMU moves the table to userspace"
                    + " when vhost registers its notifier, so KVM never sees the guest's TCE hypercalls";
        }
        return null;
    }
}
