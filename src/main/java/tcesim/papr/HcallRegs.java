package tcesim.papr;

/**
 * The registers of one hypercall, as the PAPR calling convention uses them: the guest puts the opcode
 * in r3 and the arguments in r4..r7, executes {@code sc 1}, and finds the return code in r3 and any
 * returned value (H_GET_TCE's entry) in r4.
 */
public final class HcallRegs {
    public long r3, r4, r5, r6, r7;

    public HcallRegs set(long opcode, long a0, long a1, long a2, long a3) {
        r3 = opcode;
        r4 = a0;
        r5 = a1;
        r6 = a2;
        r7 = a3;
        return this;
    }

    public static HcallRegs of(long opcode, long... args) {
        HcallRegs r = new HcallRegs();
        long[] a = new long[4];
        System.arraycopy(args, 0, a, 0, Math.min(4, args.length));
        return r.set(opcode, a[0], a[1], a[2], a[3]);
    }

    public HcallRegs copy() {
        return new HcallRegs().set(r3, r4, r5, r6, r7);
    }

    /** "H_PUT_TCE(liobn=0x80000000, ioba=0x1000, tce=0x2003)" for the opcode held in r3 before the call. */
    public String describeCall() {
        long op = r3;
        if (op == Hcall.H_GET_TCE) return String.format("H_GET_TCE(liobn=0x%x, ioba=0x%x)", r4, r5);
        if (op == Hcall.H_PUT_TCE) return String.format("H_PUT_TCE(liobn=0x%x, ioba=0x%x, tce=%s)", r4, r5, Tce.describe(r6));
        if (op == Hcall.H_STUFF_TCE) return String.format("H_STUFF_TCE(liobn=0x%x, ioba=0x%x, tce=%s, npages=%d)", r4, r5, Tce.describe(r6), r7);
        if (op == Hcall.H_PUT_TCE_INDIRECT) return String.format("H_PUT_TCE_INDIRECT(liobn=0x%x, ioba=0x%x, list=0x%x, npages=%d)", r4, r5, r6, r7);
        return String.format("%s(0x%x, 0x%x, 0x%x, 0x%x)", Hcall.opcodeName(op), r4, r5, r6, r7);
    }
}
