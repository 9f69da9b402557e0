package tcesim.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tcesim.explore.Campaign;
import tcesim.explore.Checker;
import tcesim.kvm.HostCaps;
import tcesim.sim.Design;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;

/**
 * {@code tcesim bench}: the speed targets, measured here and printed as ratios (never asserted in tests:
 * the machines are shared and noisy).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure checker states/s on the standard small configuration and simulated packets/s on the large one,",
                "and print each against its target (medians of --repeat runs on one core)."})
public final class BenchCommand implements Callable<Integer> {
    /** 10 GbE line rate in 1500-byte frames: 10^10 / ((1500 + 38) * 8) = 812,744 frames/s (38 = Ethernet header, FCS, preamble, inter-frame gap). */
    static final double LINE_RATE_PPS = 1e10 / ((1500 + 38) * 8.0);
    static final double CHECK_TARGET = 1_000_000;
    static final double SIM_TARGET = 10 * LINE_RATE_PPS;

    @Option(names = "--repeat", paramLabel = "N", description = "Runs per measurement (default: ${DEFAULT-VALUE}).")
    int repeat = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (repeat < 1 || repeat > 100) throw new CommandLine.ParameterException(spec.commandLine(), "--repeat must be 1..100");
        PrintWriter out = spec.commandLine().getOut();
        StackConfig small = Design.D2.applyTo(StackOptions.small().toConfig());
        double[] states = new double[repeat];
        long distinct = 0;
        new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null)).run(); // JIT warm-up
        for (int i = 0; i < repeat; i++) {
            long t0 = System.nanoTime();
            Checker.Result r = new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null)).run();
            states[i] = r.distinct() / ((System.nanoTime() - t0) / 1e9);
            distinct = r.distinct();
        }
        double s = median(states);
        out.printf("checker, small configuration (D2, %d distinct states): %.0f distinct states/s; target %.0f: %.4f of target%n",
                distinct, s, CHECK_TARGET, s / CHECK_TARGET);

        StackConfig large = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(20_000).txPackets(20_000).build();
        double[] pps = new double[repeat];
        Campaign.one(large, 0, 10_000_000); // JIT warm-up
        for (int i = 0; i < repeat; i++) {
            long t0 = System.nanoTime();
            Campaign.Run r = Campaign.one(large, i + 1, 10_000_000);
            pps[i] = r.packets() / ((System.nanoTime() - t0) / 1e9);
        }
        double p = median(pps);
        out.printf("simulation, large configuration (seed stack, 1 GiB window, 40000 packets): %.0f packets/s; 10 GbE line rate %.0f packets/s;"
                + " target 10x line rate: %.3f of target (%.2fx line rate)%n", p, LINE_RATE_PPS, p / SIM_TARGET, p / LINE_RATE_PPS);
        out.flush();
        return 0;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
