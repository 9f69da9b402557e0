package tcesim.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GuestMemoryTest {

    @Test
    void sixtyFourGiBConstructsWithoutAllocatingPages() {
        GuestMemory m = new GuestMemory(64L << 30);
        assertThat(m.pages()).isEqualTo(16L << 20);
        assertThat(m.pagesBacked()).isZero();
        assertThat(m.readLongBE((64L << 30) - 8)).isZero();
        m.writeLongBE(0x1000, 0);      // zeros allocate nothing
        assertThat(m.pagesBacked()).isZero();
        m.writeLongBE((64L << 30) - 8, -1L);
        assertThat(m.pagesBacked()).isOne();
    }

    @Test
    void sizeValidation() {
        assertThatThrownBy(() -> new GuestMemory(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestMemory(4095)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestMemory((64L << 30) + 4096)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new GuestMemory(4096).ramBytes()).isEqualTo(4096);
    }

    @Test
    void bigEndianRoundTripAndByteOrder() {
        GuestMemory m = new GuestMemory(1 << 20);
        m.writeLongBE(0x100, 0x0102030405060708L);
        assertThat(m.readLongBE(0x100)).isEqualTo(0x0102030405060708L);
        assertThat(m.readByte(0x100)).isEqualTo((byte) 0x01);
        assertThat(m.readByte(0x107)).isEqualTo((byte) 0x08);
        byte[] raw = {(byte) 0x80, 0, 0, 0, 0, 0, 0x12, 0x03};
        m.write(0x200, raw, 0, 8);
        assertThat(m.readLongBE(0x200)).isEqualTo(0x8000000000001203L);
    }

    @Test
    void pageCrossingReadsAndWrites() {
        GuestMemory m = new GuestMemory(1 << 20);
        m.writeLongBE(0x1ffc, 0xa1a2a3a4b1b2b3b4L);
        assertThat(m.readLongBE(0x1ffc)).isEqualTo(0xa1a2a3a4b1b2b3b4L);
        assertThat(m.readByte(0x1fff)).isEqualTo((byte) 0xa4);
        assertThat(m.readByte(0x2000)).isEqualTo((byte) 0xb1);
        assertThat(m.pagesBacked()).isEqualTo(2);
        byte[] src = new byte[3 * 4096 + 10];
        for (int i = 0; i < src.length; i++) src[i] = (byte) (i * 7 + 1);
        m.write(0x10ff8, src, 0, src.length);
        byte[] dst = new byte[src.length + 4];
        m.read(0x10ff8 - 2, dst, 1, src.length + 2);   // two untouched bytes, then the data
        assertThat(dst[0]).isZero();
        assertThat(dst[1]).isZero();
        assertThat(dst[2]).isZero();
        for (int i = 0; i < src.length; i++) assertThat(dst[i + 3]).isEqualTo(src[i]);
        byte[] back = new byte[src.length];
        m.read(0x10ff8, back, 0, src.length);
        assertThat(back).isEqualTo(src);
        byte[] empty = new byte[10];
        m.read(0x50000, empty, 0, 10);
        assertThat(empty).containsOnly((byte) 0);
    }

    @Test
    void containsEdges() {
        long ram = 1 << 20;
        GuestMemory m = new GuestMemory(ram);
        assertThat(m.contains(0, 1)).isTrue();
        assertThat(m.contains(0, ram)).isTrue();
        assertThat(m.contains(0, ram + 1)).isFalse();
        assertThat(m.contains(ram - 1, 1)).isTrue();
        assertThat(m.contains(ram, 1)).isFalse();
        assertThat(m.contains(ram - 8, 8)).isTrue();
        assertThat(m.contains(ram - 7, 8)).isFalse();
        assertThat(m.contains(ram, 0)).isTrue();
        assertThat(m.contains(ram + 1, 0)).isFalse();
        assertThat(m.contains(-1, 1)).isFalse();
        assertThat(m.contains(8, -1)).isFalse();
        assertThat(m.contains(Long.MAX_VALUE, Long.MAX_VALUE)).isFalse();
        assertThat(m.contains(8, Long.MAX_VALUE)).isFalse();
        assertThatThrownBy(() -> m.readLongBE(ram - 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.readByte(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hvaMapping() {
        GuestMemory m = new GuestMemory(1 << 20, 0x10000000L);
        assertThat(m.gpaToHva(0x1234)).isEqualTo(0x10001234L);
        assertThat(m.hvaToGpa(0x10001234L)).isEqualTo(0x1234);
        assertThat(m.containsHva(0x10000000L, 1 << 20)).isTrue();
        assertThat(m.containsHva(0x0fffffffL, 1)).isFalse();
        assertThat(m.containsHva(0x10000000L + (1 << 20), 1)).isFalse();
    }

    @Test
    void littleEndianFieldsPutTheLowByteFirstAndReadBackOnlyTheirWidth() {
        GuestMemory m = new GuestMemory(1 << 20);
        m.writeLE(0x300, 0x1122334455667788L, 8);
        assertThat(m.readByte(0x300)).isEqualTo((byte) 0x88);
        assertThat(m.readByte(0x307)).isEqualTo((byte) 0x11);
        assertThat(m.readLE(0x300, 8)).isEqualTo(0x1122334455667788L);
        assertThat(m.readLE(0x300, 2)).isEqualTo(0x7788L);
        m.writeLE(0x400, 0xffffabcdL, 2);
        assertThat(m.readLE(0x400, 4)).as("only two bytes written").isEqualTo(0xabcdL);
        assertThat(m.readLongBE(0x300)).isEqualTo(0x8877665544332211L);
    }
}
