package tcesim.guest;

import tcesim.papr.HcallRegs;

/** What the guest kernel sees of the hypervisor: the {@code sc 1} instruction with the PAPR register convention. */
public interface Hypervisor {
    /** Executes the hypercall whose opcode and arguments are in {@code regs}; the return code comes back in r3, a value in r4. */
    void hcall(HcallRegs regs);
}
