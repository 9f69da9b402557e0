package tcesim.vfio;

import java.util.List;
import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;

class HwTceTableTest {
    private static final long BASE = HwTceTable.DEFAULT_HPA_BASE;

    private static HwTceTable table() {
        // 256 entries of 4 KiB starting at entry 0x100 (bus 0x100000).
        return new HwTceTable(0x80000000L, 12, 0x100, 256, BASE);
    }

    @Test
    void exchangeReturnsThePreviousEntryAndStoresHpaOrPerm() {
        HwTceTable t = table();
        assertThat(t.exchangeGpa(0x105, 0x3000, (int) Tce.READ)).isZero();
        assertThat(t.get(0x105)).isEqualTo((BASE + 0x3000) | Tce.READ);
        long old = t.exchangeGpa(0x105, 0x7000, (int) (Tce.READ | Tce.WRITE));
        assertThat(old).isEqualTo((BASE + 0x3000) | Tce.READ);
        assertThat(t.get(0x105)).isEqualTo((BASE + 0x7000) | 3);
        // Clearing ignores the address and returns the last mapping.
        assertThat(t.exchange(0x105, 0xdead000, 0)).isEqualTo((BASE + 0x7000) | 3);
        assertThat(t.get(0x105)).isZero();
        assertThat(t.exchanges()).isEqualTo(3);
    }

    @Test
    void hostPhysicalTranslationIsTheFixedRamBlock() {
        HwTceTable t = table();
        assertThat(t.toHpa(0x1234000)).isEqualTo(BASE + 0x1234000);
        assertThat(t.toGpa(t.toHpa(0x1234000))).isEqualTo(0x1234000);
    }

    @Test
    void writeImpliesReadInTheHardwareEntry() {
        HwTceTable t = table();
        t.exchangeGpa(0x100, 0x1000, (int) Tce.WRITE);
        assertThat(Tce.perm(t.get(0x100))).isEqualTo(3);
        assertThat(HwTceTable.hwPerm((int) Tce.WRITE)).isEqualTo(3);
        assertThat(HwTceTable.hwPerm((int) Tce.READ)).isEqualTo(1);
        assertThat(HwTceTable.hwPerm(0)).isZero();
    }

    @Test
    void clearingAnUntouchedEntryAllocatesNothing() {
        HwTceTable t = table();
        assertThat(t.exchange(0x1ff, 0, 0)).isZero();
        assertThat(t.allocatedChunks()).isZero();
        t.exchangeGpa(0x1ff, 0x1000, 1);
        assertThat(t.allocatedChunks()).isEqualTo(1);
    }

    @Test
    void rejectsIndicesOutsideTheWindowAndMisalignedAddresses() {
        HwTceTable t = table();
        assertThatThrownBy(() -> t.get(0xff)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> t.exchange(0x200, BASE, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> t.exchange(0x100, BASE + 0x800, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(t.contains(0x100)).isTrue();
        assertThat(t.contains(0x1ff)).isTrue();
        assertThat(t.contains(0x200)).isFalse();
    }

    @Test
    void matchingCopiesTheGuestWindowGeometry() {
        TceTable guest = new TceTable(0x80000001L, 16, 1L << 43, 4096);
        HwTceTable t = HwTceTable.matching(guest);
        assertThat(t.pageShift()).isEqualTo(16);
        assertThat(t.offset()).isEqualTo(1L << 43);
        assertThat(t.size()).isEqualTo(4096);
        assertThat(t.hpaBase()).isEqualTo(BASE);
    }

    @Test
    void savedStateFollowsTheEntriesNotTheHistory() {
        HwTceTable a = table();
        HwTceTable b = table();
        List<Long> empty = States.of(a);
        assertThat(States.of(b)).isEqualTo(empty);
        a.exchangeGpa(0x110, 0x5000, 3);
        assertThat(States.of(a)).isNotEqualTo(empty);
        b.exchangeGpa(0x110, 0x6000, 3);
        assertThat(States.of(b)).isNotEqualTo(States.of(a));
        b.exchangeGpa(0x110, 0x5000, 3);
        assertThat(States.of(b)).isEqualTo(States.of(a));
        a.exchange(0x110, 0, 0);
        assertThat(a.get(0x110)).isZero();
        assertThat(States.copyInto(b, table()).get(0x110)).isEqualTo(b.get(0x110));
    }
}
