package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tcesim.kvm.HostCaps;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

class ScenarioTest {
    /** The YAML blocks of the README. */
    static List<String> readmeExamples() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        List<String> out = new ArrayList<>();
        int i = 0;
        while ((i = readme.indexOf("```yaml\n", i)) >= 0) {
            int end = readme.indexOf("```", i + 8);
            out.add(readme.substring(i + 8, end));
            i = end + 3;
        }
        return out;
    }

    @Test
    void theReadmeExampleLoadsAndRunsAsDocumented(@TempDir Path dir) throws Exception {
        List<String> examples = readmeExamples();
        assertThat(examples).isNotEmpty();
        for (String yaml : examples) {
            Scenario.Loaded l = Scenario.parse("README", yaml);
            assertThat(l.config().design()).isEqualTo(Design.D0);
            assertThat(l.config().maxIotlbEntries()).isEqualTo(32768);
            assertThat(l.seed()).isEqualTo(1);
            Path f = dir.resolve("seed.yaml");
            Files.writeString(f, yaml);
            CliRun r = CliRun.of("repro", "--scenario", f.toString());
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.stdout()).contains("VIOLATION: no stale access").contains("--max-iotlb-entries 32768");
        }
    }

    @Test
    void everyKeyReachesTheConfiguration() throws Exception {
        StackConfig c = Scenario.parse("s", """
                design: D3b
                host: no_vfio_tce
                host_kernel: 2022
                window_kib: 64
                guest:
                  vcpus: 2
                  ram_mib: 32
                  stuff_tce: false
                  put_tce_indirect: false
                  ddw: false
                  clear_on_unmap: false
                  kernel_churn: false
                  rx_revokes: 3
                vhost:
                  max_iotlb_entries: 7
                workload:
                  rx_packets: 11
                  tx_packets: 12
                  packet_bytes: 100
                  ring_size: 8
                  passthrough_packets: 5
                """).config();
        assertThat(c.design()).isEqualTo(Design.D3b);
        assertThat(c.host()).isEqualTo(HostCaps.NO_VFIO_TCE.withKernel(HostCaps.HostKernel.K2022));
        assertThat(c.windowBytes()).isEqualTo(64 << 10);
        assertThat(c.vcpus()).isEqualTo(2);
        assertThat(c.ramBytes()).isEqualTo(32L << 20);
        assertThat(c.fw().stuffTce()).isFalse();
        assertThat(c.fw().putTceIndirect()).isFalse();
        assertThat(c.fw().clearOnUnmap()).isFalse();
        assertThat(c.kernelChurn()).isFalse();
        assertThat(c.rxRevokes()).isEqualTo(3);
        assertThat(c.maxIotlbEntries()).isEqualTo(7);
        assertThat(c.rxPackets()).isEqualTo(11);
        assertThat(c.txPackets()).isEqualTo(12);
        assertThat(c.packetBytes()).isEqualTo(100);
        assertThat(c.ringSize()).isEqualTo(8);
        assertThat(c.passthroughPackets()).isEqualTo(5);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "design: D0\\nguest:\\n  vcpus: 9|s:3: guest.vcpus: must be 1..8, got 9",
            "design: D0\\nvhost:\\n  max_iotlb: 5|s:3: vhost.max_iotlb: unknown key (known here: max_iotlb_entries)",
            "colour: red|s:1: colour: unknown key",
            "design: D9|s:1: design: unknown value 'D9' (one of D0, D1, D2, D3a, D3b, D4, V)",
            "host: vax|s:1: host: unknown value 'vax'",
            "design: D0\\nhost_kernel: 2020|s:2: host_kernel: must be 2019 or 2022, got 2020",
            "host_kernel: 2023|s:1: host_kernel: must be 2019..2022, got 2023",
            "host_kernel: new|s:1: host_kernel: must be a whole number",
            "guest:\\n  ddw: yes please|s:2: guest.ddw: must be true or false",
            "workload:\\n  rx_packets: lots|s:2: workload.rx_packets: must be a whole number",
            "workload:\\n  ring_size: 100|s:2: workload.ring_size: ring-size must be a power of two 2..4096, got 100",
            "window_kib: 96|s:1: window_kib: window must be a power of two",
            "guest: 3|s:1: guest: must be a mapping of keys",
            "seed: -1|s:1: seed: must be 0..",
            "- a\\n- b|s:1: a scenario is a mapping of keys to values",
            "design: [D0|s:1: not valid YAML",
            "guest:\\n  ddw: true\\nworkload:\\n  passthrough_packets: 3|s:4: workload.passthrough_packets: a passthrough device with a DDW guest is not modelled"})
    void badFilesNameTheLineAndTheField(String yaml, String message) {
        assertThatThrownBy(() -> Scenario.parse("s", yaml.replace("\\n", "\n"))).isInstanceOf(Scenario.Invalid.class).hasMessageStartingWith(message);
    }

    @Test
    void anEmptyOrMissingFileIsAClearError(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Scenario.parse("s", "")).hasMessage("s:1: the file is empty");
        assertThatThrownBy(() -> Scenario.load(dir.resolve("nope.yaml"))).hasMessageContaining("cannot read");
        CliRun r = CliRun.of("check", "--scenario", dir.resolve("nope.yaml").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("cannot read").doesNotContain("Exception:");
    }

    @Test
    void commandLineOptionsOverrideTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "design: D2\nhost: no_vfio_tce\nvhost:\n  max_iotlb_entries: 64\nworkload:\n  rx_packets: 40\n  tx_packets: 40\n");
        CliRun r = CliRun.of("repro", "--scenario", f.toString(), "--design", "D1", "--packets", "30");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("design D1").contains("--max-iotlb-entries 64 --packets 30").contains("--host no_vfio_tce");
    }

    @Test
    void hostAndKernelKeysCombineInEitherOrderAndTheCommandLineOverridesEach(@TempDir Path dir) throws Exception {
        assertThat(Scenario.parse("s", "host_kernel: 2022\nhost: powernv8\n").config().host())
                .isEqualTo(HostCaps.POWERNV8_HV.withKernel(HostCaps.HostKernel.K2022));
        assertThat(Scenario.parse("s", "host: powernv8\n").config().host()).isEqualTo(HostCaps.POWERNV8_HV);
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "host: powernv8\nhost_kernel: 2022\nworkload:\n  rx_packets: 20\n  tx_packets: 20\n");
        CliRun r = CliRun.of("repro", "--scenario", f.toString(), "--host", "powernv");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("--host powernv --host-kernel 2022 ");
        r = CliRun.of("repro", "--scenario", f.toString(), "--host-kernel", "2019");
        assertThat(r.stdout()).contains("--host powernv8 ").doesNotContain("--host-kernel");
    }

    @Test
    void jsonIsYamlToo() throws Exception {
        assertThat(Scenario.parse("s.json", "{\"design\": \"D4\", \"vhost\": {\"max_iotlb_entries\": 9}}").config().maxIotlbEntries()).isEqualTo(9);
    }
}
