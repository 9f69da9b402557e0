package tcesim.sim;

/**
 * A safety or liveness property broken at some step (spec 03): which property, what access broke it, and
 * the bus address and guest page involved (-1 where they do not apply).
 */
public record Violation(Property property, long step, String actor, String access, String why, long iova, long gpa) implements java.io.Serializable {
    public enum Property {
        STALE_ACCESS("no stale access"),
        CORRUPTION("no corruption"),
        ISOLATION("isolation"),
        PROGRESS("progress"),
        /** KVM, QEMU or vhost reads or writes outside a table, array or buffer it indexes (host memory it does not own). */
        HOST_MEMORY("host memory");

        private final String label;

        Property(String label) { this.label = label; }

        public String label() { return label; }
    }
}
