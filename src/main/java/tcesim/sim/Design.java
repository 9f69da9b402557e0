package tcesim.sim;

import tcesim.kvm.KvmPolicy;
import tcesim.qemu.QemuPolicy;

/**
 * A design: a combination of {@link Mechanisms}, each a configuration of the one model. A design changes only what the
 * real change would touch (KVM's handlers, QEMU's placement rule, a new KVM-to-QEMU eventfd, a new KVM-to-vhost link,
 * vhost's handling of its IOTLB messages, the permission QEMU answers with), or, for V, puts a VFIO passthrough device
 * where virtio-net was.
 *
 * <p>The designs of spec 03 are named constants ({@link #values()}: D0 .. V); any other combination is named by the
 * named design with its table and clear path followed by its other mechanisms' tokens ({@code D4+drop-late-update}).
 * {@link #of} gives the named constant for its mechanisms, so a combination spelt out that equals a named design is that
 * design (same name, same configuration id).
 */
public final class Design implements Comparable<Design>, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private static final Mechanisms M = Mechanisms.TODAY;

    public static final Design D0 = new Design(0, "D0", "as in 2019: table in KVM, in-kernel handlers never notify vhost", M);
    public static final Design D1 = new Design(1, "D1", "KVM returns H_TOO_HARD from H_STUFF_TCE(0): QEMU clears and invalidates (the Dec 2019 patch)",
            M.withClear(Mechanisms.Clear.STUFF_EXIT));
    public static final Design D2 = new Design(2, "D2", "QEMU keeps the table in userspace while vhost's notifier is registered",
            M.withTable(Mechanisms.Table.QEMU).withClear(Mechanisms.Clear.EVERY_EXIT));
    public static final Design D3a = new Design(3, "D3a", "KVM signals an eventfd per cleared range; QEMU sends INVALIDATE later; the hypercall returns at once",
            M.withClear(Mechanisms.Clear.EVENTFD));
    public static final Design D3b = new Design(4, "D3b", "as D3a, but the vCPU waits until QEMU acknowledges the INVALIDATE", M.withClear(Mechanisms.Clear.EVENTFD_ACK));
    public static final Design D4 = new Design(5, "D4",
            "KVM invalidates vhost's IOTLB itself through a link set by QEMU, like tce_kill, before returning: the entries each call wrote",
            M.withClear(Mechanisms.Clear.LINK));
    public static final Design D4k = new Design(6, "D4k",
            "as D4, the link reusing the VFIO path's TCE kills and their ranges (a 2019 H_STUFF_TCE kills the entries after the cleared ones)",
            M.withClear(Mechanisms.Clear.LINK_TCE_KILL));
    public static final Design V = new Design(7, "V", "a VFIO passthrough device on the same window: hardware table, PHB TCE cache, tce_kill",
            new Mechanisms(Mechanisms.Table.KVM, Mechanisms.Clear.NONE, Mechanisms.VhostSide.TODAY, Mechanisms.Answer.RW, Mechanisms.Nic.PASSTHROUGH));

    private static final Design[] NAMED = {D0, D1, D2, D3a, D3b, D4, D4k, V};

    /** What KVM is connected to besides the guest table. */
    public enum Link {
        NONE, EVENTFD_ASYNC, EVENTFD_SYNC, VHOST_LINK, VHOST_LINK_TCE_KILL;

        /** A direct KVM-to-vhost link (D4, D4k). */
        public boolean vhostLink() { return this == VHOST_LINK || this == VHOST_LINK_TCE_KILL; }
    }

    /** The position among the named designs, or -1 for another combination. */
    private final int ordinal;
    private final String name;
    private final String summary;
    private final Mechanisms mechanisms;

    private Design(int ordinal, String name, String summary, Mechanisms mechanisms) {
        this.ordinal = ordinal;
        this.name = name;
        this.summary = summary;
        this.mechanisms = mechanisms;
    }

    /** The named designs, D0 .. V. */
    public static Design[] values() { return NAMED.clone(); }

    /** The named design {@code name} (exact spelling, as an enum's valueOf). */
    public static Design valueOf(String name) {
        for (Design d : NAMED) if (d.name.equals(name)) return d;
        throw new IllegalArgumentException("no design named " + name);
    }

    /** The design made of {@code m}: the named one when there is one, else a combination named after its base. */
    public static Design of(Mechanisms m) {
        String why = m.invalid();
        if (why != null) throw new IllegalArgumentException(why);
        for (Design d : NAMED) if (d.mechanisms.equals(m)) return d;
        Design base = null;
        for (Design d : NAMED) {
            if (d.mechanisms.table() == m.table() && d.mechanisms.clear() == m.clear() && d.mechanisms.nic() == m.nic()) base = d;
        }
        StringBuilder name = new StringBuilder(base.name);
        StringBuilder summary = new StringBuilder(base.name);
        if (m.vhost().dropLateUpdate) {
            name.append("+drop-late-update");
            summary.append("; vhost drops an UPDATE answering a MISS read before an overlapping INVALIDATE, and sends the MISS again");
        }
        if (m.vhost().singleMiss) {
            name.append("+single-miss");
            summary.append("; vhost queues no second MISS while the same one is queued or pending");
        }
        if (m.answer() == Mechanisms.Answer.TCE_PERM) {
            name.append("+tce-perm");
            summary.append("; QEMU answers a MISS with the TCE's own permission");
        }
        return new Design(-1, name.toString(), summary.toString(), m);
    }

    /**
     * A design as the command line and scenario files spell it: a named design (any case), a named design followed by
     * mechanism tokens ({@code D4+drop-late-update}), or mechanism tokens alone ({@code kvm-table,link,tce-perm}), the
     * ones left out as today's. Throws IllegalArgumentException with a one-line message.
     */
    public static Design parse(String text) {
        String t = text.trim();
        if (t.isEmpty()) throw new IllegalArgumentException("empty design (" + names() + ")");
        java.util.List<String> parts = new java.util.ArrayList<>(java.util.Arrays.asList(t.split("[+,]", -1)));
        Design base = null;
        for (Design d : NAMED) if (d.name.equalsIgnoreCase(parts.get(0).trim())) base = d;
        if (base != null) parts.remove(0);
        if (base != null && parts.isEmpty()) return base;
        for (String p : parts) if (p.isBlank()) throw new IllegalArgumentException("empty mechanism in '" + text + "'");
        Mechanisms m = Mechanisms.parse(base == null ? Mechanisms.TODAY : base.mechanisms, parts, base != null);
        return of(m);
    }

    /** The named designs and the mechanism tokens, for help texts. */
    public static String names() {
        return "D0, D1, D2, D3a, D3b, D4, D4k, V, or mechanisms joined by '+' or ',' (" + Mechanisms.tokenHelp() + ")";
    }

    /** The names picocli lists as ${COMPLETION-CANDIDATES}: the named designs. */
    public static final class Names implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(NAMED).map(Design::name).iterator();
        }
    }

    public String name() { return name; }
    @Override public String toString() { return name; }
    /** Whether this is one of the named designs D0 .. V. */
    public boolean named() { return ordinal >= 0; }
    public Mechanisms mechanisms() { return mechanisms; }
    public String summary() { return summary; }
    public KvmPolicy kvmPolicy() { return mechanisms.clear() == Mechanisms.Clear.STUFF_EXIT ? new KvmPolicy(true) : KvmPolicy.STOCK; }
    public QemuPolicy qemuPolicy() { return mechanisms.table() == Mechanisms.Table.QEMU ? new QemuPolicy(true) : QemuPolicy.STOCK; }
    public Link link() { return mechanisms.clear().link(); }

    /** Named designs first, in their order; then the other combinations by name. */
    @Override
    public int compareTo(Design o) {
        if (named() != o.named()) return named() ? -1 : 1;
        return named() ? Integer.compare(ordinal, o.ordinal) : name.compareTo(o.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Design d && d.mechanisms.equals(mechanisms);
    }

    @Override
    public int hashCode() { return mechanisms.hashCode(); }

    /** A design read back (a check sent to a worker) is the same constant. */
    private Object readResolve() { return of(mechanisms); }

    /** Whether the guest's device traffic goes through a passthrough device instead of vhost. */
    public boolean passthrough() { return mechanisms.nic() == Mechanisms.Nic.PASSTHROUGH; }

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
        return mechanisms.table() == Mechanisms.Table.KVM && mechanisms.clear() != Mechanisms.Clear.NONE;
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
