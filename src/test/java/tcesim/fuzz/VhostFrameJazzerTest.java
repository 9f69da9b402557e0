package tcesim.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import tcesim.vhost.Errno;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostMsgCodec;

/**
 * Coverage-guided fuzzing (Jazzer) of the vhost fd's write path: arbitrary bytes into
 * {@link VhostMsgCodec#decode} and {@link VhostDevice#write}. Never throws, answers 72, -EINVAL or -EFAULT
 * (decode's errno when decode refuses the frame), and the IOTLB never holds more than max_iotlb_entries.
 *
 * <p>The input: byte 0 is the device (bits 0-2: max_iotlb_entries - 1; bits 3-4: kernel era, current, 2022
 * or pre-2022; bit 5: MSG_V2 acked; bit 6: no ACCESS_PLATFORM, so no IOTLB; bit 7: decode with the ASID
 * feature); then writes, each a length byte and that many bytes (fewer at the end of the input).
 *
 * <p>The normal build replays the inputs in {@code src/test/resources/tcesim/fuzz/VhostFrameJazzerTestInputs/}
 * (regression mode, in seconds); {@code JAZZER_FUZZ=1} fuzzes for {@code maxDuration} and saves any crash
 * there, so it is replayed from then on.
 */
class VhostFrameJazzerTest {
    @FuzzTest(maxDuration = "5m")
    void arbitraryWrites(byte[] input) {
        if (input.length == 0) return;
        int dev0 = input[0] & 0xFF;
        int limit = (dev0 & 7) + 1;
        int era = (dev0 >> 3) & 3;
        VhostDevice.Config config = era == 1 ? VhostDevice.Config.v2022(limit)
                : era == 2 ? VhostDevice.Config.pre2022(limit) : VhostDevice.Config.current(limit);
        VhostDevice dev = new VhostDevice(2, config);
        if ((dev0 & 0x20) != 0) assertEquals(0, dev.setBackendFeatures(VhostDevice.VHOST_NET_BACKEND_FEATURES));
        if ((dev0 & 0x40) == 0) dev.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
        boolean asid = (dev0 & 0x80) != 0;

        for (int at = 1; at < input.length; ) {
            int len = Math.min(input[at++] & 0xFF, input.length - at);
            byte[] buf = Arrays.copyOfRange(input, at, at + len);
            at += len;

            VhostMsgCodec.DecodeResult d = VhostMsgCodec.decode(buf, len, asid);
            if (d instanceof VhostMsgCodec.DecodeResult.Err e) {
                assertTrue(e.errno() == -Errno.EINVAL || e.errno() == -Errno.EFAULT, "decode: " + e);
            } else if (d instanceof VhostMsgCodec.DecodeResult.Ok ok) {
                byte[] again = VhostMsgCodec.encode(ok.version(), ok.asid(), ok.msg());
                assertEquals(d, VhostMsgCodec.decode(again, again.length, asid), "decode(encode(decode(frame)))");
            } else {
                fail("decode returned " + d);
            }

            long rc = dev.write(buf, len);
            assertTrue(rc == VhostMsgCodec.FRAME_SIZE || rc == -Errno.EINVAL || rc == -Errno.EFAULT,
                    () -> "write(" + len + " bytes) returned " + rc);
            VhostMsgCodec.DecodeResult dev2 = VhostMsgCodec.decode(buf, len, false);
            if (dev2 instanceof VhostMsgCodec.DecodeResult.Err e) assertEquals(e.errno(), rc, "write of a frame decode refuses");
            if (dev.iotlb() != null) {
                int n = dev.iotlb().size();
                assertTrue(n <= limit, () -> "IOTLB holds " + n + " entries, max_iotlb_entries " + limit);
            }
        }
    }
}
