package dev.recur.cuda;

import jcuda.driver.CUstream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks, without a GPU, that what {@link CudaKernels} launches is what the module holds: its
 * kernel table against every {@code .entry} of the packaged compute_90 PTX (names, parameter
 * count and kinds, the block size of {@code __launch_bounds__} kernels), and every launch method
 * — each one called here through a recording launcher — against both. Skipped, with the reason,
 * when the kernels were built without nvcc (no recur.ptx on the class path).
 */
class KernelSignatureTest {

    private static Map<String, Ptx.Entry> ptx;
    /** Why the tests skip here, or null: each test checks it, so every skip is counted. */
    private static String skip;

    @BeforeAll
    static void readPtx() throws IOException {
        String text = Ptx.read();
        if (text == null) {
            skip = CudaKernels.PTX_RESOURCE + " is not on the class path (" + CudaKernels.missingReason() + ")";
            System.out.println("KernelSignatureTest: every test skipped: " + skip);
            return;
        }
        ptx = Ptx.entries(text);
    }

    @BeforeEach
    void needsPtx() {
        assumeTrue(skip == null, skip);
    }

    @Test
    void theKernelTableIsThePtx() {
        Map<String, CudaKernels.Kernel> table = new LinkedHashMap<>();
        for (CudaKernels.Kernel k : CudaKernels.KERNELS) {
            table.put(k.name(), k);
        }
        assertEquals(new TreeSet<>(ptx.keySet()), new TreeSet<>(table.keySet()),
                "kernel names: PTX entries (expected) vs CudaKernels.KERNELS (actual)");
        for (Ptx.Entry e : ptx.values()) {
            CudaKernels.Kernel k = table.get(e.name());
            assertEquals(e.kinds(), Ptx.asPtx(k.params()),
                    e.name() + ": PTX parameter kinds (i = 32-bit int, f = float, 8 = 64-bit) vs the table's " + k.params());
            assertEquals(e.maxThreads(), k.fixedBlock(), e.name() + ": .maxntid in the PTX vs the table's fixed block");
        }
        assertTrue(ptx.size() >= 46, "expected the whole module, found " + ptx.size() + " entries");
    }

    @Test
    void everyLaunchMethodLaunchesWhatThePtxDeclares() {
        Recorder rec = new Recorder();
        launchEveryMethod(new CudaKernels(rec));

        Set<String> launched = new LinkedHashSet<>();
        for (Recorder.Launch l : rec.launches) {
            Ptx.Entry e = ptx.get(l.kernel());
            assertTrue(e != null, "launched kernel " + l.kernel() + " is not in the PTX");
            assertEquals(e.kinds(), Ptx.asPtx(l.kinds()), l.kernel() + ": PTX parameter kinds vs the launch's " + l.kinds());
            assertTrue(l.grid() >= 1 && l.grid() <= 65535 * 32, l.kernel() + ": grid " + l.grid());
            assertTrue(l.block() >= 32 && l.block() <= 1024 && Integer.bitCount(l.block()) == 1,
                    l.kernel() + ": block " + l.block() + " must be a power of two in [32, 1024] (the reductions need it)");
            if (e.maxThreads() != 0) {
                assertEquals(e.maxThreads(), l.block(), l.kernel() + ": launched with another block size than .maxntid");
            }
            launched.add(l.kernel());
        }
        Set<String> notLaunched = new TreeSet<>(ptx.keySet());
        notLaunched.removeAll(launched);
        assertEquals(Set.of(), notLaunched, "PTX entries that no launch method launched");

        // Every launch method (a CUstream first parameter) was called above, and launched something.
        Set<String> methods = new TreeSet<>();
        for (Method m : CudaKernels.class.getDeclaredMethods()) {
            if (!Modifier.isPrivate(m.getModifiers()) && m.getParameterCount() > 0
                    && m.getParameterTypes()[0] == CUstream.class) {
                methods.add(m.getName());
            }
        }
        methods.removeAll(rec.callers);
        assertEquals(Set.of(), methods, "launch methods that this test did not reach (add them to launchEveryMethod)");
    }

    /** Calls every launch method of {@code k} once with small valid arguments (addresses are made up). */
    static void launchEveryMethod(CudaKernels k) {
        CUstream s = null;
        long a = 0x1000;
        long b = 0x2000;
        long c = 0x3000;
        long d = 0x4000;
        long e = 0x5000;
        long f = 0x6000;
        long g = 0x7000;
        long h = 0x8000;
        long scratch = 0x100000;
        // cells
        k.rnnForward(s, 3, 2, 5, true, a, b, c, d);
        k.rnnBackward(s, 3, 2, 5, false, a, b, c);
        k.lstmForward(s, 3, 2, 5, false, a, b, c, d, e, f, g, h);
        k.lstmBackward(s, 3, 2, 5, true, a, 0, c, d, e, f, g);
        k.gruForward(s, 3, 2, 5, a, b, c, d, e, f);
        k.gruBackward(s, 3, 2, 5, a, b, c, d, e, f);
        k.gruOriginalGates(s, 3, 2, 5, a, b, c, d, e);
        k.gruOriginalOutput(s, 3, 2, 5, a, b, c, d, e);
        k.gruOriginalBackwardOutput(s, 3, 2, 5, a, b, c, d);
        k.gruOriginalBackwardGates(s, 3, 2, 5, a, b, c, d, e);
        // layers
        k.gatherRows(s, 7, 4, a, b, c);
        k.scatterAddRows(s, 7, 4, a, b, c);
        k.loadState(s, 3, 5, a, 0, c);
        k.storeState(s, 3, 5, a, b, c);
        k.broadcastRows(s, 7, 20, a, b);
        k.storeStepOutput(s, 3, 2, 5, 10, 5, a, b, c);
        k.addStepOutputGradient(s, 3, 2, 5, 5, 0, a, b, c);
        k.addColumnSums(s, 7, 20, a, b, c);
        k.addPeepholeGrads(s, 7, 5, a, b, c, d);
        // tensors
        k.axpy(s, 100, 0.5f, a, b);
        k.scale(s, 100, 2f, a);
        k.multiply(s, 100, a, b, a);
        k.addRowVector(s, 10, 10, a, b);
        k.embeddingForward(s, 6, 50, 8, a, b, c, d);
        k.copyColumns(s, 4, 3, 9, 6, true, a, b);
        k.transpose01(s, 2, 3, 4, a, b);
        k.dropout(s, 100, 0.1f, 42L, 1000L, a, b, c);
        k.clipGlobalNorm(s, new long[] {a, b}, new int[] {10, 20}, 1f, c, scratch);
        k.firstNonFinite(s, 100, a, b, scratch);
        k.maskedSoftmax(s, 12, 3, 5, a, b, c);
        k.maskedSoftmaxBackward(s, 12, 3, 5, a, b, c, d);
        k.tanh(s, 100, a, b);
        k.tanhBackward(s, 100, a, b, c);
        k.embeddingBackward(s, 100, 300, 8, a, b, c, scratch, d);
        // losses
        k.softmaxCrossEntropy(s, 6, 10, -1, a, b, c, d, scratch, e);
        k.meanSquaredError(s, 6, a, b, c, d, scratch);
        k.binaryCrossEntropyWithLogits(s, 6, a, b, c, 0, scratch);
        // optimizers
        k.sgd(s, 100, 0.1f, 0.9f, 0.01f, true, a, b, c);
        k.rmsprop(s, 100, 0.01f, 0.99f, 1e-8f, 0f, a, b, c);
        k.adam(s, 100, 3, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, a, b, c, d);
        // options
        k.optRecurrentInput(s, 3, 5, 1, 0.25f, true, 7L, 11L, a, b);
        k.optCommitState(s, 3, 5, 1, 0.25f, false, 7L, 11L, a, b, c);
        k.optOutput(s, 3, 5, 1, 10, 5, a, b, c, d);
        k.optLstmForward(s, 3, 5, 1, false, 0.1f, true, 7L, 11L, a, b, c, d, e, f, g, h, a + 8, b + 8, c + 8);
        k.optGruForward(s, 3, 5, 1, a, b, c, d, e, f, g, h);
        k.optGruOriginalGates(s, 3, 5, 1, a, b, c, d, e, f, g);
        k.optGruOriginalOutput(s, 3, 5, 1, a, b, c, d, e, f, g);
        k.optRnnForward(s, 3, 5, 1, true, a, b, c, d, e, f);
        k.optOutputGradient(s, 3, 5, 1, 10, 0, true, a, 0, c, d);
        k.optZoneBackward(s, 3, 5, 1, 0.1f, 7L, 11L, a, b, c);
        k.optRecurrentGradient(s, 3, 5, 0.25f, 7L, 11L, false, a, b);
        k.optLstmBackward(s, 3, 5, 1, true, 0.1f, 7L, 11L, a, b, 0, d, e, f, 0, g, h);
        k.optLayerNorm(s, 6, 5, 20, 0, 4, 1e-5f, a, b, c, d, e);
        k.optLayerNormBackward(s, 6, 5, 15, 2, 1, a, b, c, d, e, f);
        k.optLayerNormCell(s, 3, 5, 1, 20, 15, 1e-5f, a, b, c, d, e, f, g);
        k.optLayerNormCellBackward(s, 3, 5, 1, 20, 15, a, b, c, d, e, f, g, h, a + 8);
        k.optGruBackward(s, 3, 5, 1, a, b, c, d, e, f, g, h);
        k.optGruOriginalBackwardOutput(s, 3, 5, 1, a, b, c, d, e, f);
        k.optGruOriginalBackwardGates(s, 3, 5, 1, true, a, b, c, d, e, f);
        k.optRnnBackward(s, 3, 5, 1, false, a, b, c, d);
    }

    /**
     * The kernel entries of the packaged {@code recur.ptx}: for each {@code .entry}, its parameter
     * kinds and its {@code .maxntid} (the block size a {@code __launch_bounds__} kernel is written
     * for, 0 when none). Kinds use {@link CudaKernelArgs}' letters, except that PTX cannot tell a
     * pointer from a 64-bit integer: both are {@code '8'} here.
     */
    static final class Ptx {

        record Entry(String name, String kinds, int maxThreads) {
        }

        // .visible .entry lstmForward(
        //     .param .u32 lstmForward_param_0,
        //     ...
        // )
        // .maxntid 256, 1, 1
        // {
        private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)([^{]*)\\{");
        private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)\\s+(?:\\.ptr\\s+\\S+\\s+)?(\\w+)");
        private static final Pattern MAXNTID = Pattern.compile("\\.maxntid\\s+(\\d+)");

        private Ptx() {
        }

        /** The text of {@link CudaKernels#PTX_RESOURCE}, or null when it is not on the class path. */
        static String read() throws IOException {
            try (InputStream in = CudaKernels.class.getResourceAsStream(CudaKernels.PTX_RESOURCE)) {
                return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
        }

        static Map<String, Entry> entries(String ptx) {
            Map<String, Entry> out = new LinkedHashMap<>();
            Matcher m = ENTRY.matcher(ptx);
            while (m.find()) {
                StringBuilder kinds = new StringBuilder();
                Matcher p = PARAM.matcher(m.group(2));
                while (p.find()) {
                    kinds.append(kind(m.group(1), p.group(1)));
                }
                Matcher t = MAXNTID.matcher(m.group(3));
                int max = t.find() ? Integer.parseInt(t.group(1)) : 0;
                if (out.put(m.group(1), new Entry(m.group(1), kinds.toString(), max)) != null) {
                    throw new IllegalStateException("entry " + m.group(1) + " appears twice in the PTX");
                }
            }
            return out;
        }

        private static char kind(String entry, String ptxType) {
            return switch (ptxType) {
                case "u32", "s32", "b32" -> 'i';
                case "f32" -> 'f';
                case "u64", "s64", "b64" -> '8';
                default -> throw new IllegalStateException("entry " + entry + " has a parameter of PTX type ." + ptxType
                        + ", which CudaKernelArgs cannot pass");
            };
        }

        /** CudaKernelArgs kinds as the PTX sees them: pointers and longs are both 64-bit. */
        static String asPtx(String kinds) {
            return kinds.replace('p', '8').replace('l', '8');
        }
    }

    /**
     * A {@link CudaKernelLauncher} for tests without a GPU: records each launch (kernel, grid,
     * block, parameter kinds and values) and the {@link CudaKernels} methods on the stack that led
     * to it, and launches nothing.
     */
    static final class Recorder implements CudaKernelLauncher {

        record Launch(String kernel, int grid, int block, String kinds, List<Object> values) {
            long pointer(int k) {
                return (Long) values.get(k);
            }

            int integer(int k) {
                return (Integer) values.get(k);
            }

            float real(int k) {
                return (Float) values.get(k);
            }
        }

        final List<Launch> launches = new ArrayList<>();
        /** Names of the CudaKernels methods seen on the stack of any launch. */
        final Set<String> callers = new LinkedHashSet<>();

        @Override
        public void launch(String kernel, int grid, int block, CUstream stream, CudaKernelArgs args) {
            launches.add(new Launch(kernel, grid, block, args.kinds(), List.copyOf(args.values())));
            StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).forEach(f -> {
                if (f.getDeclaringClass() == CudaKernels.class) {
                    callers.add(f.getMethodName());
                }
            });
        }

        /** The kernels launched, in order. */
        List<String> kernels() {
            return launches.stream().map(Launch::kernel).toList();
        }
    }
}
