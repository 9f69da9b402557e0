package tcesim.sim;

/**
 * Runs a {@link Stack} step by step: at each point the enabled steps of all actors are collected in a
 * fixed order and the {@link Chooser} picks one. The run ends at the first violation, when the workload
 * is done, when nothing can run (a progress violation if work is left), or after {@code maxSteps}.
 * Same configuration and same choices: the same run, event for event.
 */
public final class Simulation {
    /** How a run ended. */
    public enum End { VIOLATION, DONE, STEP_LIMIT }

    public record Result(End end, Violation violation, long steps, long traceHash, int[] choices) {}

    private Simulation() {}

    public static Result run(Stack stack, Chooser chooser, long maxSteps) {
        return run(stack, chooser, maxSteps, false);
    }

    /**
     * @param recordChoices keep the choices the chooser made (steps with one enabled step ask it nothing), so that
     *     {@link Chooser#scripted} replays the run; 4 bytes a choice
     */
    public static Result run(Stack stack, Chooser chooser, long maxSteps, boolean recordChoices) {
        StepList steps = new StepList();
        Trace trace = stack.trace();
        Oracles oracles = stack.oracles();
        int[] choices = recordChoices ? new int[1024] : null;
        long n = 0;
        int made = 0;
        while (true) {
            if (oracles.stopping() != null) return new Result(End.VIOLATION, oracles.stopping(), n, trace.hash(), trim(choices, made));
            if (stack.workloadDone()) return ended(End.DONE, oracles, n, trace, choices, made);
            if (n >= maxSteps) return ended(End.STEP_LIMIT, oracles, n, trace, choices, made);
            stack.enabledSteps(steps);
            if (steps.size() == 0) {
                oracles.report(stack.checkProgress(n));
                Violation v = oracles.first();
                return new Result(v == null ? End.DONE : End.VIOLATION, v, n, trace.hash(), trim(choices, made));
            }
            int c = 0;
            if (steps.size() > 1) {
                c = chooser.choose(steps);
                if (choices != null) {
                    if (made == choices.length) choices = java.util.Arrays.copyOf(choices, choices.length * 2);
                    choices[made++] = c;
                }
            }
            n++;
            trace.setStep(n);
            stack.stats().steps++;
            Actor a = steps.actor(c);
            CostLedger ledger = stack.ledger();
            ledger.beginStep(stack.indexOf(a));
            a.step(steps.kind(c));
            ledger.endStep();
        }
    }

    /** The end of a run that did not stop at a violation; one seen on the way (when running past them) is still reported. */
    private static Result ended(End end, Oracles oracles, long n, Trace trace, int[] choices, int made) {
        Violation v = oracles.first();
        return new Result(v == null ? end : End.VIOLATION, v, n, trace.hash(), trim(choices, made));
    }

    private static int[] trim(int[] a, long n) {
        return a == null ? null : java.util.Arrays.copyOf(a, (int) n);
    }
}
