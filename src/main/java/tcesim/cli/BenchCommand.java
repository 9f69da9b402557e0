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
                "and print each against its target: medians of --repeat runs on one core, after a warm-up, timed by the",
                "thread's CPU time (so that other load on a shared machine does not count) and by the wall clock; then a campaign",
                "of the large configuration on every core, timed by the wall clock."})
public final class BenchCommand implements Callable<Integer> {
    /** 10 GbE line rate in 1500-byte frames: 10^10 / ((1500 + 38) * 8) = 812,744 frames/s (38 = Ethernet header, FCS, preamble, inter-frame gap). */
    static final double LINE_RATE_PPS = 1e10 / ((1500 + 38) * 8.0);
    static final double CHECK_TARGET = 1_000_000;
    static final double SIM_TARGET = 10 * LINE_RATE_PPS;

    @Option(names = "--repeat", paramLabel = "N", description = "Runs per measurement (default: ${DEFAULT-VALUE}).")
    int repeat = 5;

    @Option(names = "--warmup", paramLabel = "SECONDS", description = "Warm-up time before each measurement, at least 3 runs (default: ${DEFAULT-VALUE}).")
    int warmup = 5;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (repeat < 1 || repeat > 100) throw new CommandLine.ParameterException(spec.commandLine(), "--repeat must be 1..100");
        if (warmup < 0 || warmup > 600) throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be 0..600 seconds");
        PrintWriter out = spec.commandLine().getOut();
        StackConfig small = Design.D2.applyTo(StackOptions.small().toConfig());
        long[] distinct = new long[1];
        Rate states = measure(() -> {
            Checker.Result r = new Checker(() -> new Stack(small, Trace.off()), new Checker.Options(10_000_000, 1, true, null)).run();
            distinct[0] = r.distinct();
            return r.distinct();
        });
        out.printf("checker, small configuration (D2, %d distinct states): %.0f distinct states/s (wall clock %.0f); target %.0f: %.3f of target%n",
                distinct[0], states.cpu(), states.wall(), CHECK_TARGET, states.cpu() / CHECK_TARGET);

        StackConfig large = StackConfig.seed().toBuilder().host(HostCaps.NO_VFIO_TCE).rxPackets(20_000).txPackets(20_000).build();
        long[] seed = {0};
        Rate pps = measure(() -> Campaign.one(large, ++seed[0], 10_000_000).packets());
        out.printf("simulation, large configuration (seed stack, 1 GiB window, 40000 packets, as campaigns run it: oracles on every access, no"
                + " packet bytes): %.0f packets/s (wall clock %.0f); 10 GbE line rate %.0f packets/s; target 10x line rate: %.3f of target (%.2fx line rate)%n",
                pps.cpu(), pps.wall(), LINE_RATE_PPS, pps.cpu() / SIM_TARGET, pps.cpu() / LINE_RATE_PPS);
        // A campaign spreads its seeds over every core: what a user waits for is its wall-clock rate on the machine.
        int cores = Runtime.getRuntime().availableProcessors();
        int seeds = 4 * cores;
        double[] wall = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long from = 1_000 + (long) i * seeds;
            long w0 = System.nanoTime();
            long packets = Campaign.run(large, from, from + seeds - 1, 10_000_000, cores, null).packets();
            wall[i] = packets / ((System.nanoTime() - w0) / 1e9);
        }
        double all = median(wall);
        out.printf("campaign, large configuration on all %d cores (%d seeds a run, wall clock): %.0f packets/s; %.3f of target (%.2fx line rate)%n",
                cores, seeds, all, all / SIM_TARGET, all / LINE_RATE_PPS);
        out.flush();
        return 0;
    }

    /** Work done per second of the thread's CPU time and of the wall clock, medians over the repeats. */
    record Rate(double cpu, double wall) {}

    /** Warms the JIT up (three runs and at least {@code --warmup} seconds), then times {@code repeat} runs of {@code work}, which returns its unit count. */
    private Rate measure(java.util.function.LongSupplier work) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long warm = System.nanoTime();
        for (int i = 0; i < 3 || System.nanoTime() - warm < warmup * 1_000_000_000L; i++) work.getAsLong();
        double[] cpu = new double[repeat];
        double[] wall = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            long units = work.getAsLong();
            cpu[i] = units / ((mx.getCurrentThreadCpuTime() - c0) / 1e9);
            wall[i] = units / ((System.nanoTime() - w0) / 1e9);
        }
        return new Rate(median(cpu), median(wall));
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
