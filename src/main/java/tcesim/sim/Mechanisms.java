package tcesim.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a design changes, mechanism by mechanism: where the guest's TCE table lives, how a cleared entry reaches vhost,
 * what vhost does on its side, what QEMU answers a MISS with, and which NIC carries the traffic. Each value is named by
 * the token it has on the command line ({@code --design kvm-table+link+drop-late-update}) and in a scenario file's
 * {@code design:} map; {@link Design} names the combinations the 2019 thread floated.
 *
 * @param table where the table lives
 * @param clear how a cleared entry reaches vhost
 * @param vhost what vhost does with MISSes and late UPDATEs
 * @param answer the permission QEMU's UPDATE carries
 * @param nic the guest's NIC: virtio-net on vhost, or (design V) a VFIO passthrough NIC
 */
public record Mechanisms(Table table, Clear clear, VhostSide vhost, Answer answer, Nic nic) implements java.io.Serializable {
    /** Where the guest's TCE table lives (and so who handles its TCE hypercalls). */
    public enum Table {
        /** In KVM, whose in-kernel handlers serve the hypercalls (the stock PowerNV setup). */
        KVM("kvm-table"),
        /** In QEMU whenever vhost's notifier is registered: every TCE hypercall exits to QEMU (D2). */
        QEMU("qemu-table");

        public final String token;

        Table(String token) { this.token = token; }
    }

    /** How a cleared entry reaches vhost. */
    public enum Clear {
        /** Not at all when KVM handles the call (D0). */
        NONE("no-clear-path"),
        /** H_STUFF_TCE(0) exits to QEMU, which clears and sends INVALIDATE (D1, the Dec 2019 patch). */
        STUFF_EXIT("stuff-exit"),
        /** Every TCE hypercall exits to QEMU: what keeping the table in QEMU means (D2). */
        EVERY_EXIT("every-exit"),
        /** KVM signals an eventfd with the cleared range; QEMU sends INVALIDATE; the vCPU goes on (D3a). */
        EVENTFD("eventfd"),
        /** As {@link #EVENTFD}, the vCPU waiting for QEMU's acknowledgement (D3b). */
        EVENTFD_ACK("eventfd-ack"),
        /** A KVM-to-vhost link: KVM invalidates the entries each call wrote, before it returns (D4). */
        LINK("link"),
        /** As {@link #LINK}, with the ranges of the VFIO path's TCE kills (D4k). */
        LINK_TCE_KILL("link-kill");

        public final String token;

        Clear(String token) { this.token = token; }

        /** The connection KVM keeps to vhost for this path. */
        public Design.Link link() {
            return switch (this) {
                case EVENTFD -> Design.Link.EVENTFD_ASYNC;
                case EVENTFD_ACK -> Design.Link.EVENTFD_SYNC;
                case LINK -> Design.Link.VHOST_LINK;
                case LINK_TCE_KILL -> Design.Link.VHOST_LINK_TCE_KILL;
                default -> Design.Link.NONE;
            };
        }
    }

    /** vhost's own handling of its IOTLB messages ({@link tcesim.vhost.VhostDevice.Fixes}). */
    public enum VhostSide {
        /** As every kernel has it. */
        TODAY("today", false, false),
        /** An UPDATE answering a MISS read before an overlapping INVALIDATE is dropped and the MISS sent again. */
        DROP_LATE_UPDATE("drop-late-update", true, false),
        /** No MISS is queued while the same one (queue, IOVA, access) is queued or pending. */
        SINGLE_MISS("single-miss", false, true),
        /** Both. */
        BOTH("drop-late-update+single-miss", true, true);

        public final String token;
        public final boolean dropLateUpdate;
        public final boolean singleMiss;

        VhostSide(String token, boolean dropLateUpdate, boolean singleMiss) {
            this.token = token;
            this.dropLateUpdate = dropLateUpdate;
            this.singleMiss = singleMiss;
        }

        static VhostSide of(boolean dropLateUpdate, boolean singleMiss) {
            for (VhostSide v : values()) if (v.dropLateUpdate == dropLateUpdate && v.singleMiss == singleMiss) return v;
            throw new AssertionError();
        }

        public tcesim.vhost.VhostDevice.Fixes fixes() {
            return new tcesim.vhost.VhostDevice.Fixes(dropLateUpdate, singleMiss);
        }
    }

    /** The permission of QEMU's UPDATE ({@link tcesim.qemu.VhostIommu.Answer}). */
    public enum Answer {
        /** IOMMU_RW whatever the TCE allows, as QEMU does. */
        RW("rw"),
        /** The TCE's own permission: IOMMU_RO, IOMMU_WO or IOMMU_RW. */
        TCE_PERM("tce-perm");

        public final String token;

        Answer(String token) { this.token = token; }

        public tcesim.qemu.VhostIommu.Answer glue() {
            return this == RW ? tcesim.qemu.VhostIommu.Answer.RW : tcesim.qemu.VhostIommu.Answer.TCE_PERM;
        }
    }

    /** The guest's NIC. */
    public enum Nic {
        VIRTIO("virtio"),
        /** A VFIO passthrough NIC on the same window (design V): hardware table, PHB cache, KVM's TCE kills. */
        PASSTHROUGH("passthrough");

        public final String token;

        Nic(String token) { this.token = token; }
    }

    /** Today's stack: D0. */
    public static final Mechanisms TODAY = new Mechanisms(Table.KVM, Clear.NONE, VhostSide.TODAY, Answer.RW, Nic.VIRTIO);

    public Mechanisms {
        java.util.Objects.requireNonNull(table, "table");
        java.util.Objects.requireNonNull(clear, "clear");
        java.util.Objects.requireNonNull(vhost, "vhost");
        java.util.Objects.requireNonNull(answer, "answer");
        java.util.Objects.requireNonNull(nic, "nic");
    }

    public Mechanisms withTable(Table t) { return new Mechanisms(t, clear, vhost, answer, nic); }
    public Mechanisms withClear(Clear c) { return new Mechanisms(table, c, vhost, answer, nic); }
    public Mechanisms withVhost(VhostSide v) { return new Mechanisms(table, clear, v, answer, nic); }
    public Mechanisms withAnswer(Answer a) { return new Mechanisms(table, clear, vhost, a, nic); }

    /**
     * Why this combination cannot be built, or null when it can. With the table in QEMU every TCE hypercall exits to
     * QEMU and KVM never sees one, so a clear path through KVM (an exit for H_STUFF_TCE only, an eventfd, a link) has
     * nothing to act on; with the table in KVM, "every call exits" is the table in QEMU under another name. A passthrough
     * NIC has no vhost and no MISS for QEMU to answer.
     */
    public String invalid() {
        if (table == Table.QEMU && clear != Clear.EVERY_EXIT) {
            return "clear path " + clear.token + " is KVM's, but with the table in QEMU (qemu-table) KVM never sees a TCE hypercall: every call exits (every-exit)";
        }
        if (table == Table.KVM && clear == Clear.EVERY_EXIT) {
            return "every-exit means the table in QEMU (qemu-table): with the table in KVM, its in-kernel handlers serve the calls";
        }
        if (nic == Nic.PASSTHROUGH && (table != Table.KVM || clear != Clear.NONE || vhost != VhostSide.TODAY || answer != Answer.RW)) {
            return "passthrough (design V) has no vhost: its TCE kills are VFIO's own, so it takes no other mechanism";
        }
        return null;
    }

    /** Every mechanism's token, in the order table, clear, vhost, answer (and passthrough when it is V's NIC). */
    public String tokens() {
        List<String> t = new ArrayList<>(List.of(table.token, clear.token, vhost.token, answer.token));
        if (nic == Nic.PASSTHROUGH) t.add(nic.token);
        return String.join("+", t);
    }

    /** The tokens one can give {@code --design} (besides D0..V), with what each sets. */
    public static String tokenHelp() {
        return "table: kvm-table, qemu-table (implies every-exit); clear path: no-clear-path, stuff-exit, every-exit (implies qemu-table), eventfd,"
                + " eventfd-ack, link, link-kill; vhost: today, drop-late-update, single-miss; answer: rw, tce-perm; nic: passthrough";
    }

    /**
     * Reads a list of mechanism tokens (separated by {@code +} or {@code ,}, any case), starting from {@code base}
     * and overriding what the tokens set. Throws IllegalArgumentException with a one-line message for an unknown token,
     * two values of one mechanism, or a combination that cannot be built.
     */
    public static Mechanisms parse(Mechanisms base, List<String> tokens, boolean baseGiven) {
        Table table = null;
        Clear clear = null;
        Boolean drop = null, single = null;
        VhostSide vhost = null;
        Answer answer = null;
        Nic nic = null;
        for (String raw : tokens) {
            String t = raw.trim().toLowerCase(Locale.ROOT);
            Table tb = match(t, Table.values(), x -> x.token);
            Clear cl = match(t, Clear.values(), x -> x.token);
            Answer an = match(t, Answer.values(), x -> x.token);
            if (tb != null) {
                table = set("table", table, tb, raw);
            } else if (cl != null) {
                clear = set("clear path", clear, cl, raw);
            } else if (t.equals("today")) {
                vhost = set("vhost", vhost, VhostSide.TODAY, raw);
            } else if (t.equals("drop-late-update")) {
                drop = set("drop-late-update", drop, true, raw);
            } else if (t.equals("single-miss")) {
                single = set("single-miss", single, true, raw);
            } else if (an != null) {
                answer = set("answer", answer, an, raw);
            } else if (t.equals("passthrough")) {
                nic = set("nic", nic, Nic.PASSTHROUGH, raw);
            } else {
                throw new IllegalArgumentException("unknown mechanism '" + raw + "' (" + tokenHelp() + ")");
            }
        }
        if (vhost != null && (drop != null || single != null)) {
            throw new IllegalArgumentException("vhost: 'today' and '" + (drop != null ? "drop-late-update" : "single-miss") + "' exclude each other");
        }
        if (table == Table.QEMU && clear == null) clear = Clear.EVERY_EXIT;
        if (clear == Clear.EVERY_EXIT && table == null) table = Table.QEMU;
        if (!baseGiven) {
            if (table == null && clear != null) table = Table.KVM;
            if (clear == null && table == Table.KVM) clear = Clear.NONE;
        }
        Mechanisms m = base;
        if (table != null) m = m.withTable(table);
        if (clear != null) m = m.withClear(clear);
        if (vhost != null) m = m.withVhost(vhost);
        if (drop != null || single != null) {
            m = m.withVhost(VhostSide.of(drop != null ? drop : m.vhost.dropLateUpdate, single != null ? single : m.vhost.singleMiss));
        }
        if (answer != null) m = m.withAnswer(answer);
        if (nic != null) m = new Mechanisms(m.table, m.clear, m.vhost, m.answer, nic);
        String why = m.invalid();
        if (why != null) throw new IllegalArgumentException(why);
        return m;
    }

    private static <T> T set(String mechanism, T old, T v, String raw) {
        if (old != null && !old.equals(v)) throw new IllegalArgumentException(mechanism + " given twice ('" + raw + "' after another value)");
        return v;
    }

    /**
     * What this combination changes in the real code, one paragraph per mechanism that is not today's, in prose, so
     * that someone could write the patches from it.
     */
    public List<String> patches() {
        List<String> p = new ArrayList<>();
        switch (clear) {
            case NONE -> { }
            case STUFF_EXIT -> p.add("KVM, arch/powerpc/kvm/book3s_64_vio.c (kvmppc_h_stuff_tce) and book3s_64_vio_hv.c (kvmppc_rm_h_stuff_tce):"
                    + " after the ioba and permission checks, return H_TOO_HARD when tce_value is 0, so that the call exits to QEMU, whose"
                    + " h_stuff_tce (hw/ppc/spapr_iommu.c) clears the entries and fires the UNMAP notifier that sends vhost its INVALIDATE"
                    + " (vhost_iommu_unmap_notify, hw/virtio/vhost.c). No new interface.");
            case EVERY_EXIT -> p.add("QEMU, hw/ppc/spapr_iommu.c: treat a vhost IOMMU notifier like VFIO's on a host without"
                    + " KVM_CAP_SPAPR_TCE_VFIO: spapr_tce_notify_flag_changed calls spapr_tce_set_need_vfio(tcet, true) when vhost registers"
                    + " (vhost_iommu_region_add, hw/virtio/vhost.c), which moves the table out of KVM (spapr_tce_table_realize's userspace"
                    + " table), so every TCE hypercall exits to QEMU and each clear fires the UNMAP notifier. No kernel change.");
            case EVENTFD, EVENTFD_ACK -> p.add("KVM, arch/powerpc/kvm/book3s_64_vio.c: a new attribute of the KVM-VFIO device next to"
                    + " KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE (or an ioctl on the TCE table's fd), behind a new capability, by which QEMU gives"
                    + " KVM an eventfd for a LIOBN; kvmppc_h_put_tce, _put_tce_indirect and _stuff_tce collect the entries they clear and,"
                    + " before returning, queue the cleared range and eventfd_signal it; the real-mode handlers (book3s_64_vio_hv.c) return"
                    + " H_TOO_HARD while one is set. QEMU, hw/ppc/spapr_iommu.c: an fd handler reads the ranges and calls the vhost glue"
                    + " (hw/virtio/vhost.c, vhost_backend_invalidate_device_iotlb) for each."
                    + (clear == Clear.EVENTFD_ACK ? " The vCPU waits for QEMU's acknowledgement of its ranges (a second eventfd KVM waits"
                            + " on before the hypercall returns to the guest), so that the clear has reached vhost when the guest goes on." : ""));
            case LINK, LINK_TCE_KILL -> p.add("KVM, arch/powerpc/kvm/book3s_64_vio.c: a new attribute, modelled on"
                    + " KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE and behind a new capability, by which QEMU (vhost_iommu_region_add, hw/virtio/vhost.c)"
                    + " hands KVM the vhost device's fd for a LIOBN; KVM attaches it to the table like an IOMMU group"
                    + " (kvm_spapr_tce_attach_iommu_group) and, before a TCE hypercall returns, invalidates "
                    + (clear == Clear.LINK ? "the range of the entries the call wrote" : "the range of each TCE kill it issues (iommu_tce_kill), as the VFIO path does")
                    + " through a function drivers/vhost/vhost.c exports for it (what vhost_process_iotlb_msg does for an INVALIDATE, under"
                    + " the device and virtqueue mutexes). Those mutexes sleep, so the real-mode handlers (book3s_64_vio_hv.c) return"
                    + " H_TOO_HARD for a table with such a link.");
        }
        if (vhost.dropLateUpdate) {
            p.add("vhost, drivers/vhost/vhost.c: struct vhost_msg_node gets a flag; vhost_process_iotlb_msg, on an INVALIDATE, marks the"
                    + " MISSes on dev->pending_list (read by userspace) whose iova it covers; an UPDATE answers the covered MISS userspace read"
                    + " last (QEMU answers one at a time, in order), and if that one is marked the UPDATE is dropped (nothing inserted,"
                    + " write() still succeeds) and the MISS goes back to read_list unmarked, waking dev->wait so that userspace reads and"
                    + " translates it again: KVM's mmu_invalidate_seq retry against its MMU"
                    + " notifiers, applied to the IOTLB.");
        }
        if (vhost.singleMiss) {
            p.add("vhost, drivers/vhost/vhost.c: vhost_iotlb_miss looks through dev->read_list and dev->pending_list for a MISS of the"
                    + " same virtqueue, iova and access, and queues none when it finds one (the UPDATE answering that one re-kicks the queue).");
        }
        if (answer == Answer.TCE_PERM) {
            p.add("QEMU, softmmu/physmem.c and hw/virtio/vhost.c: address_space_get_iotlb_entry returns the permission of the IOMMU"
                    + " entry (spapr_tce_translate_iommu's, from the TCE's read and write bits) instead of IOMMU_RW, and"
                    + " vhost_device_iotlb_miss passes it to vhost_backend_update_device_iotlb, so that vhost caches a read-only TCE as"
                    + " read-only.");
        }
        if (p.isEmpty()) p.add("Nothing: the stack as it is.");
        return p;
    }

    private static <E> E match(String t, E[] values, java.util.function.Function<E, String> token) {
        for (E e : values) if (token.apply(e).equals(t)) return e;
        return null;
    }
}
