package tcesim.mem;

/**
 * Told when the host indexes past a table it owns: KVM an entry of the guest's TCE table outside its window or a
 * table page past the end of {@code stt->pages[]}, QEMU an entry past {@code tcet->table[nb_table]}. On the real
 * host that is a read or a write of host memory the component does not own; the model stops short of it and says
 * who did what and which bound it crossed.
 */
@FunctionalInterface
public interface HostMemoryListener {
    /** Nothing listens (handler tests that do not look at host memory). */
    HostMemoryListener NONE = (who, access, bound) -> { };

    /**
     * @param who the component, as the trace names it: "kvm", "qemu"
     * @param access what it did, e.g. "H_PUT_TCE_INDIRECT writes TCE table entry 0x10 (window entry 16)"
     * @param bound the bound it crossed, e.g. "the window has 16 entries (0x0..0xf)"
     */
    void outside(String who, String access, String bound);
}
