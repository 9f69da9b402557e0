package tcesim.kvm;

/**
 * Where a hypercall was finally handled: KVM's real-mode handler (no exit from the guest context),
 * KVM's virtual-mode handler (a partial exit to the host kernel), or QEMU after a full exit to
 * userspace ({@code KVM_EXIT_PAPR_HCALL}).
 */
public enum HcallPath {
    REAL_MODE("real mode"), VIRTUAL_MODE("virtual mode"), QEMU("QEMU");

    private final String label;

    HcallPath(String label) { this.label = label; }

    public String label() { return label; }
}
