package tcesim.kvm;

/**
 * Told when KVM's handlers index past a table they own: an entry of the guest's TCE table outside its window, or a
 * table page past the end of {@code stt->pages[]}. On the real host that is a read or a write of host memory KVM
 * does not own; the model stops short of it and says what the access was and which bound it crossed.
 */
@FunctionalInterface
public interface HostMemoryListener {
    /** Nothing listens (handler tests that do not look at host memory). */
    HostMemoryListener NONE = (access, bound) -> { };

    /**
     * @param access what KVM did, e.g. "H_PUT_TCE_INDIRECT writes TCE table entry 0x10 (window entry 16)"
     * @param bound the bound it crossed, e.g. "the window has 16 entries (0x0..0xf)"
     */
    void outside(String access, String bound);
}
