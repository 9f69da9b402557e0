package tcesim.sim;

/**
 * A safety or liveness property broken at some step (spec 03): which property, what access broke it, and
 * the bus address and guest page involved (-1 where they do not apply).
 */
public record Violation(Property property, long step, String actor, String access, String why, long iova, long gpa) implements java.io.Serializable {
    /**
     * The properties the oracles check. Each is named on the command line by what must hold ({@code --until progress});
     * its {@link #label} names what breaking it is, what a person reads when it happens ("stale access found").
     */
    public enum Property {
        /** A device access through a translation the guest's TCE no longer gives. */
        STALE_ACCESS("stale access"),
        /** A device write into a page the guest has not mapped for it (the seed's crash). */
        CORRUPTION("corruption"),
        /** A device access outside the guest's memory. */
        ISOLATION("isolation breach"),
        /** Nothing can run, but the workload is not done: a queue waits for what will never come. */
        PROGRESS("stall"),
        /** KVM, QEMU or vhost reads or writes outside a table, array or buffer it indexes (host memory it does not own). */
        HOST_MEMORY("host memory overrun");

        private final String label;

        Property(String label) { this.label = label; }

        /** What breaking the property is, in words: "stale access", "stall". One spelling in every output of every command. */
        public String label() { return label; }

        /** The name the command line and JSON use: {@code stale_access}, {@code progress}. */
        public String key() { return name().toLowerCase(java.util.Locale.ROOT); }

        /** The property whose {@link #label} is {@code label}, or null. */
        public static Property byLabel(String label) {
            for (Property p : values()) if (p.label.equals(label)) return p;
            return null;
        }
    }
}
