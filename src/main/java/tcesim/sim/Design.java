package tcesim.sim;

import tcesim.kvm.KvmPolicy;
import tcesim.qemu.QemuPolicy;

/**
 * The invalidation designs of spec 03, each a configuration of the one model: a design changes only
 * what the real change would touch.
 */
public enum Design {
    D0("as in 2019: table in KVM, in-kernel handlers never notify vhost", KvmPolicy.STOCK, QemuPolicy.STOCK),
    D1("KVM returns H_TOO_HARD from H_STUFF_TCE(0): QEMU clears and invalidates (the Dec 2019 patch)", new KvmPolicy(true), QemuPolicy.STOCK),
    D2("QEMU keeps the table in userspace while vhost's notifier is registered", KvmPolicy.STOCK, new QemuPolicy(true));

    private final String summary;
    private final KvmPolicy kvm;
    private final QemuPolicy qemu;

    Design(String summary, KvmPolicy kvm, QemuPolicy qemu) {
        this.summary = summary;
        this.kvm = kvm;
        this.qemu = qemu;
    }

    public String summary() { return summary; }
    public KvmPolicy kvmPolicy() { return kvm; }
    public QemuPolicy qemuPolicy() { return qemu; }
}
