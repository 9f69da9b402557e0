package tcesim.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tcesim.report.TextReport;
import tcesim.sim.Chooser;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** {@code tcesim repro}: runs the seed's configuration and explains the first violation. */
@Command(name = "repro", mixinStandardHelpOptions = true,
        description = {"Reproduce the stale vhost IOTLB crash and explain the first violation found.",
                "Runs the seed's configuration (PowerNV host, HV-KVM, guest without DDW, virtio-net on vhost with",
                "ACCESS_PLATFORM, RX and TX streams) as a seeded simulation.",
                "Exit code: 0 no property broken (with --until P: P not broken), 1 one broken (on any seed), 2 bad usage,",
                "3 no verdict (a run stopped at --max-steps before its workload finished, and none broke a property)."})
public final class ReproCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = new StackOptions();

    @Option(names = "--seed", paramLabel = "S", description = "Scheduler seed (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--seeds", paramLabel = "N|A..B", converter = SeedsOption.Converter.class,
            description = "Run N seeds from --seed on, or seeds A to B inclusive (as in campaign), and report how many break the property (--until's, else any).")
    SeedsOption seedsOption;

    @Option(names = "--max-steps", paramLabel = "N", description = "Stop a run after N steps (default: ${DEFAULT-VALUE}).")
    long maxSteps = 5_000_000;

    @Option(names = "--choices", paramLabel = "C,C,...", split = ",", description = "Replay these scheduler choices (one per point where several steps were enabled, as `check` prints them) instead of a seed.")
    int[] choices;

    @Option(names = "--html", paramLabel = "DIR", description = "Also write DIR/repro.html: a swimlane timeline of the last events before the violation.")
    java.nio.file.Path html;

    @Option(names = "--until", paramLabel = "PROPERTY", description = "Run past other violations until this property breaks: ${COMPLETION-CANDIDATES} (default: stop at the first of any). CORRUPTION shows the seed's crash: a write into a page the guest reused; PROGRESS breaks in a stall.")
    tcesim.sim.Violation.Property until;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        StackConfig cfg = stack.toConfig();
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err); // one line: the configuration, not the flags' syntax
        if (maxSteps < 0) throw new CommandLine.ParameterException(spec.commandLine(), "--max-steps must not be negative");
        if (choices != null && (spec.commandLine().getParseResult().hasMatchedOption("--seeds") || spec.commandLine().getParseResult().hasMatchedOption("--seed"))) {
            throw new IllegalArgumentException("--choices replays one run, choice by choice: leave out " + (spec.commandLine().getParseResult().hasMatchedOption("--seeds") ? "--seeds" : "--seed")
                    + " (a seed chooses instead of them)");
        }
        if (seedsOption != null && seedsOption.isRange() && spec.commandLine().getParseResult().hasMatchedOption("--seed")) {
            throw new IllegalArgumentException("--seeds " + seedsOption + " names its seeds: leave out --seed (or give a count, --seeds N, from --seed on)");
        }
        boolean many = seedsOption != null && (seedsOption.isRange() || seedsOption.last() > 1);
        if (html != null && many) throw new IllegalArgumentException("--html writes the timeline of one run: with --seeds " + seedsOption + ", give the seed to draw with --seed S");
        if (choices != null) {
            for (int i = 0; i < choices.length; i++) {
                if (choices[i] < 0) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--choices: choice " + (i + 1) + " is " + choices[i] + "; a choice is the index of an enabled step, 0 or more");
                }
            }
        }
        if (stack.scenarioSeed() != null && !stack.matched("--seed")) seed = stack.scenarioSeed();
        long[] bounds = seedsOption == null ? new long[] {seed, seed} : seedsOption.bounds(seed);
        if (bounds == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--seed " + seed + " --seeds " + seedsOption + ": the last seed would be past " + Long.MAX_VALUE);
        }
        if (bounds[1] - bounds[0] == Long.MAX_VALUE) throw new CommandLine.ParameterException(spec.commandLine(), "--seeds " + seedsOption + ": too many seeds for one run");
        long seeds = bounds[1] - bounds[0] + 1;
        if (html != null) Files2.outputDir("--html", html, "repro.html");
        out.printf("tcesim repro: design %s (%s)%n", cfg.design(), cfg.design().summary());
        if (!many) {
            Outcome o = one(out, cfg, seed);
            out.flush();
            return o.exit();
        }
        int bad = 0;
        int unfinished = 0;
        long firstBad = -1;
        for (long i = 0; i < seeds; i++) {
            long s = bounds[0] + i;
            Stack st = new Stack(cfg, Trace.hashOnly());
            st.oracles().stopAt(until);
            Simulation.Result r = Simulation.run(st, Chooser.seeded(s), maxSteps);
            Outcome o = outcome(st, r);
            String what = switch (o) {
                case BROKEN -> found(o.broken(st));
                case UNFINISHED -> "no verdict: not finished in " + r.steps() + " steps";
                case HOLDS -> until == null ? "clean (done)" : "no " + until.label() + " (done)";
            };
            if (o != Outcome.BROKEN && r.violation() != null) what += "; on the way: " + found(r.violation());
            out.printf("  seed %-6d %s%n", s, what);
            if (o == Outcome.BROKEN) {
                bad++;
                if (firstBad < 0) firstBad = s;
            }
            if (o == Outcome.UNFINISHED) unfinished++;
        }
        if (until == null) out.printf(java.util.Locale.ROOT, "%d of %d seeds break a property (%.1f %%)%n", bad, seeds, 100.0 * bad / seeds);
        else out.printf(java.util.Locale.ROOT, "%s in %d of %d seeds (%.1f %%)%n", until.label(), bad, seeds, 100.0 * bad / seeds);
        if (unfinished > 0) out.printf("%d of %d seeds did not finish in %d steps: no verdict for them (raise --max-steps)%n", unfinished, seeds, maxSteps);
        if (firstBad >= 0) out.printf("first failing seed: %d; replay: %s%n", firstBad, replay(firstBad));
        out.flush();
        return bad > 0 ? 1 : unfinished > 0 ? 3 : 0;
    }

    /** "stale access found at step 11": what a run found, in the words every command uses. */
    static String found(Violation v) {
        return v.property().label() + " found at step " + v.step();
    }

    /** How a run ended for the property asked for ({@code --until}, or any). */
    enum Outcome {
        /** It broke: exit 1. */
        BROKEN(1),
        /** The workload finished (or could go no further) without breaking it: exit 0. */
        HOLDS(0),
        /** The step limit came first: no verdict, exit 3. */
        UNFINISHED(3);

        private final int exit;

        Outcome(int exit) { this.exit = exit; }

        int exit() { return exit; }

        /** The violation of the property asked for (BROKEN only). */
        Violation broken(Stack st) { return st.oracles().stopping(); }
    }

    private Outcome outcome(Stack st, Simulation.Result r) {
        if (st.oracles().stopping() != null) return Outcome.BROKEN;
        return r.steps() >= maxSteps && !st.workloadDone() ? Outcome.UNFINISHED : Outcome.HOLDS;
    }

    private Outcome one(PrintWriter out, StackConfig cfg, long s) {
        Stack st = new Stack(cfg, new Trace());
        st.oracles().stopAt(until);
        out.printf("%s; replay: %s%n%n", choices != null ? choices.length + " scripted choices" : "seed " + s, replay(s));
        Simulation.Result r;
        try {
            r = Simulation.run(st, choices != null ? Chooser.scripted(choices) : Chooser.seeded(s), maxSteps);
        } catch (Chooser.ChoiceOutOfRange e) {
            throw new IllegalArgumentException(String.format("--choices: choice %d of %d is %d, but step %d has only %d enabled steps (0..%d): the choices do not fit this configuration",
                    e.position, e.of, e.choice, st.stats().steps + 1, e.enabled, e.enabled - 1));
        }
        Outcome o = outcome(st, r);
        if (choices != null) TextReport.numberedTrace(out, st.trace().recent());
        if (until != null && r.violation() != null && r.violation().property() != until) {
            out.printf("(no %s found; the first violation on the way is shown)%n", until.label());
        }
        if (until != null && st.oracles().first() != null && st.oracles().first() != r.violation()) {
            tcesim.sim.Violation f = st.oracles().first();
            out.printf("Found first on the way: %s: %s; %s%n%n", found(f), f.access(), f.why());
        }
        if (r.violation() != null) TextReport.violation(out, st, r.violation());
        String none = until == null ? "No property broken" : "No " + until.label() + " found";
        if (o == Outcome.UNFINISHED) {
            out.printf("%s in %d steps, but the workload did not finish: no verdict; raise --max-steps for one.%n", none, r.steps());
        } else if (o == Outcome.HOLDS) {
            out.printf("%s: the workload finished.%n", none);
        }
        TextReport.symptoms(out, st);
        TextReport.stats(out, st, r);
        if (html != null) writeHtml(out, st, r.violation(), s);
        return o;
    }

    /** Writes DIR/repro.html: the run's timeline, with the events {@link tcesim.report.HtmlReport#reproEvents} picks. */
    private void writeHtml(PrintWriter out, Stack st, tcesim.sim.Violation v, long s) {
        String title = v == null ? "tcesim repro: no property broken" : "tcesim repro: " + found(v);
        try {
            java.nio.file.Files.createDirectories(html);
            java.nio.file.Path file = html.resolve("repro.html");
            Files2.writeWhole(file, tcesim.report.HtmlReport.repro(title, v, tcesim.report.HtmlReport.reproEvents(st.trace(), v), replay(s)));
            out.println("timeline written to " + file);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--html: cannot write " + html.resolve("repro.html") + ": " + Files2.describe(e));
        }
    }

    private String replay(long s) {
        String how = choices != null ? " --choices " + CheckCommand.join(choices) : " --seed " + s;
        return "./tcesim repro" + how + stack.asArgs() + " --max-steps " + maxSteps + (until == null ? "" : " --until " + until.key());
    }
}
