package dev.recur.cuda;

import dev.recur.api.TensorOps;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels on a GPU, each against a reference in this file: float64 oracles for the gate math
 * and the losses, and, where the kernel promises the CPU engine's bits (data movement, small-integer
 * sums, the embedding gradient, dropout, the optimizers), Java float loops written like engine-cpu's
 * with exact equality. Reductions are also run twice and must repeat bit for bit. Talks to the
 * driver through JCuda directly (its own primary-context handle and cuMemAlloc), so it depends on
 * nothing of the engine but {@link CudaKernels}. Skipped, with the reason printed, without the
 * kernels, the driver or a GPU.
 */
class KernelGpuTest {

    /** Why the tests skip here, or null: each test checks it, so every skip is counted. */
    private static String skip;
    private static CUdevice device;
    private static CUcontext context;
    private static CudaKernels kernels;
    private final List<Mem> allocations = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(4);

    @BeforeAll
    static void openGpu() {
        String why = CudaKernels.missingReason();
        if (why == null) {
            why = driverProblem();
        }
        if (why != null) {
            skip = why;
            System.out.println("KernelGpuTest: every test skipped: " + why);
            return;
        }
        context = new CUcontext();
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        kernels = CudaKernels.load();
    }

    /** Why the driver cannot run kernels here, or null (then {@link #device} is device 0). */
    @SuppressWarnings("restricted") // dlopen of libcuda.so.1, only to see whether it is there
    private static String driverProblem() {
        // Look for libcuda.so.1 before JCuda does: a failed native load in JCudaDriver's static
        // initialiser would leave that class unusable for the rest of this test JVM.
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException e) {
            return "no NVIDIA driver: libcuda.so.1 not found (" + e.getMessage() + ")";
        } catch (IllegalCallerException e) {
            // native access denied to this code: let JCuda's own load below tell
        }
        try {
            int status = JCudaDriver.cuInit(0);
            if (status != CUresult.CUDA_SUCCESS) {
                return "cuInit failed: " + CUresult.stringFor(status);
            }
            int[] count = new int[1];
            check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
            if (count[0] == 0) {
                return "no CUDA device";
            }
            device = new CUdevice();
            check(JCudaDriver.cuDeviceGet(device, 0), "cuDeviceGet");
            return null;
        } catch (Throwable t) {   // UnsatisfiedLinkError without libcuda.so.1, a JCuda exception
            return "no CUDA driver: " + t;
        }
    }

    @AfterAll
    static void closeGpu() {
        if (kernels != null) {
            kernels.close();
            kernels.close();   // safe twice
        }
        if (context != null) {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }

    @BeforeEach
    void current() {
        assumeTrue(skip == null, skip);
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    @AfterEach
    void free() {
        for (Mem m : allocations) {
            JCudaDriver.cuMemFree(m);
        }
        allocations.clear();
    }

    // ---------------------------------------------------------------- gate kernels vs float64

    /**
     * Tolerance of the gate kernels against float64: expf and tanhf are within 2 ulp and a step
     * chains at most four of them with a few roundings; 1e-6 absolute covers values near zero.
     */
    private static void near(String what, double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = 1e-6 + 1e-5 * Math.abs(expected[i]);
            assertTrue(Math.abs(actual[i] - expected[i]) <= tol,
                    what + "[" + i + "]: float64 " + expected[i] + ", GPU " + actual[i]);
        }
    }

    private static double sig(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    @Test
    void lstmForwardAndBackwardAllVariants() {
        int rows = 5;
        int off = 3;
        int hs = 37;
        int n = off + rows + 2;
        for (String variant : List.of("standard", "peephole", "coupled")) {
            boolean coupled = variant.equals("coupled");
            boolean peephole = variant.equals("peephole");
            int g = coupled ? 3 : 4;
            int gh = g * hs;
            float[] gates = values(n * gh, -4, 4);
            float[] hg = values(rows * gh, -1, 1);
            float[] bhh = values(gh, -1, 1);
            float[] peep = peephole ? values(3 * hs, -1, 1) : null;
            float[] cPrev = values(n * hs, -2, 2);
            float[] cNext = values(n * hs, -1, 1);
            // float64 oracle of the step, and the backward's inputs.
            double[] eGates = toDouble(gates);
            double[] eCNext = toDouble(cNext);
            double[] eH = new double[rows * hs];
            double[] eC = new double[rows * hs];
            for (int j = 0; j < rows; j++) {
                for (int u = 0; u < hs; u++) {
                    int at = (off + j) * gh + u;
                    int q = j * gh + u;
                    double cp = cPrev[(off + j) * hs + u];
                    double[] a = new double[g];
                    for (int b = 0; b < g; b++) {
                        a[b] = (double) gates[at + b * hs] + hg[q + b * hs] + bhh[u + b * hs];
                    }
                    double i;
                    double f;
                    double gg;
                    double ao;
                    if (coupled) {
                        f = sig(a[0]);
                        i = 1 - f;
                        gg = Math.tanh(a[1]);
                        ao = a[2];
                        eGates[at] = f;
                        eGates[at + hs] = gg;
                    } else {
                        i = sig(a[0] + (peephole ? peep[u] * cp : 0));
                        f = sig(a[1] + (peephole ? peep[hs + u] * cp : 0));
                        gg = Math.tanh(a[2]);
                        ao = a[3];
                        eGates[at] = i;
                        eGates[at + hs] = f;
                        eGates[at + 2 * hs] = gg;
                    }
                    double c = f * cp + i * gg;
                    double o = sig(ao + (peephole ? peep[2 * hs + u] * c : 0));
                    eGates[at + (g - 1) * hs] = o;
                    eCNext[(off + j) * hs + u] = c;
                    eC[j * hs + u] = c;
                    eH[j * hs + u] = o * Math.tanh(c);
                }
            }
            long dGates = upload(gates);
            long dCNext = upload(cNext);
            long dH = alloc(rows * hs);
            long dC = alloc(rows * hs);
            long dPeep = peephole ? upload(peep) : 0;
            long dCPrev = upload(cPrev);
            kernels.lstmForward(null, rows, off, hs, coupled, dGates, upload(hg), upload(bhh), dPeep, dCPrev, dCNext,
                    dH, dC);
            sync();
            near(variant + " gates", eGates, readFloats(dGates, n * gh));
            near(variant + " cNext", eCNext, readFloats(dCNext, n * hs));
            near(variant + " h", eH, readFloats(dH, rows * hs));
            near(variant + " c", eC, readFloats(dC, rows * hs));

            // Backward on the GPU's own forward results.
            float[] aGates = readFloats(dGates, n * gh);
            float[] aCNext = readFloats(dCNext, n * hs);
            float[] dh = values(rows * hs, -1, 1);
            float[] dc = values(rows * hs, -1, 1);
            float[] dG = values(n * gh, -1, 1);
            double[] eDG = toDouble(dG);
            double[] eDc = new double[rows * hs];
            for (int j = 0; j < rows; j++) {
                for (int u = 0; u < hs; u++) {
                    int at = (off + j) * gh + u;
                    int sr = (off + j) * hs + u;
                    int sj = j * hs + u;
                    double cp = cPrev[sr];
                    double tc = Math.tanh(aCNext[sr]);
                    double f = aGates[at + (coupled ? 0 : hs)];
                    double i = coupled ? 1 - f : aGates[at];
                    double gg = aGates[at + (coupled ? hs : 2 * hs)];
                    double o = aGates[at + (g - 1) * hs];
                    double dao = dh[sj] * tc * o * (1 - o);
                    double dct = dc[sj] + dh[sj] * o * (1 - tc * tc) + (peephole ? dao * peep[2 * hs + u] : 0);
                    double dag = dct * i * (1 - gg * gg);
                    double dcp = dct * f;
                    if (coupled) {
                        eDG[at] = dct * (cp - gg) * f * (1 - f);
                        eDG[at + hs] = dag;
                        eDG[at + 2 * hs] = dao;
                    } else {
                        double dai = dct * gg * i * (1 - i);
                        double daf = dct * cp * f * (1 - f);
                        if (peephole) {
                            dcp += dai * peep[u] + daf * peep[hs + u];
                        }
                        eDG[at] = dai;
                        eDG[at + hs] = daf;
                        eDG[at + 2 * hs] = dag;
                        eDG[at + 3 * hs] = dao;
                    }
                    eDc[sj] = dcp;
                }
            }
            long ddc = upload(dc);
            long ddG = upload(dG);
            kernels.lstmBackward(null, rows, off, hs, coupled, dGates, dPeep, dCPrev, dCNext, upload(dh), ddc, ddG);
            sync();
            near(variant + " dG", eDG, readFloats(ddG, n * gh));
            near(variant + " dc", eDc, readFloats(ddc, rows * hs));
        }
    }

    @Test
    void rnnAndGruKernels() {
        int rows = 4;
        int off = 2;
        int hs = 33;
        int n = off + rows + 1;
        // RNN, tanh and relu.
        for (boolean relu : new boolean[] {false, true}) {
            float[] gates = values(n * hs, -3, 3);
            float[] hg = values(rows * hs, -1, 1);
            float[] bhh = values(hs, -1, 1);
            double[] eGates = toDouble(gates);
            double[] eH = new double[rows * hs];
            for (int j = 0; j < rows; j++) {
                for (int u = 0; u < hs; u++) {
                    double a = (double) gates[(off + j) * hs + u] + hg[j * hs + u] + bhh[u];
                    double v = relu ? Math.max(a, 0) : Math.tanh(a);
                    eGates[(off + j) * hs + u] = v;
                    eH[j * hs + u] = v;
                }
            }
            long dGates = upload(gates);
            long dH = alloc(rows * hs);
            kernels.rnnForward(null, rows, off, hs, relu, dGates, upload(hg), upload(bhh), dH);
            sync();
            near("rnn relu=" + relu + " gates", eGates, readFloats(dGates, n * hs));
            near("rnn relu=" + relu + " h", eH, readFloats(dH, rows * hs));
            float[] saved = readFloats(dGates, n * hs);
            float[] dh = values(rows * hs, -1, 1);
            float[] dG = values(n * hs, -1, 1);
            double[] eDG = toDouble(dG);
            for (int j = 0; j < rows; j++) {
                for (int u = 0; u < hs; u++) {
                    double v = saved[(off + j) * hs + u];
                    eDG[(off + j) * hs + u] = relu ? (v <= 0 ? 0 : dh[j * hs + u]) : dh[j * hs + u] * (1 - v * v);
                }
            }
            long ddG = upload(dG);
            kernels.rnnBackward(null, rows, off, hs, relu, dGates, upload(dh), ddG);
            sync();
            near("rnn relu=" + relu + " dG", eDG, readFloats(ddG, n * hs));
        }

        // GRU (cuDNN form) forward and backward.
        int gh = 3 * hs;
        float[] gates = values(n * gh, -3, 3);
        float[] hg = values(rows * gh, -1, 1);
        float[] bhh = values(gh, -1, 1);
        float[] hPrev = values(n * hs, -1, 1);
        double[] eGates = toDouble(gates);
        double[] eHn = new double[n * hs];
        double[] eH = new double[rows * hs];
        float[] hn0 = values(n * hs, -1, 1);
        for (int k = 0; k < n * hs; k++) {
            eHn[k] = hn0[k];
        }
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int at = (off + j) * gh + u;
                int q = j * gh + u;
                double r = sig((double) gates[at] + hg[q] + bhh[u]);
                double z = sig((double) gates[at + hs] + hg[q + hs] + bhh[u + hs]);
                double hnv = (double) hg[q + 2 * hs] + bhh[u + 2 * hs];
                double nv = Math.tanh(gates[at + 2 * hs] + r * hnv);
                eGates[at] = r;
                eGates[at + hs] = z;
                eGates[at + 2 * hs] = nv;
                eHn[(off + j) * hs + u] = hnv;
                eH[j * hs + u] = (1 - z) * nv + z * hPrev[(off + j) * hs + u];
            }
        }
        long dGates = upload(gates);
        long dHPrev = upload(hPrev);
        long dHn = upload(hn0);
        long dH = alloc(rows * hs);
        kernels.gruForward(null, rows, off, hs, dGates, upload(hg), upload(bhh), dHPrev, dHn, dH);
        sync();
        near("gru gates", eGates, readFloats(dGates, n * gh));
        near("gru hn", eHn, readFloats(dHn, n * hs));
        near("gru h", eH, readFloats(dH, rows * hs));
        float[] saved = readFloats(dGates, n * gh);
        float[] hn = readFloats(dHn, n * hs);
        float[] dh = values(rows * hs, -1, 1);
        float[] dGx = values(n * gh, -1, 1);
        float[] dGh = values(n * gh, -1, 1);
        double[] eDGx = toDouble(dGx);
        double[] eDGh = toDouble(dGh);
        double[] eDh = new double[rows * hs];
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int at = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                double r = saved[at];
                double z = saved[at + hs];
                double nv = saved[at + 2 * hs];
                double d = dh[j * hs + u];
                double dan = d * (1 - z) * (1 - nv * nv);
                double dar = dan * hn[sr] * r * (1 - r);
                double daz = d * (hPrev[sr] - nv) * z * (1 - z);
                eDGx[at] = dar;
                eDGx[at + hs] = daz;
                eDGx[at + 2 * hs] = dan;
                eDGh[at] = dar;
                eDGh[at + hs] = daz;
                eDGh[at + 2 * hs] = dan * r;
                eDh[j * hs + u] = d * z;
            }
        }
        long ddh = upload(dh);
        long ddGx = upload(dGx);
        long ddGh = upload(dGh);
        kernels.gruBackward(null, rows, off, hs, dGates, dHPrev, dHn, ddh, ddGx, ddGh);
        sync();
        near("gru dGx", eDGx, readFloats(ddGx, n * gh));
        near("gru dGh", eDGh, readFloats(ddGh, n * gh));
        near("gru dh", eDh, readFloats(ddh, rows * hs));
    }

    @Test
    void originalGruKernels() {
        int rows = 3;
        int off = 1;
        int hs = 17;
        int n = off + rows + 2;
        int gh = 3 * hs;
        float[] gates = values(n * gh, -3, 3);
        float[] hg = values(rows * gh, -1, 1);
        float[] bhh = values(gh, -1, 1);
        float[] hPrev = values(n * hs, -1, 1);
        float[] rh0 = values(n * hs, -1, 1);
        double[] eGates = toDouble(gates);
        double[] eRh = toDouble(rh0);
        double[] eH = new double[rows * hs];
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int at = (off + j) * gh + u;
                int q = j * gh + u;
                int sr = (off + j) * hs + u;
                double r = sig((double) gates[at] + hg[q] + bhh[u]);
                double z = sig((double) gates[at + hs] + hg[q + hs] + bhh[u + hs]);
                eGates[at] = r;
                eGates[at + hs] = z;
                eRh[sr] = r * hPrev[sr];
                double nv = Math.tanh((double) gates[at + 2 * hs] + hg[q + 2 * hs] + bhh[u + 2 * hs]);
                eGates[at + 2 * hs] = nv;
                eH[j * hs + u] = (1 - z) * nv + z * hPrev[sr];
            }
        }
        long dGates = upload(gates);
        long dHg = upload(hg);
        long dBhh = upload(bhh);
        long dHPrev = upload(hPrev);
        long dRh = upload(rh0);
        long dH = alloc(rows * hs);
        kernels.gruOriginalGates(null, rows, off, hs, dGates, dHg, dBhh, dHPrev, dRh);
        kernels.gruOriginalOutput(null, rows, off, hs, dGates, dHg, dBhh, dHPrev, dH);
        sync();
        near("original gru gates", eGates, readFloats(dGates, n * gh));
        near("original gru rh", eRh, readFloats(dRh, n * hs));
        near("original gru h", eH, readFloats(dH, rows * hs));

        float[] saved = readFloats(dGates, n * gh);
        float[] dh = values(rows * hs, -1, 1);
        float[] dRhGrad = values(rows * hs, -1, 1);
        float[] dG = values(n * gh, -1, 1);
        double[] eDG = toDouble(dG);
        double[] eDh = new double[rows * hs];
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int at = (off + j) * gh + u;
                int sr = (off + j) * hs + u;
                double r = saved[at];
                double z = saved[at + hs];
                double nv = saved[at + 2 * hs];
                double d = dh[j * hs + u];
                eDG[at + hs] = d * (hPrev[sr] - nv) * z * (1 - z);
                eDG[at + 2 * hs] = d * (1 - z) * (1 - nv * nv);
                eDG[at] = dRhGrad[j * hs + u] * hPrev[sr] * r * (1 - r);
                eDh[j * hs + u] = d * z + dRhGrad[j * hs + u] * r;
            }
        }
        long ddh = upload(dh);
        long ddG = upload(dG);
        kernels.gruOriginalBackwardOutput(null, rows, off, hs, dGates, dHPrev, ddh, ddG);
        kernels.gruOriginalBackwardGates(null, rows, off, hs, dGates, dHPrev, upload(dRhGrad), ddh, ddG);
        sync();
        near("original gru dG", eDG, readFloats(ddG, n * gh));
        near("original gru dh", eDh, readFloats(ddh, rows * hs));
    }

    // ---------------------------------------------------------------- layer data movement, exact

    @Test
    void layerRowsAndStatesMoveExactly() {
        int t = 4;
        int b = 3;
        int w = 5;
        // A packed plan of lengths {4, 2, 3} in reverse: any permutation of distinct dense rows will do.
        int[] denseRows = {9, 1, 5, 6, 4, 2, 3, 0, 10};
        int n = denseRows.length;
        float[] dense = ints(t * b * w, 100);
        long dDense = upload(dense);
        long dRows = upload(denseRows);
        long dPacked = alloc(n * w);
        kernels.gatherRows(null, n, w, dRows, dDense, dPacked);
        float[] packed = readFloats(dPacked, n * w);
        float[] expected = new float[n * w];
        for (int r = 0; r < n; r++) {
            System.arraycopy(dense, denseRows[r] * w, expected, r * w, w);
        }
        assertArrayEquals(expected, packed, "gatherRows");

        float[] add = ints(n * w, 10);
        kernels.scatterAddRows(null, n, w, dRows, upload(add), dDense);
        float[] sum = dense.clone();
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < w; k++) {
                sum[denseRows[r] * w + k] += add[r * w + k];
            }
        }
        assertArrayEquals(sum, readFloats(dDense, t * b * w), "scatterAddRows");

        int[] perm = {2, 0, 1};
        int hs = 7;
        float[] state = ints(b * hs, 50);
        long dPerm = upload(perm);
        long dState = upload(state);
        long dRunning = upload(ints(b * hs, 9));
        kernels.loadState(null, b, hs, dPerm, dState, dRunning);
        float[] running = readFloats(dRunning, b * hs);
        for (int j = 0; j < b; j++) {
            for (int u = 0; u < hs; u++) {
                assertEquals(state[perm[j] * hs + u], running[j * hs + u], "loadState");
            }
        }
        kernels.loadState(null, b, hs, dPerm, 0, dRunning);
        assertArrayEquals(new float[b * hs], readFloats(dRunning, b * hs), "loadState of null: zeros");
        long dOut = alloc(b * hs);
        kernels.storeState(null, b, hs, dPerm, dState, dOut);
        float[] stored = readFloats(dOut, b * hs);
        for (int j = 0; j < b; j++) {
            for (int u = 0; u < hs; u++) {
                assertEquals(state[j * hs + u], stored[perm[j] * hs + u], "storeState");
            }
        }

        // A step's rows into a bidirectional y (stride 2H, reverse half at column H), and dy back.
        int rows = 2;
        int off = 3;
        float[] h = ints(rows * hs, 30);
        long dY = upload(new float[t * b * 2 * hs]);
        kernels.storeStepOutput(null, rows, off, hs, 2 * hs, hs, dRows, upload(h), dY);
        float[] y = readFloats(dY, t * b * 2 * hs);
        float[] dh = ints(rows * hs, 5);
        long dDh = upload(dh);
        kernels.addStepOutputGradient(null, rows, off, hs, 2 * hs, hs, dRows, dY, dDh);
        float[] dhAfter = readFloats(dDh, rows * hs);
        for (int j = 0; j < rows; j++) {
            for (int u = 0; u < hs; u++) {
                int at = denseRows[off + j] * 2 * hs + hs + u;
                assertEquals(h[j * hs + u], y[at], "storeStepOutput");
                assertEquals(dh[j * hs + u] + h[j * hs + u], dhAfter[j * hs + u], "addStepOutputGradient");
            }
        }

        float[] bias = ints(w, 20);
        long dX = alloc(n * w);
        kernels.broadcastRows(null, n, w, upload(bias), dX);
        float[] x = readFloats(dX, n * w);
        for (int r = 0; r < n; r++) {
            assertArrayEquals(bias, Arrays.copyOfRange(x, r * w, r * w + w), "broadcastRows row " + r);
        }
    }

    @Test
    void columnSumsAreExactOnSmallIntegersAndRepeat() {
        for (int[] rc : new int[][] {{1, 1}, {7, 33}, {1000, 70}, {6400, 2048}}) {
            int rows = rc[0];
            int cols = rc[1];
            float[] m = ints(rows * cols, 9);
            float[] out0 = ints(cols, 5);
            float[] expected = out0.clone();
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    expected[c] += m[r * cols + c];
                }
            }
            long dM = upload(m);
            long dOut = upload(out0);
            long dAlso = upload(out0);
            kernels.addColumnSums(null, rows, cols, dM, dOut, dAlso);
            assertArrayEquals(expected, readFloats(dOut, cols), "addColumnSums " + rows + "x" + cols);
            assertArrayEquals(expected, readFloats(dAlso, cols), "addColumnSums alsoOut");
        }
        // Random floats: the fixed shape makes a second run give the same bits.
        int rows = 3000;
        int cols = 300;
        long dM = upload(values(rows * cols, -1, 1));
        long a = upload(new float[cols]);
        long b = upload(new float[cols]);
        kernels.addColumnSums(null, rows, cols, dM, a, 0);
        kernels.addColumnSums(null, rows, cols, dM, b, 0);
        assertArrayEquals(readFloats(a, cols), readFloats(b, cols), "column sums repeat bit for bit");

        int hs = 9;
        int n = 50;
        float[] dG = ints(n * 4 * hs, 5);
        float[] cPrev = ints(n * hs, 5);
        float[] cNext = ints(n * hs, 5);
        float[] dp = ints(3 * hs, 3);
        float[] eDp = dp.clone();
        for (int r = 0; r < n; r++) {
            for (int u = 0; u < hs; u++) {
                eDp[u] += dG[r * 4 * hs + u] * cPrev[r * hs + u];
                eDp[hs + u] += dG[r * 4 * hs + hs + u] * cPrev[r * hs + u];
                eDp[2 * hs + u] += dG[r * 4 * hs + 3 * hs + u] * cNext[r * hs + u];
            }
        }
        long dDp = upload(dp);
        kernels.addPeepholeGrads(null, n, hs, upload(dG), upload(cPrev), upload(cNext), dDp);
        assertArrayEquals(eDp, readFloats(dDp, 3 * hs), "addPeepholeGrads");
    }

    // ---------------------------------------------------------------- tensor ops

    @Test
    void elementWiseOpsMatchJavaFloatArithmetic() {
        int n = 10_001;
        float[] x = values(n, -2, 2);
        float[] y = values(n, -2, 2);
        long dX = upload(x);
        long dY = upload(y);
        kernels.axpy(null, n, 0.37f, dX, dY);
        float[] eY = y.clone();
        for (int i = 0; i < n; i++) {
            eY[i] += 0.37f * x[i];
        }
        assertArrayEquals(eY, readFloats(dY, n), "axpy, the CPU engine's bits");
        kernels.scale(null, n, -1.5f, dX);
        float[] eX = x.clone();
        for (int i = 0; i < n; i++) {
            eX[i] *= -1.5f;
        }
        assertArrayEquals(eX, readFloats(dX, n), "scale");
        kernels.multiply(null, n, dX, dY, dX);   // out aliases a
        for (int i = 0; i < n; i++) {
            eX[i] = eX[i] * eY[i];
        }
        assertArrayEquals(eX, readFloats(dX, n), "multiply in place");

        int rows = 13;
        int cols = 7;
        float[] m = values(rows * cols, -1, 1);
        float[] v = values(cols, -1, 1);
        long dM = upload(m);
        kernels.addRowVector(null, rows, cols, dM, upload(v));
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r * cols + c] += v[c];
            }
        }
        assertArrayEquals(m, readFloats(dM, rows * cols), "addRowVector");

        float[] narrow = ints(rows * 3, 100);
        long dWide = upload(new float[rows * 10]);
        kernels.copyColumns(null, rows, 3, 10, 4, true, upload(narrow), dWide);
        long dBack = alloc(rows * 3);
        kernels.copyColumns(null, rows, 3, 10, 4, false, dBack, dWide);
        assertArrayEquals(narrow, readFloats(dBack, rows * 3), "copyColumns there and back");
        float[] wide = readFloats(dWide, rows * 10);
        assertEquals(narrow[3 * 3 + 2], wide[3 * 10 + 4 + 2], "copyColumns places column 2 of row 3 at 6");

        int a = 3;
        int b = 5;
        int f = 4;
        float[] t = ints(a * b * f, 1000);
        long dT = alloc(a * b * f);
        kernels.transpose01(null, a, b, f, upload(t), dT);
        float[] tt = readFloats(dT, a * b * f);
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int k = 0; k < f; k++) {
                    assertEquals(t[(i * b + j) * f + k], tt[(j * a + i) * f + k], "transpose01");
                }
            }
        }
    }

    @Test
    void dropoutDrawsTheSameMaskAsEveryEngine() {
        int n = 5000;
        float p = 0.3f;
        long seed = -123456789L;
        long counter = Long.MAX_VALUE - 2000;   // the index wraps inside the tensor
        float[] x = values(n, -1, 1);
        long dY = alloc(n);
        long dMask = alloc(n);
        kernels.dropout(null, n, p, seed, counter, upload(x), dY, dMask);
        float[] mask = readFloats(dMask, n);
        float[] y = readFloats(dY, n);
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) {
            float m = TensorOps.uniform(seed, counter + i) >= p ? keep : 0f;
            assertEquals(m, mask[i], 0f, "mask[" + i + "]");
            assertEquals(x[i] * m, y[i], 0f, "y[" + i + "]");
        }
    }

    @Test
    void embeddingForwardAndADeterministicBackward() {
        int vocab = 300;   // two radix passes
        int dim = 40;
        int n = 2500;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = random.nextInt(4) == 0 ? 7 : random.nextInt(vocab);   // one frequent id
        }
        ids[1234] = vocab;   // bad
        ids[2000] = -1;      // bad
        float[] table = values(vocab * dim, -1, 1);
        long dIds = upload(ids);
        long dOut = alloc(n * dim);
        long error = upload(new int[] {CudaKernels.NO_ERROR});
        kernels.embeddingForward(null, n, vocab, dim, upload(table), dIds, dOut, error);
        float[] out = readFloats(dOut, n * dim);
        for (int i = 0; i < n; i++) {
            for (int e = 0; e < dim; e++) {
                float expected = ids[i] < 0 || ids[i] >= vocab ? 0f : table[ids[i] * dim + e];
                assertEquals(expected, out[i * dim + e], 0f, "embeddingForward row " + i);
            }
        }
        assertEquals(1234, readInts(error, 1)[0], "the first bad position");

        float[] dOutGrad = values(n * dim, -1, 1);
        float[] dTable = values(vocab * dim, -1, 1);
        float[] expected = dTable.clone();
        for (int i = 0; i < n; i++) {   // CpuTensorOps' order: ascending i
            if (ids[i] >= 0 && ids[i] < vocab) {
                for (int e = 0; e < dim; e++) {
                    expected[ids[i] * dim + e] += dOutGrad[i * dim + e];
                }
            }
        }
        long dGrad = upload(dOutGrad);
        long scratch = allocBytes(CudaKernels.embeddingBackwardScratchBytes(n));
        long error2 = upload(new int[] {CudaKernels.NO_ERROR});
        long dTab = upload(dTable);
        kernels.embeddingBackward(null, n, vocab, dim, dIds, dGrad, dTab, scratch, error2);
        assertArrayEquals(expected, readFloats(dTab, vocab * dim), "embeddingBackward, the CPU engine's bits");
        assertEquals(1234, readInts(error2, 1)[0], "the first bad position");
        for (int v : new int[] {1, 200, 70_000}) {   // one, one and three passes
            int[] few = new int[300];
            for (int i = 0; i < few.length; i++) {
                few[i] = random.nextInt(v);
            }
            float[] g = ints(few.length * 3, 5);
            float[] eTab = new float[v * 3];
            for (int i = 0; i < few.length; i++) {
                for (int e = 0; e < 3; e++) {
                    eTab[few[i] * 3 + e] += g[i * 3 + e];
                }
            }
            long tab = upload(new float[v * 3]);
            kernels.embeddingBackward(null, few.length, v, 3, upload(few), upload(g), tab,
                    allocBytes(CudaKernels.embeddingBackwardScratchBytes(few.length)), 0);
            assertArrayEquals(eTab, readFloats(tab, v * 3), "embeddingBackward with V = " + v);
        }
    }

    @Test
    void clipGlobalNormAndFirstNonFinite() {
        int[] sizes = {1000, 1, 70_000, 0};
        long[] grads = new long[sizes.length];
        float[][] host = new float[sizes.length][];
        double sum = 0;
        for (int t = 0; t < sizes.length; t++) {
            host[t] = values(sizes[t], -1, 1);
            grads[t] = upload(host[t]);
            for (float v : host[t]) {
                sum += (double) v * v;
            }
        }
        float norm = (float) Math.sqrt(sum);
        long dNorm = alloc(1);
        long scratch = allocBytes(CudaKernels.clipGlobalNormScratchBytes(sizes.length));
        float maxNorm = norm / 4;
        kernels.clipGlobalNorm(null, grads, sizes, maxNorm, dNorm, scratch);
        float gpuNorm = readFloats(dNorm, 1)[0];
        assertEquals(norm, gpuNorm, 1e-6f * norm, "norm: float64 sums in another order, rounded to float");
        float s = maxNorm / (gpuNorm + 1e-6f);
        for (int t = 0; t < sizes.length; t++) {
            float[] scaled = readFloats(grads[t], sizes[t]);
            for (int i = 0; i < sizes[t]; i++) {
                assertEquals(host[t][i] * s, scaled[i], 0f, "grad " + t + "[" + i + "] scaled by the device's norm");
            }
        }
        // Under the limit nothing changes.
        float[] before = readFloats(grads[2], sizes[2]);
        kernels.clipGlobalNorm(null, grads, sizes, 1e30f, dNorm, scratch);
        assertArrayEquals(before, readFloats(grads[2], sizes[2]), "no clipping under maxNorm");

        int n = 100_000;
        float[] x = values(n, -1, 1);
        long result = alloc(1);
        long fScratch = allocBytes(CudaKernels.firstNonFiniteScratchBytes());
        long dX = upload(x);
        kernels.firstNonFinite(null, n, dX, result, fScratch);
        assertEquals(-1, readInts(result, 1)[0], "all finite");
        x[77_777] = Float.POSITIVE_INFINITY;
        x[99_999] = Float.NaN;
        x[50_001] = Float.NaN;
        kernels.firstNonFinite(null, n, upload(x), result, fScratch);
        assertEquals(50_001, readInts(result, 1)[0], "the first non-finite index");
    }

    // ---------------------------------------------------------------- losses

    @Test
    void lossesAgainstFloat64() {
        int n = 37;
        int c = 300;
        int ignore = -100;
        float[] logits = values(n * c, -8, 8);
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            targets[i] = i % 5 == 0 ? ignore : random.nextInt(c);
        }
        int counted = 0;
        double total = 0;
        double[] eGrad = new double[n * c];
        for (int i = 0; i < n; i++) {
            if (targets[i] != ignore) {
                counted++;
            }
        }
        for (int i = 0; i < n; i++) {
            if (targets[i] == ignore) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, logits[i * c + k]);
            }
            double z = 0;
            for (int k = 0; k < c; k++) {
                z += Math.exp(logits[i * c + k] - max);
            }
            double logZ = Math.log(z) + max;
            total += logZ - logits[i * c + targets[i]];
            for (int k = 0; k < c; k++) {
                eGrad[i * c + k] = (Math.exp(logits[i * c + k] - logZ) - (k == targets[i] ? 1 : 0)) / counted;
            }
        }
        long loss = alloc(1);
        long dLogits = upload(values(n * c, -1, 1));   // ignored rows must come back zero
        long scratch = allocBytes(CudaKernels.softmaxCrossEntropyScratchBytes(n));
        kernels.softmaxCrossEntropy(null, n, c, ignore, upload(logits), upload(targets), loss, dLogits, scratch, 0);
        assertEquals(total / counted, readFloats(loss, 1)[0], 1e-5 * Math.abs(total / counted), "cross-entropy");
        float[] grad = readFloats(dLogits, n * c);
        for (int k = 0; k < n * c; k++) {
            assertEquals(eGrad[k], grad[k], 1e-8 + 1e-5 * Math.abs(eGrad[k]), "dLogits[" + k + "]");
        }
        float first = readFloats(loss, 1)[0];
        kernels.softmaxCrossEntropy(null, n, c, ignore, upload(logits), upload(targets), loss, 0, scratch, 0);
        assertEquals(first, readFloats(loss, 1)[0], 0f, "repeats bit for bit");

        int m = 20_000;
        float[] pred = values(m, -2, 2);
        float[] target = values(m, 0, 1);
        double mse = 0;
        double bce = 0;
        for (int i = 0; i < m; i++) {
            double e = pred[i] - target[i];
            mse += e * e;
            double v = pred[i];
            bce += Math.max(v, 0) - v * target[i] + Math.log1p(Math.exp(-Math.abs(v)));
        }
        long dPred = upload(pred);
        long dTarget = upload(target);
        long dGrad = alloc(m);
        long partials = allocBytes(CudaKernels.meanLossScratchBytes());
        kernels.meanSquaredError(null, m, dPred, dTarget, loss, dGrad, partials);
        assertEquals(mse / m, readFloats(loss, 1)[0], 1e-6 * mse / m, "mean squared error");
        float[] g = readFloats(dGrad, m);
        for (int i = 0; i < m; i++) {
            assertEquals(2f / m * (pred[i] - target[i]), g[i], 0f, "dPred[" + i + "], the CPU engine's bits");
        }
        kernels.binaryCrossEntropyWithLogits(null, m, dPred, dTarget, loss, dGrad, partials);
        assertEquals(bce / m, readFloats(loss, 1)[0], 1e-6 * bce / m, "binary cross-entropy");
        g = readFloats(dGrad, m);
        for (int i = 0; i < m; i++) {
            double expected = (1 / (1 + Math.exp(-pred[i])) - target[i]) / m;
            assertEquals(expected, g[i], 1e-12 + 1e-6 * Math.abs(expected), "dLogits[" + i + "]");
        }
    }

    // ---------------------------------------------------------------- optimizers, exact

    @Test
    void optimizersAreTheCpuEnginesBitForBit() {
        int n = 3000;
        float[] p0 = values(n, -1, 1);
        float[] g = values(n, -1, 1);
        float[] s0 = values(n, 0, 1);
        // SGD with Nesterov momentum and weight decay, as CpuOptimizerOps.sgdImpl.
        float lr = 0.1f;
        float mu = 0.9f;
        float wd = 0.01f;
        float[] p = p0.clone();
        float[] vel = s0.clone();
        for (int i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            vel[i] = mu * vel[i] + d;
            d = d + mu * vel[i];
            p[i] -= lr * d;
        }
        long dP = upload(p0);
        long dV = upload(s0);
        kernels.sgd(null, n, lr, mu, wd, true, dP, upload(g), dV);
        assertArrayEquals(p, readFloats(dP, n), "sgd param");
        assertArrayEquals(vel, readFloats(dV, n), "sgd velocity");

        // RMSprop, as rmspropImpl.
        p = p0.clone();
        float[] sq = s0.clone();
        for (int i = 0; i < n; i++) {
            float d = g[i] + wd * p[i];
            sq[i] = 0.99f * sq[i] + (1f - 0.99f) * d * d;
            p[i] -= 0.01f * d / ((float) Math.sqrt(sq[i]) + 1e-8f);
        }
        dP = upload(p0);
        long dS = upload(s0);
        kernels.rmsprop(null, n, 0.01f, 0.99f, 1e-8f, wd, dP, upload(g), dS);
        assertArrayEquals(p, readFloats(dP, n), "rmsprop param");
        assertArrayEquals(sq, readFloats(dS, n), "rmsprop square average");

        // AdamW at step 5, as adamImpl.
        int step = 5;
        float[] m = values(n, -0.1, 0.1);
        float[] v = values(n, 0, 0.01);
        long dM = upload(m);
        long dVv = upload(v);
        dP = upload(p0);
        p = p0.clone();
        float bias1 = (float) (1 - Math.pow(0.9f, step));
        float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(0.999f, step));
        float stepSize = 1e-3f / bias1;
        for (int i = 0; i < n; i++) {
            p[i] *= 1f - 1e-3f * wd;
            m[i] = 0.9f * m[i] + (1f - 0.9f) * g[i];
            v[i] = 0.999f * v[i] + (1f - 0.999f) * g[i] * g[i];
            float denom = (float) Math.sqrt(v[i]) / bias2Sqrt + 1e-8f;
            p[i] -= stepSize * m[i] / denom;
        }
        kernels.adam(null, n, step, 1e-3f, 0.9f, 0.999f, 1e-8f, wd, true, dP, upload(g), dM, dVv);
        assertArrayEquals(p, readFloats(dP, n), "adamw param");
        assertArrayEquals(m, readFloats(dM, n), "adamw m");
        assertArrayEquals(v, readFloats(dVv, n), "adamw v");
    }

    // ---------------------------------------------------------------- device memory of this test

    /** A JCuda device pointer whose address this test can read (JCuda keeps it in protected fields). */
    private static final class Mem extends CUdeviceptr {
        Mem() {
        }

        private Mem(long address) {
            super(new CUdeviceptr(), address);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    private long allocBytes(long bytes) {
        Mem m = new Mem();
        check(JCudaDriver.cuMemAlloc(m, Math.max(bytes, 4)), "cuMemAlloc(" + bytes + ")");
        allocations.add(m);
        return m.address();
    }

    private long alloc(int floats) {
        return allocBytes(4L * floats);
    }

    private long upload(float[] a) {
        long at = alloc(a.length);
        if (a.length > 0) {
            check(JCudaDriver.cuMemcpyHtoD(new Mem(at), Pointer.to(a), 4L * a.length), "cuMemcpyHtoD");
        }
        return at;
    }

    private long upload(int[] a) {
        long at = alloc(a.length);
        if (a.length > 0) {
            check(JCudaDriver.cuMemcpyHtoD(new Mem(at), Pointer.to(a), 4L * a.length), "cuMemcpyHtoD");
        }
        return at;
    }

    /** Reads back n floats; waits for the kernels before (the legacy stream orders the copy after them). */
    private static float[] readFloats(long at, int n) {
        float[] out = new float[n];
        if (n > 0) {
            check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), new Mem(at), 4L * n), "cuMemcpyDtoH");
        }
        return out;
    }

    private static int[] readInts(long at, int n) {
        int[] out = new int[n];
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), new Mem(at), 4L * n), "cuMemcpyDtoH");
        return out;
    }

    private static void sync() {
        check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize (a kernel failed)");
    }

    private static void check(int status, String call) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + CUresult.stringFor(status));
        }
    }

    // ---------------------------------------------------------------- inputs

    private float[] values(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }

    /** Small integers in [-k, k]: sums of them are exact in float32, so results must be equal. */
    private float[] ints(int n, int k) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextInt(-k, k + 1);
        }
        return a;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
