package dev.recur.bench;

import dev.recur.api.Availability;
import dev.recur.api.Cell;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

/**
 * The CPU peer: Deeplearning4j 1.0.0-M2.1 on ND4J's native CPU backend (libnd4jcpu, OpenBLAS
 * GEMMs, OpenMP threads), float32, on the same shapes as Recur.
 *
 * <p>A layer runs as a {@link MultiLayerNetwork} of the recurrent layer and an
 * {@link RnnLossLayer}: that loss layer has no parameters, so beyond the layer itself it costs one
 * element-wise MSE over {@code [B, H, T]}, next to nothing. The training step is
 * {@link MultiLayerNetwork#computeGradientAndScore()}: forward, loss and backward through the
 * layer, without an optimizer update, which is what Recur's {@code layerForward} +
 * {@code layerBackward} do. DL4J sequences are {@code [B, F, T]} (NCW); the FLOPs are the same.
 *
 * <p>Cells: {@link Cell#LSTM} runs DL4J's {@link LSTM} (no peepholes, gates sigmoid, activation
 * tanh), {@link Cell#RNN_TANH} its {@link SimpleRnn}. DL4J 1.0.0-M2.1 has no GRU layer
 * (deeplearning4j-nn has LSTM, GravesLSTM, GravesBidirectionalLSTM and SimpleRnn; GRU exists only
 * as a SameDiff op), so {@link Cell#GRU} has no peer. DL4J stores the LSTM's gate blocks in the
 * order {@code g, f, o, i} ({@link #LSTM_BLOCK_OF_GATE}) and its weights as {@code W [I, G*H]},
 * {@code RW [H, G*H]}, {@code b [G*H]}, the transposes of PyTorch's; {@code Dl4jPeerTest} runs the
 * same weights on both engines and checks that the outputs agree, so the two do the same math.
 *
 * <p>Nothing here touches ND4J until {@link #probe()} or a workload is made: loading it loads
 * ~320 MB of native code and starts its thread pools.
 */
public final class Dl4jPeer {

    /** The engine name in results. */
    public static final String NAME = "dl4j";

    /**
     * For each LSTM gate in Recur's (PyTorch's) order {@code i, f, g, o}, the gate block of DL4J's
     * LSTM parameters that holds it: DL4J's order is {@code g, f, o, i}.
     */
    public static final int[] LSTM_BLOCK_OF_GATE = {3, 1, 0, 2};

    private Dl4jPeer() {
    }

    /** Whether DL4J has a layer for {@code cell}. */
    public static boolean supports(Cell cell) {
        return cell == Cell.LSTM || cell == Cell.RNN_TANH;
    }

    /** Why {@code cell} has no DL4J peer, or null when it has one. */
    public static String unsupportedReason(Cell cell) {
        if (supports(cell)) {
            return null;
        }
        return cell == Cell.GRU
                ? "DL4J 1.0.0-M2.1 has no GRU layer (only LSTM, GravesLSTM and SimpleRnn)"
                : "DL4J has no layer for cell " + cell.id();
    }

    /** A class of each of DL4J's and ND4J's jars that the peer cannot run without. */
    static final List<String> REQUIRED_CLASSES = List.of(
            "org.deeplearning4j.nn.multilayer.MultiLayerNetwork", // deeplearning4j-nn
            "org.nd4j.linalg.factory.Nd4j",                       // nd4j-api
            "org.nd4j.linalg.cpu.nativecpu.CpuBackend");          // nd4j-native

    /**
     * Why the peer's jars are not on the class path of {@code loader}, or null when they are.
     * Looks the classes up without initialising them, so it loads no native code and is cheap
     * enough to ask before anything is measured. The GPU bundle (scripts/make-gpu-bundle.sh)
     * leaves DL4J out, and this is the answer there.
     */
    static String missingReason(ClassLoader loader) {
        for (String name : REQUIRED_CLASSES) {
            try {
                Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                return "DL4J's jars are not on the class path (" + name + " not found); the GPU bundle leaves the"
                        + " DL4J peer out: run --peer dl4j from a source checkout (./recur bench ...) on a CPU host";
            }
        }
        return null;
    }

    /** {@link #missingReason(ClassLoader)} for the class loader that loaded the bench. */
    public static String missingReason() {
        return missingReason(Dl4jPeer.class.getClassLoader());
    }

    /**
     * Loads ND4J's native backend and runs one tiny op. Never throws: missing jars (the GPU
     * bundle) and a missing or unloadable native library (another OS, a missing glibc symbol)
     * are an answer, not an error.
     */
    public static Availability probe() {
        String missing = missingReason();
        if (missing != null) {
            return Availability.no(missing);
        }
        try {
            INDArray a = Nd4j.ones(DataType.FLOAT, 2, 2);
            float v = a.mmul(a).getFloat(0, 0);
            if (v != 2f) {
                return Availability.no("ND4J computed 1·1+1·1 = " + v);
            }
            int threads = Nd4j.getEnvironment().maxMasterThreads();
            return Availability.yes("ND4J " + Nd4j.getBackend().getClass().getSimpleName() + ", " + threads
                    + (threads == 1 ? " thread" : " threads"));
        } catch (Throwable t) { // UnsatisfiedLinkError, ExceptionInInitializerError, NoClassDefFoundError
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return Availability.no("ND4J's native CPU backend did not load: " + root);
        }
    }

    /**
     * One recurrent layer with its inputs, ready to run forward or a training step.
     * Not thread-safe; one per thread.
     */
    public static final class LayerWorkload {
        private final MultiLayerNetwork net;
        private final INDArray x;      // [B, I, T]
        private final INDArray labels; // [B, H, T]

        /**
         * @throws IllegalArgumentException when DL4J has no layer for {@code cell}
         */
        public LayerWorkload(Cell cell, int batch, int input, int hidden, int steps, long seed) {
            String why = unsupportedReason(cell);
            if (why != null) {
                throw new IllegalArgumentException(why);
            }
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            org.deeplearning4j.nn.conf.layers.Layer layer = cell == Cell.LSTM
                    ? new LSTM.Builder().nIn(input).nOut(hidden).activation(Activation.TANH)
                            .gateActivationFunction(Activation.SIGMOID).build()
                    : new SimpleRnn.Builder().nIn(input).nOut(hidden).activation(Activation.TANH).build();
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                    .seed(seed)
                    .dataType(DataType.FLOAT)
                    .weightInit(WeightInit.XAVIER)
                    .updater(new Sgd(0.0))
                    // DL4J's workspaces reuse the activation and gradient memory from step to step.
                    .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                    .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                    .list()
                    .layer(layer)
                    .layer(new RnnLossLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY).build())
                    .build();
            net = new MultiLayerNetwork(conf);
            net.init();
            Nd4j.getRandom().setSeed(seed);
            x = Nd4j.rand(DataType.FLOAT, batch, input, steps).subi(0.5f);
            labels = Nd4j.rand(DataType.FLOAT, batch, hidden, steps).subi(0.5f);
        }

        /** The forward pass alone, in inference mode. Returns the output {@code [B, H, T]}. */
        public INDArray forward() {
            return net.output(x, false);
        }

        /** Forward, loss and backward: the gradients of every parameter, no update. Returns the loss. */
        public double trainStep() {
            net.setInput(x);
            net.setLabels(labels);
            net.computeGradientAndScore();
            return net.score();
        }

        /** The number of parameters of the recurrent layer (a check that the shape is the one asked for). */
        public long layerParams() {
            return net.getLayer(0).numParams();
        }

        /**
         * A parameter of the recurrent layer by DL4J's key ({@code W [I, G*H]}, {@code RW [H, G*H]},
         * {@code b [1, G*H]}), as a row-major copy, for tests that run the same weights on Recur.
         */
        public float[] layerParam(String key) {
            return net.getLayer(0).getParam(key).dup('c').data().asFloat();
        }

        /** The input {@code [B, I, T]}, row-major. */
        public float[] input() {
            return x.dup('c').data().asFloat();
        }
    }

    /**
     * {@code C[M, N] = A[M, K] · op(B)} through ND4J's gemm (OpenBLAS sgemm) into a preallocated
     * C; {@code op(B)} is {@code B[K, N]} or, with {@code transB}, the transpose of {@code B[N, K]}.
     */
    public static final class GemmWorkload {
        private final boolean transB;
        private final INDArray a; // [M, K]
        private final INDArray b; // [K, N] or [N, K]
        private final INDArray c; // [M, N]

        public GemmWorkload(int m, int n, int k, boolean transB, long seed) {
            this.transB = transB;
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            Nd4j.getRandom().setSeed(seed);
            // 'f' order: BLAS's own layout, so that ND4J hands the buffers to sgemm without a copy.
            a = Nd4j.rand(DataType.FLOAT, m, k).subi(0.5f).dup('f');
            b = (transB ? Nd4j.rand(DataType.FLOAT, n, k) : Nd4j.rand(DataType.FLOAT, k, n)).subi(0.5f).dup('f');
            c = Nd4j.create(DataType.FLOAT, new long[] {m, n}, 'f');
        }

        public void run() {
            Nd4j.gemm(a, b, c, false, transB, 1.0, 0.0);
        }

        /** {@code C[0, 0]}, to check the product. */
        public float c00() {
            return c.getFloat(0, 0);
        }
    }
}
