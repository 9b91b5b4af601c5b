package dev.recur.api;

/**
 * Backend providers that need no engine, for testing discovery. They are also registered in
 * {@code src/test/resources/META-INF/services/dev.recur.api.BackendProvider}, so that
 * {@link Backends#discover()} finds them through the real {@link java.util.ServiceLoader} in this
 * module's tests (and only there: engine-api's test classes are on no other module's path).
 *
 * <pre>
 * name        rank  probe
 * fakegpu        1  unavailable, "no device"  (ranks best, but cannot run)
 * fakebroken     3  throws IllegalStateException("driver exploded")
 * fakegood       5  available
 * </pre>
 */
public final class FakeProviders {

    private FakeProviders() {
    }

    /** A provider with the given name and rank whose probe is {@code probe} (which may throw). */
    static BackendProvider custom(String name, int rank, java.util.function.Supplier<Availability> probe) {
        return new BackendProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int rank() {
                return rank;
            }

            @Override
            public Availability probe() {
                return probe.get();
            }

            @Override
            public Backend create() {
                return new FakeBackend(name.toLowerCase(java.util.Locale.ROOT));
            }
        };
    }

    /** Available, rank 5; creates a {@link FakeBackend}. */
    public static final class Good implements BackendProvider {
        @Override
        public String name() {
            return "fakegood";
        }

        @Override
        public int rank() {
            return 5;
        }

        @Override
        public Availability probe() {
            return Availability.yes("always here");
        }

        @Override
        public Backend create() {
            return new FakeBackend("fakegood");
        }
    }

    /** Ranks best (1) but has no device. */
    public static final class Gpu implements BackendProvider {
        @Override
        public String name() {
            return "fakegpu";
        }

        @Override
        public int rank() {
            return 1;
        }

        @Override
        public Availability probe() {
            return Availability.no("no device");
        }

        @Override
        public Backend create() {
            throw new AssertionError("create() called on an unavailable provider");
        }
    }

    /** A probe that breaks its contract and throws. */
    public static final class Broken implements BackendProvider {
        @Override
        public String name() {
            return "fakebroken";
        }

        @Override
        public int rank() {
            return 3;
        }

        @Override
        public Availability probe() {
            throw new IllegalStateException("driver exploded");
        }

        @Override
        public Backend create() {
            throw new AssertionError("create() called on a provider whose probe failed");
        }
    }

    /** A backend with no engine behind it: every op that passes the checks fails loudly. */
    static final class FakeBackend extends Backend {
        private final String name;

        FakeBackend(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        private static UnsupportedOperationException none() {
            return new UnsupportedOperationException("fake backend runs no ops");
        }

        @Override
        protected Tensor allocate(Shape shape) {
            throw none();
        }

        @Override
        protected IndexTensor allocateIndices(Shape shape) {
            throw new UnsupportedOperationException("the fake backend makes no tensors");
        }

        @Override
        public TensorOps tensorOps() {
            throw new UnsupportedOperationException("the fake backend runs no ops");
        }

        @Override
        public LossOps lossOps() {
            throw new UnsupportedOperationException("the fake backend runs no ops");
        }

        @Override
        public OptimizerOps optimizerOps() {
            throw new UnsupportedOperationException("the fake backend runs no ops");
        }


        @Override
        protected Workspace newWorkspace(Cell cell, int maxSteps, int maxBatch, int inputSize, int hiddenSize,
                                         boolean bidirectional) {
            throw none();
        }

        @Override
        protected int firstNonFinite(Tensor t) {
            throw none();
        }

        @Override
        protected void gemmImpl(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, Tensor b,
                                float beta, Tensor c) {
            throw none();
        }

        @Override
        protected void gemmStridedBatchedImpl(boolean transA, boolean transB, int batch, int m, int n, int k,
                                              float alpha, Tensor a, Tensor b, float beta, Tensor c) {
            throw none();
        }

        @Override
        protected void layerForwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                        State init, LayerParams params, Tensor y, State fin, Workspace ws) {
            throw none();
        }

        @Override
        protected void layerInferenceImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                          State init, LayerParams params, Tensor y, State fin, Workspace ws) {
            throw none();
        }

        @Override
        protected void bidirectionalInferenceImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                  PerDirection<State> init, PerDirection<LayerParams> params,
                                                  Tensor y, PerDirection<State> fin, Workspace ws) {
            throw none();
        }

        @Override
        protected void layerBackwardImpl(Cell cell, Direction direction, LayerDims d, Tensor x, int[] lengths,
                                         LayerParams params, Workspace ws, Tensor dy, State dFin, Tensor dx,
                                         State dInit, LayerParams grads) {
            throw none();
        }

        @Override
        protected void bidirectionalForwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                PerDirection<State> init, PerDirection<LayerParams> params, Tensor y,
                                                PerDirection<State> fin, Workspace ws) {
            throw none();
        }

        @Override
        protected void bidirectionalBackwardImpl(Cell cell, LayerDims d, Tensor x, int[] lengths,
                                                 PerDirection<LayerParams> params, Workspace ws, Tensor dy,
                                                 PerDirection<State> dFin, Tensor dx, PerDirection<State> dInit,
                                                 PerDirection<LayerParams> grads) {
            throw none();
        }

        @Override
        protected void cellForwardImpl(Cell cell, LayerDims d, Tensor x, State prev, LayerParams params,
                                       State next, Workspace ws) {
            throw none();
        }

        @Override
        protected void cellBackwardImpl(Cell cell, LayerDims d, Tensor x, LayerParams params, Workspace ws,
                                        State dNext, Tensor dx, State dPrev, LayerParams grads) {
            throw none();
        }
    }
}
