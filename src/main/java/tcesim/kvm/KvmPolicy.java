package tcesim.kvm;

/**
 * The variant of KVM's TCE handlers in force.
 *
 * @param stuffZeroToUserspace the December 2019 patch (design D1): H_STUFF_TCE with a zero value returns
 *     H_TOO_HARD from both handler sets so that QEMU clears the entries and notifies vhost
 * @param planted a fault planted by a mutation test; {@link Planted#NONE} in every real kernel
 */
public record KvmPolicy(boolean stuffZeroToUserspace, Planted planted) {
    public static final KvmPolicy STOCK = new KvmPolicy(false);

    /** Faults no kernel has, planted so that a test can see the oracles catch them. */
    public enum Planted {
        NONE,
        /**
         * {@code kvmppc_ioba_validate}'s upper bound lets a call end one entry past the window (the era's check, first entry
         * or whole range, compared with {@code size + 1}): the handlers then index past the table, which the
         * {@code host_memory} oracle must catch.
         */
        IOBA_BOUND_ONE_PAST
    }

    public KvmPolicy(boolean stuffZeroToUserspace) {
        this(stuffZeroToUserspace, Planted.NONE);
    }

    /** This variant with {@code p} planted. */
    public KvmPolicy planting(Planted p) {
        return new KvmPolicy(stuffZeroToUserspace, p);
    }
}
