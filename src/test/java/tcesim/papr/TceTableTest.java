package tcesim.papr;

import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TceTableTest {

    @Test
    void writingZerosAllocatesNothingAndReadsZero() {
        TceTable t = new TceTable(1, 12, 0, 100_000);
        for (long i = 0; i < 100_000; i += 997) t.put(i, 0);
        assertThat(t.allocatedChunks()).isZero();
        assertThat(t.get(5)).isZero();
        assertThat(t.isBacked(5)).isFalse();
    }

    @Test
    void nonZeroInvalidValueAllocatesLikeKvmTcePut() {
        // kvmppc_tce_put allocates for any non-zero value, "not just with read|write permissions".
        TceTable t = new TceTable(1, 12, 0, 100);
        t.put(3, 0x4);
        assertThat(t.allocatedChunks()).isOne();
        assertThat(t.get(3)).isEqualTo(0x4);
    }

    @Test
    void hugeWindowConstructsCheaplyAndCountsOnlyTouchedChunks() {
        // 8 TiB of 4 KiB pages = 2^31 entries.
        long size = (8L << 40) >>> 12;
        TceTable t = new TceTable(0x80000001L, 12, 0, size);
        assertThat(t.size()).isEqualTo(1L << 31);
        assertThat(t.windowBytes()).isEqualTo(8L << 40);
        assertThat(t.allocatedChunks()).isZero();
        t.put(0, 0x1003);
        t.put(1, 0x2003);                         // same chunk
        t.put(TceTable.CHUNK_ENTRIES, 0x3001);    // second chunk
        t.put(size - 1, 0x4002);                  // last chunk
        t.put(size / 2, 0);                       // zero: no allocation
        assertThat(t.allocatedChunks()).isEqualTo(3);
        assertThat(t.get(size - 1)).isEqualTo(0x4002);
        assertThat(t.get(size - 2)).isZero();
        assertThat(t.isBacked(size / 2)).isFalse();
    }

    @Test
    void nonZeroOffsetIsAbsoluteIndexing() {
        TceTable t = new TceTable(7, 16, 1000, 10);
        assertThat(t.contains(999)).isFalse();
        assertThat(t.contains(1000)).isTrue();
        assertThat(t.contains(1009)).isTrue();
        assertThat(t.contains(1010)).isFalse();
        assertThat(t.busOffset()).isEqualTo(1000L << 16);
        t.put(1009, 0x10003);
        assertThat(t.get(1009)).isEqualTo(0x10003);
        assertThat(t.get(1000)).isZero();
    }

    @Test
    void lastPartialChunkIsSizedToTheTable() {
        TceTable t = new TceTable(1, 12, 0, TceTable.CHUNK_ENTRIES + 3);
        t.put(TceTable.CHUNK_ENTRIES + 2, 0x1001);
        assertThat(t.get(TceTable.CHUNK_ENTRIES + 2)).isEqualTo(0x1001);
    }

    @Test
    void geometryValidationNamesTheBadField() {
        assertThat(TceTable.checkGeometry(11, 0, 1)).isEqualTo("page_shift 11 out of range 12..34");
        assertThat(TceTable.checkGeometry(35, 0, 1)).isEqualTo("page_shift 35 out of range 12..34");
        assertThat(TceTable.checkGeometry(12, 0, 0)).startsWith("size 0 out of range 1..");
        assertThat(TceTable.checkGeometry(12, 0, -1)).startsWith("size -1 out of range");
        assertThat(TceTable.checkGeometry(12, 0, TceTable.MAX_ENTRIES + 1)).startsWith("size ");
        assertThat(TceTable.checkGeometry(12, -1, 1)).isEqualTo("offset -1 is negative");
        assertThat(TceTable.checkGeometry(24, 1L << 40, 1)).contains("overflows 64-bit bus addresses at page_shift 24");
        assertThat(TceTable.checkGeometry(12, Long.MAX_VALUE, 1)).contains("overflows");
        // Edges that are valid: both page-shift bounds, a window ending just below 2^63.
        assertThat(TceTable.checkGeometry(12, 0, 1)).isNull();
        assertThat(TceTable.checkGeometry(34, 0, 1)).isNull();
        assertThat(TceTable.checkGeometry(16, (1L << 59) >>> 16, 1 << 20)).isNull();
        assertThat(TceTable.checkGeometry(24, (1L << 39) - 1, 1)).isNull();
        assertThatThrownBy(() -> new TceTable(1, 11, 0, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("page_shift 11 out of range 12..34");
        assertThatThrownBy(() -> new TceTable(1, 12, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("size 0");
    }

    @Test
    void savedStateIsEntriesAndBacking() {
        TceTable a = new TceTable(1, 12, 0, 20_000);
        TceTable b = new TceTable(1, 12, 0, 20_000);
        a.put(5, 0x1003);
        a.put(15_000, 0x2001);
        b.put(15_000, 0x2001);
        b.put(17_000, 0x7003);
        b.put(17_000, 0);        // allocated chunk holding only zeros
        b.put(5, 0x1003);
        // Backing is state: real mode cannot allocate a chunk, so it behaves differently on b.
        assertThat(States.of(a)).isNotEqualTo(States.of(b));
        a.put(17_000, 0x7003);
        a.put(17_000, 0);
        assertThat(States.of(a)).isEqualTo(States.of(b));
        TceTable c = States.copyInto(b, new TceTable(1, 12, 0, 20_000));
        assertThat(c.get(5)).isEqualTo(0x1003);
        assertThat(c.isBacked(17_000)).isTrue();
        assertThat(c.allocatedChunks()).isEqualTo(b.allocatedChunks());
        b.put(5, 0x1001);
        assertThat(States.of(a)).isNotEqualTo(States.of(b));
        a.clearAll();
        assertThat(a.allocatedChunks()).isZero();
        assertThat(a.get(5)).isZero();
    }

    @Test
    void tceBits() {
        assertThat(Tce.valid(0)).isFalse();
        assertThat(Tce.valid(0xfff000)).isFalse();
        assertThat(Tce.valid(0x1001)).isTrue();
        assertThat(Tce.gpa(0x1003)).isEqualTo(0x1000);
        assertThat(Tce.perm(0x1002)).isEqualTo(2);
        assertThat(Tce.make(0x2003, 1)).isEqualTo(0x2001);
        assertThat(Hcall.H_GET_TCE).isEqualTo(0x1C);
        assertThat(Hcall.H_PUT_TCE).isEqualTo(0x20);
        assertThat(Hcall.H_STUFF_TCE).isEqualTo(0x138);
        assertThat(Hcall.H_PUT_TCE_INDIRECT).isEqualTo(0x13C);
        assertThat(Hcall.H_TOO_HARD).isEqualTo(9999);
        assertThat(Hcall.H_PARAMETER).isEqualTo(-4);
    }
}
