package tcesim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tcesim.explore.Checker;
import tcesim.guest.FirmwareFeatures;
import tcesim.report.TextReport;
import tcesim.sim.Chooser;
import tcesim.sim.Design;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** {@code tcesim check}: every interleaving of a small configuration, for one design or all of them. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Explore every interleaving of a small configuration and decide whether a design is safe.",
                "Breadth-first, so a counterexample has the fewest scheduling choices; states are 64-bit fingerprints. Past a level of more",
                "than --frontier-limit states, depth-first from each of its states: memory then grows with the distinct states alone,",
                "and a counterexample found there may not be the shortest.",
                "With --cluster, the search runs on the workers (tcesim worker), each owning the states whose fingerprints map to it,",
                "with the same verdict, distinct states and counterexample as here; a worker lost during the check ends it without a verdict",
                "and leaves a checkpoint of the last level done everywhere (in --checkpoint FILE, or by default in tcesim-check-DESIGN-ID.ck here),",
                "to go on from here or on the cluster.",
                "Exit code: 0 safe, 1 a property broken, 2 bad usage or configuration, 3 no verdict (state or memory limit, out of memory,",
                "interrupted, or a worker lost), 70 an internal error."})
public final class CheckCommand implements Callable<Integer> {
    @Mixin
    StackOptions stack = StackOptions.small();

    @Option(names = "--all", description = "Check every design against every guest variant and print one table.")
    boolean all;

    @Option(names = "--hazards", description = "Check every design against every hazard (see --hazard) and print one table.")
    boolean hazards;

    @Option(names = "--workers", paramLabel = "N", description = "Threads expanding states in parallel; with --all or --hazards, checks of the table run side by"
            + " side, each on one thread with its share of --max-memory (default: ${DEFAULT-VALUE}).")
    int workers = 1;

    @Option(names = "--max-states", paramLabel = "N", description = "Stop with verdict 'incomplete' after N distinct states (default: ${DEFAULT-VALUE}).")
    long maxStates = 2_000_000;

    @Option(names = "--frontier-limit", paramLabel = "N", description = "Go on depth-first from each state of the first breadth-first level of more than"
            + " N states, instead of keeping the next level (default: ${DEFAULT-VALUE}; about 500 bytes a state of a level). Not with --cluster, which is"
            + " breadth-first throughout.")
    long frontierLimit = Checker.Options.FRONTIER_LIMIT;

    @Option(names = "--no-reduction", description = "Explore without the partial-order reduction (slower; for comparison).")
    boolean noReduction;

    @Option(names = "--properties", paramLabel = "P,P,...", split = ",", description = "Properties to check: ${COMPLETION-CANDIDATES} (default: all).")
    java.util.EnumSet<Violation.Property> properties = java.util.EnumSet.allOf(Violation.Property.class);

    @Option(names = "--max-memory", paramLabel = "SIZE", description = "Stop with no verdict (exit 3) before the search holds more than SIZE (e.g. 512m, 4g; default: 3/4 of the JVM's heap).")
    String maxMemory;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Write the search state to FILE every minute and when stopped (Ctrl-C, limits,"
            + " with --cluster a worker lost), to --resume it later, here or on a cluster.")
    java.nio.file.Path checkpoint;

    @Option(names = "--no-checkpoint", description = "With --cluster: keep no copy of the last level done (each new state once more on the wire,"
            + " 8 bytes a state here) and leave no checkpoint when stopped. By default a check on a cluster keeps one and, stopped without a verdict,"
            + " writes it to tcesim-check-DESIGN-ID.ck here.")
    boolean noCheckpoint;

    @Option(names = "--resume", paramLabel = "FILE", description = "Go on from a checkpoint written for the same configuration (here or on a cluster).")
    java.nio.file.Path resume;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Option(names = "--markdown", description = "With --all or --hazards: print the table once every check is done, as Markdown (the README's tables are this output).")
    boolean markdown;

    @Mixin
    ClusterOptions cluster = new ClusterOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The guest variants that matter for the verdicts. */
    enum Variant {
        LINUX("Linux (STUFF+IND)", true, true, false, true),
        NO_STUFF("no STUFF_TCE", true, false, false, true),
        NO_INDIRECT("no PUT_TCE_IND", false, true, false, true),
        NO_CLEAR("overwrites, no clear", true, true, false, false),
        DDW("DDW", true, true, true, true);

        final String label;
        final FirmwareFeatures fw;

        Variant(String label, boolean ind, boolean stuff, boolean ddw, boolean clear) {
            this.label = label;
            this.fw = new FirmwareFeatures(ind, stuff, ddw, clear);
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (workers < 1 || workers > 64) throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be 1..64");
        if (maxStates < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--max-states must be at least 1");
        if (frontierLimit < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--frontier-limit must be at least 1");
        if (markdown && (json || !(all || hazards))) {
            throw new CommandLine.ParameterException(spec.commandLine(), json ? "--markdown and --json exclude each other" : "--markdown prints the table of --all or --hazards: give one of them");
        }
        if (all && hazards) throw new CommandLine.ParameterException(spec.commandLine(), "--all and --hazards exclude each other: each prints its own table");
        if (hazards && stack.effectiveHazard() != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--hazards checks every hazard: leave out --hazard (and a scenario file's hazard, with --hazard none)");
        }
        if ((all || hazards) && (checkpoint != null || resume != null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), (checkpoint != null ? "--checkpoint" : "--resume") + " works for one check, not with "
                    + (all ? "--all" : "--hazards") + " (a table of many checks)");
        }
        if (all || hazards) refuseWhatATableSetsItself();
        if (noCheckpoint && (checkpoint != null || resume != null || !cluster.on())) {
            throw new CommandLine.ParameterException(spec.commandLine(), checkpoint != null
                    ? "--no-checkpoint and --checkpoint exclude each other: leave out one of them"
                    : resume != null ? "--no-checkpoint and --resume exclude each other: a resumed check keeps its checkpoint to go on again; leave out --no-checkpoint"
                    : "--no-checkpoint is for a check on a cluster (--cluster): a check here keeps no copy and writes a checkpoint only with --checkpoint FILE");
        }
        if (cluster.on()) {
            String not = all ? "--all" : hazards ? "--hazards" : maxMemory != null ? "--max-memory" : workers != 1 ? "--workers"
                    : spec.commandLine().getParseResult().hasMatchedOption("--frontier-limit") ? "--frontier-limit" : null;
            if (not != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cluster runs one check on the workers' threads and memory: not with " + not);
            }
            cluster.members();
        }
        long maxBytes = maxBytes();
        StackConfig base = stack.toConfig();
        String err = all ? null : base.validate(); // --all validates each row: --ddw-removal is for its DDW rows
        if (err != null) throw new IllegalArgumentException(err); // one line: the configuration, not the flags' syntax
        if (checkpoint != null) Files2.outputFile("--checkpoint", checkpoint);
        if (resume != null && !java.nio.file.Files.isRegularFile(resume)) {
            throw new IllegalArgumentException("--resume " + resume + ": " + (java.nio.file.Files.isDirectory(resume) ? "is a directory, not a checkpoint" : "no such file"));
        }
        tcesim.sim.Hazard hazard = stack.effectiveHazard();
        if (hazard != null && !stack.matched("--properties")) properties = java.util.EnumSet.copyOf(hazard.properties());
        else if (!stack.matched("--properties")) properties = java.util.EnumSet.copyOf(base.defaultProperties());
        if (cluster.on()) return checkOnCluster(out, base);
        if (hazards) return checkHazards(out, base, maxBytes);
        return all ? checkAll(out, base, maxBytes) : checkOne(out, base, maxBytes);
    }

    /**
     * A table goes over the designs (and --all over the guest variants, which set the guest's features), so options that
     * set those would be dropped: refused, each with one line.
     */
    private void refuseWhatATableSetsItself() {
        String table = all ? "--all" : "--hazards";
        String over = all ? "every design and guest variant" : "every design";
        List<String> set = new ArrayList<>();
        for (String o : all ? new String[] {"--design", "--no-stuff-tce", "--no-indirect", "--no-clear", "--ddw", "--hazard", "--config-id"}
                : new String[] {"--design", "--properties", "--config-id"}) {
            if (stack.matched(o)) set.add(o);
        }
        if (!set.isEmpty()) {
            String why = set.contains("--config-id") && set.size() == 1 ? "the id is for one configuration"
                    : set.contains("--properties") && set.size() == 1 ? "each hazard is judged by its own properties; check one with --hazard NAME --properties ..."
                    : set.contains("--hazard") && set.size() == 1 ? "check one hazard under every design with --hazards" : "it would be ignored";
            throw new IllegalArgumentException(table + " goes over " + over + ": leave out " + String.join(", ", set) + " (" + why + ")");
        }
        if (stack.scenario != null) {
            StackConfig file = stack.configWithoutHazard();
            if (file.design() != Design.D0) throw new IllegalArgumentException(table + " goes over " + over + ": the scenario file's design " + file.design() + " would be ignored");
            if (all && !file.fw().equals(StackConfig.seed().fw())) {
                throw new IllegalArgumentException("--all goes over every guest variant: the scenario file's guest features would be ignored");
            }
        }
    }

    /** The designs a table has rows for on {@code host}: those that can exist there. */
    static List<Design> designsOn(tcesim.kvm.HostCaps host, boolean passthrough) {
        List<Design> ds = new ArrayList<>();
        for (Design d : Design.values()) if ((passthrough || !d.passthrough()) && d.unavailableOn(host) == null) ds.add(d);
        return ds;
    }

    /** The line a table prints (and its JSON carries) for the designs left out on this host, or null. */
    static String leftOut(tcesim.kvm.HostCaps host) {
        List<String> out = new ArrayList<>();
        String why = null;
        for (Design d : Design.values()) {
            String w = d.unavailableOn(host);
            if (w == null) continue;
            out.add(d.name());
            why = w.substring(w.indexOf(", but ") + ", but ".length());
        }
        return out.isEmpty() ? null : String.join(", ", out) + " left out: " + (out.size() == 1 ? "it changes" : "they change") + " KVM's TCE handling, but " + why;
    }

    /** Whether --all has a cell for design {@code d} and guest {@code v}: all but a passthrough NIC's (V's) DDW guest ("-" in the table). */
    static boolean inTable(Design d, Variant v) {
        return !(d.passthrough() && v == Variant.DDW);
    }

    /** The row of --all for design {@code d} and guest {@code v}: DDW removal only where the guest has DDW. */
    static StackConfig row(StackConfig base, Design d, Variant v) {
        return d.applyTo(base.toBuilder().fw(v.fw).ddwRemoval(v.fw.ddw() ? base.ddwRemoval() : StackConfig.DdwRemoval.NONE).build());
    }

    /**
     * A check of a table: --workers checks run side by side, each on one thread with its share of the memory bound (a
     * table is many checks: running them side by side keeps every core busy, depth-first ones too, and each check's
     * result is that of the check alone).
     */
    private Checker.Options tableOptions(java.util.Set<Violation.Property> props, long maxBytes) {
        return new Checker.Options(maxStates, 1, !noReduction, null, props, maxBytes / workers, null, null, frontierLimit);
    }

    private Checker.Options options(boolean progress, java.util.Set<Violation.Property> props, long maxBytes) {
        return new Checker.Options(maxStates, workers, !noReduction, progress && !json ? spec.commandLine().getErr() : null, props, maxBytes, null, null,
                frontierLimit);
    }

    /** --max-memory, or 3/4 of the heap: the search stops with a clear message instead of running out of memory. */
    private long maxBytes() {
        if (maxMemory == null) return Runtime.getRuntime().maxMemory() / 4 * 3;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([kKmMgG]?)").matcher(maxMemory.trim());
        if (!m.matches()) throw new CommandLine.ParameterException(spec.commandLine(), "--max-memory takes a size like 512m or 4g, got '" + maxMemory + "'");
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            n = -1;
        }
        int shift = switch (m.group(2).toLowerCase(java.util.Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        if (n <= 0 || n > (Long.MAX_VALUE >> shift)) throw new CommandLine.ParameterException(spec.commandLine(), "--max-memory out of range: " + maxMemory);
        long heap = Runtime.getRuntime().maxMemory();
        if (n << shift > heap) {
            throw new IllegalArgumentException("--max-memory " + maxMemory + ": more than this JVM's heap, at most " + (heap >> 20)
                    + " MiB (give java more with JAVA_TOOL_OPTIONS=-Xmx..., or ask for less)");
        }
        return n << shift;
    }

    /** Identifies the checked configuration in a checkpoint. */
    private long signature() {
        String s = stack.asArgs() + properties + noReduction;
        long h = 1125899906842597L;
        for (int i = 0; i < s.length(); i++) h = 31 * h + s.charAt(i);
        return h;
    }

    private int checkOne(PrintWriter out, StackConfig cfg, long maxBytes) {
        Checker.Options base = options(true, properties, maxBytes);
        Checker checker = new Checker(() -> new Stack(cfg, Trace.off()), new Checker.Options(base.maxStates(), base.workers(), base.reduce(),
                base.progress(), base.properties(), base.maxBytes(), checkpoint, resume, base.frontierLimit()), signature());
        try (Interrupt i = new Interrupt(checker::stop)) {
            return i.exit(checkOne(out, cfg, checker));
        }
    }

    /** Runs the check and prints its result (also when interrupted: then from the main thread, while the Ctrl-C hook waits). */
    private int checkOne(PrintWriter out, StackConfig cfg, Checker checker) {
        long t0 = System.nanoTime();
        Checker.Result r = checker.run();
        // A checkpoint that could not be written: said with the result, which is printed all the same.
        DefaultCheckpoint.Saved failed = checker.checkpointFailure() == null ? null : new DefaultCheckpoint.Saved(null, 0, null, checker.checkpointFailure()
                + (java.nio.file.Files.isRegularFile(checkpoint) ? "; " + checkpoint + " holds the one written before" : ""));
        return print(out, cfg, r, (System.nanoTime() - t0) / 1_000_000, null, failed);
    }

    /** The check on the workers of a cluster, this process coordinating. */
    private int checkOnCluster(PrintWriter out, StackConfig cfg) {
        // A checkpoint of another configuration, or damaged, is refused before any worker is reached.
        tcesim.explore.Checkpoint from = resume == null ? null : tcesim.explore.Checkpoint.read(resume, signature());
        if (from != null && from.depthFirst()) throw new IllegalArgumentException("--resume " + resume + ": " + tcesim.explore.PartitionedSearch.DEPTH_FIRST_CHECKPOINT);
        // With --checkpoint, the copy is written there as the check goes; without, kept for the default file, written
        // only if the check stops without a verdict; with --no-checkpoint, none.
        tcesim.explore.PartitionedSearch.Completed done = checkpoint != null
                ? new tcesim.explore.PartitionedSearch.Completed(checkpoint, signature(), tcesim.cluster.DistributedCheck.CHECKPOINT_PERIOD_NANOS)
                : noCheckpoint ? new tcesim.explore.PartitionedSearch.Completed() : new tcesim.explore.PartitionedSearch.Completed(signature(), DefaultCheckpoint.maxBytes());
        com.hazelcast.core.HazelcastInstance client = cluster.connect();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        PrintWriter progress = json ? null : spec.commandLine().getErr();
        long t0 = System.nanoTime();
        long[] lastReport = {t0};
        try (Interrupt i = new Interrupt(() -> stop.set(true))) {
            tcesim.cluster.DistributedCheck.Outcome o = tcesim.cluster.DistributedCheck.run(client, cfg, properties, !noReduction, maxStates, stop::get,
                    (depth, distinct, frontier, perWorker, bytesPerState) -> {
                        long now = System.nanoTime();
                        if (progress == null || now - lastReport[0] < 3_000_000_000L) return;
                        lastReport[0] = now;
                        progress.printf("Progress: depth %d, %d distinct, %d on queue (per worker: %s), %.0f bytes sent per state%n", depth, distinct, frontier,
                                java.util.Arrays.stream(perWorker).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(", ")), bytesPerState);
                        progress.flush();
                    }, from, done);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            DefaultCheckpoint.Saved saved = null;
            if (o.result().verdict() == Checker.Verdict.INCOMPLETE && !noCheckpoint) {
                // A checkpoint file that could not be written: said with the result, as for a check here.
                saved = checkpoint != null && done.writeFailure() != null ? new DefaultCheckpoint.Saved(null, 0, null, done.writeFailure()
                        + (java.nio.file.Files.isRegularFile(checkpoint) ? "; " + checkpoint + " holds the one written before" : ""))
                        : checkpoint != null ? new DefaultCheckpoint.Saved(o.checkpoint(), done.depth(), null,
                        o.checkpoint() == null ? "the check stopped before the workers held its first level" : null)
                        : DefaultCheckpoint.write(done, cfg, signature());
            }
            return i.exit(print(out, cfg, o.result(), ms, o, saved));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("check on the cluster failed: " + e, e);
        } finally {
            client.shutdown();
        }
    }

    /**
     * @param o how the check went on a cluster, or null for a local one
     * @param saved what became of the checkpoint of a check on a cluster stopped without a verdict, or of a local check's
     *     --checkpoint that could not be written; null otherwise
     */
    private int print(PrintWriter out, StackConfig cfg, Checker.Result r, long ms, tcesim.cluster.DistributedCheck.Outcome o, DefaultCheckpoint.Saved saved) {
        if (json) {
            Map<String, Object> m = resultMap(cfg.design().name(), null, r, ms, stack.configWithoutHazard(), stack.effectiveHazard(), properties);
            if (o != null) {
                m.put("workers", o.workers());
                if (o.lost() != null) m.put("workerLost", o.lost());
                m.put("statesPerWorker", o.perWorker());
                m.put("bytesSentPerState", o.statesSent() == 0 ? null : o.bytesSent() / o.statesSent()); // none sent: one worker owns them all
                if (o.statesKept() > 0) m.put("bytesKeptPerState", o.bytesKept() / o.statesKept());
            }
            if (saved != null && saved.file() != null) m.put("checkpoint", saved.file().toString());
            if (saved != null && saved.notWritten() != null) m.put("checkpointNotWritten", saved.notWritten());
            Stdout.document(out, Json.write(m), "JSON");
        } else {
            out.printf("tcesim check: design %s (%s)%n", cfg.design(), cfg.design().summary());
            if (o != null) {
                out.printf("on %d workers of %s: %s%n", o.workers().size(), tcesim.cluster.ClusterSettings.clusterName(Main.VERSION), String.join(", ", o.workers()));
            }
            if (r.verdict() == Checker.Verdict.UNSAFE) printCounterexample(out, cfg, r);
            else if (r.verdict() == Checker.Verdict.SAFE) out.println("Model checking completed. No property is broken.");
            else {
                out.printf("Stopped: %s. No verdict yet.%n", r.stopped());
                boolean limit = r.stopped().startsWith("state limit");
                if (saved != null && saved.passedOver() != null) out.println(saved.passedOver());
                if (saved != null && saved.file() != null) {
                    out.printf("The search state after depth %d is in %s: go on here with%n  %s%nor on the cluster with%n  %s%n", saved.depth(), saved.file(),
                            resumeCommand(limit, r.distinct(), false, saved.file()), resumeCommand(limit, r.distinct(), true, saved.file()));
                } else if (saved != null) {
                    out.println("No checkpoint was written: " + saved.notWritten() + ".");
                } else if (o == null && checkpoint != null) {
                    out.printf("The search state is in %s: go on with%n  %s%n", checkpoint, resumeCommand(limit, r.distinct(), false, checkpoint));
                } else if (o != null && noCheckpoint) {
                    out.println("No checkpoint was kept (--no-checkpoint): " + (limit ? "raise --max-states for a verdict; " : "")
                            + "the check starts again from the beginning" + (o.lost() == null ? "."
                            : "; without --no-checkpoint, the last level done is kept, which a lost worker does not take away, and written to a file to go on from."));
                } else if (limit) {
                    out.println("Raise --max-states for a verdict.");
                }
            }
            if (r.depthFirst()) {
                out.printf("%d states generated, %d distinct states found, %d end states. Depth-first past a level of more than %d states;"
                        + " the longest path followed has %d choices.%n", r.generated(), r.distinct(), r.terminals(), frontierLimit, r.depth());
            } else {
                out.printf("%d states generated, %d distinct states found, %d end states. The depth of the search is %d choices.%n",
                        r.generated(), r.distinct(), r.terminals(), r.depth());
            }
            out.printf("The probability of a fingerprint collision is about %.2g.%n", r.collisionProbability());
            if (ms == 0) out.printf("Finished in 0 ms.%n"); // too fast for a rate
            else out.printf(java.util.Locale.ROOT, "Finished in %d ms (%.0f distinct states/s).%n", ms, r.distinct() * 1000.0 / ms);
            if (o != null && o.statesSent() > 0) {
                out.printf("States owned per worker (levels done): %s; %d states sent to another worker, %.0f bytes each.%n",
                        java.util.Arrays.stream(o.perWorker()).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining(", ")), o.statesSent(),
                        (double) o.bytesSent() / o.statesSent());
            }
            if (o != null && o.statesKept() > 0) {
                out.printf("For the checkpoint, the workers sent this process each new state once: %d states, %.0f bytes each.%n", o.statesKept(),
                        (double) o.bytesKept() / o.statesKept());
            }
        }
        out.flush();
        return exitCode(r.verdict());
    }

    /**
     * The whole command that goes on from the checkpoint, writing it again as it goes (a higher --max-states after the
     * state limit: ten times the states found, which the checkpoint may hold more of than the limit, as it ends a level).
     */
    private String resumeCommand(boolean limit, long distinct, boolean onCluster, java.nio.file.Path checkpoint) {
        StringBuilder sb = new StringBuilder("./tcesim check").append(stack.asArgs());
        if (!properties.containsAll(java.util.EnumSet.allOf(Violation.Property.class))) {
            sb.append(" --properties ").append(String.join(",", properties.stream().map(Violation.Property::key).toList()));
        }
        if (noReduction) sb.append(" --no-reduction");
        if (workers != 1) sb.append(" --workers ").append(workers);
        if (maxMemory != null) sb.append(" --max-memory ").append(maxMemory);
        if (!onCluster && frontierLimit != Checker.Options.FRONTIER_LIMIT) sb.append(" --frontier-limit ").append(frontierLimit);
        long most = Math.max(maxStates, distinct);
        long states = limit ? (most > Long.MAX_VALUE / 10 ? Long.MAX_VALUE : 10 * most) : maxStates;
        if (limit || spec.commandLine().getParseResult().hasMatchedOption("--max-states")) sb.append(" --max-states ").append(states);
        sb.append(" --checkpoint ").append(checkpoint).append(" --resume ").append(checkpoint);
        if (onCluster) sb.append(cluster.asArgs(spec.commandLine().getParseResult()));
        return sb.toString();
    }

    private void printCounterexample(PrintWriter out, StackConfig cfg, Checker.Result r) {
        Stack st = new Stack(cfg, new Trace(1 << 16, 24));
        st.oracles().stopAt(until(properties, r));
        Simulation.Result sim = Simulation.run(st, Chooser.scripted(r.choices()), 10_000_000);
        Violation v = sim.violation();
        out.printf("Error: %s found. %s has %d scheduling choices and %d steps:%n", r.violation().property().label(),
                r.shortest() ? "The shortest counterexample" : "A counterexample found depth-first (a shorter one may exist)", r.choices().length, sim.steps());
        TextReport.numberedTrace(out, st.trace().recent());
        out.println();
        if (v == null || v.property() != r.violation().property()) {
            out.println("(warning: replaying the counterexample did not reproduce the violation: please report this as a model bug)");
            TextReport.violation(out, st, r.violation());
        } else {
            TextReport.violation(out, st, v);
        }
        out.printf("%nreplay: %s%n%n", replay(stack.configWithoutHazard(), stack.effectiveHazard(), properties, r));
    }

    /**
     * The property a replay of {@code r} must run to: its own, when the check left out a safety property (the
     * counterexample may go through a violation of that one first); null otherwise. Progress alone left out needs
     * nothing: it is judged only where nothing can run, which ends a path.
     */
    private static Violation.Property until(java.util.Set<Violation.Property> checked, Checker.Result r) {
        java.util.Set<Violation.Property> safety = java.util.EnumSet.complementOf(java.util.EnumSet.of(Violation.Property.PROGRESS));
        return checked.containsAll(safety) ? null : r.violation().property();
    }

    /** The {@code repro} line that replays the counterexample {@code r} of {@code cfg} (before {@code hazard}) checked for {@code checked}. */
    static String replay(StackConfig cfg, tcesim.sim.Hazard hazard, java.util.Set<Violation.Property> checked, Checker.Result r) {
        Violation.Property until = until(checked, r);
        return "./tcesim repro --choices " + join(r.choices()) + StackOptions.replayArgs(cfg, hazard) + (until == null ? "" : " --until " + until.key());
    }

    /** The steps the replay of the counterexample {@code r} of {@code cfg} (hazard applied) takes to its violation. */
    private static long replaySteps(StackConfig cfg, java.util.Set<Violation.Property> checked, Checker.Result r) {
        Stack st = new Stack(cfg, Trace.off());
        st.oracles().stopAt(until(checked, r));
        return Simulation.run(st, Chooser.scripted(r.choices()), 10_000_000).steps();
    }

    /**
     * A row of a table of checks: a design under a guest variant (--all: {@code guest} its label, no hazard) or with a
     * hazard (--hazards); {@code before} is the configuration before the hazard, for the replay line, {@code cfg} the one
     * checked, {@code properties} those judged.
     */
    private record Row(Design design, String guest, tcesim.sim.Hazard hazard, StackConfig before, StackConfig cfg,
            java.util.Set<Violation.Property> properties) {}

    private int checkAll(PrintWriter out, StackConfig base, long maxBytes) {
        List<Row> rows = new ArrayList<>();
        for (Design d : designsOn(base.host(), true)) {
            for (Variant v : Variant.values()) {
                if (!inTable(d, v)) continue;
                StackConfig cfg = row(base, d, v);
                String err = cfg.validate();
                if (err != null) throw new IllegalArgumentException("--all: the row " + d + " / " + v.label + ": " + err);
                rows.add(new Row(d, v.label, null, cfg, cfg, properties));
            }
        }
        return checkTable(out, base, rows, maxBytes, false);
    }

    private int checkHazards(PrintWriter out, StackConfig base, long maxBytes) {
        List<Row> rows = new ArrayList<>();
        for (tcesim.sim.Hazard h : tcesim.sim.Hazard.values()) {
            for (Design d : designsOn(base.host(), false)) {
                StackConfig before = d.applyTo(base);
                StackConfig cfg = h.apply(before);
                String err = cfg.validate();
                if (err != null) throw new IllegalArgumentException("--hazards: the row " + h.label() + " / " + d + ": " + err);
                rows.add(new Row(d, null, h, before, cfg, h.properties()));
            }
        }
        return checkTable(out, base, rows, maxBytes, true);
    }

    /** Runs a table's checks side by side ({@link TableChecks}) and prints its rows in order as they are done; Ctrl-C keeps the rows done. */
    private int checkTable(PrintWriter out, StackConfig base, List<Row> rows, long maxBytes, boolean hazardTable) {
        List<java.util.function.Supplier<Checker>> checks = new ArrayList<>();
        for (Row c : rows) checks.add(() -> new Checker(() -> new Stack(c.cfg(), Trace.off()), tableOptions(c.properties(), maxBytes)));
        TableChecks table = new TableChecks(checks, workers);
        try (table; Interrupt i = new Interrupt(table)) {
            return i.exit(printTable(out, base, rows, table.start(), hazardTable));
        }
    }

    /**
     * A row of the --all table as it is printed while the checks run: each column at least as wide as its longest value
     * (a guest variant, "incomplete", "host memory overrun (14, depth-first)"), figures to the right, the unit in the header.
     */
    static final String ALL_ROW = "%-6s  %-21s  %-10s  %-37s  %10s  %9s%n";

    /** A row of the --hazards table: what was found, and why, comes last and whole, as long as it is. */
    static final String HAZARD_ROW = "%-23s  %-6s  %-10s  %10s  %9s  %s%n";

    private int printTable(PrintWriter out, StackConfig base, List<Row> cells, TableChecks table, boolean hazardTable) {
        List<Map<String, Object>> rows = new ArrayList<>();
        int worst = 0;
        String leftOut = leftOut(base.host());
        boolean text = !json && !markdown;
        if (text) {
            out.println(StackOptions.erasLine(base));
            if (leftOut != null) out.println(leftOut);
            if (hazardTable) out.printf(HAZARD_ROW, "hazard", "design", "verdict", "states", "time (ms)", "found: why");
            else out.printf(ALL_ROW, "design", "guest", "verdict", "found (choices)", "states", "time (ms)");
        }
        for (int k = 0; k < cells.size(); k++) {
            Row c = cells.get(k);
            Checker.Result r = table.result(k);
            if (r == null) break;
            long ms = table.millis(k);
            worst = tableExit(worst, exitCode(r.verdict()));
            Map<String, Object> m = resultMap(c.design().name(), c.guest(), r, ms, c.before(), c.hazard(), c.properties());
            if (c.hazard() != null) m.put("hazard", c.hazard().label());
            rows.add(m);
            if (!text) continue;
            String verdict = r.verdict().name().toLowerCase();
            Violation v = r.violation();
            if (hazardTable) {
                out.printf(HAZARD_ROW, c.hazard().label(), c.design(), verdict, r.distinct(), ms, v == null ? Figures.NONE : v.property().label() + ": " + v.why());
            } else {
                String what = r.verdict() == Checker.Verdict.UNSAFE
                        ? v.property().label() + " (" + r.choices().length + (r.shortest() ? ")" : ", depth-first)") : Figures.NONE;
                out.printf(ALL_ROW, c.design(), c.guest(), verdict, what, r.distinct(), ms);
            }
            if (r.verdict() == Checker.Verdict.UNSAFE) out.printf("       replay: %s%n", replay(c.before(), c.hazard(), c.properties(), r));
            out.flush();
        }
        if (markdown && !table.stopped()) {
            Stdout.document(out, (hazardTable ? Markdown.hazards(rows) : Markdown.verdicts(rows)) + (leftOut == null ? "" : "\n" + leftOut + "\n"), "table");
        }
        return endTable(out, hazardTable ? "hazards" : "results", rows, worst, table, leftOut, base);
    }

    /** Prints the JSON of a table, or the line of an interrupted one; interrupted, the table has no verdict (3) unless a row broke a property. */
    private int endTable(PrintWriter out, String key, List<Map<String, Object>> rows, int worst, TableChecks table, String leftOut, StackConfig base) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>(StackOptions.eras(base));
            if (leftOut != null) m.put("leftOut", leftOut);
            m.put(key, rows);
            if (table.stopped()) m.put("interrupted", true);
            Stdout.document(out, Json.write(m), "JSON");
        } else if (table.stopped()) {
            out.println(table.summary());
        }
        out.flush();
        return table.stopped() && worst != 1 ? 3 : worst;
    }

    /**
     * A table's exit code with one more row's: 1 as soon as a row found a property broken, else 3 if a row has no verdict,
     * else 0 — as an interrupted table exits 1 when a row already found one.
     */
    static int tableExit(int table, int row) {
        return table == 1 || row == 1 ? 1 : Math.max(table, row);
    }

    private static int exitCode(Checker.Verdict v) {
        return switch (v) {
            case SAFE -> 0;
            case UNSAFE -> 1;
            case INCOMPLETE -> 3;
        };
    }

    /**
     * One check's result as JSON; {@code cfg} is the configuration checked before {@code hazard} (null: none) is applied,
     * for the counterexample's replay line and its step count.
     */
    private Map<String, Object> resultMap(String design, String variant, Checker.Result r, long ms, StackConfig cfg, tcesim.sim.Hazard hazard,
            java.util.Set<Violation.Property> checked) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("design", design);
        if (variant != null) m.put("guest", variant);
        m.put("verdict", r.verdict().name().toLowerCase());
        if (r.stopped() != null) m.put("stopped", r.stopped());
        if (r.violation() != null) {
            m.put("property", r.violation().property().key());
            m.put("why", r.violation().why());
            m.put("access", r.violation().access());
            m.put("choices", r.choices());
            m.put("steps", replaySteps(hazard == null ? cfg : hazard.apply(cfg), checked, r));
            m.put("replay", replay(cfg, hazard, checked, r));
        }
        m.put("statesGenerated", r.generated());
        m.put("distinctStates", r.distinct());
        m.put("depth", r.depth());
        if (r.depthFirst()) m.put("depthFirst", true);
        m.put("endStates", r.terminals());
        m.put("collisionProbability", Figures.round(r.collisionProbability()));
        m.put("millis", ms);
        return m;
    }



    static String join(int[] choices) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < choices.length; i++) sb.append(i == 0 ? "" : ",").append(choices[i]);
        return sb.toString();
    }
}
