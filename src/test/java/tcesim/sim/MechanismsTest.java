package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Designs as combinations of mechanisms: the named ones, and how a combination is spelt. */
class MechanismsTest {
    @Test
    void eachNamedDesignIsItsCombinationSpeltOut() {
        for (Design d : Design.values()) {
            assertThat(Design.parse(d.mechanisms().tokens())).as("%s", d).isSameAs(d);
            assertThat(Design.of(d.mechanisms())).isSameAs(d);
            assertThat(Design.parse(d.name().toLowerCase(java.util.Locale.ROOT))).isSameAs(d);
        }
        assertThat(Design.parse("kvm-table,link")).isSameAs(Design.D4);
        assertThat(Design.parse("qemu-table")).isSameAs(Design.D2);
        assertThat(Design.parse("every-exit")).isSameAs(Design.D2);
        assertThat(Design.parse("stuff-exit")).isSameAs(Design.D1);
        assertThat(Design.parse("D4+today+rw")).isSameAs(Design.D4);
    }

    @Test
    void theNamedDesignsKeepTheirPoliciesAndLinks() {
        assertThat(Design.D1.kvmPolicy().stuffZeroToUserspace()).isTrue();
        assertThat(Design.D2.qemuPolicy().vhostForcesUserspaceTable()).isTrue();
        assertThat(Design.D3a.link()).isEqualTo(Design.Link.EVENTFD_ASYNC);
        assertThat(Design.D3b.link()).isEqualTo(Design.Link.EVENTFD_SYNC);
        assertThat(Design.D4.link()).isEqualTo(Design.Link.VHOST_LINK);
        assertThat(Design.D4k.link()).isEqualTo(Design.Link.VHOST_LINK_TCE_KILL);
        assertThat(Design.V.passthrough()).isTrue();
        for (Design d : Design.values()) assertThat(d.mechanisms().vhost()).isEqualTo(Mechanisms.VhostSide.TODAY);
    }

    @Test
    void aCombinationIsNamedAfterItsTableAndClearPath() {
        Design d = Design.parse("kvm-table,link,drop-late-update,tce-perm");
        assertThat(d.name()).isEqualTo("D4+drop-late-update+tce-perm");
        assertThat(d.named()).isFalse();
        assertThat(Design.parse("D4+tce-perm+drop-late-update")).isEqualTo(d).hasSameHashCodeAs(d);
        assertThat(Design.parse(d.name())).isEqualTo(d);
        assertThat(d.mechanisms().vhost()).isEqualTo(Mechanisms.VhostSide.DROP_LATE_UPDATE);
        assertThat(Design.parse("D2+single-miss+drop-late-update").mechanisms().vhost()).isEqualTo(Mechanisms.VhostSide.BOTH);
        assertThat(d.compareTo(Design.V)).isPositive();
    }

    @Test
    void combinationsThatCannotBeBuiltAreRefusedWithTheReason() {
        assertThatThrownBy(() -> Design.parse("qemu-table+link")).hasMessageContaining("KVM never sees a TCE hypercall");
        assertThatThrownBy(() -> Design.parse("kvm-table+every-exit")).hasMessageContaining("every-exit means the table in QEMU");
        assertThatThrownBy(() -> Design.parse("V+drop-late-update")).hasMessageContaining("no vhost");
        assertThatThrownBy(() -> Design.parse("link+eventfd")).hasMessageContaining("clear path given twice");
        assertThatThrownBy(() -> Design.parse("today+single-miss")).hasMessageContaining("exclude each other");
        assertThatThrownBy(() -> Design.parse("D4+frobnicate")).hasMessageContaining("unknown mechanism 'frobnicate'");
        assertThatThrownBy(() -> Design.parse("D4++tce-perm")).hasMessageContaining("empty mechanism");
    }

    @Test
    void aCombinationReadBackFromAWorkerIsEqualAndANamedOneIsTheConstant() throws Exception {
        for (Design d : new Design[] {Design.D3b, Design.parse("D4+single-miss")}) {
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(b)) {
                o.writeObject(d);
            }
            Object back = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(b.toByteArray())).readObject();
            assertThat(back).isEqualTo(d);
            if (d.named()) assertThat(back).isSameAs(d);
        }
    }
}
