package tcesim.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tcesim} command line. */
@Command(name = "tcesim", mixinStandardHelpOptions = true, version = "tcesim 0.1.0",
        description = {"An executable model of the sPAPR TCE / KVM / QEMU / vhost IOTLB stack:",
                "reproduces the stale vhost IOTLB crash and judges invalidation designs."},
        subcommands = {ReproCommand.class, CheckCommand.class, CampaignCommand.class, CompareCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
