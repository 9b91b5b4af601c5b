package dev.recur.models.io;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The safetensors element types Recur can read, each turned into float32 on the way in.
 * Recur writes {@link #F32} only.
 */
enum DType {
    /** IEEE float32: read as is, bit for bit. */
    F32(4),
    /** IEEE float64: rounded to the nearest float32. */
    F64(8),
    /** IEEE float16: widened exactly. */
    F16(2),
    /** bfloat16 (the top 16 bits of a float32): widened exactly. */
    BF16(2);

    /**
     * Every dtype name of the safetensors format (safetensors 0.6); a name outside this set is
     * "unknown", one inside it but not an enum constant is "not supported".
     */
    static final Set<String> SAFETENSORS_NAMES = Set.of(
            "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
            "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64", "C64");

    /** Bytes per element. */
    final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** The constant named {@code name}, or null when Recur cannot read that dtype. */
    static DType byName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * Decodes {@code n} elements from {@code src} (little-endian, position advanced) into
     * {@code dst[off..off+n)}.
     */
    void decode(ByteBuffer src, float[] dst, int off, int n) {
        switch (this) {
            case F32 -> src.asFloatBuffer().get(dst, off, n);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = (float) src.getDouble(src.position() + 8 * i);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.float16ToFloat(src.getShort(src.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.intBitsToFloat((src.getShort(src.position() + 2 * i) & 0xffff) << 16);
                }
            }
        }
        src.position(src.position() + n * bytes);
    }
}
