package tcesim.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tables of {@code check --all} and {@code check --hazards} as the README shows them, built from the rows
 * the command also prints as JSON, so that the README's tables are the tool's output and a test can compare them.
 */
final class Markdown {
    private Markdown() {}

    /**
     * Design by guest variant: "safe", or what the check found and the choices of the shortest counterexample (of the one
     * found depth-first, said so, when the search went on depth-first past a level larger than the frontier limit).
     */
    static String verdicts(List<Map<String, Object>> rows) {
        List<String> guests = new ArrayList<>();
        Map<String, Map<String, String>> byDesign = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            String guest = (String) r.get("guest");
            if (!guests.contains(guest)) guests.add(guest);
            byDesign.computeIfAbsent((String) r.get("design"), k -> new LinkedHashMap<>()).put(guest, cell(r));
        }
        StringBuilder sb = new StringBuilder("| design | ").append(String.join(" | ", guests)).append(" |\n|---|");
        sb.append("---|".repeat(guests.size())).append('\n');
        byDesign.forEach((design, cells) -> {
            sb.append("| ").append(design);
            for (String g : guests) sb.append(" | ").append(cells.getOrDefault(g, "-"));
            sb.append(" |\n");
        });
        return sb.toString();
    }

    /** One line per hazard and outcome, the designs with that outcome together. */
    static String hazards(List<Map<String, Object>> rows) {
        Map<String, Map<String, List<String>>> byHazard = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            String outcome = switch ((String) r.get("verdict")) {
                case "safe" -> "safe | ";
                case "unsafe" -> property(r) + " | " + r.get("why");
                default -> "no verdict | " + r.get("stopped");
            };
            byHazard.computeIfAbsent((String) r.get("hazard"), k -> new LinkedHashMap<>())
                    .computeIfAbsent(outcome, k -> new ArrayList<>()).add((String) r.get("design"));
        }
        StringBuilder sb = new StringBuilder("| hazard | designs | found | why |\n|---|---|---|---|\n");
        byHazard.forEach((hazard, outcomes) -> outcomes.forEach((outcome, designs) ->
                sb.append("| `").append(hazard).append("` | ").append(String.join(", ", designs)).append(" | ").append(outcome).append(" |\n")));
        return sb.toString();
    }

    private static String cell(Map<String, Object> r) {
        return switch ((String) r.get("verdict")) {
            case "safe" -> "safe";
            case "unsafe" -> property(r) + " (" + ((int[]) r.get("choices")).length + (Boolean.TRUE.equals(r.get("depthFirst")) ? ", depth-first)" : ")");
            default -> "no verdict";
        };
    }

    /** What breaking the row's property is, as every command names it: "stale access", "stall". */
    private static String property(Map<String, Object> r) {
        return tcesim.sim.Violation.Property.valueOf(((String) r.get("property")).toUpperCase(java.util.Locale.ROOT)).label();
    }
}
