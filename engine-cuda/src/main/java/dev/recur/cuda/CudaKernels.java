package dev.recur.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The Recur kernel module (the {@code kernels} jar's {@code recur.fatbin}, built from
 * {@code kernels/src/main/cuda}) and one typed launch method per kernel. Each method is named
 * after its CPU twin in engine-cpu ({@code GateMath.lstmForward} → {@link #lstmForward},
 * {@code CpuTensorOps.axpyImpl} → {@link #axpy}, {@code CpuLayer.gatherRows} →
 * {@link #gatherRows}) and does what the twin does, element for element; where an op needs
 * several kernels (losses, clipping, the embedding's gradient) one method runs the whole chain
 * and takes the scratch memory it needs ({@code ...ScratchBytes} says how much).
 *
 * <p>Conventions of every launch method: the stream comes first (null is the legacy default
 * stream); then sizes, flags and scalars; then device memory as {@code long} addresses, 0 for
 * null where the javadoc allows it. Shapes use the letters of {@code recur.cu}: T steps, B rows
 * running at a step ({@code rows}), I input, H hidden units ({@code hs}), G gate blocks,
 * GH = G·H, N packed rows. Arrays passed to one launch must not overlap unless the javadoc says
 * so. A launch with no work returns without launching. The launch shape (grid, block) is chosen
 * here and written in each javadoc; reductions have a fixed shape (see PARTIALS), so results
 * repeat bit for bit on any GPU.
 *
 * <p>Bad indices (an id outside the vocabulary, a target outside the classes) cannot throw on the
 * device: the ops that read indices take an {@code error} address, a device int that the caller
 * sets to {@link #NO_ERROR} (e.g. {@code cuMemsetD32Async}) and reads back when it checks; a
 * kernel that meets a bad index lowers it to the smallest bad position. 0 skips the report.
 *
 * <p>Order of calls: {@link #load()} in a thread whose current CUDA context is the one the
 * kernels will run in, launches on streams of that context, {@link #close()} (safe twice).
 * Instances are not synchronised: one owner (the backend) at a time.
 */
public final class CudaKernels implements AutoCloseable {

    /** The class-path resource with the kernel module (SASS sm_80, 86, 89, 90 and PTX compute_90). */
    public static final String FATBIN_RESOURCE = "/dev/recur/kernels/recur.fatbin";
    /** The compute_90 PTX alone, for checking launch signatures without a GPU. */
    static final String PTX_RESOURCE = "/dev/recur/kernels/recur.ptx";
    /** Written by the kernels build instead of the fatbin when nvcc was missing: the reason. */
    static final String NOT_BUILT_RESOURCE = "/dev/recur/kernels/NOT-BUILT.txt";

    /** The value an {@code error} slot holds while no bad index has been seen. */
    public static final int NO_ERROR = Integer.MAX_VALUE;

    /**
     * Blocks of every first-stage reduction (loss and norm sums, firstNonFinite): fixed, so a sum
     * has the same shape on every GPU; 256 blocks of 256 threads fill an H100's 132 SMs about twice.
     */
    static final int PARTIALS = 256;
    /** Threads per block of the element-wise kernels. */
    private static final int THREADS = 256;
    /** Threads per block of the gate kernels: smaller blocks spread a small step over more SMs. */
    private static final int GATE_THREADS = 128;
    /** Threads of the layer-normalisation kernels (options_ln.cu): 4 warps, one (row, gate block) each. */
    static final int LN_THREADS = 128;
    /** Threads of the single-block kernels that finish a reduction. */
    private static final int TOTAL_THREADS = 1024;
    /** Grid cap of the grid-stride kernels (8192 blocks of 256 threads fill any current GPU). */
    private static final int MAX_BLOCKS = 8192;
    /** Grid cap of the one-block-per-row kernels (the grid-stride loop covers more rows). */
    private static final int MAX_ROW_BLOCKS = 65535;
    /** embedding.cu: positions per tile, digit values per pass, tiles per block, scan threads. */
    private static final int SORT_TILE = 32;
    private static final int SORT_DIGITS = 256;
    private static final int SORT_THREADS = 32;
    private static final int SCAN_THREADS = 1024;
    /** Most positions embeddingBackward sorts: its scan's int count, 256 per tile of 32, must fit an int. */
    static final int MAX_SORT_POSITIONS = Integer.MAX_VALUE / SORT_DIGITS * SORT_TILE;

    /** A kernel of the module: its parameter kinds (see {@link CudaKernelArgs}) and, when the
     *  kernel is written for one block size ({@code __launch_bounds__}), that size, else 0. */
    record Kernel(String name, String params, int fixedBlock) {
    }

    /** Every kernel of recur.fatbin, in the order of the .cu files. */
    static final List<Kernel> KERNELS = List.of(
            // cells.cu: (rows, off, hs[, flag], arrays...)
            new Kernel("rnnForward", "iiiipppp", 0),
            new Kernel("rnnBackward", "iiiippp", 0),
            new Kernel("lstmForward", "iiiipppppppp", 0),
            new Kernel("lstmBackward", "iiiippppppp", 0),
            new Kernel("gruForward", "iiipppppp", 0),
            new Kernel("gruBackward", "iiipppppp", 0),
            new Kernel("gruOriginalGates", "iiippppp", 0),
            new Kernel("gruOriginalOutput", "iiippppp", 0),
            new Kernel("gruOriginalBackwardOutput", "iiipppp", 0),
            new Kernel("gruOriginalBackwardGates", "iiippppp", 0),
            // layers.cu
            new Kernel("gatherRows", "iippp", 0),
            new Kernel("scatterAddRows", "iippp", 0),
            new Kernel("loadState", "iippp", 0),
            new Kernel("storeState", "iippp", 0),
            new Kernel("broadcastRows", "iipp", 0),
            new Kernel("storeStepOutput", "iiiiippp", 0),
            new Kernel("addStepOutputGradient", "iiiiippp", 0),
            new Kernel("addColumnSums", "iippp", 256),
            new Kernel("addPeepholeGrads", "iipppp", 256),
            // tensors.cu
            new Kernel("axpy", "ifpp", 0),
            new Kernel("scale", "ifp", 0),
            new Kernel("multiply", "ippp", 0),
            new Kernel("addRowVector", "iipp", 0),
            new Kernel("embeddingForward", "iiipppp", 0),
            new Kernel("copyColumns", "iiiiipp", 0),
            new Kernel("transpose01", "iiipp", 0),
            new Kernel("dropout", "ifllppp", 0),
            new Kernel("clipGlobalNormPartials", "ipp", 0),
            new Kernel("clipGlobalNormTotal", "ipp", 0),
            new Kernel("clipGlobalNormScale", "ifpp", 0),
            new Kernel("firstNonFinitePartials", "ipp", 0),
            new Kernel("firstNonFiniteTotal", "ipp", 0),
            new Kernel("maskedSoftmax", "iiippp", 0),
            new Kernel("maskedSoftmaxBackward", "iiipppp", 0),
            new Kernel("tanhForward", "ipp", 0),
            new Kernel("tanhBackward", "ippp", 0),
            // embedding.cu
            new Kernel("embeddingBackwardKeys", "iipppp", 0),
            new Kernel("embeddingBackwardCounts", "iipp", SORT_THREADS),
            new Kernel("embeddingBackwardOffsets", "ip", SCAN_THREADS),
            new Kernel("embeddingBackwardScatter", "iippppp", SORT_THREADS),
            new Kernel("embeddingBackward", "iiipppp", 0),
            // losses.cu
            new Kernel("softmaxCrossEntropyCount", "iiippp", 0),
            new Kernel("softmaxCrossEntropyRows", "iiippppp", 0),
            new Kernel("softmaxCrossEntropyTotal", "ippp", 0),
            new Kernel("meanSquaredErrorPartials", "ipppp", 0),
            new Kernel("binaryCrossEntropyWithLogitsPartials", "ipppp", 0),
            new Kernel("meanOfPartials", "iipp", 0),
            // optimizers.cu
            new Kernel("sgd", "ifffippp", 0),
            new Kernel("rmsprop", "iffffppp", 0),
            new Kernel("adam", "ifffffiffpppp", 0),
            // options.cu: the option path (batch, width or hs, t, ...)
            new Kernel("optRecurrentInput", "iiifillpp", 0),
            new Kernel("optCommitState", "iiifillppp", 0),
            new Kernel("optOutput", "iiiiipppp", 0),
            new Kernel("optLstmForward", "iiiifillppppppppppp", 0),
            new Kernel("optGruForward", "iiipppppppp", 0),
            new Kernel("optGruOriginalGates", "iiippppppp", 0),
            new Kernel("optGruOriginalOutput", "iiippppppp", 0),
            new Kernel("optRnnForward", "iiiipppppp", 0),
            new Kernel("optOutputGradient", "iiiiiipppp", 0),
            new Kernel("optZoneBackward", "iiifllppp", 0),
            new Kernel("optRecurrentGradient", "iifllipp", 0),
            new Kernel("optLstmBackward", "iiiifllppppppppp", 0),
            new Kernel("optGruBackward", "iiipppppppp", 0),
            new Kernel("optGruOriginalBackwardOutput", "iiipppppp", 0),
            new Kernel("optGruOriginalBackwardGates", "iiiipppppp", 0),
            new Kernel("optRnnBackward", "iiiipppp", 0),
            // options_ln.cu: one warp per (row, gate block), 4 warps per block
            new Kernel("optLayerNorm", "iiiiifppppp", LN_THREADS),
            new Kernel("optLayerNormBackward", "iiiiipppppp", LN_THREADS),
            new Kernel("optLayerNormCell", "iiiiifppppppp", LN_THREADS),
            new Kernel("optLayerNormCellBackward", "iiiiippppppppp", LN_THREADS));

    private static final Map<String, Kernel> BY_NAME = byName();

    private final CudaKernelLauncher launcher;
    private CUmodule module;   // null for a recording launcher, and once closed
    private boolean closed;

    CudaKernels(CudaKernelLauncher launcher) {
        this(launcher, null);
    }

    private CudaKernels(CudaKernelLauncher launcher, CUmodule module) {
        this.launcher = launcher;
        this.module = module;
    }

    private static Map<String, Kernel> byName() {
        Map<String, Kernel> m = new LinkedHashMap<>();
        for (Kernel k : KERNELS) {
            if (m.put(k.name(), k) != null) {
                throw new IllegalStateException("kernel " + k.name() + " is listed twice");
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- module

    /**
     * Why the kernels cannot be loaded, or null when {@link #FATBIN_RESOURCE} is on the class path:
     * "kernels not built: ..." with the reason the kernels build left (nvcc missing), or saying that
     * the resource is absent. Reads only class-path resources; touches no CUDA library.
     */
    static String missingReason() {
        return missingReason(CudaKernels.class::getResource);
    }

    /** {@link #missingReason()} over a resource lookup (tests pass their own). */
    static String missingReason(Function<String, URL> resources) {
        if (resources.apply(FATBIN_RESOURCE) != null) {
            return null;
        }
        URL why = resources.apply(NOT_BUILT_RESOURCE);
        if (why != null) {
            try (InputStream in = why.openStream()) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                return "kernels not built: " + (text.isEmpty() ? "the kernels build gave no reason" : text);
            } catch (IOException e) {
                return "kernels not built: " + FATBIN_RESOURCE + " is absent and " + NOT_BUILT_RESOURCE
                        + " could not be read (" + e + ")";
            }
        }
        return "kernels not built: " + FATBIN_RESOURCE + " is not on the class path (the dev.recur:kernels jar is"
                + " missing, or was packaged without running its build)";
    }

    /**
     * Loads the module into the calling thread's current CUDA context ({@code cuModuleLoadData})
     * and looks up every kernel of {@link #KERNELS}, failing at once, with its name, on one the
     * module lacks (a kernels jar older than this class).
     *
     * @throws IllegalStateException when the fatbin is missing ({@link #missingReason()}) or a kernel is
     * @throws jcuda.CudaException   when the driver refuses the module, e.g. a GPU older than sm_80
     */
    static CudaKernels load() {
        String missing = missingReason();
        if (missing != null) {
            throw new IllegalStateException(missing);
        }
        byte[] image;
        try (InputStream in = CudaKernels.class.getResourceAsStream(FATBIN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("kernels not built: " + FATBIN_RESOURCE + " vanished from the class path");
            }
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + FATBIN_RESOURCE, e);
        }
        CUmodule module = new CUmodule();
        check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData(" + FATBIN_RESOURCE + ", "
                + image.length + " bytes; the module holds SASS for sm_80, sm_86, sm_89, sm_90 and PTX for compute_90)");
        Map<String, CUfunction> functions = new HashMap<>();
        try {
            for (Kernel k : KERNELS) {
                CUfunction f = new CUfunction();
                int status;
                try {
                    status = JCudaDriver.cuModuleGetFunction(f, module, k.name());
                } catch (jcuda.CudaException e) {   // when someone enabled JCuda's exceptions
                    throw missingKernel(k, e.getMessage());
                }
                if (status != CUresult.CUDA_SUCCESS) {
                    throw missingKernel(k, CUresult.stringFor(status));
                }
                functions.put(k.name(), f);
            }
        } catch (RuntimeException e) {
            JCudaDriver.cuModuleUnload(module);
            throw e;
        }
        return new CudaKernels((name, grid, block, stream, args) -> check(JCudaDriver.cuLaunchKernel(
                functions.get(name), grid, 1, 1, block, 1, 1, 0, stream, args.kernelParams(), null),
                "cuLaunchKernel(" + name + ", grid " + grid + ", block " + block + ")"), module);
    }

    private static IllegalStateException missingKernel(Kernel k, String status) {
        return new IllegalStateException("kernel " + k.name() + " is missing from " + FATBIN_RESOURCE + " (" + status
                + "): the kernels jar is older than CudaKernels; rebuild the kernels module");
    }

    /** Unloads the module; safe to call twice. Launches after this throw. */
    @Override
    public void close() {
        CUmodule m = module;
        module = null;
        closed = true;
        if (m != null) {
            check(JCudaDriver.cuModuleUnload(m), "cuModuleUnload");
        }
    }

    /**
     * Driver status check. JCuda's exceptions may be on or off (a global switch that the rest of
     * the engine owns); with them off, a failed call returns its status and this throws.
     */
    private static void check(int status, String call) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new jcuda.CudaException(call + " failed: " + CUresult.stringFor(status));
        }
    }

    // ---------------------------------------------------------------- cells.cu (GateMath)

    /**
     * GateMath.rnnForward: {@code a = gates[r] + hg[j] + b_hh}, {@code h = tanh(a)} or
     * {@code relu(a)}, written to {@code gates[r]} and {@code h[j]}.
     *
     * <p>Launch: one thread per (row, unit), rows·H threads in blocks of 128 (grid-stride).
     *
     * @param gates [N, H] in: x·W_ihᵀ + b_ih; out: h
     * @param hg    [B, H] h_{t-1}·W_hhᵀ of this step
     * @param bhh   [H]
     * @param h     [B, H]
     */
    void rnnForward(CUstream stream, int rows, int off, int hs, boolean relu, long gates, long hg, long bhh, long h) {
        String k = "rnnForward";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hg", hg);
        need(k, "bhh", bhh);
        need(k, "h", h);
        gate(k, stream, rows, hs, args(rows, off, hs).i(flag(relu)).p(gates).p(hg).p(bhh).p(h));
    }

    /**
     * GateMath.rnnBackward: {@code dG[r] = dh[j] ⊙ act'(a)} from the saved activation.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, H] saved activations; dh [B, H]; dG [N, H]
     */
    void rnnBackward(CUstream stream, int rows, int off, int hs, boolean relu, long gates, long dh, long dG) {
        String k = "rnnBackward";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "dh", dh);
        need(k, "dG", dG);
        gate(k, stream, rows, hs, args(rows, off, hs).i(flag(relu)).p(gates).p(dh).p(dG));
    }

    /**
     * GateMath.lstmForward: LSTM step (blocks i, f, g, o; coupled: f, g, o with i = 1 - f; with
     * peepholes {@code p_i, p_f} read {@code c_{t-1}} and {@code p_o} reads {@code c_t}). Writes
     * the activated gates, {@code cNext[r]}, {@code c[j]}, {@code h[j]}.
     *
     * <p>Launch: rows·H threads in blocks of 128; each thread does all gate blocks of its unit.
     *
     * @param gates [N, GH] in: x·W_ihᵀ + b_ih; out: activated gates (GH = 4H, coupled 3H)
     * @param hg    [B, GH] h_{t-1}·W_hhᵀ
     * @param bhh   [GH]
     * @param peep  [3H] or 0; never with {@code coupled}
     * @param cPrev [N, H] c_{t-1}; cNext [N, H] c_t, saved; h, c [B, H] running state
     */
    void lstmForward(CUstream stream, int rows, int off, int hs, boolean coupled, long gates, long hg, long bhh,
                     long peep, long cPrev, long cNext, long h, long c) {
        String k = "lstmForward";
        cellDims(k, rows, off, hs);
        noCoupledPeephole(k, coupled, peep);
        need(k, "gates", gates);
        need(k, "hg", hg);
        need(k, "bhh", bhh);
        need(k, "cPrev", cPrev);
        need(k, "cNext", cNext);
        need(k, "h", h);
        need(k, "c", c);
        gate(k, stream, rows, hs, args(rows, off, hs).i(flag(coupled)).p(gates).p(hg).p(bhh).p(peep).p(cPrev)
                .p(cNext).p(h).p(c));
    }

    /**
     * GateMath.lstmBackward: from {@code dh[j]} (all that reaches h_t) and {@code dc[j]} (what
     * reaches c_t from step t+1), the pre-activation gradients {@code dG[r]}; {@code dc[j]}
     * becomes the gradient reaching c_{t-1}.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, GH] activated gates; peep [3H] or 0 (never with coupled)
     * @param cPrev [N, H]; cNext [N, H]; dh [B, H]; dc [B, H] in and out; dG [N, GH]
     */
    void lstmBackward(CUstream stream, int rows, int off, int hs, boolean coupled, long gates, long peep, long cPrev,
                      long cNext, long dh, long dc, long dG) {
        String k = "lstmBackward";
        cellDims(k, rows, off, hs);
        noCoupledPeephole(k, coupled, peep);
        need(k, "gates", gates);
        need(k, "cPrev", cPrev);
        need(k, "cNext", cNext);
        need(k, "dh", dh);
        need(k, "dc", dc);
        need(k, "dG", dG);
        gate(k, stream, rows, hs, args(rows, off, hs).i(flag(coupled)).p(gates).p(peep).p(cPrev).p(cNext).p(dh)
                .p(dc).p(dG));
    }

    /**
     * GateMath.gruForward (cuDNN/PyTorch form): {@code n = tanh(x_n + r ⊙ (W_hn h + b_hn))};
     * saves {@code W_hn h + b_hn} in {@code hn[r]}.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hg [B, 3H]; bhh [3H]; hPrev [N, H] h_{t-1}; hn [N, H]; h [B, H]
     */
    void gruForward(CUstream stream, int rows, int off, int hs, long gates, long hg, long bhh, long hPrev, long hn,
                    long h) {
        String k = "gruForward";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hg", hg);
        need(k, "bhh", bhh);
        need(k, "hPrev", hPrev);
        need(k, "hn", hn);
        need(k, "h", h);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hg).p(bhh).p(hPrev).p(hn).p(h));
    }

    /**
     * GateMath.gruBackward: {@code dGx = [da_r, da_z, da_n]}, {@code dGh = [da_r, da_z, r⊙da_n]};
     * {@code dh[j]} becomes {@code z ⊙ dh} (the GEMM with W_hh adds the rest).
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hPrev [N, H]; hn [N, H]; dh [B, H] in and out; dGx, dGh [N, 3H]
     */
    void gruBackward(CUstream stream, int rows, int off, int hs, long gates, long hPrev, long hn, long dh, long dGx,
                     long dGh) {
        String k = "gruBackward";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hPrev", hPrev);
        need(k, "hn", hn);
        need(k, "dh", dh);
        need(k, "dGx", dGx);
        need(k, "dGh", dGh);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hPrev).p(hn).p(dh).p(dGx).p(dGh));
    }

    /**
     * GateMath.gruOriginalGates: r, z, and {@code rh[r] = r ⊙ h_{t-1}} (the input of the second,
     * n-block GEMM).
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hg [B, 3H] (r, z blocks read); bhh [3H]; hPrev [N, H]; rh [N, H]
     */
    void gruOriginalGates(CUstream stream, int rows, int off, int hs, long gates, long hg, long bhh, long hPrev,
                          long rh) {
        String k = "gruOriginalGates";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hg", hg);
        need(k, "bhh", bhh);
        need(k, "hPrev", hPrev);
        need(k, "rh", rh);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hg).p(bhh).p(hPrev).p(rh));
    }

    /**
     * GateMath.gruOriginalOutput: {@code n = tanh(x_n + (r⊙h)·W_hnᵀ + b_hn)} and h.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hg [B, 3H] (n block read: (r ⊙ h_{t-1})·W_hnᵀ); bhh [3H]; hPrev [N, H]; h [B, H]
     */
    void gruOriginalOutput(CUstream stream, int rows, int off, int hs, long gates, long hg, long bhh, long hPrev,
                           long h) {
        String k = "gruOriginalOutput";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hg", hg);
        need(k, "bhh", bhh);
        need(k, "hPrev", hPrev);
        need(k, "h", h);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hg).p(bhh).p(hPrev).p(h));
    }

    /**
     * GateMath.gruOriginalBackwardOutput: {@code da_z}, {@code da_n}; {@code dh[j]} becomes z ⊙ dh.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hPrev [N, H]; dh [B, H] in and out; dG [N, 3H] (z, n blocks written)
     */
    void gruOriginalBackwardOutput(CUstream stream, int rows, int off, int hs, long gates, long hPrev, long dh,
                                   long dG) {
        String k = "gruOriginalBackwardOutput";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hPrev", hPrev);
        need(k, "dh", dh);
        need(k, "dG", dG);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hPrev).p(dh).p(dG));
    }

    /**
     * GateMath.gruOriginalBackwardGates: from {@code dRh[j] = da_n·W_hn}, {@code da_r}, and
     * {@code dh[j] += r ⊙ dRh}.
     *
     * <p>Launch: rows·H threads in blocks of 128.
     *
     * @param gates [N, 3H]; hPrev [N, H]; dRh [B, H]; dh [B, H] in and out; dG [N, 3H] (r block written)
     */
    void gruOriginalBackwardGates(CUstream stream, int rows, int off, int hs, long gates, long hPrev, long dRh,
                                  long dh, long dG) {
        String k = "gruOriginalBackwardGates";
        cellDims(k, rows, off, hs);
        need(k, "gates", gates);
        need(k, "hPrev", hPrev);
        need(k, "dRh", dRh);
        need(k, "dh", dh);
        need(k, "dG", dG);
        gate(k, stream, rows, hs, args(rows, off, hs).p(gates).p(hPrev).p(dRh).p(dh).p(dG));
    }

    // ---------------------------------------------------------------- layers.cu (CpuLayer)

    /**
     * CpuLayer.gatherRows: {@code dst[r, :] = src[denseRows[r], :]} for the n packed rows.
     *
     * <p>Launch: n·W threads in blocks of 256 (grid-stride).
     *
     * @param denseRows [N] int, packed row → dense row (StepPlan.denseRow)
     * @param src       [T*B, W]; dst [N, W]
     */
    void gatherRows(CUstream stream, int n, int width, long denseRows, long src, long dst) {
        String k = "gatherRows";
        sizes(k, "n", n, "width", width);
        need(k, "denseRows", denseRows);
        need(k, "src", src);
        need(k, "dst", dst);
        flat(k, stream, (long) n * width, new CudaKernelArgs().i(n).i(width).p(denseRows).p(src).p(dst));
    }

    /**
     * CpuLayer.scatterAddRows: {@code dst[denseRows[r], :] += src[r, :]} (dense rows distinct).
     *
     * <p>Launch: n·W threads in blocks of 256.
     *
     * @param denseRows [N] int; src [N, W]; dst [T*B, W]
     */
    void scatterAddRows(CUstream stream, int n, int width, long denseRows, long src, long dst) {
        String k = "scatterAddRows";
        sizes(k, "n", n, "width", width);
        need(k, "denseRows", denseRows);
        need(k, "src", src);
        need(k, "dst", dst);
        flat(k, stream, (long) n * width, new CudaKernelArgs().i(n).i(width).p(denseRows).p(src).p(dst));
    }

    /**
     * CpuLayer.loadState: {@code packed[j, :] = state[perm[j], :]}, zeros when state is 0.
     *
     * <p>Launch: B·H threads in blocks of 256.
     *
     * @param perm [B] int (StepPlan.perm); state [B, H] or 0; packed [B, H]
     */
    void loadState(CUstream stream, int batch, int hs, long perm, long state, long packed) {
        String k = "loadState";
        sizes(k, "batch", batch, "hs", hs);
        need(k, "perm", perm);
        need(k, "packed", packed);
        flat(k, stream, (long) batch * hs, new CudaKernelArgs().i(batch).i(hs).p(perm).p(state).p(packed));
    }

    /**
     * CpuLayer.storeState: {@code state[perm[j], :] = packed[j, :]}; nothing when state is 0.
     *
     * <p>Launch: B·H threads in blocks of 256.
     *
     * @param perm [B] int; packed [B, H]; state [B, H] or 0
     */
    void storeState(CUstream stream, int batch, int hs, long perm, long packed, long state) {
        String k = "storeState";
        sizes(k, "batch", batch, "hs", hs);
        if (state == 0) {
            return;   // as CpuLayer.storeState with a null state
        }
        need(k, "perm", perm);
        need(k, "packed", packed);
        flat(k, stream, (long) batch * hs, new CudaKernelArgs().i(batch).i(hs).p(perm).p(packed).p(state));
    }

    /**
     * CpuLayer.forward's bias rows before the input GEMM (which then accumulates with beta = 1):
     * {@code x[r, :] = v}.
     *
     * <p>Launch: R·C threads in blocks of 256.
     *
     * @param v [C]; x [R, C]
     */
    void broadcastRows(CUstream stream, int rows, int cols, long v, long x) {
        String k = "broadcastRows";
        sizes(k, "rows", rows, "cols", cols);
        need(k, "v", v);
        need(k, "x", x);
        flat(k, stream, (long) rows * cols, new CudaKernelArgs().i(rows).i(cols).p(v).p(x));
    }

    /**
     * CpuLayer.forward's copy of step s's h rows into y:
     * {@code y[denseRows[off + j]·yStride + yCol + u] = h[j, u]}.
     *
     * <p>Launch: rows·H threads in blocks of 256.
     *
     * @param denseRows [N] int; h [B, H]; y [T*B, yStride] (yStride = H, or 2H bidirectional with yCol 0 or H)
     */
    void storeStepOutput(CUstream stream, int rows, int off, int hs, int yStride, int yCol, long denseRows, long h,
                         long y) {
        String k = "storeStepOutput";
        cellDims(k, rows, off, hs);
        strided(k, "yStride", yStride, "yCol", yCol, hs);
        need(k, "denseRows", denseRows);
        need(k, "h", h);
        need(k, "y", y);
        flat(k, stream, (long) rows * hs, args(rows, off, hs).i(yStride).i(yCol).p(denseRows).p(h).p(y));
    }

    /**
     * CpuLayer.backward's {@code dh[j, u] += dy[denseRows[off + j]·dyStride + dyCol + u]}.
     *
     * <p>Launch: rows·H threads in blocks of 256.
     *
     * @param denseRows [N] int; dy [T*B, dyStride]; dh [B, H]
     */
    void addStepOutputGradient(CUstream stream, int rows, int off, int hs, int dyStride, int dyCol, long denseRows,
                               long dy, long dh) {
        String k = "addStepOutputGradient";
        cellDims(k, rows, off, hs);
        strided(k, "dyStride", dyStride, "dyCol", dyCol, hs);
        need(k, "denseRows", denseRows);
        need(k, "dy", dy);
        need(k, "dh", dh);
        flat(k, stream, (long) rows * hs, args(rows, off, hs).i(dyStride).i(dyCol).p(denseRows).p(dy).p(dh));
    }

    /**
     * CpuLayer.addColumnSums and CpuTensorOps.addColumnSumsImpl: {@code out[c] += Σ_r m[r, c]}, and
     * the same sums into {@code alsoOut} when it is not 0 (both bias gradients of a layer).
     * Deterministic: 8 row lanes per column, each adding its rows in ascending order, then the
     * lanes in order; no atomics.
     *
     * <p>Launch: ceil(C/32) blocks (at most 8192, grid-stride) of exactly 256 threads (32 columns × 8 row lanes).
     *
     * @param m [R, C]; out [C]; alsoOut [C] or 0
     */
    void addColumnSums(CUstream stream, int rows, int cols, long m, long out, long alsoOut) {
        String k = "addColumnSums";
        sizes(k, "rows", rows, "cols", cols);
        need(k, "m", m);
        need(k, "out", out);
        if (cols == 0) {
            return;
        }
        launch(k, stream, blocks(cols, 32), 256, new CudaKernelArgs().i(rows).i(cols).p(m).p(out).p(alsoOut));
    }

    /**
     * CpuLayer.addPeepholeGrads: {@code dp_i += Σ da_i⊙c_{t-1}}, {@code dp_f += Σ da_f⊙c_{t-1}},
     * {@code dp_o += Σ da_o⊙c_t} over the N packed rows, deterministic as {@link #addColumnSums}.
     *
     * <p>Launch: ceil(3H/32) blocks of exactly 256 threads.
     *
     * @param dG [N, 4H]; cPrev, cNext [N, H]; dp [3H]
     */
    void addPeepholeGrads(CUstream stream, int rows, int hs, long dG, long cPrev, long cNext, long dp) {
        String k = "addPeepholeGrads";
        sizes(k, "rows", rows, "hs", hs);
        need(k, "dG", dG);
        need(k, "cPrev", cPrev);
        need(k, "cNext", cNext);
        need(k, "dp", dp);
        if (hs == 0) {
            return;
        }
        launch(k, stream, blocks(3L * hs, 32), 256, new CudaKernelArgs().i(rows).i(hs).p(dG).p(cPrev).p(cNext).p(dp));
    }

    // ---------------------------------------------------------------- tensors.cu (CpuTensorOps)
    // copyImpl needs no kernel: cuMemcpyDtoDAsync. Zero-filling: cuMemsetD32Async.

    /** CpuTensorOps.axpyImpl: {@code y += alpha·x}; x, y [n]. Launch: n threads in blocks of 256. */
    void axpy(CUstream stream, int n, float alpha, long x, long y) {
        String k = "axpy";
        size(k, "n", n);
        need(k, "x", x);
        need(k, "y", y);
        flat(k, stream, n, new CudaKernelArgs().i(n).f(alpha).p(x).p(y));
    }

    /** CpuTensorOps.scaleImpl: {@code x *= alpha}; x [n]. Launch: n threads in blocks of 256. */
    void scale(CUstream stream, int n, float alpha, long x) {
        String k = "scale";
        size(k, "n", n);
        need(k, "x", x);
        flat(k, stream, n, new CudaKernelArgs().i(n).f(alpha).p(x));
    }

    /**
     * CpuTensorOps.multiplyImpl: {@code out = a ⊙ b}; a, b, out [n]; out may be a or b.
     * Launch: n threads in blocks of 256.
     */
    void multiply(CUstream stream, int n, long a, long b, long out) {
        String k = "multiply";
        size(k, "n", n);
        need(k, "a", a);
        need(k, "b", b);
        need(k, "out", out);
        flat(k, stream, n, new CudaKernelArgs().i(n).p(a).p(b).p(out));
    }

    /** CpuTensorOps.addRowVectorImpl: {@code x[r, :] += v}; x [R, C], v [C]. Launch: R·C threads, blocks of 256. */
    void addRowVector(CUstream stream, int rows, int cols, long x, long v) {
        String k = "addRowVector";
        sizes(k, "rows", rows, "cols", cols);
        need(k, "x", x);
        need(k, "v", v);
        flat(k, stream, (long) rows * cols, new CudaKernelArgs().i(rows).i(cols).p(x).p(v));
    }

    /**
     * CpuTensorOps.embeddingForwardImpl: {@code out[i, :] = table[ids[i], :]}; an id outside
     * [0, V) gives a zero row and is reported in {@code error}.
     *
     * <p>Launch: n·E threads in blocks of 256.
     *
     * @param table [V, E]; ids [n] int; out [n, E]; error [1] int or 0 (see the class javadoc)
     */
    void embeddingForward(CUstream stream, int n, int vocab, int dim, long table, long ids, long out, long error) {
        String k = "embeddingForward";
        sizes(k, "n", n, "dim", dim);
        size(k, "vocab", vocab);
        need(k, "table", table);
        need(k, "ids", ids);
        need(k, "out", out);
        flat(k, stream, (long) n * dim,
                new CudaKernelArgs().i(n).i(vocab).i(dim).p(table).p(ids).p(out).p(error));
    }

    /**
     * CpuTensorOps.copyColumnsImpl: {@code narrow [R, A]} into columns {@code [offset, offset+A)} of
     * {@code wide [R, W]} when {@code intoWide}, else those columns back into narrow.
     * Launch: R·A threads in blocks of 256.
     */
    void copyColumns(CUstream stream, int rows, int a, int w, int offset, boolean intoWide, long narrow, long wide) {
        String k = "copyColumns";
        sizes(k, "rows", rows, "a", a);
        if (offset < 0 || (long) offset + a > w) {
            throw new IllegalArgumentException(k + ": columns [" + offset + ", " + ((long) offset + a)
                    + ") do not fit in a row of w = " + w);
        }
        need(k, "narrow", narrow);
        need(k, "wide", wide);
        flat(k, stream, (long) rows * a,
                new CudaKernelArgs().i(rows).i(a).i(w).i(offset).i(flag(intoWide)).p(narrow).p(wide));
    }

    /**
     * CpuTensorOps.transpose01Impl: {@code out[j, i, :] = x[i, j, :]}; x [A, Bd, F], out [Bd, A, F].
     * Launch: A·Bd·F threads in blocks of 256.
     */
    void transpose01(CUstream stream, int a, int b, int f, long x, long out) {
        String k = "transpose01";
        sizes(k, "a", a, "b", b);
        size(k, "f", f);
        need(k, "x", x);
        need(k, "out", out);
        flat(k, stream, (long) a * b * f, new CudaKernelArgs().i(a).i(b).i(f).p(x).p(out));
    }

    /**
     * CpuTensorOps.dropoutImpl: {@code mask[i] = TensorOps.uniform(seed, counter + i) >= p ? 1/(1-p) : 0},
     * {@code y = x ⊙ mask}: the CPU engine's mask bit for bit (the same SplitMix64).
     *
     * <p>Shapes: x, y, mask [n]; p in [0, 1)
     * <p>Launch: n threads in blocks of 256.
     */
    void dropout(CUstream stream, int n, float p, long seed, long counter, long x, long y, long mask) {
        String k = "dropout";
        size(k, "n", n);
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(k + ": p must be in [0, 1), got " + p);
        }
        need(k, "x", x);
        need(k, "y", y);
        need(k, "mask", mask);
        flat(k, stream, n, new CudaKernelArgs().i(n).f(p).l(seed).l(counter).p(x).p(y).p(mask));
    }

    /**
     * CpuTensorOps.maskedSoftmaxImpl: for {@code scores [N, R, L]} viewed as {@code rows = N·R}
     * rows, {@code probs[row, l] = softmax over l < lengths[row / R]}, exactly 0 past it.
     * {@code probs} may be {@code scores}. The lengths must already be checked to lie in 1..L.
     *
     * <p>Shapes: lengths [N] int, scores and probs [N·R, L]
     * <p>Launch: one thread per row, blocks of 256 (L is a sentence's length: a short serial loop
     * per row, summed in the CPU engine's order).
     */
    void maskedSoftmax(CUstream stream, int rows, int rowsPerBlock, int cols, long lengths, long scores, long probs) {
        String k = "maskedSoftmax";
        softmaxDims(k, rows, rowsPerBlock, cols);
        need(k, "lengths", lengths);
        need(k, "scores", scores);
        need(k, "probs", probs);
        flat(k, stream, rows, new CudaKernelArgs().i(rows).i(rowsPerBlock).i(cols).p(lengths).p(scores).p(probs));
    }

    /**
     * CpuTensorOps.maskedSoftmaxBackwardImpl: {@code dScores = p ⊙ (dProbs - Σ_{l < len} p·dProbs)}
     * per row, exactly 0 past the row's length. {@code dScores} may be {@code dProbs}.
     *
     * <p>Shapes: lengths [N] int, probs, dProbs, dScores [N·R, L]
     * <p>Launch: one thread per row, blocks of 256.
     */
    void maskedSoftmaxBackward(CUstream stream, int rows, int rowsPerBlock, int cols, long lengths, long probs,
                               long dProbs, long dScores) {
        String k = "maskedSoftmaxBackward";
        softmaxDims(k, rows, rowsPerBlock, cols);
        need(k, "lengths", lengths);
        need(k, "probs", probs);
        need(k, "dProbs", dProbs);
        need(k, "dScores", dScores);
        flat(k, stream, rows, new CudaKernelArgs().i(rows).i(rowsPerBlock).i(cols).p(lengths).p(probs).p(dProbs)
                .p(dScores));
    }

    private static void softmaxDims(String k, int rows, int rowsPerBlock, int cols) {
        sizes(k, "rows", rows, "cols", cols);
        if (rowsPerBlock < 1 || rows % rowsPerBlock != 0) {
            throw new IllegalArgumentException(k + ": rowsPerBlock must be >= 1 and divide rows = " + rows + ", got "
                    + rowsPerBlock);
        }
    }

    /** CpuTensorOps.tanhImpl: {@code y = tanh(x)}; x, y [n] (y may be x). Launch: n threads in blocks of 256. */
    void tanh(CUstream stream, int n, long x, long y) {
        String k = "tanhForward";
        size(k, "n", n);
        need(k, "x", x);
        need(k, "y", y);
        flat(k, stream, n, new CudaKernelArgs().i(n).p(x).p(y));
    }

    /**
     * CpuTensorOps.tanhBackwardImpl: {@code dx = dy ⊙ (1 - y ⊙ y)}; y, dy, dx [n] (dx may be dy).
     * Launch: n threads in blocks of 256.
     */
    void tanhBackward(CUstream stream, int n, long y, long dy, long dx) {
        String k = "tanhBackward";
        size(k, "n", n);
        need(k, "y", y);
        need(k, "dy", dy);
        need(k, "dx", dx);
        flat(k, stream, n, new CudaKernelArgs().i(n).p(y).p(dy).p(dx));
    }

    /** Scratch bytes {@link #clipGlobalNorm} needs for {@code tensors} gradient tensors: PARTIALS doubles each. */
    static long clipGlobalNormScratchBytes(int tensors) {
        return (long) tensors * PARTIALS * Double.BYTES;
    }

    /**
     * CpuTensorOps.clipGlobalNormImpl: {@code norm[0] = sqrt(Σ_t Σ_i g_t[i]²)} (float64 sums in a
     * fixed shape) and, when it exceeds maxNorm, every {@code g_t *= maxNorm / (norm + 1e-6)}, the
     * scale read from device memory (no host round trip). Kernels: clipGlobalNormPartials per
     * tensor, clipGlobalNormTotal, clipGlobalNormScale per tensor.
     *
     * @param grads   device addresses of the gradient tensors, in a fixed order
     * @param sizes   their element counts
     * @param norm    [1] float
     * @param scratch {@link #clipGlobalNormScratchBytes}(grads.length) bytes, 8-aligned
     */
    void clipGlobalNorm(CUstream stream, long[] grads, int[] sizes, float maxNorm, long norm, long scratch) {
        String k = "clipGlobalNorm";
        if (grads.length == 0 || grads.length != sizes.length) {
            throw new IllegalArgumentException(k + ": grads and sizes must be non-empty and of one length, got "
                    + grads.length + " and " + sizes.length);
        }
        if (!(maxNorm > 0f) || !Float.isFinite(maxNorm)) {
            throw new IllegalArgumentException(k + ": maxNorm must be a positive finite number, got " + maxNorm);
        }
        need(k, "norm", norm);
        need(k, "scratch", scratch);
        for (int t = 0; t < grads.length; t++) {
            clipGlobalNormPartials(stream, sizes[t], grads[t], scratch + (long) t * PARTIALS * Double.BYTES);
        }
        clipGlobalNormTotal(stream, grads.length * PARTIALS, scratch, norm);
        for (int t = 0; t < grads.length; t++) {
            clipGlobalNormScale(stream, sizes[t], maxNorm, norm, grads[t]);
        }
    }

    /**
     * Stage 1 of {@link #clipGlobalNorm}: {@code partials[b]} = Σ x² over block b's elements.
     *
     * <p>Launch: exactly PARTIALS blocks of 256 threads, also when n is 0 (all partials are written).
     *
     * @param x [n]; partials [PARTIALS] double
     */
    void clipGlobalNormPartials(CUstream stream, int n, long x, long partials) {
        String k = "clipGlobalNormPartials";
        size(k, "n", n);
        need(k, "x", x);
        need(k, "partials", partials);
        launch(k, stream, PARTIALS, THREADS, new CudaKernelArgs().i(n).p(x).p(partials));
    }

    /**
     * Stage 2 of {@link #clipGlobalNorm}: {@code norm[0] = (float) sqrt(Σ partials[0..count))}.
     * Launch: one block of 1024 threads.
     */
    void clipGlobalNormTotal(CUstream stream, int count, long partials, long norm) {
        String k = "clipGlobalNormTotal";
        size(k, "count", count);
        need(k, "partials", partials);
        need(k, "norm", norm);
        launch(k, stream, 1, TOTAL_THREADS, new CudaKernelArgs().i(count).p(partials).p(norm));
    }

    /**
     * Stage 3 of {@link #clipGlobalNorm}: {@code x *= maxNorm / (norm[0] + 1e-6)} when
     * {@code norm[0] > maxNorm}. Launch: n threads in blocks of 256.
     */
    void clipGlobalNormScale(CUstream stream, int n, float maxNorm, long norm, long x) {
        String k = "clipGlobalNormScale";
        size(k, "n", n);
        need(k, "norm", norm);
        need(k, "x", x);
        flat(k, stream, n, new CudaKernelArgs().i(n).f(maxNorm).p(norm).p(x));
    }

    /** Scratch bytes {@link #firstNonFinite} needs: PARTIALS ints. */
    static long firstNonFiniteScratchBytes() {
        return (long) PARTIALS * Integer.BYTES;
    }

    /**
     * CpuBackend.firstNonFinite: {@code result[0]} = the index of the first NaN or ±Inf of x, or -1;
     * deterministic (per-block minimum, then a minimum of the blocks).
     *
     * <p>Launch: PARTIALS blocks of 256 threads, then one block of 1024.
     *
     * @param x [n]; result [1] int; scratch {@link #firstNonFiniteScratchBytes()} bytes
     */
    void firstNonFinite(CUstream stream, int n, long x, long result, long scratch) {
        String k = "firstNonFinite";
        size(k, "n", n);
        need(k, "x", x);
        need(k, "result", result);
        need(k, "scratch", scratch);
        firstNonFinitePartials(stream, n, x, scratch);
        firstNonFiniteTotal(stream, PARTIALS, scratch, result);
    }

    /** Stage 1 of {@link #firstNonFinite}: per block the smallest non-finite index or INT_MAX; partials [PARTIALS] int. */
    void firstNonFinitePartials(CUstream stream, int n, long x, long partials) {
        String k = "firstNonFinitePartials";
        size(k, "n", n);
        need(k, "x", x);
        need(k, "partials", partials);
        launch(k, stream, PARTIALS, THREADS, new CudaKernelArgs().i(n).p(x).p(partials));
    }

    /** Stage 2 of {@link #firstNonFinite}: {@code result[0]} = min of partials[0..count), or -1. One block of 1024. */
    void firstNonFiniteTotal(CUstream stream, int count, long partials, long result) {
        String k = "firstNonFiniteTotal";
        size(k, "count", count);
        need(k, "partials", partials);
        need(k, "result", result);
        launch(k, stream, 1, TOTAL_THREADS, new CudaKernelArgs().i(count).p(partials).p(result));
    }

    // ---------------------------------------------------------------- embedding.cu

    /** Tiles of the embedding sort for n positions. */
    private static int sortTiles(int n) {
        return (int) (((long) n + SORT_TILE - 1) / SORT_TILE);
    }

    /**
     * Blocks of the sort's Counts and Scatter kernels: one thread per tile, so ceil(tiles/32),
     * not capped like {@link #blocks}: those kernels do not grid-stride, and a capped grid would
     * leave the tiles past 8192·32 (n above 8,388,608) uncounted and unscattered.
     */
    private static int sortBlocks(int n) {
        return (sortTiles(n) + SORT_THREADS - 1) / SORT_THREADS;
    }

    /**
     * Scratch bytes {@link #embeddingBackward} needs for n positions: keys and values twice
     * (4n ints) and the digit counts (256 per tile of 32 positions, 8n ints): about 48n bytes.
     */
    static long embeddingBackwardScratchBytes(int n) {
        return Integer.BYTES * (4L * n + (long) SORT_DIGITS * sortTiles(n));
    }

    /**
     * CpuTensorOps.embeddingBackwardImpl: {@code dTable[ids[i], :] += dOut[i, :]}, each row's
     * terms added in ascending i (the CPU engine's order and bits), without atomics: a stable LSD
     * radix sort of the positions by id (ceil(bits(V)/8) passes of three kernels), then one block
     * per run of equal ids (see embedding.cu for the cost). Ids outside [0, V) are skipped and
     * reported in {@code error}.
     *
     * @param ids     [n] int; dOut [n, E]; dTable [V, E]
     * @param scratch {@link #embeddingBackwardScratchBytes}(n) bytes, 4-aligned
     * @param error   [1] int or 0
     */
    void embeddingBackward(CUstream stream, int n, int vocab, int dim, long ids, long dOut, long dTable, long scratch,
                           long error) {
        String k = "embeddingBackward";
        sizes(k, "n", n, "dim", dim);
        size(k, "vocab", vocab);
        need(k, "ids", ids);
        need(k, "dOut", dOut);
        need(k, "dTable", dTable);
        need(k, "scratch", scratch);
        if (n == 0 || dim == 0) {
            return;
        }
        if (n > MAX_SORT_POSITIONS) {
            throw new IllegalArgumentException(k + ": n = " + n + " positions need " + (long) SORT_DIGITS * sortTiles(n)
                    + " digit counts, more than the int range of the sort's scan; at most " + MAX_SORT_POSITIONS
                    + " positions");
        }
        long keysA = scratch;
        long valsA = keysA + 4L * n;
        long keysB = valsA + 4L * n;
        long valsB = keysB + 4L * n;
        long counts = valsB + 4L * n;
        embeddingBackwardKeys(stream, n, vocab, ids, keysA, valsA, error);
        // Keys run to V (the invalid ones' key), so the passes cover bits(V).
        int bits = 32 - Integer.numberOfLeadingZeros(vocab);
        int passes = Math.max(1, (bits + 7) / 8);
        for (int pass = 0; pass < passes; pass++) {
            int shift = 8 * pass;
            boolean even = pass % 2 == 0;
            long keysIn = even ? keysA : keysB;
            long valsIn = even ? valsA : valsB;
            embeddingBackwardCounts(stream, n, shift, keysIn, counts);
            embeddingBackwardOffsets(stream, SORT_DIGITS * sortTiles(n), counts);
            embeddingBackwardScatter(stream, n, shift, keysIn, valsIn, counts, even ? keysB : keysA,
                    even ? valsB : valsA);
        }
        boolean inB = passes % 2 == 1;
        embeddingBackwardSum(stream, n, vocab, dim, inB ? keysB : keysA, inB ? valsB : valsA, dOut, dTable);
    }

    /** Sort start: keys [n] = ids (V when invalid, reported), vals [n] = 0..n-1. Launch: n threads, blocks of 256. */
    void embeddingBackwardKeys(CUstream stream, int n, int vocab, long ids, long keys, long vals, long error) {
        String k = "embeddingBackwardKeys";
        size(k, "n", n);
        size(k, "vocab", vocab);
        need(k, "ids", ids);
        need(k, "keys", keys);
        need(k, "vals", vals);
        flat(k, stream, n, new CudaKernelArgs().i(n).i(vocab).p(ids).p(keys).p(vals).p(error));
    }

    /** Sort pass, step 1: counts [256, tiles] of each digit per tile. Launch: ceil(tiles/32) blocks of exactly 32. */
    void embeddingBackwardCounts(CUstream stream, int n, int shift, long keys, long counts) {
        String k = "embeddingBackwardCounts";
        size(k, "n", n);
        need(k, "keys", keys);
        need(k, "counts", counts);
        if (n == 0) {
            return;
        }
        launch(k, stream, sortBlocks(n), SORT_THREADS, new CudaKernelArgs().i(n).i(shift).p(keys).p(counts));
    }

    /** Sort pass, step 2: exclusive scan of counts [total] in place. Launch: one block of exactly 1024. */
    void embeddingBackwardOffsets(CUstream stream, int total, long counts) {
        String k = "embeddingBackwardOffsets";
        size(k, "total", total);
        need(k, "counts", counts);
        launch(k, stream, 1, SCAN_THREADS, new CudaKernelArgs().i(total).p(counts));
    }

    /** Sort pass, step 3: stable scatter of keys and values [n] by digit. Launch: ceil(tiles/32) blocks of exactly 32. */
    void embeddingBackwardScatter(CUstream stream, int n, int shift, long keysIn, long valsIn, long offsets,
                                  long keysOut, long valsOut) {
        String k = "embeddingBackwardScatter";
        size(k, "n", n);
        need(k, "keysIn", keysIn);
        need(k, "valsIn", valsIn);
        need(k, "offsets", offsets);
        need(k, "keysOut", keysOut);
        need(k, "valsOut", valsOut);
        if (n == 0) {
            return;
        }
        launch(k, stream, sortBlocks(n), SORT_THREADS,
                new CudaKernelArgs().i(n).i(shift).p(keysIn).p(valsIn).p(offsets).p(keysOut).p(valsOut));
    }

    /**
     * The embedding gradient's sum (kernel {@code embeddingBackward}) over sorted keys and their
     * positions: each run of equal valid keys adds its dOut rows into dTable in order.
     *
     * <p>Shapes: keys, vals [n] int, sorted stably by key; dOut [n, E]; dTable [V, E]
     * <p>Launch: one block per sorted position (at most 65535, grid-stride), min(256, E rounded up to 32) threads.
     */
    void embeddingBackwardSum(CUstream stream, int n, int vocab, int dim, long keys, long vals, long dOut,
                              long dTable) {
        String k = "embeddingBackward";
        sizes(k, "n", n, "dim", dim);
        size(k, "vocab", vocab);
        need(k, "keys", keys);
        need(k, "vals", vals);
        need(k, "dOut", dOut);
        need(k, "dTable", dTable);
        if (n == 0 || dim == 0) {
            return;
        }
        int threads = Math.min(THREADS, (dim + 31) / 32 * 32);
        launch(k, stream, Math.min(n, MAX_ROW_BLOCKS), threads,
                new CudaKernelArgs().i(n).i(vocab).i(dim).p(keys).p(vals).p(dOut).p(dTable));
    }

    // ---------------------------------------------------------------- losses.cu (CpuLossOps)

    /** Scratch bytes {@link #softmaxCrossEntropy} needs for n rows: a double per row and the count. */
    static long softmaxCrossEntropyScratchBytes(int n) {
        return (long) n * Double.BYTES + Double.BYTES;
    }

    /**
     * CpuLossOps.softmaxCrossEntropyImpl: {@code loss[0]} = the mean over rows whose target is not
     * ignoreIndex of {@code -log softmax(logits[i])[t_i]} (0 when none counts), and, when dLogits
     * is not 0, {@code dLogits[i] = (softmax(logits[i]) - onehot(t_i)) / count}, zero rows for
     * ignored ones. A target outside [0, C) that is not ignoreIndex is reported in error and the
     * row ignored. Kernels: softmaxCrossEntropyCount, softmaxCrossEntropyRows,
     * softmaxCrossEntropyTotal.
     *
     * @param logits  [n, C]; targets [n] int; loss [1]; dLogits [n, C] or 0
     * @param scratch {@link #softmaxCrossEntropyScratchBytes}(n) bytes, 8-aligned
     * @param error   [1] int or 0
     */
    void softmaxCrossEntropy(CUstream stream, int n, int c, int ignoreIndex, long logits, long targets, long loss,
                             long dLogits, long scratch, long error) {
        String k = "softmaxCrossEntropy";
        sizes(k, "n", n, "c", c);
        need(k, "logits", logits);
        need(k, "targets", targets);
        need(k, "loss", loss);
        need(k, "scratch", scratch);
        long rowLoss = scratch;
        long count = scratch + (long) n * Double.BYTES;
        softmaxCrossEntropyCount(stream, n, c, ignoreIndex, targets, count, error);
        softmaxCrossEntropyRows(stream, n, c, ignoreIndex, logits, targets, count, rowLoss, dLogits);
        softmaxCrossEntropyTotal(stream, n, count, rowLoss, loss);
    }

    /** Stage 1: {@code count[0]} = rows not ignored; bad targets reported. Launch: one block of 1024. */
    void softmaxCrossEntropyCount(CUstream stream, int n, int c, int ignoreIndex, long targets, long count,
                                  long error) {
        String k = "softmaxCrossEntropyCount";
        sizes(k, "n", n, "c", c);
        need(k, "targets", targets);
        need(k, "count", count);
        launch(k, stream, 1, TOTAL_THREADS,
                new CudaKernelArgs().i(n).i(c).i(ignoreIndex).p(targets).p(count).p(error));
    }

    /**
     * Stage 2: per row, {@code rowLoss[i] = logZ_i - x[i, t_i]} (double) and the gradient row.
     * Launch: one block per row (at most 65535, grid-stride) of 32, 64, 128 or 256 threads, the
     * smallest power of two at least C up to 256 (a function of C alone, so the sums' shape is fixed).
     */
    void softmaxCrossEntropyRows(CUstream stream, int n, int c, int ignoreIndex, long logits, long targets, long count,
                                 long rowLoss, long dLogits) {
        String k = "softmaxCrossEntropyRows";
        sizes(k, "n", n, "c", c);
        need(k, "logits", logits);
        need(k, "targets", targets);
        need(k, "count", count);
        need(k, "rowLoss", rowLoss);
        if (n == 0) {
            return;
        }
        int threads = 32;
        while (threads < c && threads < THREADS) {
            threads *= 2;
        }
        launch(k, stream, Math.min(n, MAX_ROW_BLOCKS), threads,
                new CudaKernelArgs().i(n).i(c).i(ignoreIndex).p(logits).p(targets).p(count).p(rowLoss).p(dLogits));
    }

    /** Stage 3: {@code loss[0] = Σ rowLoss / count[0]} (0 when the count is 0). Launch: one block of 1024. */
    void softmaxCrossEntropyTotal(CUstream stream, int n, long count, long rowLoss, long loss) {
        String k = "softmaxCrossEntropyTotal";
        size(k, "n", n);
        need(k, "count", count);
        need(k, "rowLoss", rowLoss);
        need(k, "loss", loss);
        launch(k, stream, 1, TOTAL_THREADS, new CudaKernelArgs().i(n).p(count).p(rowLoss).p(loss));
    }

    /** Scratch bytes {@link #meanSquaredError} and {@link #binaryCrossEntropyWithLogits} need: PARTIALS doubles. */
    static long meanLossScratchBytes() {
        return (long) PARTIALS * Double.BYTES;
    }

    /**
     * CpuLossOps.meanSquaredErrorImpl: {@code loss[0] = mean((pred - target)²)}, {@code dPred =
     * 2 (pred - target) / n} when not 0. Kernels: meanSquaredErrorPartials, meanOfPartials.
     *
     * <p>Shapes: pred, target [n]; loss [1]; dPred [n] or 0; scratch {@link #meanLossScratchBytes()} bytes
     */
    void meanSquaredError(CUstream stream, int n, long pred, long target, long loss, long dPred, long scratch) {
        String k = "meanSquaredError";
        size(k, "n", n);
        need(k, "loss", loss);
        need(k, "scratch", scratch);
        meanSquaredErrorPartials(stream, n, pred, target, dPred, scratch);
        meanOfPartials(stream, PARTIALS, n, scratch, loss);
    }

    /** Stage 1 of {@link #meanSquaredError}: partials [PARTIALS] double. Launch: PARTIALS blocks of 256. */
    void meanSquaredErrorPartials(CUstream stream, int n, long pred, long target, long dPred, long partials) {
        String k = "meanSquaredErrorPartials";
        size(k, "n", n);
        need(k, "pred", pred);
        need(k, "target", target);
        need(k, "partials", partials);
        launch(k, stream, PARTIALS, THREADS, new CudaKernelArgs().i(n).p(pred).p(target).p(dPred).p(partials));
    }

    /**
     * CpuLossOps.binaryCrossEntropyWithLogitsImpl: {@code loss[0] = mean(max(x,0) - x·t + log(1 + e^{-|x|}))}
     * in float64, {@code dLogits = (σ(x) - t) / n} when not 0. Kernels:
     * binaryCrossEntropyWithLogitsPartials, meanOfPartials.
     *
     * <p>Shapes: logits, target [n]; loss [1]; dLogits [n] or 0; scratch {@link #meanLossScratchBytes()} bytes
     */
    void binaryCrossEntropyWithLogits(CUstream stream, int n, long logits, long target, long loss, long dLogits,
                                      long scratch) {
        String k = "binaryCrossEntropyWithLogits";
        size(k, "n", n);
        need(k, "loss", loss);
        need(k, "scratch", scratch);
        binaryCrossEntropyWithLogitsPartials(stream, n, logits, target, dLogits, scratch);
        meanOfPartials(stream, PARTIALS, n, scratch, loss);
    }

    /** Stage 1 of {@link #binaryCrossEntropyWithLogits}: partials [PARTIALS] double. Launch: PARTIALS blocks of 256. */
    void binaryCrossEntropyWithLogitsPartials(CUstream stream, int n, long logits, long target, long dLogits,
                                              long partials) {
        String k = "binaryCrossEntropyWithLogitsPartials";
        size(k, "n", n);
        need(k, "logits", logits);
        need(k, "target", target);
        need(k, "partials", partials);
        launch(k, stream, PARTIALS, THREADS, new CudaKernelArgs().i(n).p(logits).p(target).p(dLogits).p(partials));
    }

    /** Stage 2 of the mean losses: {@code loss[0] = (float) (Σ partials[0..count) / divisor)}. One block of 1024. */
    void meanOfPartials(CUstream stream, int count, int divisor, long partials, long loss) {
        String k = "meanOfPartials";
        size(k, "count", count);
        size(k, "divisor", divisor);
        need(k, "partials", partials);
        need(k, "loss", loss);
        launch(k, stream, 1, TOTAL_THREADS, new CudaKernelArgs().i(count).i(divisor).p(partials).p(loss));
    }

    // ---------------------------------------------------------------- optimizers.cu (CpuOptimizerOps)

    /**
     * CpuOptimizerOps.sgdImpl: {@code d = grad + wd·param}; with a velocity {@code v = μ·v + d},
     * {@code d = nesterov ? d + μ·v : v}; {@code param -= lr·d}. The CPU engine's bits.
     *
     * <p>Shapes: param, grad [n]; velocity [n], or 0 when momentum is 0
     * <p>Launch: n threads in blocks of 256.
     */
    void sgd(CUstream stream, int n, float lr, float momentum, float weightDecay, boolean nesterov, long param,
             long grad, long velocity) {
        String k = "sgd";
        size(k, "n", n);
        need(k, "param", param);
        need(k, "grad", grad);
        if (momentum != 0f) {
            need(k, "velocity", velocity);
        }
        flat(k, stream, n, new CudaKernelArgs().i(n).f(lr).f(momentum).f(weightDecay).i(flag(nesterov)).p(param)
                .p(grad).p(momentum != 0f ? velocity : 0L));
    }

    /**
     * CpuOptimizerOps.rmspropImpl: {@code s = α·s + (1-α)·d²}, {@code param -= lr·d / (sqrt(s) + eps)}
     * with {@code d = grad + wd·param}.
     *
     * <p>Shapes: param, grad, squareAvg [n]
     * <p>Launch: n threads in blocks of 256.
     */
    void rmsprop(CUstream stream, int n, float lr, float alpha, float eps, float weightDecay, long param, long grad,
                 long squareAvg) {
        String k = "rmsprop";
        size(k, "n", n);
        need(k, "param", param);
        need(k, "grad", grad);
        need(k, "squareAvg", squareAvg);
        flat(k, stream, n, new CudaKernelArgs().i(n).f(lr).f(alpha).f(eps).f(weightDecay).p(param).p(grad)
                .p(squareAvg));
    }

    /**
     * CpuOptimizerOps.adamImpl (AdamW when {@code decoupled}): the bias corrections of {@code step}
     * (from 1) are computed here exactly as the CPU engine computes them
     * ({@code stepSize = lr / (float) (1 - β1^step)}, {@code bias2Sqrt = (float) sqrt(1 - β2^step)}).
     *
     * <p>Shapes: param, grad, m, v [n]
     * <p>Launch: n threads in blocks of 256.
     */
    void adam(CUstream stream, int n, int step, float lr, float beta1, float beta2, float eps, float weightDecay,
              boolean decoupled, long param, long grad, long m, long v) {
        String k = decoupled ? "adamw" : "adam";
        size(k, "n", n);
        if (step < 1) {
            throw new IllegalArgumentException(k + ": step counts from 1, got " + step);
        }
        need(k, "param", param);
        need(k, "grad", grad);
        need(k, "m", m);
        need(k, "v", v);
        float bias1 = (float) (1 - Math.pow(beta1, step));
        float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / bias1;
        flat("adam", stream, n, new CudaKernelArgs().i(n).f(lr).f(beta1).f(beta2).f(eps).f(weightDecay)
                .i(flag(decoupled)).f(stepSize).f(bias2Sqrt).p(param).p(grad).p(m).p(v));
    }

    // ---------------------------------------------------------------- options.cu (the option path)

    /*
     * The option path's kernels (CudaOptionLayer): one thread per (row, unit) element of a step,
     * batch·width of them. t is the real time of the step; codes [T*B] the step codes
     * (options_math.cuh); seed and the draw starts as CellOptions' "Random draws" give them.
     */

    /** options_math.cuh recur_opt_recurrent_input_element: q[t*B + b] = m ⊙ rec[b], j < width (R). */
    void optRecurrentInput(CUstream stream, int batch, int width, int t, float p, boolean train, long seed, long start,
                           long rec, long q) {
        String k = "optRecurrentInput";
        optDims(k, batch, width, t);
        need(k, "rec", rec);
        need(k, "q", q);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).i(t).f(p).i(flag(train)).l(seed).l(start)
                .p(rec).p(q));
    }

    /** recur_opt_commit_state_element: running rows' state = zoneout(state, cand). */
    void optCommitState(CUstream stream, int batch, int width, int t, float p, boolean train, long seed, long start,
                        long codes, long cand, long state) {
        String k = "optCommitState";
        optDims(k, batch, width, t);
        need(k, "codes", codes);
        need(k, "cand", cand);
        need(k, "state", state);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).i(t).f(p).i(flag(train)).l(seed).l(start)
                .p(codes).p(cand).p(state));
    }

    /** recur_opt_output_element: y of step t at columns [yCol, yCol + width) of rows of yStride. */
    void optOutput(CUstream stream, int batch, int width, int t, int yStride, int yCol, long codes, long src,
                   long last, long y) {
        String k = "optOutput";
        optDims(k, batch, width, t);
        strided(k, "yStride", yStride, "yCol", yCol, width);
        need(k, "codes", codes);
        need(k, "src", src);
        need(k, "last", last);
        need(k, "y", y);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).i(t).i(yStride).i(yCol).p(codes).p(src)
                .p(last).p(y));
    }

    /** recur_opt_lstm_forward_element: the LSTM family's gates, c~, c_t and hCand = o ⊙ tanh(c~). */
    void optLstmForward(CUstream stream, int batch, int hs, int t, boolean coupled, float zc, boolean train, long seed,
                        long zcStart, long codes, long ax, long ah, long bih, long bhh, long peep, long c, long gates,
                        long cTilde, long tanhC, long hCand) {
        String k = "optLstmForward";
        optDims(k, batch, hs, t);
        noCoupledPeephole(k, coupled, peep);
        need(k, "codes", codes);
        need(k, "ax", ax);
        need(k, "ah", ah);
        need(k, "bih", bih);
        need(k, "bhh", bhh);
        need(k, "c", c);
        need(k, "gates", gates);
        need(k, "cTilde", cTilde);
        need(k, "tanhC", tanhC);
        need(k, "hCand", hCand);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).i(flag(coupled)).f(zc).i(flag(train))
                .l(seed).l(zcStart).p(codes).p(ax).p(ah).p(bih).p(bhh).p(peep).p(c).p(gates).p(cTilde).p(tanhC)
                .p(hCand));
    }

    /** recur_opt_gru_forward_element: r, z, n, hn and hCand = h~. */
    void optGruForward(CUstream stream, int batch, int hs, int t, long ax, long ah, long bih, long bhh, long h,
                       long gates, long hn, long hCand) {
        String k = "optGruForward";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"ax", "ah", "bih", "bhh", "h", "gates", "hn", "hCand"},
                ax, ah, bih, bhh, h, gates, hn, hCand);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).p(ax).p(ah).p(bih).p(bhh).p(h).p(gates)
                .p(hn).p(hCand));
    }

    /** recur_opt_gru_original_gates_element: r, z and rq = r ⊙ src (src [B, H]: q's rows of step t, or h_{t-1}). */
    void optGruOriginalGates(CUstream stream, int batch, int hs, int t, long ax, long ah, long bih, long bhh, long src,
                             long gates, long rq) {
        String k = "optGruOriginalGates";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"ax", "ah", "bih", "bhh", "src", "gates", "rq"}, ax, ah, bih, bhh, src, gates, rq);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).p(ax).p(ah).p(bih).p(bhh).p(src).p(gates)
                .p(rq));
    }

    /** recur_opt_gru_original_output_element: n and hCand = h~. */
    void optGruOriginalOutput(CUstream stream, int batch, int hs, int t, long ax, long ah, long bih, long bhh, long h,
                              long gates, long hCand) {
        String k = "optGruOriginalOutput";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"ax", "ah", "bih", "bhh", "h", "gates", "hCand"}, ax, ah, bih, bhh, h, gates, hCand);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).p(ax).p(ah).p(bih).p(bhh).p(h).p(gates)
                .p(hCand));
    }

    /** recur_opt_rnn_forward_element: hCand = act(a). */
    void optRnnForward(CUstream stream, int batch, int hs, int t, boolean relu, long ax, long ah, long bih, long bhh,
                       long gates, long hCand) {
        String k = "optRnnForward";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"ax", "ah", "bih", "bhh", "gates", "hCand"}, ax, ah, bih, bhh, gates, hCand);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).i(flag(relu)).p(ax).p(ah).p(bih).p(bhh)
                .p(gates).p(hCand));
    }

    /** recur_opt_output_gradient_element: the gradient reaching step t's output (dy may be 0). */
    void optOutputGradient(CUstream stream, int batch, int width, int t, int dyStride, int dyCol, boolean accumulate,
                           long codes, long dy, long carry, long dst) {
        String k = "optOutputGradient";
        optDims(k, batch, width, t);
        strided(k, "dyStride", dyStride, "dyCol", dyCol, width);
        need(k, "codes", codes);
        need(k, "carry", carry);
        need(k, "dst", dst);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).i(t).i(dyStride).i(dyCol)
                .i(flag(accumulate)).p(codes).p(dy).p(carry).p(dst));
    }

    /** recur_opt_zone_backward_element: zoneout's backward (training draws). */
    void optZoneBackward(CUstream stream, int batch, int width, int t, float p, long seed, long start, long codes,
                         long dState, long dCand) {
        String k = "optZoneBackward";
        optDims(k, batch, width, t);
        needAll(k, new String[] {"codes", "dState", "dCand"}, codes, dState, dCand);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).i(t).f(p).l(seed).l(start).p(codes)
                .p(dState).p(dCand));
    }

    /** recur_opt_recurrent_gradient_element: dst (+)= m ⊙ dq. */
    void optRecurrentGradient(CUstream stream, int batch, int width, float p, long seed, long start,
                              boolean accumulate, long dq, long dst) {
        String k = "optRecurrentGradient";
        optDims(k, batch, width, 0);
        need(k, "dq", dq);
        need(k, "dst", dst);
        gate(k, stream, batch, width, new CudaKernelArgs().i(batch).i(width).f(p).l(seed).l(start).i(flag(accumulate))
                .p(dq).p(dst));
    }

    /** recur_opt_lstm_backward_element; dcFromH is 0 without layer normalisation. */
    void optLstmBackward(CUstream stream, int batch, int hs, int t, boolean coupled, float zc, long seed, long zcStart,
                         long codes, long gates, long peep, long cPrev, long tanhC, long dhCand, long dcFromH, long dc,
                         long dG) {
        String k = "optLstmBackward";
        optDims(k, batch, hs, t);
        noCoupledPeephole(k, coupled, peep);
        needAll(k, new String[] {"codes", "gates", "cPrev", "tanhC", "dhCand", "dc", "dG"}, codes, gates, cPrev,
                tanhC, dhCand, dc, dG);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).i(flag(coupled)).f(zc).l(seed).l(zcStart)
                .p(codes).p(gates).p(peep).p(cPrev).p(tanhC).p(dhCand).p(dcFromH).p(dc).p(dG));
    }

    /**
     * options_ln.cu optLayerNorm: out = γ ⊙ x̂ + β for gate blocks [firstBlock, firstBlock + blockCount)
     * of rows rows of width gh, (μ, rstd) into stats [rows, gh/hs, 2]. One warp per (row, block).
     */
    void optLayerNorm(CUstream stream, int rows, int hs, int gh, int firstBlock, int blockCount, float eps, long v,
                      long gain, long bias, long out, long stats) {
        String k = "optLayerNorm";
        lnDims(k, rows, hs, gh, firstBlock, blockCount);
        needAll(k, new String[] {"v", "gain", "bias", "out", "stats"}, v, gain, bias, out, stats);
        warps(k, stream, (long) rows * blockCount, new CudaKernelArgs().i(rows).i(hs).i(gh).i(firstBlock)
                .i(blockCount).f(eps).p(v).p(gain).p(bias).p(out).p(stats));
    }

    /** optLayerNormBackward: dV from dOut and the saved stats; gainTerm = dOut ⊙ x̂ per row. */
    void optLayerNormBackward(CUstream stream, int rows, int hs, int gh, int firstBlock, int blockCount, long v,
                              long stats, long gain, long dOut, long dV, long gainTerm) {
        String k = "optLayerNormBackward";
        lnDims(k, rows, hs, gh, firstBlock, blockCount);
        needAll(k, new String[] {"v", "stats", "gain", "dOut", "dV", "gainTerm"}, v, stats, gain, dOut, dV, gainTerm);
        warps(k, stream, (long) rows * blockCount, new CudaKernelArgs().i(rows).i(hs).i(gh).i(firstBlock)
                .i(blockCount).p(v).p(stats).p(gain).p(dOut).p(dV).p(gainTerm));
    }

    /** optLayerNormCell: step t's tanhC = tanh(LN(c~)) and hCand = o ⊙ tanhC (o at column oAt of gates). */
    void optLayerNormCell(CUstream stream, int batch, int hs, int t, int gh, int oAt, float eps, long cTilde,
                          long gates, long gain, long bias, long stats, long tanhC, long hCand) {
        String k = "optLayerNormCell";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"cTilde", "gates", "gain", "bias", "stats", "tanhC", "hCand"}, cTilde, gates, gain,
                bias, stats, tanhC, hCand);
        warps(k, stream, batch, new CudaKernelArgs().i(batch).i(hs).i(t).i(gh).i(oAt).f(eps).p(cTilde).p(gates)
                .p(gain).p(bias).p(stats).p(tanhC).p(hCand));
    }

    /** optLayerNormCellBackward: dcFromH reaches c~ through LN(c~); the gain's and bias's per-row terms. */
    void optLayerNormCellBackward(CUstream stream, int batch, int hs, int t, int gh, int oAt, long cTilde, long gates,
                                  long gain, long stats, long tanhC, long dhCand, long dcFromH, long gainTerm,
                                  long biasTerm) {
        String k = "optLayerNormCellBackward";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"cTilde", "gates", "gain", "stats", "tanhC", "dhCand", "dcFromH", "gainTerm",
                "biasTerm"}, cTilde, gates, gain, stats, tanhC, dhCand, dcFromH, gainTerm, biasTerm);
        warps(k, stream, batch, new CudaKernelArgs().i(batch).i(hs).i(t).i(gh).i(oAt).p(cTilde).p(gates).p(gain)
                .p(stats).p(tanhC).p(dhCand).p(dcFromH).p(gainTerm).p(biasTerm));
    }

    /** recur_opt_gru_backward_element. */
    void optGruBackward(CUstream stream, int batch, int hs, int t, long codes, long gates, long hPrev, long hn,
                        long dhCand, long dh, long dGx, long dGh) {
        String k = "optGruBackward";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"codes", "gates", "hPrev", "hn", "dhCand", "dh", "dGx", "dGh"}, codes, gates, hPrev,
                hn, dhCand, dh, dGx, dGh);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).p(codes).p(gates).p(hPrev).p(hn)
                .p(dhCand).p(dh).p(dGx).p(dGh));
    }

    /** recur_opt_gru_original_backward_output_element. */
    void optGruOriginalBackwardOutput(CUstream stream, int batch, int hs, int t, long codes, long gates, long hPrev,
                                      long dhCand, long dh, long dG) {
        String k = "optGruOriginalBackwardOutput";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"codes", "gates", "hPrev", "dhCand", "dh", "dG"}, codes, gates, hPrev, dhCand, dh, dG);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).p(codes).p(gates).p(hPrev).p(dhCand)
                .p(dh).p(dG));
    }

    /** recur_opt_gru_original_backward_gates_element: dst (+)= r ⊙ dRq (accumulate with a projection). */
    void optGruOriginalBackwardGates(CUstream stream, int batch, int hs, int t, boolean accumulate, long codes,
                                     long gates, long src, long dRq, long dst, long dG) {
        String k = "optGruOriginalBackwardGates";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"codes", "gates", "src", "dRq", "dst", "dG"}, codes, gates, src, dRq, dst, dG);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).i(flag(accumulate)).p(codes).p(gates)
                .p(src).p(dRq).p(dst).p(dG));
    }

    /** recur_opt_rnn_backward_element. */
    void optRnnBackward(CUstream stream, int batch, int hs, int t, boolean relu, long codes, long gates, long dhCand,
                        long dG) {
        String k = "optRnnBackward";
        optDims(k, batch, hs, t);
        needAll(k, new String[] {"codes", "gates", "dhCand", "dG"}, codes, gates, dhCand, dG);
        gate(k, stream, batch, hs, new CudaKernelArgs().i(batch).i(hs).i(t).i(flag(relu)).p(codes).p(gates)
                .p(dhCand).p(dG));
    }

    // ---------------------------------------------------------------- launching

    private static CudaKernelArgs args(int rows, int off, int hs) {
        return new CudaKernelArgs().i(rows).i(off).i(hs);
    }

    /** A gate kernel: one thread per (row, unit). */
    private void gate(String kernel, CUstream stream, int rows, int hs, CudaKernelArgs args) {
        long total = (long) rows * hs;
        if (total == 0) {
            return;
        }
        launch(kernel, stream, blocks(total, GATE_THREADS), GATE_THREADS, args);
    }

    /** A layer-normalisation kernel: one warp per unit of work, {@link #LN_THREADS} / 32 warps per block. */
    private void warps(String kernel, CUstream stream, long count, CudaKernelArgs args) {
        if (count == 0) {
            return;
        }
        launch(kernel, stream, blocks(count, LN_THREADS / 32), LN_THREADS, args);
    }

    /** An element-wise kernel over {@code total} elements, grid-stride. */
    private void flat(String kernel, CUstream stream, long total, CudaKernelArgs args) {
        if (total == 0) {
            return;
        }
        launch(kernel, stream, blocks(total, THREADS), THREADS, args);
    }

    private static int blocks(long work, int perBlock) {
        return (int) Math.max(1, Math.min(MAX_BLOCKS, (work + perBlock - 1) / perBlock));
    }

    /** Checks the launch against the kernel table, then hands it to the launcher. */
    private void launch(String kernel, CUstream stream, int grid, int block, CudaKernelArgs args) {
        Kernel k = BY_NAME.get(kernel);
        if (k == null) {
            throw new IllegalStateException("no kernel " + kernel + " in the kernel table");
        }
        if (!k.params().equals(args.kinds())) {
            throw new IllegalStateException("launch of " + kernel + " passes (" + args.kinds() + "), the kernel takes ("
                    + k.params() + ")");
        }
        if (k.fixedBlock() != 0 && k.fixedBlock() != block) {
            throw new IllegalStateException("kernel " + kernel + " needs blocks of " + k.fixedBlock() + " threads, got "
                    + block);
        }
        if (closed) {
            throw new IllegalStateException("CudaKernels is closed: " + kernel + " cannot be launched");
        }
        launcher.launch(kernel, grid, block, stream, args);
    }

    // ---------------------------------------------------------------- argument checks

    private static int flag(boolean b) {
        return b ? 1 : 0;
    }

    private static void need(String op, String name, long address) {
        if (address == 0) {
            throw new IllegalArgumentException(op + ": " + name + " must be a device address, got 0 (null)");
        }
    }

    private static void size(String op, String name, int v) {
        if (v < 0) {
            throw new IllegalArgumentException(op + ": " + name + " must be >= 0, got " + v);
        }
    }

    private static void sizes(String op, String an, int a, String bn, int b) {
        size(op, an, a);
        size(op, bn, b);
        if ((long) a * b > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": " + an + "·" + bn + " = " + a + "·" + b
                    + " exceeds the int range of the kernels' indices");
        }
    }

    private static void cellDims(String op, int rows, int off, int hs) {
        sizes(op, "rows", rows, "hs", hs);
        size(op, "off", off);
    }

    private static void strided(String op, String strideName, int stride, String colName, int col, int hs) {
        if (col < 0 || (long) col + hs > stride) {
            throw new IllegalArgumentException(op + ": columns [" + colName + ", " + colName + " + hs) = [" + col + ", "
                    + ((long) col + hs) + ") do not fit in " + strideName + " = " + stride);
        }
    }

    private static void optDims(String op, int batch, int width, int t) {
        sizes(op, "batch", batch, "width", width);
        size(op, "t", t);
    }

    private static void lnDims(String op, int rows, int hs, int gh, int firstBlock, int blockCount) {
        sizes(op, "rows", rows, "gh", gh);
        if (hs < 1 || gh % hs != 0 || firstBlock < 0 || blockCount < 0 || (long) (firstBlock + blockCount) * hs > gh) {
            throw new IllegalArgumentException(op + ": blocks [" + firstBlock + ", " + (firstBlock + blockCount)
                    + ") of " + hs + " units do not fit in rows of " + gh);
        }
    }

    private static void needAll(String op, String[] names, long... addresses) {
        for (int i = 0; i < names.length; i++) {
            need(op, names[i], addresses[i]);
        }
    }

    private static void noCoupledPeephole(String op, boolean coupled, long peep) {
        if (coupled && peep != 0) {
            throw new IllegalArgumentException(op + ": the coupled LSTM has no peepholes (peep must be 0)");
        }
    }
}
