package tcesim.papr;

/**
 * sPAPR hypercall numbers and return codes used by the TCE interface.
 *
 * <p>Models {@code arch/powerpc/include/asm/hvcall.h} (Linux). The opcodes are the values a guest puts
 * in r3 before {@code sc 1}; arguments follow in r4..r7; the return code comes back in r3 and
 * H_GET_TCE's entry in r4.
 *
 * <p>Values (hvcall.h): H_SUCCESS 0, H_HARDWARE -1, H_FUNCTION -2, H_PARAMETER -4; H_GET_TCE 0x1C,
 * H_PUT_TCE 0x20, H_STUFF_TCE 0x138, H_PUT_TCE_INDIRECT 0x13C. H_TOO_HARD (9999) is KVM-internal
 * (same header, "#define H_TOO_HARD 9999"): a handler returns it to hand the call to the next level
 * (real mode to virtual mode to userspace) and the guest never sees it.
 */
public final class Hcall {
    private Hcall() {}

    // Opcodes.
    public static final long H_GET_TCE = 0x1C;
    public static final long H_PUT_TCE = 0x20;
    public static final long H_STUFF_TCE = 0x138;
    public static final long H_PUT_TCE_INDIRECT = 0x13C;

    // Return codes.
    public static final long H_SUCCESS = 0;
    public static final long H_HARDWARE = -1;
    public static final long H_FUNCTION = -2;
    public static final long H_PARAMETER = -4;
    public static final long H_TOO_HARD = 9999;
    /** hvcall.h: -44. The one error that makes a pseries guest's TCE builders fail a mapping; no TCE handler modelled returns it. */
    public static final long H_NOT_ENOUGH_RESOURCES = -44;

    /** The largest list H_PUT_TCE_INDIRECT accepts: one 4 KiB page of 8-byte TCEs (PAPR; both KVM and QEMU check {@code npages > 512}). */
    public static final int MAX_INDIRECT_TCES = 512;
    /** The TCE list of H_PUT_TCE_INDIRECT must be 4 KiB aligned (KVM: {@code tce_list & (SZ_4K - 1)}; QEMU: {@code SPAPR_TCE_PAGE_MASK}). */
    public static final long TCE_LIST_ALIGN = 4096;

    public static String opcodeName(long opcode) {
        if (opcode == H_GET_TCE) return "H_GET_TCE";
        if (opcode == H_PUT_TCE) return "H_PUT_TCE";
        if (opcode == H_STUFF_TCE) return "H_STUFF_TCE";
        if (opcode == H_PUT_TCE_INDIRECT) return "H_PUT_TCE_INDIRECT";
        return String.format("hcall(0x%x)", opcode);
    }

    public static String returnName(long rc) {
        if (rc == H_SUCCESS) return "H_SUCCESS";
        if (rc == H_HARDWARE) return "H_HARDWARE";
        if (rc == H_FUNCTION) return "H_FUNCTION";
        if (rc == H_PARAMETER) return "H_PARAMETER";
        if (rc == H_TOO_HARD) return "H_TOO_HARD";
        return Long.toString(rc);
    }

    /** True for the four TCE hypercalls this model implements. */
    public static boolean isTceHcall(long opcode) {
        return opcode == H_GET_TCE || opcode == H_PUT_TCE || opcode == H_STUFF_TCE || opcode == H_PUT_TCE_INDIRECT;
    }
}
