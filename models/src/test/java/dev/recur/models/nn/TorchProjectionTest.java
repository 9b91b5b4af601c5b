package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.State;
import dev.recur.api.Tensor;
import dev.recur.models.io.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A projected LSTM stack against {@code torch.nn.LSTM(..., proj_size=P)}: the fixtures in
 * {@code torch-projection/} (written by {@code make_projection_fixtures.py} beside them, float64,
 * on float32 values) are loaded into a {@link RecurrentStack} by PyTorch's names, every one of
 * them ({@code weight_hr_l{k}} and the {@code [4H, P]} recurrent weights included, for two layers,
 * the second reading D*P values), and the output, {@code h_n [L*D, B, P]}, {@code c_n} and every
 * gradient must match within {@link TorchReferenceTest}'s tolerance (1e-5 + 1e-5·|torch|, its
 * javadoc says why), on the cpu engine.
 */
class TorchProjectionTest {

    private static Backend be;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lstm-proj-stack", "lstm-proj-bi-stack"})
    void matchesPyTorch(String fixture) throws Exception {
        Path file = tmp.resolve(fixture + ".safetensors");
        try (InputStream in = getClass().getResourceAsStream("/torch-projection/" + fixture + ".safetensors")) {
            assertNotNull(in, fixture + " is missing from the test resources");
            Files.copy(in, file);
        }
        SafeTensors f = SafeTensors.read(file);
        Map<String, String> meta = f.metadata();
        int layers = Integer.parseInt(meta.get("num_layers"));
        boolean bi = Boolean.parseBoolean(meta.get("bidirectional"));
        int in = Integer.parseInt(meta.get("input_size"));
        int hs = Integer.parseInt(meta.get("hidden_size"));
        int p = Integer.parseInt(meta.get("proj_size"));
        int steps = Integer.parseInt(meta.get("steps"));
        int batch = Integer.parseInt(meta.get("batch"));
        RecurrentConfig cfg = RecurrentConfig.builder(Cell.LSTM, in, hs).numLayers(layers).bidirectional(bi)
                .projectionSize(p).build();
        int states = layers * cfg.directions();
        List<Tensor> owned = new ArrayList<>();
        try (RecurrentStack stack = new RecurrentStack(be, "", cfg, new SplittableRandom(1))) {
            TreeSet<String> stored = new TreeSet<>();
            f.tensors().keySet().stream().filter(n -> n.startsWith("weight_") || n.startsWith("bias_"))
                    .forEach(stored::add);
            TreeSet<String> mine = new TreeSet<>();
            for (Parameter prm : stack.parameters()) {
                mine.add(prm.name());
                prm.value().copyFrom(f.require(prm.name(), prm.value().shape().toArray()).data());
            }
            assertEquals(stored, mine, fixture + ": parameter names");

            Tensor x = TorchReferenceTest.keep(owned, be.tensor(f.require("input", steps, batch, in).data(), steps,
                    batch, in));
            float[] gh = f.require("grad_h_n", states, batch, p).data();
            float[] gc = f.require("grad_c_n", states, batch, hs).data();
            State[] dFinal = new State[states];
            for (int s = 0; s < states; s++) {
                dFinal[s] = new State(
                        TorchReferenceTest.keep(owned, be.tensor(java.util.Arrays.copyOfRange(gh, s * batch * p,
                                (s + 1) * batch * p), batch, p)),
                        TorchReferenceTest.keep(owned, be.tensor(java.util.Arrays.copyOfRange(gc, s * batch * hs,
                                (s + 1) * batch * hs), batch, hs)));
            }
            Tensor y = stack.forward(x, null, null, true);
            List<String> failures = new ArrayList<>();
            TorchReferenceTest.Largest largest = new TorchReferenceTest.Largest();
            TorchReferenceTest.compare(failures, largest, "output", y.toArray(),
                    f.require("output", steps, batch, cfg.outputSize()).data());
            State[] fin = stack.finalStates();
            TorchReferenceTest.compare(failures, largest, "h_n", TorchReferenceTest.concat(fin, false),
                    f.require("h_n", states, batch, p).data());
            TorchReferenceTest.compare(failures, largest, "c_n", TorchReferenceTest.concat(fin, true),
                    f.require("c_n", states, batch, hs).data());
            Tensor dy = TorchReferenceTest.keep(owned, be.tensor(f.require("grad_output", steps, batch,
                    cfg.outputSize()).data(), steps, batch, cfg.outputSize()));
            stack.zeroGrad();
            Tensor dx = stack.backward(dy, dFinal);
            TorchReferenceTest.compare(failures, largest, "grad.input", dx.toArray(),
                    f.require("grad.input", steps, batch, in).data());
            for (Parameter prm : stack.parameters()) {
                TorchReferenceTest.compare(failures, largest, "grad." + prm.name(), prm.grad().toArray(),
                        f.require("grad." + prm.name(), prm.grad().shape().toArray()).data());
            }
            System.out.println("torch-projection cpu " + fixture + ": " + largest);
            if (!failures.isEmpty()) {
                fail(fixture + ":\n  " + String.join("\n  ", failures));
            }
        } finally {
            owned.forEach(Tensor::close);
        }
    }
}
