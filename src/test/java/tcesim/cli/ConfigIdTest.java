package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import tcesim.guest.FirmwareFeatures;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HostCaps;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

class ConfigIdTest {
    static final StackConfig BASE = StackOptions.small().toConfig();

    /** One change of each setting of the small configuration, by the flag that makes it. */
    static Map<String, UnaryOperator<StackConfig.Builder>> changes() {
        Map<String, UnaryOperator<StackConfig.Builder>> m = new LinkedHashMap<>();
        FirmwareFeatures f = BASE.fw();
        m.put("--design", b -> b.design(Design.D4));
        m.put("--host", b -> b.host(HostCaps.POWERNV8_HV));
        m.put("--host-kernel", b -> b.host(BASE.host().withKernel(HostCaps.HostKernel.K2022)));
        m.put("--qemu", b -> b.qemu(tcesim.qemu.QemuVersion.Q5_2));
        m.put("--max-iotlb-entries", b -> b.maxIotlbEntries(9));
        m.put("--packets", b -> b.rxPackets(3));
        m.put("--tx-packets", b -> b.txPackets(1));
        m.put("--vcpus", b -> b.vcpus(2));
        m.put("--ring-size", b -> b.ringSize(4));
        m.put("--ram-mib", b -> b.ramBytes(32L << 20));
        m.put("--window-kib", b -> b.windowBytes(128L << 10));
        m.put("--packet-bytes", b -> b.packetBytes(1501));
        m.put("--no-stuff-tce", b -> b.fw(new FirmwareFeatures(f.putTceIndirect(), false, f.ddw(), f.clearOnUnmap())));
        m.put("--no-indirect", b -> b.fw(new FirmwareFeatures(false, f.stuffTce(), f.ddw(), f.clearOnUnmap())));
        m.put("--ddw", b -> b.fw(new FirmwareFeatures(f.putTceIndirect(), f.stuffTce(), true, f.clearOnUnmap())));
        m.put("--no-clear", b -> b.fw(new FirmwareFeatures(f.putTceIndirect(), f.stuffTce(), f.ddw(), false)));
        m.put("--no-kernel-churn", b -> b.kernelChurn(true));
        m.put("--rx-revokes", b -> b.rxRevokes(1));
        m.put("--passthrough", b -> b.passthroughPackets(1));
        m.put("--ddw-removal", b -> b.ddwRemoval(StackConfig.DdwRemoval.LINUX));
        m.put("--request-response", b -> b.requestResponse(true));
        m.put("--disk-io", b -> b.diskRequests(1));
        m.put("--guest-page-kib", b -> b.guestPageKib(4));
        m.put("--rx-buffers", b -> b.rxBuffers(VirtioNetDriver.RxBuffers.PAGE));
        m.put("--hostile-guest", b -> b.hostileGuest(true));
        m.put("--zero-size-update", b -> b.faults(StackConfig.Faults.of(StackConfig.Fault.ZERO_SIZE_UPDATE)));
        m.put("--map-past-window-end", b -> b.faults(StackConfig.Faults.of(StackConfig.Fault.MAP_PAST_WINDOW_END)));
        m.put("fault injection", b -> b.faults(StackConfig.Faults.of(StackConfig.Fault.DROP_INVALIDATE)));
        return m;
    }

    @Test
    void everySettingIsInTheIdAndNamedWhenItAloneDiffers() {
        String id = ConfigId.of(BASE);
        assertThat(ConfigId.mismatch(id, BASE)).isNull();
        assertThat(changes().keySet()).as("every setting has a change here").isEqualTo(ConfigId.settings(BASE).keySet());
        changes().forEach((flag, change) -> {
            StackConfig other = change.apply(BASE.toBuilder()).build();
            assertThat(other).as(flag).isNotEqualTo(BASE);
            assertThat(ConfigId.mismatch(id, other)).as(flag).endsWith(": " + flag + " differs; run the replay line as it was printed");
        });
    }

    @Test
    void theIdIsStable() {
        // Replay lines are kept in bug reports: a c1- id must not change between runs, JVMs or versions of tcesim. A change
        // of the settings or of the hash is a new format: a new prefix, so that old ids are named as not this version's.
        assertThat(ConfigId.of(StackConfig.seed())).isEqualTo("c2-41fbcbaa-857d03915eea89d65de22ea9a6984c45574739a3f69675f78c08e21c");
    }
}
