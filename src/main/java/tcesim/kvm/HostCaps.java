package tcesim.kvm;

/**
 * What the host kernel offers QEMU, as KVM capabilities (Linux {@code include/uapi/linux/kvm.h}):
 * {@code KVM_CAP_SPAPR_TCE} (63) / {@code KVM_CAP_SPAPR_TCE_64} (125): in-kernel TCE tables;
 * {@code KVM_CAP_SPAPR_TCE_VFIO} (142): hardware tables can be attached to them, reported by HV-KVM on
 * PowerNV hosts only; {@code KVM_CAP_SPAPR_MULTITCE} (94): in-kernel H_PUT_TCE_INDIRECT / H_STUFF_TCE,
 * without which QEMU does not advertise "hcall-multi-tce" to the guest ({@code hw/ppc/spapr.c}).
 *
 * @param spaprTce KVM_CAP_SPAPR_TCE(_64)
 * @param spaprTceVfio KVM_CAP_SPAPR_TCE_VFIO
 * @param multiTce KVM_CAP_SPAPR_MULTITCE
 * @param realModeHandlers the host runs the real-mode TCE handlers first (hash-MMU guests on kernels
 *     before 5.19, "KVM: PPC: Book3s: Retire H_PUT_TCE/etc real mode handlers")
 */
public record HostCaps(boolean spaprTce, boolean spaprTceVfio, boolean multiTce, boolean realModeHandlers) {
    /** A PowerNV host running HV-KVM, as in the seed report (late 2019 kernel). */
    public static final HostCaps POWERNV_HV = new HostCaps(true, true, true, true);
    /** A host kernel that cannot attach hardware tables (e.g. PR-KVM, or a pseries host): no VFIO-TCE capability. */
    public static final HostCaps NO_VFIO_TCE = new HostCaps(true, false, true, true);
    /** No in-kernel TCE acceleration at all (TCG-like): every TCE hypercall exits to QEMU. */
    public static final HostCaps NO_KVM_TCE = new HostCaps(false, false, false, false);
}
