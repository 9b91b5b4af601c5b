package dev.recur.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.recur.api.Cell;
import dev.recur.api.CellOptions;
import dev.recur.api.Direction;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One fixture of {@code src/test/resources/fixtures/options/} (made by its
 * {@code make_fixtures.py}, whose docstring gives the format): a layer call with
 * {@link CellOptions} and a step mask, its inputs and parameters in PyTorch's names and layouts,
 * the peer's outputs and, for some, the gradients of {@code L = Σ y⊙dy + Σ hT⊙dhT + Σ cT⊙dcT}.
 * Everything is float64 as written.
 */
final class OptionsFixture {

    static final String FOLDER = "/fixtures/options/";
    private static final ObjectMapper JSON = new ObjectMapper();

    final String name;
    final String source;
    final Cell cell;
    final CellOptions options;
    final boolean training;
    final List<Direction> directions;
    final int steps;      // T
    final int batch;      // B
    final int in;         // I
    final int hidden;     // H
    final int[] lengths;  // [B] or null
    final byte[] mask;    // [T*B] or null
    final long seed;
    final long counter;
    final boolean hasGradients;
    final Map<String, double[]> tensors = new LinkedHashMap<>();
    final Map<String, int[]> shapes = new LinkedHashMap<>();

    private OptionsFixture(JsonNode n) {
        name = n.get("name").asText();
        source = n.get("source").asText();
        cell = Cell.byId(n.get("cell").asText());
        options = new CellOptions(n.get("layerNorm").asBoolean(), (float) n.get("recurrentDropout").asDouble(),
                (float) n.get("zoneoutH").asDouble(), (float) n.get("zoneoutC").asDouble(),
                n.get("projectionSize").asInt());
        training = n.get("training").asBoolean();
        directions = new ArrayList<>();
        for (JsonNode d : n.get("directions")) {
            directions.add(Direction.valueOf(d.asText()));
        }
        steps = n.get("steps").asInt();
        batch = n.get("batch").asInt();
        in = n.get("input").asInt();
        hidden = n.get("hidden").asInt();
        lengths = n.get("lengths").isNull() ? null : ints(n.get("lengths"));
        if (n.get("mask").isNull()) {
            mask = null;
        } else {
            int[] m = ints(n.get("mask"));
            mask = new byte[m.length];
            for (int i = 0; i < m.length; i++) {
                mask[i] = (byte) m[i];
            }
        }
        seed = n.get("seed").asLong();
        counter = n.get("counter").asLong();
        hasGradients = n.get("hasGradients").asBoolean();
        n.get("tensors").properties().forEach(e -> {
            shapes.put(e.getKey(), ints(e.getValue().get("shape")));
            JsonNode data = e.getValue().get("data");
            double[] v = new double[data.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = data.get(i).asDouble();
            }
            tensors.put(e.getKey(), v);
        });
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asInt();
        }
        return v;
    }

    /** Every fixture named in {@code index.txt}, in its order. */
    static List<OptionsFixture> all() {
        List<OptionsFixture> out = new ArrayList<>();
        for (String name : names()) {
            out.add(load(name));
        }
        return out;
    }

    static List<String> names() {
        List<String> names = new ArrayList<>();
        try (InputStream s = resource("index.txt");
             BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    names.add(line.strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    static OptionsFixture load(String name) {
        try (InputStream s = resource(name + ".json")) {
            return new OptionsFixture(JSON.readTree(s));
        } catch (IOException e) {
            throw new UncheckedIOException(name + ".json", e);
        }
    }

    private static InputStream resource(String file) {
        InputStream s = OptionsFixture.class.getResourceAsStream(FOLDER + file);
        if (s == null) {
            throw new IllegalStateException("missing test resource " + FOLDER + file
                    + "; run make_fixtures.py in engine-cpu/src/test/resources/fixtures/options");
        }
        return s;
    }

    int dirs() {
        return directions.size();
    }

    /** R: the output and recurrent width. */
    int r() {
        return options.recurrentWidth(hidden);
    }

    /** S: the width of the state's h. */
    int s() {
        return options.stateWidth(cell, hidden);
    }

    /** The suffix of direction index d's parameter names: {@code _l0} or {@code _l0_reverse}. */
    String suffix(int d) {
        return "_l0" + (directions.get(d) == Direction.REVERSE ? "_reverse" : "");
    }

    double[] tensor(String key) {
        double[] v = tensors.get(key);
        if (v == null) {
            throw new IllegalStateException(name + ": no tensor " + key);
        }
        return v;
    }

    /** Rows {@code [d*rows, (d+1)*rows)} of a {@code [D, rows...]} tensor, or null when it is absent. */
    double[] part(String key, int d) {
        double[] v = tensors.get(key);
        if (v == null) {
            return null;
        }
        int n = v.length / dirs();
        double[] out = new double[n];
        System.arraycopy(v, d * n, out, 0, n);
        return out;
    }

    /** The counter at which direction index d's draws start (the reverse of a pair starts after the forward's). */
    long counter(int d) {
        return counter + d * options.draws(cell, steps, batch, hidden);
    }

    /**
     * The PyTorch-named parameters of direction d without their suffix, in the oracle's order
     * ({@code weight_ih, weight_hh, bias_ih, bias_hh, peephole, weight_hr, ln_ih_weight,
     * ln_ih_bias, ln_hh_weight, ln_hh_bias, ln_c_weight, ln_c_bias}), nulls where absent.
     */
    static final String[] PARAMETERS = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "peephole", "weight_hr",
        "ln_ih_weight", "ln_ih_bias", "ln_hh_weight", "ln_hh_bias", "ln_c_weight", "ln_c_bias"};

    /** Direction d's parameters, copied, as the oracle takes them. */
    OptionsOracle.Weights weights(int d) {
        double[][] p = new double[PARAMETERS.length][];
        for (int k = 0; k < p.length; k++) {
            double[] v = tensors.get(PARAMETERS[k] + suffix(d));
            p[k] = v == null ? null : v.clone();
        }
        return new OptionsOracle.Weights(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]);
    }

    /** The oracle's run of direction index d with the given inputs. */
    OptionsOracle.Result oracle(int d, double[] x, double[] h0, double[] c0, OptionsOracle.Weights w) {
        return OptionsOracle.forward(cell, options, training, directions.get(d), steps, batch, in, hidden, x, lengths,
                mask, seed, counter(d), h0, c0, w);
    }

    /** The columns {@code [d*R, (d+1)*R)} of {@code y [T, B, D*R]}. */
    double[] yPart(double[] y, int d) {
        int r = r();
        double[] out = new double[steps * batch * r];
        for (int row = 0; row < steps * batch; row++) {
            System.arraycopy(y, row * dirs() * r + d * r, out, row * r, r);
        }
        return out;
    }

    @Override
    public String toString() {
        return name;
    }
}
