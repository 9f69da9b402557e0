package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every option takes effect or is refused with one line and exit 2; nothing is dropped without a word. */
class IgnoredOptionsTest {
    /** Refused: exit 2, the message in one line, nothing run. */
    static CliRun refused(String message, String... args) {
        CliRun r = BadInputTest.badContent(message, args);
        assertThat(r.stdout()).as(String.join(" ", args)).isEmpty();
        return r;
    }

    @Test
    void aTableRefusesWhatItSetsItself() {
        for (String flag : new String[] {"--ddw", "--no-stuff-tce", "--no-indirect", "--no-clear"}) {
            refused("tcesim check: --all goes over every design and guest variant: leave out " + flag + " (it would be ignored)", "check", "--all", flag);
        }
        refused("leave out --design, --ddw (it would be ignored)", "check", "--all", "--design", "D4", "--ddw");
        refused("leave out --hazard (check one hazard under every design with --hazards)", "check", "--all", "--hazard", "ro-cached-rw");
        refused("tcesim check: --hazards goes over every design: leave out --design (it would be ignored)", "check", "--hazards", "--design", "D2");
        refused("leave out --config-id (the id is for one configuration)", "check", "--hazards", "--config-id", "c2-00");
        refused("--hazards goes over every design: leave out --properties (each hazard is judged by its own properties", "check", "--hazards", "--properties", "corruption");
    }

    @Test
    void aScenarioFileCannotSetWhatATableGoesOver(@TempDir Path dir) throws Exception {
        Path design = java.nio.file.Files.writeString(dir.resolve("d.yaml"), "design: D4\n");
        refused("--all goes over every design and guest variant: the scenario file's design D4 would be ignored", "check", "--all", "--scenario", design.toString());
        Path guest = java.nio.file.Files.writeString(dir.resolve("g.yaml"), "guest:\n  stuff_tce: false\n");
        refused("--all goes over every guest variant: the scenario file's guest features would be ignored", "check", "--all", "--scenario", guest.toString());
    }

    @Test
    void reproRefusesOptionsThatOneRunOrManySeedsCannotUse(@TempDir Path dir) {
        refused("tcesim repro: --choices replays one run, choice by choice: leave out --seeds (a seed chooses instead of them)", "repro", "--choices", "0,1", "--seeds", "3");
        refused("tcesim repro: --choices replays one run, choice by choice: leave out --seed", "repro", "--choices", "0,1", "--seed", "3");
        refused("tcesim repro: --html writes the timeline of one run: with --seeds 2, give the seed to draw with --seed S",
                "repro", "--html", dir.toString(), "--seeds", "2", "--packets", "10");
        assertThat(dir.resolve("repro.html")).doesNotExist();
    }

    @Test
    void benchRefusesTheOptionsOfAModeItDoesNotRun() {
        refused("tcesim bench: --walks goes with --independence: leave it out (it would be ignored)", "bench", "--walks", "10");
        refused("tcesim bench: --seed goes with --independence: leave it out (it would be ignored)", "bench", "--bounds", "--seed", "3");
        refused("tcesim bench: --max-states goes with --bounds: leave it out (it would be ignored)", "bench", "--independence", "--max-states", "5");
        refused("tcesim bench: --independence times nothing: leave out --repeat (it would be ignored)", "bench", "--independence", "--repeat", "3");
        refused("tcesim bench: --independence times nothing: leave out --warmup (it would be ignored)", "bench", "--independence", "--warmup", "0");
    }

    @Test
    void ddwRemovalNeedsADdwGuest() {
        for (String cmd : new String[] {"repro", "check", "campaign"}) {
            refused("tcesim " + cmd + ": ddw-removal linux needs a DDW guest (--ddw): a guest without one has no 64-bit window to give back", cmd, "--ddw-removal", "linux");
        }
        CliRun r = CliRun.of("repro", "--ddw", "--ddw-removal", "linux", "--packets", "20");
        assertThat(r.exit()).as(r.err()).isIn(0, 1);
        assertThat(r.stdout()).contains("--ddw --ddw-removal linux");
    }

    @Test
    void aDesignInKvmIsRefusedOnAHostWhereTheTableIsNotInKvm() {
        for (String d : new String[] {"D1", "D3a", "D3b", "D4", "D4k"}) {
            refused("tcesim repro: --design " + d + " changes KVM's TCE handling, but this host has no in-kernel TCE (no KVM_CAP_SPAPR_TCE): every TCE hypercall goes to QEMU (host no_kvm_tce)",
                    "repro", "--design", d, "--host", "no_kvm_tce");
            refused("tcesim check: --design " + d + " changes KVM's TCE handling, but this host does not report KVM_CAP_SPAPR_TCE_VFIO: QEMU moves the table to userspace",
                    "check", "--design", d, "--host", "no_vfio_tce");
        }
        refused("tcesim compare: --designs: D4 changes KVM's TCE handling", "compare", "--designs", "D0,D4", "--host", "no_kvm_tce");
        for (String d : new String[] {"D0", "D2", "V"}) {
            CliRun r = CliRun.of("repro", "--design", d, "--host", "no_kvm_tce", "--packets", "10");
            assertThat(r.exit()).as(d).isZero();
        }
    }

    @Test
    void aTableLeavesOutTheDesignsTheHostCannotHaveAndSaysSo() throws Exception {
        JsonNode all = new ObjectMapper().readTree(CliRun.of("check", "--all", "--host", "no_kvm_tce", "--max-states", "1", "--json").stdout());
        assertThat(all.get("leftOut").asText()).isEqualTo("D1, D3a, D3b, D4, D4k left out: they change KVM's TCE handling, but this host has no in-kernel TCE"
                + " (no KVM_CAP_SPAPR_TCE): every TCE hypercall goes to QEMU");
        List<String> designs = new ArrayList<>();
        for (JsonNode row : all.get("results")) if (!designs.contains(row.get("design").asText())) designs.add(row.get("design").asText());
        assertThat(designs).containsExactly("D0", "D2", "V");
        CliRun hazards = CliRun.of("check", "--hazards", "--host", "no_vfio_tce", "--max-states", "1");
        assertThat(hazards.stdout().lines().findFirst().orElseThrow()).isEqualTo("host no_vfio_tce, host kernel 2019, QEMU 4.2");
        assertThat(hazards.stdout().lines().skip(1).findFirst().orElseThrow()).startsWith("D1, D3a, D3b, D4, D4k left out: they change KVM's TCE handling, but this host does not report KVM_CAP_SPAPR_TCE_VFIO");
        assertThat(hazards.stdout()).doesNotContain(" D4 ").contains(" D2 ");
    }

    @Test
    void designVIsAPassthroughNicInPlaceOfVirtioNet() {
        refused("tcesim repro: --design V puts the guest's traffic on a passthrough NIC: --passthrough 0 leaves it none", "repro", "--design", "V", "--passthrough", "0");
        refused("tcesim repro: --design V has no virtio-net NIC: its passthrough NIC carries 6 packets (--passthrough), and --packets/--tx-packets would carry nothing",
                "repro", "--design", "V", "--passthrough", "6", "--packets", "4");
        CliRun own = CliRun.of("repro", "--design", "V", "--passthrough", "6");
        assertThat(own.exit()).isZero();
        assertThat(own.stdout()).contains("--packets 0 --vcpus 1 --passthrough 6 ").contains(" 0 RX and 0 TX packets through vhost");
        CliRun moved = CliRun.of("repro", "--design", "V", "--packets", "3");
        assertThat(moved.exit()).isZero();
        assertThat(moved.stdout()).as("the RX and TX packets, on the passthrough NIC").contains("--packets 0 --vcpus 1 --passthrough 6 ");
        assertThat(CliRun.of("repro", "--design", "V", "--packets", "0", "--passthrough", "6").exit()).as("the form replay lines print").isZero();
    }

    @Test
    void aScenarioOfDesignVHasOneCount() throws Exception {
        assertThatThrownBy(() -> Scenario.parse("s", "design: V\nworkload:\n  passthrough_packets: 0\n"))
                .hasMessage("s:3: workload.passthrough_packets: design V puts the traffic on a passthrough NIC: 0 leaves it none");
        assertThatThrownBy(() -> Scenario.parse("s", "design: V\nworkload:\n  rx_packets: 4\n  passthrough_packets: 6\n"))
                .hasMessageStartingWith("s:4: workload.passthrough_packets: design V has no virtio-net NIC");
        assertThat(Scenario.parse("s", "design: V\nworkload:\n  passthrough_packets: 6\n").config().passthroughPackets()).isEqualTo(6);
    }

    /** check's small configuration has no kernel churn: --no-kernel-churn keeps it so, --kernel-churn adds it, as in repro. */
    @Test
    void kernelChurnFlagsMeanTheSameWhateverTheCommandsDefault() {
        String plain = ReplayTest.replayLines(CliRun.of("check", "--design", "D0").stdout()).get(0);
        String no = ReplayTest.replayLines(CliRun.of("check", "--design", "D0", "--no-kernel-churn").stdout()).get(0);
        assertThat(no).isEqualTo(plain).contains(" --no-kernel-churn ");
        String churn = ReplayTest.replayLines(CliRun.of("check", "--design", "D0", "--kernel-churn").stdout()).get(0);
        assertThat(churn).doesNotContain("--no-kernel-churn");
        assertThat(ReplayTest.replay(churn).property()).isEqualTo("stale access");
        CliRun repro = CliRun.of("repro", "--no-kernel-churn", "--max-steps", "0");
        assertThat(repro.stdout()).contains(" --no-kernel-churn ");
        assertThat(CliRun.of("repro", "--kernel-churn", "--max-steps", "0").stdout()).doesNotContain("--no-kernel-churn");
    }
}
