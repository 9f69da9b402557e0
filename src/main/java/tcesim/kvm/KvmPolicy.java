package tcesim.kvm;

/**
 * The variant of KVM's TCE handlers in force.
 *
 * @param stuffZeroToUserspace the December 2019 patch (design D1): H_STUFF_TCE with a zero value returns
 *     H_TOO_HARD from both handler sets so that QEMU clears the entries and notifies vhost
 */
public record KvmPolicy(boolean stuffZeroToUserspace) {
    public static final KvmPolicy STOCK = new KvmPolicy(false);
}
