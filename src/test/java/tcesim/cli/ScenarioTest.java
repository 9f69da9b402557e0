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
            assertThat(r.stdout()).contains("VIOLATION: stale access").contains("--max-iotlb-entries 32768");
        }
    }

    @Test
    void everyKeyReachesTheConfiguration() throws Exception {
        StackConfig c = Scenario.parse("s", """
                design: D3b
                host: no_vfio_tce
                host_kernel: 2022
                qemu: 5.2
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
                  page_kib: 4
                  rx_buffers: page
                vhost:
                  max_iotlb_entries: 7
                workload:
                  rx_packets: 11
                  tx_packets: 12
                  packet_bytes: 100
                  ring_size: 8
                  passthrough_packets: 5
                  disk_requests: 9
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
        assertThat(c.diskRequests()).isEqualTo(9);
        assertThat(c.guestPageKib()).isEqualTo(4);
        assertThat(c.qemu()).isEqualTo(tcesim.qemu.QemuVersion.Q5_2);
        assertThat(StackOptions.argsOf(c)).contains(" --qemu 5.2");
        assertThat(c.rxBuffers()).isEqualTo(tcesim.guest.VirtioNetDriver.RxBuffers.PAGE);
    }

    @Test
    void theGuestsPagesAndBufferLayoutComeFromTheFileOrTheFlagsAndTheReplayLineRebuildsThem() throws Exception {
        StackConfig c = Scenario.parse("s", "guest:\n  page_kib: 4\n  rx_buffers: page\n  hostile: true\n").config();
        assertThat(c.hostileGuest()).isTrue();
        String args = StackOptions.argsOf(c);
        assertThat(args).contains(" --guest-page-kib 4").contains(" --rx-buffers page").contains(" --hostile-guest");
        assertThat(StackOptions.argsOf(StackConfig.seed())).doesNotContain("--guest-page-kib").doesNotContain("--rx-buffers");
        ReproCommand cmd = new ReproCommand();
        new picocli.CommandLine(cmd).parseArgs(args.trim().split(" "));
        assertThat(cmd.stack.toConfig()).isEqualTo(c);
    }

    @Test
    void theDiskComesFromTheFileOrTheFlagAndTheReplayLineRebuildsIt() throws Exception {
        StackConfig c = Scenario.parse("s", "workload:\n  disk_requests: 7\n").config();
        assertThat(c.diskRequests()).isEqualTo(7);
        assertThat(StackConfig.seed().diskRequests()).isZero();
        String args = StackOptions.argsOf(c);
        assertThat(args).contains(" --disk-io 7");
        assertThat(StackOptions.argsOf(StackConfig.seed())).doesNotContain("--disk-io");
        ReproCommand cmd = new ReproCommand();
        new picocli.CommandLine(cmd).parseArgs(args.trim().split(" "));
        assertThat(cmd.stack.toConfig()).isEqualTo(c);
        CliRun bad = CliRun.of("repro", "--disk-io", "-1");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("disk-io must not be negative, got -1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "design: D0\\nguest:\\n  vcpus: 9|s:3: guest.vcpus: must be 1..8, got 9",
            "design: D0\\nvhost:\\n  max_iotlb: 5|s:3: vhost.max_iotlb: unknown key (known here: max_iotlb_entries)",
            "colour: red|s:1: colour: unknown key",
            "design: D9|s:1: design: unknown value 'D9' (one of D0, D1, D2, D3a, D3b, D4, D4k, V)",
            "host: vax|s:1: host: unknown value 'vax'",
            "design: D0\\nhost_kernel: 2020|s:2: host_kernel: must be 2019, 2022 or current, got 2020",
            "host_kernel: 2023|s:1: host_kernel: must be 2019, 2022 or current, got 2023",
            "host_kernel: new|s:1: host_kernel: must be 2019, 2022 or current, got new",
            "host_kernel: [1]|s:1: host_kernel: must be a name or a version",
            "qemu: 6.1|s:1: qemu: must be 4.2, 5.2, 6.0-dev or current, got 6.1",
            "guest:\\n  ddw: yes please|s:2: guest.ddw: must be true or false",
            "workload:\\n  rx_packets: lots|s:2: workload.rx_packets: must be a whole number",
            "workload:\\n  ring_size: 100|s:2: workload.ring_size: ring-size must be a power of two 2..4096, got 100",
            "window_kib: 96|s:1: window_kib: window must be a power of two",
            "guest: 3|s:1: guest: must be a mapping of keys",
            "seed: -1|s:1: seed: must be 0..",
            "- a\\n- b|s:1: a scenario is a mapping of keys to values",
            "design: [D0|s:1: not valid YAML",
            "design: D0\\nguest:\\n\\tvcpus: 2|s:3: not valid YAML: found character '\\t(TAB)' that cannot start any token",
            "design: D0\\nguest:\\n  vcpus: 2\\ndesign: D1|s:4: design: duplicate key (first given on line 1)",
            "guest:\\n  vcpus: 2\\nguest:\\n  ddw: true|s:3: guest: duplicate key (first given on line 1)",
            "guest:\\n  vcpus: 2\\n  vcpus: 3|s:3: guest.vcpus: duplicate key (first given on line 2)",
            "hazard: soon|s:1: hazard: unknown value 'soon' (none, or one of overwrite-without-clear",
            "guest:\\n  ddw: true\\nworkload:\\n  passthrough_packets: 3|s:4: workload.passthrough_packets: a passthrough device with a DDW guest is not modelled",
            "workload:\\n  disk_requests: -3|s:2: workload.disk_requests: must be 0..1099511627776, got -3",
            "workload:\\n  disk_requests: many|s:2: workload.disk_requests: must be a whole number",
            "guest:\\n  page_kib: 8|s:2: guest.page_kib: guest page size must be 4 or 64 KiB, got 8",
            "guest:\\n  rx_buffers: big|s:2: guest.rx_buffers: unknown value 'big'"})
    void badFilesNameTheLineAndTheField(String yaml, String message) {
        String text = yaml.replace("\\n", "\n").replace("\\t", "\t");
        assertThatThrownBy(() -> Scenario.parse("s", text)).isInstanceOf(Scenario.Invalid.class).hasMessageStartingWith(message)
                .satisfies(e -> assertThat(e.getMessage()).as("one line").doesNotContain("\n"));
    }

    @Test
    void aBinaryFileIsNotText(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("s.yaml"), new byte[] {'a', ':', ' ', (byte) 0xc3, 0x28, (byte) 0xff});
        CliRun r = CliRun.of("repro", "--scenario", f.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tcesim repro: " + f + ": not a text (UTF-8) file" + System.lineSeparator());
    }

    /** The small configuration of {@code check}, as a scenario. */
    static final String SMALL = "window_kib: 64\nguest:\n  ram_mib: 16\n  kernel_churn: false\nvhost:\n  max_iotlb_entries: 8\n"
            + "workload:\n  rx_packets: 2\n  tx_packets: 2\n  ring_size: 2\n";

    @Test
    void aHazardInTheFileNarrowsThePropertiesAsTheOptionDoes(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("h.yaml"), "design: D1\nhazard: ro-cached-rw\n" + SMALL);
        assertThat(Scenario.load(f).hazard()).isEqualTo(tcesim.sim.Hazard.RO_CACHED_RW);
        CliRun file = CliRun.of("check", "--scenario", f.toString());
        CliRun flags = CliRun.of("check", "--design", "D1", "--hazard", "ro-cached-rw");
        assertThat(flags.exit()).isEqualTo(1);
        assertThat(flags.stdout()).contains("Error: stale access found");
        assertThat(file.exit()).isEqualTo(flags.exit());
        assertThat(withoutTiming(file.stdout())).isEqualTo(withoutTiming(flags.stdout()));
    }

    @Test
    void aHazardOnTheCommandLineReplacesTheFilesAndNoneRemovesIt(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("h.yaml"), "design: D1\nhazard: ro-cached-rw\n" + SMALL);
        Path plain = Files.writeString(dir.resolve("p.yaml"), "design: D1\n" + SMALL);
        CliRun none = CliRun.of("check", "--scenario", f.toString(), "--hazard", "none");
        CliRun without = CliRun.of("check", "--scenario", plain.toString());
        assertThat(without.exit()).isZero();
        assertThat(none.exit()).isZero();
        assertThat(withoutTiming(none.stdout())).isEqualTo(withoutTiming(without.stdout()));
        // Not both hazards: the file's goes, the command line's comes.
        CliRun other = CliRun.of("check", "--scenario", f.toString(), "--hazard", "overwrite-without-clear");
        CliRun flags = CliRun.of("check", "--design", "D1", "--hazard", "overwrite-without-clear");
        assertThat(flags.exit()).isEqualTo(1);
        assertThat(other.exit()).isEqualTo(1);
        assertThat(withoutTiming(other.stdout())).isEqualTo(withoutTiming(flags.stdout()));
        CliRun table = CliRun.of("check", "--hazards", "--scenario", f.toString());
        assertThat(table.exit()).isEqualTo(2);
        assertThat(table.err()).contains("--hazards checks every hazard").contains("--hazard none");
    }

    static String withoutTiming(String out) {
        return out.lines().filter(l -> !l.startsWith("Finished in")).collect(java.util.stream.Collectors.joining("\n"));
    }

    @Test
    void hazardNoneIsTheDefault() throws Exception {
        Scenario.Loaded none = Scenario.parse("s", "hazard: none\n" + SMALL);
        assertThat(none.hazard()).isNull();
        assertThat(none.config()).isEqualTo(Scenario.parse("s", SMALL).config());
    }

    @Test
    void anEmptyOrMissingFileIsAClearError(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> Scenario.parse("s", "")).hasMessage("s:1: the file is empty");
        assertThatThrownBy(() -> Scenario.load(dir.resolve("nope.yaml"))).hasMessageEndingWith("nope.yaml: no such file");
        CliRun r = CliRun.of("check", "--scenario", dir.resolve("nope.yaml").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("nope.yaml: no such file").doesNotContain("Exception").doesNotContain("Usage:");
    }

    @Test
    void commandLineOptionsOverrideTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "design: D2\nhost: powernv8\nvhost:\n  max_iotlb_entries: 64\nworkload:\n  rx_packets: 40\n  tx_packets: 40\n");
        CliRun r = CliRun.of("repro", "--scenario", f.toString(), "--design", "D1", "--packets", "30");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("design D1").contains("--max-iotlb-entries 64 --packets 30").contains("--host powernv8");
    }

    @Test
    void hostAndKernelKeysCombineInEitherOrderAndTheCommandLineOverridesEach(@TempDir Path dir) throws Exception {
        assertThat(Scenario.parse("s", "host_kernel: 2022\nhost: powernv8\n").config().host())
                .isEqualTo(HostCaps.POWERNV8_HV.withKernel(HostCaps.HostKernel.K2022));
        assertThat(Scenario.parse("s", "host: powernv8\n").config().host()).isEqualTo(HostCaps.POWERNV8_HV);
        assertThat(Scenario.parse("s", "host_kernel: current\n").config().host().kernel()).isEqualTo(HostCaps.HostKernel.CURRENT);
        Path f = dir.resolve("s.yaml");
        Files.writeString(f, "host: powernv8\nhost_kernel: 2022\nworkload:\n  rx_packets: 20\n  tx_packets: 20\n");
        CliRun r = CliRun.of("repro", "--scenario", f.toString(), "--host", "powernv");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("--host powernv --host-kernel 2022 ");
        r = CliRun.of("repro", "--scenario", f.toString(), "--host-kernel", "2019");
        assertThat(r.stdout()).contains("--host powernv8 ").doesNotContain("--host-kernel");
        r = CliRun.of("repro", "--scenario", f.toString(), "--host-kernel", "current");
        assertThat(r.stdout()).contains("--host powernv8 --host-kernel current ");
    }

    @Test
    void jsonIsYamlToo() throws Exception {
        assertThat(Scenario.parse("s.json", "{\"design\": \"D4\", \"vhost\": {\"max_iotlb_entries\": 9}}").config().maxIotlbEntries()).isEqualTo(9);
    }

    @Test
    void aliasesAndASecondDocumentAreRefusedAtTheirLine() {
        assertThatThrownBy(() -> Scenario.parse("s", "design: &d D2\nhost: *d\n")).hasMessage("s:2: a YAML alias (*name): not supported in a scenario; write the value out");
        assertThatThrownBy(() -> Scenario.parse("s", "design: D2\n---\ndesign: D4\n")).hasMessage("s:2: a second YAML document: a scenario file holds one");
    }

    @Test
    void aFileTooLargeForAScenarioIsRefusedWithoutReadingItAll(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("big.yaml");
        Files.writeString(big, "# padding\n".repeat(Scenario.MAX_BYTES / 10 + 1) + "design: D2\n");
        BadInputTest.badContent("tcesim repro: " + big + ": more than 64 KiB: too large for a scenario file (a scenario is a few hundred bytes)",
                "repro", "--scenario", big.toString());
        Path endless = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(endless));
        BadInputTest.badContent("tcesim repro: /dev/zero: more than 64 KiB: too large for a scenario file", "repro", "--scenario", "/dev/zero");
    }
}
