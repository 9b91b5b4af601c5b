package dev.recur.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.recur.cuda.SimulatedOptionLayerTest.close;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA engine's option path on the simulated device (the layer code, the kernels' own math
 * through their g++-built host twin, the reference GEMM) against the peers' fixtures of issue 17
 * in engine-cpu/src/test/resources/fixtures/options (made by make_fixtures.py there:
 * {@code torch.nn.LSTM(proj_size)}, the contract as explicit torch ops with autograd, Keras 3
 * masks with holes and recurrent dropout): y, the final states, and every gradient the fixture
 * has. Skipped, with the reason, without g++ (the host twin) or without the fixture folder.
 *
 * <p>Tolerances, those of engine-cpu's OptionsEngineFixtureTest for the same fixtures and a
 * float32 engine: forward {@code 5e-5 + 2e-4·|want|}, gradients {@code 1e-4 + 1e-3·|want|}.
 */
class SimulatedOptionFixtureTest {

    private static final Path FOLDER = Path.of("../engine-cpu/src/test/resources/fixtures/options").toAbsolutePath()
            .normalize();
    private static final String[] PARAMETERS = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "peephole",
        "weight_hr", "ln_ih_weight", "ln_ih_bias", "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias"};

    private SimulatedDevice device;

    @AfterEach
    void closeDevice() {
        if (device != null) {
            device.close();
        }
    }

    static List<String> names() throws IOException {
        Path index = FOLDER.resolve("index.txt");
        if (!Files.isRegularFile(index)) {
            return List.of("(no fixtures: " + index + " is missing)");
        }
        return Files.readAllLines(index).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    @ParameterizedTest
    @MethodSource("names")
    void simulatedOptionPathMatchesTheFixture(String name) throws IOException {
        String why = OptionKernelsHost.unavailable();
        assumeTrue(why == null, () -> "skipped: " + why);
        assumeTrue(!name.startsWith("("), () -> "skipped: " + name);
        JsonNode n = new ObjectMapper().readTree(FOLDER.resolve(name + ".json").toFile());
        boolean training = n.get("training").asBoolean();
        CellOptions o = new CellOptions(n.get("layerNorm").asBoolean(), (float) n.get("recurrentDropout").asDouble(),
                (float) n.get("zoneoutH").asDouble(), (float) n.get("zoneoutC").asDouble(),
                n.get("projectionSize").asInt());
        if (training) {
            run(name, n, o, true);
        }
        if (!training || !o.draws()) {
            run(name, n, o, false);
        }
    }

    private void run(String name, JsonNode n, CellOptions o, boolean training) {
        if (device == null) {
            device = new SimulatedDevice();
        }
        Cell cell = Cell.byId(n.get("cell").asText());
        List<Direction> dirs = new ArrayList<>();
        n.get("directions").forEach(d -> dirs.add(Direction.valueOf(d.asText())));
        int D = dirs.size();
        int T = n.get("steps").asInt();
        int B = n.get("batch").asInt();
        int I = n.get("input").asInt();
        int H = n.get("hidden").asInt();
        int R = o.recurrentWidth(H);
        int S = o.stateWidth(cell, H);
        boolean lstm = cell.hasCellState();
        int[] lengths = n.get("lengths").isNull() ? null : ints(n.get("lengths"));
        byte[] mask = null;
        if (!n.get("mask").isNull()) {
            int[] m = ints(n.get("mask"));
            mask = new byte[m.length];
            for (int i = 0; i < m.length; i++) {
                mask[i] = (byte) m[i];
            }
        }
        long seed = n.get("seed").asLong();
        long counter = n.get("counter").asLong();
        Map<String, double[]> t = new LinkedHashMap<>();
        n.get("tensors").properties().forEach(e -> {
            JsonNode data = e.getValue().get("data");
            double[] v = new double[data.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = data.get(i).asDouble();
            }
            t.put(e.getKey(), v);
        });
        boolean backward = training && n.get("hasGradients").asBoolean();
        String what = name + (training ? " training" : " inference");

        CudaOptionLayer layer = new CudaOptionLayer(device, new CudaLayer(device, false));
        CudaOptionLayer.Call call = new CudaOptionLayer.Call(o, mask, seed, training);
        long x = up(t.get("x"));
        long y = device.zeros(T * B * D * R);
        CudaOptionBuffers[] bufs = new CudaOptionBuffers[D];
        long[][] params = new long[D][];
        long[] hT = new long[D];
        long[] cT = new long[D];
        for (int d = 0; d < D; d++) {
            bufs[d] = new CudaOptionBuffers(device, device::allocate, cell, o, T, B, I, H, "fixture");
            params[d] = new long[PARAMETERS.length];
            for (int k = 0; k < PARAMETERS.length; k++) {
                params[d][k] = up(t.get(PARAMETERS[k] + suffix(dirs.get(d))));
            }
            hT[d] = device.zeros(B * S);
            cT[d] = lstm ? device.zeros(B * H) : 0;
            long counterD = counter + d * o.draws(cell, T, B, H);
            layer.forward(training ? "layerForward" : "layerInference", cell, dirs.get(d), T, B, x, lengths, call,
                    counterD, new CudaOptionLayer.Forward(up(part(t.get("h0"), d, D)), up(part(t.get("c0"), d, D)),
                            lp(params[d], o), hT[d], cT[d]), y, D * R, d * R, bufs[d]);
        }
        close(what + " y", t.get("y"), SimulatedDevice.read(y, T * B * D * R), 5e-5, 2e-4);
        for (int d = 0; d < D; d++) {
            close(what + " hT " + dirs.get(d), part(t.get("hT"), d, D), SimulatedDevice.read(hT[d], B * S), 5e-5, 2e-4);
            if (lstm) {
                close(what + " cT " + dirs.get(d), part(t.get("cT"), d, D), SimulatedDevice.read(cT[d], B * H), 5e-5,
                        2e-4);
            }
        }
        if (!backward) {
            return;
        }
        long dy = up(t.get("dy"));
        long dx = device.zeros(T * B * I);
        int checked = 0;
        for (int d = 0; d < D; d++) {
            long[] grads = new long[PARAMETERS.length];
            for (int k = 0; k < PARAMETERS.length; k++) {
                double[] p = t.get(PARAMETERS[k] + suffix(dirs.get(d)));
                grads[k] = p == null ? 0 : device.zeros(p.length);
            }
            long dh0 = device.zeros(B * S);
            long dc0 = lstm ? device.zeros(B * H) : 0;
            layer.backward("layerBackward", cell, T, B, x, bufs[d], call, dy, D * R, d * R,
                    new CudaOptionLayer.Backward(lp(params[d], o), up(part(t.get("dhT"), d, D)),
                            up(part(t.get("dcT"), d, D)), dh0, dc0, lp(grads, o)), dx, d == 1);
            close(what + " grad.h0 " + dirs.get(d), part(t.get("grad.h0"), d, D), SimulatedDevice.read(dh0, B * S),
                    1e-4, 1e-3);
            if (lstm) {
                close(what + " grad.c0 " + dirs.get(d), part(t.get("grad.c0"), d, D),
                        SimulatedDevice.read(dc0, B * H), 1e-4, 1e-3);
            }
            for (int k = 0; k < PARAMETERS.length; k++) {
                double[] want = t.get("grad." + PARAMETERS[k] + suffix(dirs.get(d)));
                if (want != null) {
                    close(what + " grad." + PARAMETERS[k] + suffix(dirs.get(d)), want,
                            SimulatedDevice.read(grads[k], want.length), 1e-4, 1e-3);
                    checked++;
                }
            }
        }
        close(what + " grad.x", t.get("grad.x"), SimulatedDevice.read(dx, T * B * I), 1e-4, 1e-3);
        assertTrue(checked >= 4 * D, what + ": only " + checked + " parameter gradients compared");
    }

    private static CudaOptionLayer.Params lp(long[] a, CellOptions o) {
        CudaOptionLayer.Norm norm = o.layerNorm() ? new CudaOptionLayer.Norm(a[6], a[7], a[8], a[9], a[10], a[11])
                : null;
        return new CudaOptionLayer.Params(a[0], a[1], a[2], a[3], a[4], a[5], norm);
    }

    private static String suffix(Direction d) {
        return "_l0" + (d == Direction.REVERSE ? "_reverse" : "");
    }

    /** Part d of D of a [D, ...] tensor, or null. */
    private static double[] part(double[] v, int d, int dirs) {
        if (v == null) {
            return null;
        }
        int n = v.length / dirs;
        double[] out = new double[n];
        System.arraycopy(v, d * n, out, 0, n);
        return out;
    }

    private long up(double[] v) {
        if (v == null) {
            return 0;
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return device.upload(f);
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }
}
