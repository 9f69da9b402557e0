package tcesim.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import tcesim.testutil.Property;

/** {@code -Dtcesim.fuzz.cases} sets how many cases the fuzz properties run (checked by setting it here). */
@ResourceLock("system-properties")
class FuzzBudgetTest {
    static int runWith(String value, double share) {
        String old = System.getProperty(FuzzBudget.PROPERTY);
        try {
            if (value == null) System.clearProperty(FuzzBudget.PROPERTY);
            else System.setProperty(FuzzBudget.PROPERTY, value);
            AtomicInteger n = new AtomicInteger();
            Property.forAll("fuzz-budget", FuzzBudget.share(share), r -> r.nextLong(), x -> n.incrementAndGet());
            return n.get();
        } finally {
            if (old == null) System.clearProperty(FuzzBudget.PROPERTY);
            else System.setProperty(FuzzBudget.PROPERTY, old);
        }
    }

    @Test
    void theBudgetPropertySetsTheCaseCount() {
        if (System.getProperty(Property.SEED_PROPERTY) != null) return; // a replay runs one case
        assertEquals(37, runWith("37", 1.0));
        assertEquals(20, runWith("200", 0.10));
        assertEquals(1, runWith("3", 0.005)); // at least one case
        assertEquals(FuzzBudget.DEFAULT_CASES, runWith(null, 1.0));
        assertEquals(FuzzBudget.DEFAULT_CASES / 4, runWith(null, 0.25));
    }

    @Test
    void aBadBudgetIsAnErrorNotTheDefault() {
        assertThrows(IllegalArgumentException.class, () -> runWith("lots", 1.0));
        assertThrows(IllegalArgumentException.class, () -> runWith("0", 1.0));
        assertThrows(IllegalArgumentException.class, () -> runWith("-5", 1.0));
    }
}
