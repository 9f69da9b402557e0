package tcesim.sim;

import tcesim.kvm.HcallPath;
import tcesim.papr.Hcall;

/** Counters of one run: hypercalls by opcode and path, exits, device work. */
public final class Stats {
    private static final long[] OPS = {Hcall.H_PUT_TCE, Hcall.H_PUT_TCE_INDIRECT, Hcall.H_STUFF_TCE, Hcall.H_GET_TCE};
    private final long[][] hcalls = new long[OPS.length + 1][HcallPath.values().length];
    public long steps;
    public long hcallErrors;
    public long invalidates;
    public long updates;
    public long missesRead;
    public long missesUnanswered;
    public long packetsRx;
    public long packetsTx;

    static int opIndex(long opcode) {
        for (int i = 0; i < OPS.length; i++) if (OPS[i] == opcode) return i;
        return OPS.length;
    }

    void hcall(long opcode, HcallPath path) {
        hcalls[opIndex(opcode)][path.ordinal()]++;
    }

    public long hcalls(long opcode, HcallPath path) { return hcalls[opIndex(opcode)][path.ordinal()]; }

    public long hcalls(HcallPath path) {
        long n = 0;
        for (long[] row : hcalls) n += row[path.ordinal()];
        return n;
    }

    /** Full exits to QEMU. */
    public long exits() { return hcalls(HcallPath.QEMU); }

    public static String opName(int i) { return i < OPS.length ? Hcall.opcodeName(OPS[i]) : "other"; }

    public static int opCount() { return OPS.length + 1; }

    public long hcallsByIndex(int op, HcallPath path) { return hcalls[op][path.ordinal()]; }
}
