package tcesim.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fingerprint is XXH64: checked against a byte-wise reference of the algorithm and its published values. */
class StateWriterTest {
    private static final long P1 = 0x9E3779B185EBCA87L, P2 = 0xC2B2AE3D27D4EB4FL, P3 = 0x165667B19E3779F9L, P4 = 0x85EBCA77C2B2AE63L,
            P5 = 0x27D4EB2F165667C5L;

    /** XXH64 (seed 0) of any byte string, written from the algorithm's description, byte tails included. */
    static long xxh64(byte[] b) {
        int i = 0;
        int n = b.length;
        long h;
        if (n >= 32) {
            long v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
            for (; i + 32 <= n; i += 32) {
                v1 = round(v1, le64(b, i));
                v2 = round(v2, le64(b, i + 8));
                v3 = round(v3, le64(b, i + 16));
                v4 = round(v4, le64(b, i + 24));
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            for (long v : new long[] {v1, v2, v3, v4}) h = (h ^ round(0, v)) * P1 + P4;
        } else {
            h = P5;
        }
        h += n;
        for (; i + 8 <= n; i += 8) h = Long.rotateLeft(h ^ round(0, le64(b, i)), 27) * P1 + P4;
        if (i + 4 <= n) {
            h = Long.rotateLeft(h ^ ((le32(b, i) & 0xFFFFFFFFL) * P1), 23) * P2 + P3;
            i += 4;
        }
        for (; i < n; i++) h = Long.rotateLeft(h ^ ((b[i] & 0xFFL) * P5), 11) * P1;
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ (h >>> 32);
    }

    private static long round(long acc, long lane) {
        return Long.rotateLeft(acc + lane * P2, 31) * P1;
    }

    private static long le64(byte[] b, int i) {
        return (le32(b, i) & 0xFFFFFFFFL) | ((long) le32(b, i + 4) << 32);
    }

    private static int le32(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    @Test
    void theReferenceGivesXxh64sPublishedValues() {
        assertThat(xxh64(new byte[0])).isEqualTo(0xEF46DB3751D8E999L);
        assertThat(xxh64("Nobody inspects the spammish repetition".getBytes(StandardCharsets.US_ASCII))).isEqualTo(0xFBCEA83C8A378BF1L);
    }

    @Test
    void theFingerprintIsXxh64OfTheWordsLittleEndian() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n = 0; n <= 40; n++) {
            long[] w = new long[n + 3];
            for (int i = 0; i < w.length; i++) w[i] = r.nextLong();
            byte[] b = new byte[8 * n];
            for (int i = 0; i < n; i++) for (int k = 0; k < 8; k++) b[8 * i + k] = (byte) (w[i + 2] >>> (8 * k));
            assertThat(StateWriter.hash(w, 2, n)).as("%d words", n).isEqualTo(xxh64(b));
        }
    }
}
