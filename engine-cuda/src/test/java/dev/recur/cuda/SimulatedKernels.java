package dev.recur.cuda;

import java.util.List;

import static dev.recur.cuda.SimulatedDevice.ALL;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The kernels {@link CudaLayer} launches, ported line for line from {@code kernels/src/main/cuda}
 * ({@code cell_math.cuh} for cells.cu, and layers.cu) to Java over raw addresses, for the
 * {@link SimulatedDevice}. Each takes its parameters in the kernel's own order, from the values
 * that {@link CudaKernels}' launch method passed, so the launch methods' argument order is what
 * is checked along with the layer code. Each kernel runs its (row, unit) elements one after
 * another; on the GPU they run at once, which is the same because no element reads another's
 * output (cells.cu's header says why). {@code expf}/{@code tanhf} become Java's exp and tanh in
 * double, rounded to float; {@code fmaf} is {@link Math#fma(float, float, float)}.
 */
final class SimulatedKernels {

    private SimulatedKernels() {
    }

    static void run(String kernel, List<Object> v) {
        if (OptionKernelsHost.serves(kernel)) {
            // The option path's kernels run as their g++-built host twin, not as Java ports.
            OptionKernelsHost.run(kernel, v);
            return;
        }
        switch (kernel) {
            case "rnnForward" -> rnnForward(i(v, 0), i(v, 1), i(v, 2), i(v, 3), p(v, 4), p(v, 5), p(v, 6), p(v, 7));
            case "rnnBackward" -> rnnBackward(i(v, 0), i(v, 1), i(v, 2), i(v, 3), p(v, 4), p(v, 5), p(v, 6));
            case "lstmForward" -> lstmForward(i(v, 0), i(v, 1), i(v, 2), i(v, 3), p(v, 4), p(v, 5), p(v, 6), p(v, 7),
                    p(v, 8), p(v, 9), p(v, 10), p(v, 11));
            case "lstmBackward" -> lstmBackward(i(v, 0), i(v, 1), i(v, 2), i(v, 3), p(v, 4), p(v, 5), p(v, 6),
                    p(v, 7), p(v, 8), p(v, 9), p(v, 10));
            case "gruForward" -> gruForward(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4), p(v, 5), p(v, 6), p(v, 7),
                    p(v, 8));
            case "gruBackward" -> gruBackward(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4), p(v, 5), p(v, 6), p(v, 7),
                    p(v, 8));
            case "gruOriginalGates" -> gruOriginalGates(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4), p(v, 5), p(v, 6),
                    p(v, 7));
            case "gruOriginalOutput" -> gruOriginalOutput(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4), p(v, 5),
                    p(v, 6), p(v, 7));
            case "gruOriginalBackwardOutput" -> gruOriginalBackwardOutput(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4),
                    p(v, 5), p(v, 6));
            case "gruOriginalBackwardGates" -> gruOriginalBackwardGates(i(v, 0), i(v, 1), i(v, 2), p(v, 3), p(v, 4),
                    p(v, 5), p(v, 6), p(v, 7));
            case "gatherRows" -> gatherRows(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4));
            case "scatterAddRows" -> scatterAddRows(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4));
            case "loadState" -> loadState(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4));
            case "storeState" -> storeState(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4));
            case "broadcastRows" -> broadcastRows(i(v, 0), i(v, 1), p(v, 2), p(v, 3));
            case "storeStepOutput" -> storeStepOutput(i(v, 0), i(v, 1), i(v, 2), i(v, 3), i(v, 4), p(v, 5), p(v, 6),
                    p(v, 7));
            case "addStepOutputGradient" -> addStepOutputGradient(i(v, 0), i(v, 1), i(v, 2), i(v, 3), i(v, 4),
                    p(v, 5), p(v, 6), p(v, 7));
            case "addColumnSums" -> addColumnSums(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4));
            case "addPeepholeGrads" -> addPeepholeGrads(i(v, 0), i(v, 1), p(v, 2), p(v, 3), p(v, 4), p(v, 5));
            default -> throw new UnsupportedOperationException("no simulation of kernel " + kernel);
        }
    }

    private static int i(List<Object> v, int k) {
        return (Integer) v.get(k);
    }

    private static long p(List<Object> v, int k) {
        return (Long) v.get(k);
    }

    private static float ld(long a, long index) {
        if (a == 0) {
            throw new IllegalStateException("read through a null pointer");
        }
        return ALL.get(JAVA_FLOAT, a + 4 * index);
    }

    private static void st(long a, long index, float value) {
        if (a == 0) {
            throw new IllegalStateException("write through a null pointer");
        }
        ALL.set(JAVA_FLOAT, a + 4 * index, value);
    }

    private static int ldi(long a, long index) {
        return ALL.get(JAVA_INT, a + 4 * index);
    }

    // ---------------------------------------------------------------- cell_math.cuh

    private static float sigmoid(float v) {
        return 1.0f / ((float) Math.exp(-v) + 1.0f);
    }

    private static float tanh(float v) {
        return (float) Math.tanh(v);
    }

    private static float oneMinusSquare(float v) {
        return Math.fma(-v, v, 1.0f);
    }

    private static float sigmoidSlope(float v) {
        return v * (-v + 1.0f);
    }

    private static float relu(float a) {
        return a <= 0.0f ? 0.0f : a;
    }

    static void rnnForward(int rows, int off, int hs, int relu, long gates, long hg, long bhh, long h) {
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * hs + u;
                int q = j * hs + u;
                float a = ld(gates, g) + ld(hg, q) + ld(bhh, u);
                float v = relu != 0 ? relu(a) : tanh(a);
                st(gates, g, v);
                st(h, q, v);
            }
        }
    }

    static void rnnBackward(int rows, int off, int hs, int relu, long gates, long dh, long dG) {
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * hs + u;
                int q = j * hs + u;
                float v = ld(gates, g);
                float d = ld(dh, q);
                st(dG, g, relu != 0 ? (v <= 0.0f ? 0.0f : d) : d * oneMinusSquare(v));
            }
        }
    }

    static void lstmForward(int rows, int off, int hs, int coupled, long gates, long hg, long bhh, long peep,
                            long cPrev, long cNext, long h, long c) {
        int gh = (coupled != 0 ? 3 : 4) * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int q = j * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float cp = ld(cPrev, sr);
                float cv;
                int oAt;
                if (coupled != 0) {
                    float f = sigmoid(ld(gates, g) + ld(hg, q) + ld(bhh, u));
                    float gg = tanh(ld(gates, g + hs) + ld(hg, q + hs) + ld(bhh, u + hs));
                    st(gates, g, f);
                    st(gates, g + hs, gg);
                    cv = f * cp + (-f + 1.0f) * gg;
                    oAt = 2 * hs;
                } else {
                    float ai = ld(gates, g) + ld(hg, q) + ld(bhh, u);
                    float af = ld(gates, g + hs) + ld(hg, q + hs) + ld(bhh, u + hs);
                    if (peep != 0) {
                        ai = Math.fma(ld(peep, u), cp, ai);
                        af = Math.fma(ld(peep, u + hs), cp, af);
                    }
                    float iv = sigmoid(ai);
                    float f = sigmoid(af);
                    float gg = tanh(ld(gates, g + 2 * hs) + ld(hg, q + 2 * hs) + ld(bhh, u + 2 * hs));
                    st(gates, g, iv);
                    st(gates, g + hs, f);
                    st(gates, g + 2 * hs, gg);
                    cv = f * cp + iv * gg;
                    oAt = 3 * hs;
                }
                float ao = ld(gates, g + oAt) + ld(hg, q + oAt) + ld(bhh, u + oAt);
                if (peep != 0 && coupled == 0) {
                    ao = Math.fma(ld(peep, u + 2 * hs), cv, ao);
                }
                float o = sigmoid(ao);
                st(gates, g + oAt, o);
                st(cNext, sr, cv);
                st(c, sj, cv);
                st(h, sj, o * tanh(cv));
            }
        }
    }

    static void lstmBackward(int rows, int off, int hs, int coupled, long gates, long peep, long cPrev, long cNext,
                             long dh, long dc, long dG) {
        int gh = (coupled != 0 ? 3 : 4) * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float cp = ld(cPrev, sr);
                float tc = tanh(ld(cNext, sr));
                float dhv = ld(dh, sj);
                float iv;
                float fv;
                float gv;
                float ov;
                if (coupled != 0) {
                    fv = ld(gates, g);
                    gv = ld(gates, g + hs);
                    ov = ld(gates, g + 2 * hs);
                    iv = -fv + 1.0f;
                } else {
                    iv = ld(gates, g);
                    fv = ld(gates, g + hs);
                    gv = ld(gates, g + 2 * hs);
                    ov = ld(gates, g + 3 * hs);
                }
                float dao = dhv * tc * sigmoidSlope(ov);
                float dct = ld(dc, sj) + dhv * ov * oneMinusSquare(tc);
                if (peep != 0) {
                    dct = Math.fma(dao, ld(peep, u + 2 * hs), dct);
                }
                float dag = dct * iv * oneMinusSquare(gv);
                float dcp = dct * fv;
                if (coupled != 0) {
                    st(dG, g, dct * (cp - gv) * sigmoidSlope(fv));
                    st(dG, g + hs, dag);
                    st(dG, g + 2 * hs, dao);
                } else {
                    float dai = dct * gv * sigmoidSlope(iv);
                    float daf = dct * cp * sigmoidSlope(fv);
                    if (peep != 0) {
                        dcp = Math.fma(dai, ld(peep, u), dcp);
                        dcp = Math.fma(daf, ld(peep, u + hs), dcp);
                    }
                    st(dG, g, dai);
                    st(dG, g + hs, daf);
                    st(dG, g + 2 * hs, dag);
                    st(dG, g + 3 * hs, dao);
                }
                st(dc, sj, dcp);
            }
        }
    }

    static void gruForward(int rows, int off, int hs, long gates, long hg, long bhh, long hPrev, long hn, long h) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int q = j * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float r = sigmoid(ld(gates, g) + ld(hg, q) + ld(bhh, u));
                float z = sigmoid(ld(gates, g + hs) + ld(hg, q + hs) + ld(bhh, u + hs));
                float hnv = ld(hg, q + 2 * hs) + ld(bhh, u + 2 * hs);
                float n = tanh(Math.fma(r, hnv, ld(gates, g + 2 * hs)));
                st(gates, g, r);
                st(gates, g + hs, z);
                st(gates, g + 2 * hs, n);
                st(hn, sr, hnv);
                st(h, sj, Math.fma(z, ld(hPrev, sr) - n, n));
            }
        }
    }

    static void gruBackward(int rows, int off, int hs, long gates, long hPrev, long hn, long dh, long dGx, long dGh) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float r = ld(gates, g);
                float z = ld(gates, g + hs);
                float n = ld(gates, g + 2 * hs);
                float dhv = ld(dh, sj);
                float dan = dhv * (-z + 1.0f) * oneMinusSquare(n);
                float dar = dan * ld(hn, sr) * sigmoidSlope(r);
                float daz = dhv * (ld(hPrev, sr) - n) * sigmoidSlope(z);
                st(dGx, g, dar);
                st(dGx, g + hs, daz);
                st(dGx, g + 2 * hs, dan);
                st(dGh, g, dar);
                st(dGh, g + hs, daz);
                st(dGh, g + 2 * hs, dan * r);
                st(dh, sj, dhv * z);
            }
        }
    }

    static void gruOriginalGates(int rows, int off, int hs, long gates, long hg, long bhh, long hPrev, long rh) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int q = j * gh + u;
                int sr = (off + j) * hs + u;
                float r = sigmoid(ld(gates, g) + ld(hg, q) + ld(bhh, u));
                float z = sigmoid(ld(gates, g + hs) + ld(hg, q + hs) + ld(bhh, u + hs));
                st(gates, g, r);
                st(gates, g + hs, z);
                st(rh, sr, r * ld(hPrev, sr));
            }
        }
    }

    static void gruOriginalOutput(int rows, int off, int hs, long gates, long hg, long bhh, long hPrev, long h) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int q = j * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float z = ld(gates, g + hs);
                float n = tanh(ld(gates, g + 2 * hs) + ld(hg, q + 2 * hs) + ld(bhh, u + 2 * hs));
                st(gates, g + 2 * hs, n);
                st(h, sj, Math.fma(z, ld(hPrev, sr) - n, n));
            }
        }
    }

    static void gruOriginalBackwardOutput(int rows, int off, int hs, long gates, long hPrev, long dh, long dG) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float z = ld(gates, g + hs);
                float n = ld(gates, g + 2 * hs);
                float dhv = ld(dh, sj);
                st(dG, g + hs, dhv * (ld(hPrev, sr) - n) * sigmoidSlope(z));
                st(dG, g + 2 * hs, dhv * (-z + 1.0f) * oneMinusSquare(n));
                st(dh, sj, dhv * z);
            }
        }
    }

    static void gruOriginalBackwardGates(int rows, int off, int hs, long gates, long hPrev, long dRh, long dh,
                                         long dG) {
        int gh = 3 * hs;
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int g = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                int sj = j * hs + u;
                float r = ld(gates, g);
                float drh = ld(dRh, sj);
                st(dG, g, drh * ld(hPrev, sr) * sigmoidSlope(r));
                st(dh, sj, Math.fma(drh, r, ld(dh, sj)));
            }
        }
    }

    // ---------------------------------------------------------------- layers.cu

    static void gatherRows(int n, int width, long denseRows, long src, long dst) {
        for (long e = 0; e < (long) n * width; e++) {
            long r = e / width;
            long k = e % width;
            st(dst, e, ld(src, (long) ldi(denseRows, r) * width + k));
        }
    }

    static void scatterAddRows(int n, int width, long denseRows, long src, long dst) {
        for (long e = 0; e < (long) n * width; e++) {
            long r = e / width;
            long k = e % width;
            long d = (long) ldi(denseRows, r) * width + k;
            st(dst, d, ld(dst, d) + ld(src, e));
        }
    }

    static void loadState(int batch, int hs, long perm, long state, long packed) {
        for (long e = 0; e < (long) batch * hs; e++) {
            long j = e / hs;
            long u = e % hs;
            st(packed, e, state == 0 ? 0.0f : ld(state, (long) ldi(perm, j) * hs + u));
        }
    }

    static void storeState(int batch, int hs, long perm, long packed, long state) {
        for (long e = 0; e < (long) batch * hs; e++) {
            long j = e / hs;
            long u = e % hs;
            st(state, (long) ldi(perm, j) * hs + u, ld(packed, e));
        }
    }

    static void broadcastRows(int rows, int cols, long v, long x) {
        for (long e = 0; e < (long) rows * cols; e++) {
            st(x, e, ld(v, e % cols));
        }
    }

    static void storeStepOutput(int rows, int off, int hs, int yStride, int yCol, long denseRows, long h, long y) {
        for (long e = 0; e < (long) rows * hs; e++) {
            long j = e / hs;
            long u = e % hs;
            st(y, (long) ldi(denseRows, off + j) * yStride + yCol + u, ld(h, e));
        }
    }

    static void addStepOutputGradient(int rows, int off, int hs, int dyStride, int dyCol, long denseRows, long dy,
                                      long dh) {
        for (long e = 0; e < (long) rows * hs; e++) {
            long j = e / hs;
            long u = e % hs;
            st(dh, e, ld(dh, e) + ld(dy, (long) ldi(denseRows, off + j) * dyStride + dyCol + u));
        }
    }

    /** layers.cu's recur_column_sums: 8 row lanes per column in ascending rows, then the lanes in order. */
    private interface Term {
        float at(long r, long c);
    }

    private static void columnSums(int rows, int cols, Term term, long out, long alsoOut) {
        int lanes = 8;
        for (int c = 0; c < cols; c++) {
            float[] partial = new float[lanes];
            for (int k = 0; k < lanes; k++) {
                float sum = 0.0f;
                for (long r = k; r < rows; r += lanes) {
                    sum += term.at(r, c);
                }
                partial[k] = sum;
            }
            float total = partial[0];
            for (int k = 1; k < lanes; k++) {
                total += partial[k];
            }
            st(out, c, ld(out, c) + total);
            if (alsoOut != 0) {
                st(alsoOut, c, ld(alsoOut, c) + total);
            }
        }
    }

    static void addColumnSums(int rows, int cols, long m, long out, long alsoOut) {
        columnSums(rows, cols, (r, c) -> ld(m, r * cols + c), out, alsoOut);
    }

    static void addPeepholeGrads(int rows, int hs, long dG, long cPrev, long cNext, long dp) {
        columnSums(rows, 3 * hs, (r, c) -> {
            long k = c / hs;
            long u = c % hs;
            long s = r * hs + u;
            long g = r * 4 * hs + u;
            return k == 2 ? ld(dG, g + 3L * hs) * ld(cNext, s) : ld(dG, g + k * hs) * ld(cPrev, s);
        }, dp, 0);
    }
}
