package tcesim.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import tcesim.explore.Checker;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * The real bugs of the modelled stack, each checked on the eras that had it and on the eras that fixed it: the model
 * is only as good as its power to find what really went wrong, and not to find it where it was mended.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = {"Check each real bug of the modelled stack on the kernel or QEMU eras that had it (the property must break) and on those that fixed it "
                + "(it must not), on the small configuration of check.",
                "Exit code: 0 when every row behaves as the history says, 1 when one does not."})
public final class HistoryCommand implements Callable<Integer> {

    /**
     * A real bug: what it is, the commits that brought and fixed it, the property it breaks, the era option it depends
     * on ({@code --host-kernel} or {@code --qemu}, whose default is the seed's era) and the check (its flags but that
     * option) that shows it.
     */
    record Bug(String name, String introduced, String fixed, Violation.Property property, String eraOption, List<String> present, List<String> absent,
               String... check) {
        /** The era the command line means when it leaves the option out. */
        String defaultEra() { return eraOption.equals("--qemu") ? "4.2" : "2019"; }
    }

    /** The bugs the model expresses, oldest fix first; the README lists those it cannot and why. */
    static final List<Bug> BUGS = List.of(
            new Bug("H_STUFF_TCE kills the TCEs after the ones it cleared, so the PHB keeps the cleared translations",
                    "\"KVM: PPC: Invalidate multiple TCEs at once\" (Aug 2019, v5.4)", "26a62b750a4e \"KVM: PPC: Fix TCE handling for VFIO\" (v5.18)",
                    Violation.Property.STALE_ACCESS, "--host-kernel", List.of("2019"), List.of("2022", "current"),
                    "--design", "V", "--rx-revokes", "1", "--properties", "stale_access,corruption,isolation"),
            new Bug("kvmppc_ioba_validate checks only the first entry: a multi-TCE call writes past the window into host memory",
                    "b1af23d836f8 \"KVM: PPC: iommu: Unify TCE checking\" (v4.12)", "0b271f7d7f5e \"powerpc/iommu: Fix the overflow validation in iommu_tce_check_ioba\" (2026)",
                    Violation.Property.HOST_MEMORY, "--host-kernel", List.of("2019", "2022"), List.of("current"),
                    "--design", "D0", "--hazard", "partial-failure", "--properties", "host_memory"),
            new Bug("vhost's IOTLB keeps translations KVM's in-kernel handlers cleared (the seed's bug)",
                    "in-kernel TCE handlers beside vhost's device IOTLB", "none upstream",
                    Violation.Property.STALE_ACCESS, "--host-kernel", List.of("2019", "2022", "current"), List.of(),
                    "--design", "D0"),
            new Bug("On a nested pseries host the seed's bug comes with KVM_CAP_SPAPR_TCE_VFIO: before it QEMU keeps the table while vhost listens",
                    "b4392813bbc3 \"KVM: PPC: Enable CAP_SPAPR_TCE_VFIO on pSeries KVM guests\" (v6.15)", "none upstream",
                    Violation.Property.STALE_ACCESS, "--host-kernel", List.of("current"), List.of("2019", "2022"),
                    "--design", "D0", "--host", "nested"),
            new Bug("QEMU's vhost listened for DEVIOTLB_UNMAP only, which spapr never sends: no clear reached vhost, even with the table in QEMU"
                    + " (on master from Dec 2020 to Feb 2021; no release had it)",
                    "b68ba1ca5767 \"memory: Add IOMMU_NOTIFIER_DEVIOTLB_UNMAP IOMMUTLBNotificationType\" (after v5.2.0)",
                    "958ec334bca3 and 1a8e22bd20c2 \"spapr_iommu: Fix vhost integration regression\" (QEMU 6.0)",
                    Violation.Property.STALE_ACCESS, "--qemu", List.of("6.0-dev"), List.of("5.2", "current"),
                    "--design", "D2"));

    /** One check of one bug on one era. */
    record Row(Bug bug, String era, boolean expectBroken, String command, Checker.Result result) {
        boolean broken() { return result.verdict() == Checker.Verdict.UNSAFE && result.violation().property() == bug.property(); }

        boolean asHistorySays() { return result.verdict() != Checker.Verdict.INCOMPLETE && broken() == expectBroken; }

        String found() {
            return switch (result.verdict()) {
                case UNSAFE -> result.violation().property().label() + " found (" + result.choices().length + (result.choices().length == 1 ? " choice)" : " choices)");
                case SAFE -> "nothing found";
                case INCOMPLETE -> "no verdict";
            };
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        for (Bug b : BUGS) {
            for (String era : b.present()) rows.add(run(b, era, true));
            for (String era : b.absent()) rows.add(run(b, era, false));
        }
        boolean all = true;
        Bug last = null;
        for (Row r : rows) {
            if (r.bug() != last) {
                last = r.bug();
                out.printf("%n%s%n  introduced by %s; fixed by %s; eras of %s%n", last.name(), last.introduced(), last.fixed(), last.eraOption());
            }
            all &= r.asHistorySays();
            out.printf("  %-8s %-7s %-38s %-4s %s%n", r.era(), r.expectBroken() ? "present" : "absent", r.found(), r.asHistorySays() ? "ok" : "DIFFERS", r.command());
            out.flush();
        }
        out.printf("%n%s%n", all ? "Every bug is found where the history has it and nowhere else." : "Some rows differ from the history: the model lost a real bug or invented one.");
        out.flush();
        return all ? 0 : 1;
    }

    /** Runs {@code check} with the bug's flags on {@code era}, parsed as the command line would parse them. */
    static Row run(Bug b, String era, boolean expectBroken) {
        List<String> args = new ArrayList<>(List.of(b.check()));
        if (!era.equals(b.defaultEra())) args.addAll(List.of(b.eraOption(), era));
        CheckCommand check = new CheckCommand();
        new CommandLine(check).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(args.toArray(String[]::new));
        StackConfig cfg = check.stack.toConfig();
        Set<Violation.Property> props = check.properties;
        if (!check.stack.matched("--properties")) props = check.stack.effectiveHazard() != null ? check.stack.effectiveHazard().properties() : cfg.defaultProperties();
        Checker.Result r = new Checker(() -> new Stack(cfg, Trace.off()), new Checker.Options(2_000_000, 1, true, null, props)).run();
        return new Row(b, era, expectBroken, "./tcesim check " + String.join(" ", args), r);
    }
}
