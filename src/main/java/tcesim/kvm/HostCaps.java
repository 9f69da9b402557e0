package tcesim.kvm;

/**
 * The host as KVM's TCE handlers see it: the KVM capabilities it reports to QEMU, what its real-mode
 * hypercall path does with a TCE hypercall (a matter of CPU and guest MMU), and the era of its kernel.
 *
 * <p>Capabilities (Linux {@code include/uapi/linux/kvm.h}): {@code KVM_CAP_SPAPR_TCE} (63) /
 * {@code KVM_CAP_SPAPR_TCE_64} (125): in-kernel TCE tables; {@code KVM_CAP_SPAPR_TCE_VFIO} (142): hardware
 * tables can be attached to them, reported by {@code kvm_vm_ioctl_check_extension} (arch/powerpc/kvm/powerpc.c) as
 * {@code !!cpu_has_feature(CPU_FTR_HVMODE)}: on any host running in hypervisor mode (bare metal), whichever KVM
 * flavour serves the guest, from v5.0 to v6.14, and on every host again (a pseries KVM host included) from
 * b4392813bbc3 "KVM: PPC: Enable CAP_SPAPR_TCE_VFIO on pSeries KVM Hosts" (v6.15); {@code KVM_CAP_SPAPR_MULTITCE}
 * (94): in-kernel H_PUT_TCE_INDIRECT / H_STUFF_TCE, without which QEMU does not advertise
 * "hcall-multi-tce" to the guest ({@code hw/ppc/spapr.c}).
 *
 * <p>Real mode, by CPU ({@link RealMode}), on kernels that have the real-mode handlers at all:
 * <ul>
 * <li>POWER8, hash MMU guest: the hypercall enters {@code hcall_real_table} (book3s_hv_rmhandlers.S) and
 *     {@code kvmppc_rm_h_put_tce}, {@code kvmppc_rm_h_put_tce_indirect}, {@code kvmppc_rm_h_stuff_tce}
 *     (book3s_64_vio_hv.c) finish what they can: {@link RealMode#HANDLES}.
 * <li>POWER9, radix guest (the POWER9 default): the same three handlers begin with "For radix, we might be
 *     in virtual mode, so punt" ({@code if (kvm_is_radix(vcpu->kvm)) return H_TOO_HARD;}, before the LIOBN
 *     lookup), so every such call is entered in real mode and completed in virtual mode:
 *     {@link RealMode#PUNTS}. The check came with acde25726bc6 "KVM: PPC: Book3S HV: Add radix checks in
 *     real-mode hypercall handlers" and is still in book3s_64_vio_hv.c of late-2019 trees; it went with
 *     "KVM: PPC: Book3S HV: Remove virt mode checks from real mode handlers" (N. Piggin, series of Apr 2021:
 *     "Now that the P7/8 path no longer supports radix"). {@code kvmppc_h_get_tce} ("This can be called in
 *     either virtual mode or real mode") has no such check: H_GET_TCE completes in real mode on both CPUs.
 * <li>No real-mode handler ({@link RealMode#NONE}): the call goes straight to virtual mode.
 * </ul>
 *
 * <p>Kernel era ({@link HostKernel}): {@link HostKernel#K2019} is the seed's (Dec 2019), with the real-mode
 * handlers and the batched TCE kills of "KVM: PPC: Invalidate multiple TCEs at once" (A. Kardashevskiy,
 * Aug 2019); {@link HostKernel#K2022} has "KVM: PPC: Fix TCE handling for VFIO" (A. Kardashevskiy, 6 Apr
 * 2022: one kill per entry, in {@code kvmppc_tce_iommu_map}/{@code _unmap}) and "KVM: PPC: Book3s: Retire
 * H_PUT_TCE/etc real mode handlers" (cad32d9d42e8, v2 of 6 May 2022: "On POWER9 hypercalls trap straight
 * to the virtual mode so the real mode handlers never execute on POWER9 and later CPUs"), so no real mode
 * whatever the CPU. {@link KvmTceHandlers} has the details.
 *
 * @param spaprTce KVM_CAP_SPAPR_TCE(_64)
 * @param spaprTceVfio KVM_CAP_SPAPR_TCE_VFIO
 * @param multiTce KVM_CAP_SPAPR_MULTITCE
 * @param cpuRealMode what the CPU's real-mode path does with H_PUT_TCE / H_PUT_TCE_INDIRECT / H_STUFF_TCE on a
 *     kernel that has the real-mode handlers; {@link #realMode()} is what this host does
 * @param kernel the host kernel's era
 * @param nestedPseries the KVM host is itself a pseries guest (KVM-HV nested under a pseries hypervisor): it runs
 *     its guests' hypercalls in virtual mode, and reports KVM_CAP_SPAPR_TCE_VFIO only from b4392813bbc3 (the current
 *     era), so {@link #withKernel} sets {@code spaprTceVfio} from the era
 */
public record HostCaps(boolean spaprTce, boolean spaprTceVfio, boolean multiTce, RealMode cpuRealMode, HostKernel kernel, boolean nestedPseries)
        implements java.io.Serializable {

    public HostCaps(boolean spaprTce, boolean spaprTceVfio, boolean multiTce, RealMode cpuRealMode, HostKernel kernel) {
        this(spaprTce, spaprTceVfio, multiTce, cpuRealMode, kernel, false);
    }

    /** What the real-mode TCE handlers do with a call. */
    public enum RealMode {
        /** Real mode finishes the call when it can, and hands it to virtual mode (H_TOO_HARD) when it cannot. */
        HANDLES,
        /** Real mode is entered but returns H_TOO_HARD at once for H_PUT_TCE, H_PUT_TCE_INDIRECT and H_STUFF_TCE. */
        PUNTS,
        /** There is no real-mode TCE handler: the call starts in virtual mode. */
        NONE
    }

    /** The host kernel's era, as far as the TCE handlers go. */
    public enum HostKernel {
        /** The seed's: v5.4/v5.5, December 2019. */
        K2019("2019"),
        /**
         * v5.19 (2022): after 26a62b750a4e "KVM: PPC: Fix TCE handling for VFIO" (v5.18, which changed both handler sets)
         * and cad32d9d42e8 "KVM: PPC: Book3s: Retire H_PUT_TCE/etc real mode handlers" (v5.19). On POWER9 the real-mode
         * hcall path was gone from v5.14 (9dc2babc185e); a v5.18 POWER8 host still ran the real-mode handlers, which this
         * era does not model.
         */
        K2022("2022"),
        /** Mainline of late 2026: as 2022, with 0b271f7d7f5e "powerpc/iommu: Fix the overflow validation in iommu_tce_check_ioba". */
        CURRENT("current");

        private final String name;

        HostKernel(String name) { this.name = name; }

        /** The era as users type it: 2019, 2022 or current. */
        public String label() { return name; }

        /** The era named as users type it (2019, 2022 or current); null for any other. */
        public static HostKernel ofYear(String year) {
            for (HostKernel k : values()) if (k.name.equals(year.trim())) return k;
            return null;
        }

        /**
         * {@code kvmppc_ioba_validate} checks every entry a call names. From b1af23d836f8 (v4.12) to 0b271f7d7f5e (2026) it is a macro
         * over {@code iommu_tce_check_ioba()} (arch/powerpc/kernel/iommu.c), which checks the ioba's alignment and that
         * its first entry lies in the window, and ignores npages ({@code if ((ioba + 1) > (offset + size))}): an
         * H_PUT_TCE_INDIRECT or H_STUFF_TCE that starts inside the window and runs past its end is accepted and
         * {@code kvmppc_tce_put} writes the entries past the end ({@code stt->pages[idx / TCES_PER_PAGE]}, past the
         * array once the index passes its last page). The fix checks the whole range (its diff was not available; it
         * is modelled as the whole-range check of the older book3s_64_vio_hv.c function).
         */
        public boolean iobaChecksEveryEntry() { return this == CURRENT; }

        /** 2019: one {@code iommu_tce_kill} per hypercall and table; 2022 and later: one per entry, from map/unmap. */
        public boolean batchedKills() { return this == K2019; }

        /** 2019: book3s_64_vio_hv.c and its {@code hcall_real_table} entries exist; 2022: retired. */
        public boolean realModeHandlers() { return this == K2019; }

        @Override
        public String toString() { return name; }
    }

    /** A POWER9 PowerNV host running HV-KVM with a radix guest on a late-2019 kernel: the seed's host. Real mode punts. */
    public static final HostCaps POWERNV_HV = new HostCaps(true, true, true, RealMode.PUNTS, HostKernel.K2019);
    /** A POWER8 PowerNV host running HV-KVM (hash MMU guest), 2019 kernel: the real-mode handlers do the work. */
    public static final HostCaps POWERNV8_HV = new HostCaps(true, true, true, RealMode.HANDLES, HostKernel.K2019);
    /**
     * A host that does not report KVM_CAP_SPAPR_TCE_VFIO: a kernel older than KVM's in-kernel acceleration for VFIO,
     * or, from v5.0 to v6.14, a KVM host that is itself a pseries guest (not in hypervisor mode); its real-mode
     * handlers work (hash MMU). QEMU then keeps the
     * table of a window with a notifier in userspace ("just like we do for VFIO for older host kernels", the
     * seed thread).
     */
    public static final HostCaps NO_VFIO_TCE = new HostCaps(true, false, true, RealMode.HANDLES, HostKernel.K2019);
    /**
     * A KVM host that is itself a pseries guest (nested KVM-HV on POWER9 or later): in-kernel TCE tables and
     * multi-TCE, no real mode for its guests' hypercalls (they reach it through the L0 hypervisor, in virtual mode),
     * and KVM_CAP_SPAPR_TCE_VFIO only on the current era: before b4392813bbc3 (v6.15) {@code kvm_vm_ioctl_check_extension}
     * reported it only in hypervisor mode ({@code CPU_FTR_HVMODE}), which a pseries guest is not.
     */
    public static final HostCaps NESTED_PSERIES = new HostCaps(true, false, true, RealMode.NONE, HostKernel.K2019, true);
    /** No in-kernel TCE acceleration at all (TCG-like): every TCE hypercall exits to QEMU. */
    public static final HostCaps NO_KVM_TCE = new HostCaps(false, false, false, RealMode.NONE, HostKernel.K2019);

    public HostCaps {
        if (cpuRealMode == null || kernel == null) throw new IllegalArgumentException("real mode and kernel era are required");
    }

    /** The same host with a kernel of era {@code k}. */
    public HostCaps withKernel(HostKernel k) {
        return new HostCaps(spaprTce, nestedPseries ? k == HostKernel.CURRENT : spaprTceVfio, multiTce, cpuRealMode, k, nestedPseries);
    }

    /** What this host's real-mode path does with a TCE hypercall: NONE without in-kernel TCE or on a 2022 kernel. */
    public RealMode realMode() {
        return spaprTce && kernel.realModeHandlers() ? cpuRealMode : RealMode.NONE;
    }

    /**
     * Whether a TCE hypercall enters a real-mode handler before anything else, whichever path completes it:
     * true when real mode handles or punts (a punted call costs a real-mode entry and a virtual-mode one).
     */
    public boolean enteredRealMode() {
        return realMode() != RealMode.NONE;
    }
}
