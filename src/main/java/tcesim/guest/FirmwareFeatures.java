package tcesim.guest;

/**
 * The firmware features a pseries guest found in {@code ibm,hypertas-functions}.
 *
 * <p>Models {@code FW_FEATURE_PUT_TCE_IND} (formerly FW_FEATURE_MULTITCE, 1 << 19) and
 * {@code FW_FEATURE_STUFF_TCE} (1 << 39) of Linux {@code arch/powerpc/include/asm/firmware.h}; the guest's
 * {@code pseries/firmware.c} sets both from the single string "hcall-multi-tce", which QEMU advertises
 * unless KVM lacks KVM_CAP_SPAPR_MULTITCE. They are separate here so that designs can be judged against
 * guests with either one.
 *
 * @param putTceIndirect map several pages with H_PUT_TCE_INDIRECT
 * @param stuffTce clear with H_STUFF_TCE (else H_PUT_TCE(0) per page)
 * @param ddw the guest asks for a 64-bit dynamic DMA window covering all RAM and maps it once
 * @param clearOnUnmap the guest clears TCEs when it unmaps (Linux does); false models a guest that leaves
 *     them valid and later overwrites a valid TCE with another, without a clear in between
 */
public record FirmwareFeatures(boolean putTceIndirect, boolean stuffTce, boolean ddw, boolean clearOnUnmap) implements java.io.Serializable {
    public static final FirmwareFeatures MULTI_TCE = new FirmwareFeatures(true, true, false, true);

    public FirmwareFeatures(boolean putTceIndirect, boolean stuffTce, boolean ddw) {
        this(putTceIndirect, stuffTce, ddw, true);
    }
}
