package dev.recur.interop.keras;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.recur.api.Backend;
import dev.recur.api.Cell;
import dev.recur.models.io.Json;
import dev.recur.models.io.StoredTensor;
import dev.recur.models.lm.CharLanguageModel;
import dev.recur.models.lm.CharModelConfig;
import dev.recur.models.nn.Model;
import dev.recur.models.seq.SequenceModel;
import dev.recur.models.seq.SequenceModelConfig;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.exceptions.HdfException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a Keras 3 {@code .keras} archive (a zip of {@code config.json}, {@code metadata.json} and
 * {@code model.weights.h5}) into a Recur model. The HDF5 weights are read by jHDF, in pure Java.
 *
 * <p>What is imported: a {@code Sequential} model of an optional {@code Embedding} (ids in) or an
 * {@code InputLayer} of {@code [null, null, F]} (numbers in), one or more recurrent layers
 * ({@code LSTM}, {@code GRU}, {@code SimpleRNN}, each maybe wrapped in {@code Bidirectional} with
 * {@code merge_mode="concat"}), all of one class, width and direction count (a Recur stack is
 * uniform), and a {@code Dense} head. {@code Dropout} layers are skipped: they are the identity at
 * inference. The last recurrent layer decides the model:
 * <ul>
 *   <li>{@code return_sequences=False}: a {@link SequenceModel}, the head on the final state
 *       (the backward direction's state after step 0, as Keras's); with an embedding a classifier
 *       ({@code units >= 2}), with numeric input a regressor (linear head);</li>
 *   <li>{@code return_sequences=True}: a {@link CharLanguageModel}, the head on every step; it
 *       needs an embedding, one direction and {@code units == input_dim}.</li>
 * </ul>
 * A classifier's or language model's {@code softmax} head is imported as its logits: Recur's models
 * output pre-softmax scores and apply softmax where they need probabilities (the cross-entropy
 * loss, sampling), so {@code softmax(predict(x))} is Keras's {@code model(x)}.
 *
 * <p>Weights (Keras kernels are {@code [in, out]}, Recur's are PyTorch's {@code [out, in]}):
 * <ul>
 *   <li>LSTM: Keras's gate order {@code i, f, c, o} is PyTorch's {@code i, f, g, o}; kernel and
 *       recurrent kernel are transposed; Keras's one bias goes to {@code bias_ih}, {@code bias_hh}
 *       is zero. {@code unit_forget_bias} only initialises the forget bias to one when Keras
 *       builds the layer: the trained value is in the bias, nothing else to map.</li>
 *   <li>GRU: Keras's blocks {@code z, r, h} are reordered to {@code r, z, n}. With
 *       {@code reset_after=True} (Keras 3's default) the bias is {@code [2, 3H]}, input and
 *       recurrent bias, and the cell is {@link Cell#GRU} (the reset gate multiplies
 *       {@code W_hn h + b_hn}); with {@code reset_after=False} the bias is {@code [3H]}, goes to
 *       {@code bias_ih}, and the cell is {@link Cell#GRU_ORIGINAL} (the reset gate multiplies
 *       {@code h} before {@code W_hn}). Both use {@code h = (1 - z) n + z h_{t-1}}, as Keras.</li>
 *   <li>SimpleRNN: {@code tanh} or {@code relu}, {@link Cell#RNN_TANH} or {@link Cell#RNN_RELU}.</li>
 * </ul>
 * Only Keras's default activations are accepted ({@code tanh} and {@code sigmoid} recurrent);
 * {@code use_bias=False} imports zero biases. Anything else is refused, naming the layer's class
 * and name.
 */
public final class KerasImport {

    /** Largest {@code config.json} read, in bytes: a Sequential model's configuration is a few KB. */
    private static final int MAX_CONFIG_BYTES = 16 << 20;

    private static final String CONFIG = "config.json";
    private static final String WEIGHTS = "model.weights.h5";

    private KerasImport() {
    }

    /** One recurrent layer of the Keras model, after its checks. */
    private record Recurrent(String name, String className, Cell cell, int units, boolean bidirectional,
                             boolean returnSequences, boolean useBias, boolean resetAfter) {
        String label() {
            return layerLabel(name, bidirectional ? "Bidirectional(" + className + ")" : className);
        }
    }

    /** The checked structure of the Sequential model. */
    private record Structure(String name, int vocabulary, int embedding, String embeddingName, int features,
                             List<Recurrent> rnns, String headName, int headUnits, String headActivation,
                             boolean headBias) {
        int inputSize() {
            return vocabulary > 0 ? embedding : features;
        }

        Recurrent first() {
            return rnns.get(0);
        }

        int directions() {
            return first().bidirectional() ? 2 : 1;
        }
    }

    /**
     * The model of the Keras 3 archive {@code file}, on {@code backend}: a {@link SequenceModel}
     * (classifier or regressor) or a {@link CharLanguageModel}, in eval mode, with Keras's weights.
     *
     * @throws IOException            when the file cannot be read
     * @throws KerasImportException   when it is not a Keras 3 archive, holds a layer or setting
     *                                with no Recur equivalent (named), or weights that disagree with
     *                                its configuration (the dataset, its shape and the expected one)
     */
    public static Model read(Path file, Backend backend) throws IOException, KerasImportException {
        try {
            return readArchive(file, backend);
        } catch (KerasImportException e) {
            throw new KerasImportException(file + ": " + e.getMessage());
        }
    }

    private static Model readArchive(Path file, Backend backend) throws IOException, KerasImportException {
        byte[] config;
        byte[] weights;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            config = entry(zip, CONFIG, MAX_CONFIG_BYTES);
            weights = entry(zip, WEIGHTS, Integer.MAX_VALUE - 16);
        } catch (ZipException e) {
            throw new KerasImportException("not a Keras 3 archive (not a zip file: " + e.getMessage()
                    + "); a Keras 2 .h5 file must be saved again by Keras 3 as .keras");
        }
        Structure s;
        try {
            s = structure(Json.MAPPER.readTree(config));
        } catch (JacksonException e) {
            throw new KerasImportException(CONFIG + " is not valid JSON: "
                    + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr());
        }
        Map<String, StoredTensor> state;
        try (HdfFile h5 = HdfFile.fromBytes(weights)) {
            state = weights(s, layerGroups(h5));
        } catch (HdfException e) {
            throw new KerasImportException(WEIGHTS + " is not a readable HDF5 file: " + e.getMessage());
        } catch (RuntimeException e) {
            // jHDF reads a truncated or damaged file with buffer arithmetic: what it throws then
            // (buffer underflow, index out of bounds) is not an HdfException.
            throw new KerasImportException(WEIGHTS + " is damaged (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        Model model;
        try {
            model = build(s, backend);
        } catch (IllegalArgumentException e) { // a size Recur refuses (Model.requireMemory, one tensor's limit)
            throw new KerasImportException("model '" + s.name() + "': " + e.getMessage());
        }
        try {
            model.loadStateDict(state, true);
        } catch (IllegalArgumentException e) {
            model.close();
            throw new KerasImportException(e.getMessage());
        }
        model.eval();
        return model;
    }

    private static byte[] entry(ZipFile zip, String name, int limit) throws IOException,
            KerasImportException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            List<String> names = new ArrayList<>();
            zip.stream().limit(20).forEach(z -> names.add(z.getName()));
            throw new KerasImportException("not a Keras 3 archive: no " + name + " in the zip (it holds "
                    + names + ")");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(limit);
            if (in.read() != -1) {
                throw new KerasImportException(name + " is larger than " + limit + " bytes");
            }
            return b;
        }
    }

    // ---------------------------------------------------------------- configuration

    private static Structure structure(JsonNode root) throws KerasImportException {
        String cls = root.path("class_name").asText("");
        String modelName = root.path("config").path("name").asText("?");
        if (!cls.equals("Sequential")) {
            throw new KerasImportException("model '" + modelName + "' is a " + (cls.isEmpty() ? "model without class_name"
                    : cls) + "; only Sequential models are imported");
        }
        JsonNode layers = root.path("config").path("layers");
        if (!layers.isArray() || layers.isEmpty()) {
            throw new KerasImportException("model '" + modelName + "': config.json lists no layers");
        }
        int vocabulary = 0;
        int embedding = 0;
        String embeddingName = null;
        int features = 0;
        List<Recurrent> rnns = new ArrayList<>();
        String headName = null;
        int headUnits = 0;
        String headActivation = null;
        boolean headBias = true;
        for (JsonNode layer : layers) {
            String kind = layer.path("class_name").asText("?");
            JsonNode c = layer.path("config");
            String name = c.path("name").asText("?");
            String label = layerLabel(name, kind);
            if (headName != null) {
                throw new KerasImportException(label + " follows the Dense head '" + headName
                        + "'; Recur's models end with their head");
            }
            switch (kind) {
                case "InputLayer" -> {
                    JsonNode shape = c.has("batch_shape") ? c.path("batch_shape") : c.path("batch_input_shape");
                    if (shape.isArray() && shape.size() == 3 && shape.get(2).canConvertToInt()) {
                        features = shape.get(2).asInt();
                    }
                }
                case "Dropout" -> {
                    // The identity at inference.
                }
                case "Embedding" -> {
                    if (embeddingName != null || !rnns.isEmpty()) {
                        throw new KerasImportException(label + ": Recur's models take one embedding, before the"
                                + " recurrent layers");
                    }
                    if (c.path("mask_zero").asBoolean(false)) {
                        throw new KerasImportException(label + ": mask_zero=True is not imported (Recur passes"
                                + " sequence lengths instead of masking id 0)");
                    }
                    vocabulary = positive(c, "input_dim", label);
                    embedding = positive(c, "output_dim", label);
                    embeddingName = name;
                }
                case "LSTM", "GRU", "SimpleRNN" -> rnns.add(recurrent(kind, c, false, label));
                case "Bidirectional" -> rnns.add(bidirectional(c, label));
                case "Dense" -> {
                    if (rnns.isEmpty()) {
                        throw new KerasImportException(label + " comes before any recurrent layer; Recur's models"
                                + " have one Dense head, after the recurrent layers");
                    }
                    headName = name;
                    headUnits = positive(c, "units", label);
                    headActivation = c.path("activation").asText("?");
                    headBias = c.path("use_bias").asBoolean(true);
                }
                default -> throw new KerasImportException(label + " has no Recur equivalent; Recur imports"
                        + " Embedding, LSTM, GRU, SimpleRNN, Bidirectional and Dense layers (and skips Dropout)");
            }
        }
        if (rnns.isEmpty()) {
            throw new KerasImportException("model '" + modelName + "' has no LSTM, GRU or SimpleRNN layer");
        }
        if (headName == null) {
            throw new KerasImportException("model '" + modelName + "' does not end with a Dense layer; Recur's"
                    + " models end with a linear head");
        }
        Recurrent first = rnns.get(0);
        for (int i = 0; i < rnns.size(); i++) {
            Recurrent r = rnns.get(i);
            if (i < rnns.size() - 1 && !r.returnSequences()) {
                throw new KerasImportException(r.label() + " has return_sequences=False but another recurrent layer"
                        + " follows it");
            }
            if (r.cell() != first.cell() || r.units() != first.units() || r.bidirectional() != first.bidirectional()) {
                throw new KerasImportException(r.label() + " (" + r.cell().id() + ", " + r.units() + " units"
                        + (r.bidirectional() ? ", bidirectional" : "") + ") differs from " + first.label() + " ("
                        + first.cell().id() + ", " + first.units() + " units" + (first.bidirectional()
                        ? ", bidirectional" : "") + "); the layers of a Recur stack share cell, width and directions");
            }
        }
        if (embeddingName == null && features < 1) {
            throw new KerasImportException("model '" + modelName + "' has neither an Embedding nor an InputLayer"
                    + " of shape [batch, steps, features] with a known features width");
        }
        return new Structure(modelName, vocabulary, embedding, embeddingName, embeddingName == null ? features : 0,
                List.copyOf(rnns), headName, headUnits, headActivation, headBias);
    }

    private static Recurrent bidirectional(JsonNode c, String label) throws KerasImportException {
        String merge = c.path("merge_mode").asText("concat");
        if (!merge.equals("concat")) {
            throw new KerasImportException(label + ": merge_mode='" + merge + "' is not imported; Recur concatenates"
                    + " the two directions (merge_mode='concat')");
        }
        JsonNode inner = c.path("layer");
        String kind = inner.path("class_name").asText("?");
        if (!List.of("LSTM", "GRU", "SimpleRNN").contains(kind)) {
            throw new KerasImportException(label + " wraps a " + kind + "; Recur imports Bidirectional LSTM, GRU"
                    + " and SimpleRNN");
        }
        String name = c.path("name").asText("?");
        Recurrent forward = recurrent(kind, inner.path("config"), true, label);
        JsonNode back = c.path("backward_layer");
        if (back.isObject()) {
            Recurrent backward = recurrent(back.path("class_name").asText("?"), back.path("config"), true, label);
            if (backward.cell() != forward.cell() || backward.units() != forward.units()
                    || backward.returnSequences() != forward.returnSequences()
                    || backward.useBias() != forward.useBias()) {
                throw new KerasImportException(label + ": its backward layer differs from its forward layer;"
                        + " Recur's two directions share cell, width and settings");
            }
        }
        return new Recurrent(name, kind, forward.cell(), forward.units(), true, forward.returnSequences(),
                forward.useBias(), forward.resetAfter());
    }

    private static Recurrent recurrent(String kind, JsonNode c, boolean wrapped, String label)
            throws KerasImportException {
        String name = c.path("name").asText("?");
        String activation = c.path("activation").asText("?");
        Cell cell;
        boolean resetAfter = false;
        switch (kind) {
            case "LSTM" -> cell = Cell.LSTM;
            case "GRU" -> {
                resetAfter = c.path("reset_after").asBoolean(true);
                cell = resetAfter ? Cell.GRU : Cell.GRU_ORIGINAL;
            }
            case "SimpleRNN" -> cell = switch (activation) {
                case "tanh" -> Cell.RNN_TANH;
                case "relu" -> Cell.RNN_RELU;
                default -> throw new KerasImportException(label + ": activation '" + activation + "' is not imported;"
                        + " SimpleRNN takes tanh or relu");
            };
            default -> throw new KerasImportException(label + " has no Recur equivalent");
        }
        if (!kind.equals("SimpleRNN")) {
            if (!activation.equals("tanh")) {
                throw new KerasImportException(label + ": activation '" + activation + "' is not imported; " + kind
                        + " takes Keras's default, tanh");
            }
            String recurrentActivation = c.path("recurrent_activation").asText("?");
            if (!recurrentActivation.equals("sigmoid")) {
                throw new KerasImportException(label + ": recurrent_activation '" + recurrentActivation
                        + "' is not imported; " + kind + " takes Keras's default, sigmoid");
            }
        }
        if (!wrapped && c.path("go_backwards").asBoolean(false)) {
            throw new KerasImportException(label + ": go_backwards=True is not imported outside Bidirectional");
        }
        if (c.path("return_state").asBoolean(false)) {
            throw new KerasImportException(label + ": return_state=True is not imported");
        }
        return new Recurrent(name, kind, cell, positive(c, "units", label), wrapped,
                c.path("return_sequences").asBoolean(false), c.path("use_bias").asBoolean(true), resetAfter);
    }

    private static int positive(JsonNode c, String field, String label) throws KerasImportException {
        JsonNode v = c.path(field);
        if (!v.canConvertToInt() || v.asInt() < 1) {
            throw new KerasImportException(label + ": field '" + field + "' must be a positive integer, got "
                    + (v.isMissingNode() ? "nothing" : v.toString()));
        }
        return v.asInt();
    }

    private static String layerLabel(String name, String kind) {
        return "layer '" + name + "' (" + kind + ")";
    }

    // ---------------------------------------------------------------- the Recur model

    private static Model build(Structure s, Backend backend) throws KerasImportException {
        Recurrent last = s.rnns().get(s.rnns().size() - 1);
        String head = layerLabel(s.headName(), "Dense");
        boolean softmax = s.headActivation().equals("softmax");
        if (!softmax && !s.headActivation().equals("linear")) {
            throw new KerasImportException(head + ": activation '" + s.headActivation() + "' is not imported; the"
                    + " head takes linear, or softmax on a classifier or language model (imported as logits)");
        }
        Cell cell = s.first().cell();
        int layers = s.rnns().size();
        int hidden = s.first().units();
        if (last.returnSequences()) {
            if (s.vocabulary() == 0 || s.first().bidirectional() || s.headUnits() != s.vocabulary()) {
                throw new KerasImportException(head + " on every step maps to Recur's language model, which needs an"
                        + " Embedding, one direction and as many head units as ids (" + s.vocabulary() + "), got "
                        + (s.vocabulary() == 0 ? "numeric input" : s.first().bidirectional() ? "bidirectional layers"
                        : s.headUnits() + " units") + "; or set return_sequences=False on " + last.label());
            }
            return new CharLanguageModel(backend, new CharModelConfig(s.vocabulary(), s.embedding(), cell, hidden,
                    layers, 0f), 0);
        }
        if (s.vocabulary() > 0) {
            if (s.headUnits() < 2) {
                throw new KerasImportException(head + ": a classifier of ids needs at least 2 units (one per class),"
                        + " got 1; Recur has no sigmoid (binary) head");
            }
            return new SequenceModel(backend, SequenceModelConfig.classifier(s.vocabulary(), s.embedding(), cell,
                    hidden, layers, s.first().bidirectional(), 0f, s.headUnits()), 0);
        }
        if (softmax) {
            throw new KerasImportException(head + ": softmax on numeric input is not imported; Recur's model of"
                    + " numbers is a regressor with a linear head");
        }
        return new SequenceModel(backend, new SequenceModelConfig(0, s.features(), cell, hidden, layers,
                s.first().bidirectional(), 0f, 0, s.headUnits()), 0);
    }

    // ---------------------------------------------------------------- weights

    /**
     * The groups {@code layers/<key>} of {@code model.weights.h5} by Keras layer name. Keras 3
     * keys a layer's group by its class ({@code lstm}, {@code lstm_1}, ...), not by its name; the
     * name is the attribute {@code name} of the group's {@code vars}.
     */
    private static Map<String, Group> layerGroups(HdfFile h5) throws KerasImportException {
        Node layers = h5.getChild("layers");
        if (!(layers instanceof Group g)) {
            throw new KerasImportException(WEIGHTS + " has no group 'layers'; not the weights of a Keras 3 model");
        }
        Map<String, Group> out = new HashMap<>();
        for (Node n : g) {
            if (n instanceof Group layer) {
                String name = layer.getName();
                Node vars = layer.getChild("vars");
                Attribute a = vars == null ? null : vars.getAttribute("name");
                if (a != null && a.getData() instanceof String s) {
                    name = s;
                }
                out.put(name, layer);
            }
        }
        return out;
    }

    private static Map<String, StoredTensor> weights(Structure s, Map<String, Group> groups)
            throws KerasImportException {
        Map<String, StoredTensor> state = new LinkedHashMap<>();
        if (s.vocabulary() > 0) {
            Group g = group(groups, s.embeddingName(), "Embedding");
            state.put("embedding.weight", new StoredTensor(new int[] {s.vocabulary(), s.embedding()},
                    read(g, "vars/0", "embeddings", layerLabel(s.embeddingName(), "Embedding"), s.vocabulary(),
                            s.embedding())));
        }
        int dirs = s.directions();
        for (int l = 0; l < s.rnns().size(); l++) {
            Recurrent r = s.rnns().get(l);
            Group g = group(groups, r.name(), r.className());
            int in = l == 0 ? s.inputSize() : dirs * r.units();
            for (int d = 0; d < dirs; d++) {
                String prefix = !r.bidirectional() ? "" : d == 0 ? "forward_layer/" : "backward_layer/";
                String suffix = "_l" + l + (d == 1 ? "_reverse" : "");
                recurrentWeights(r, g, prefix + "cell/vars/", in, suffix, state);
            }
        }
        Group g = group(groups, s.headName(), "Dense");
        String label = layerLabel(s.headName(), "Dense");
        int in = dirs * s.first().units();
        int out = s.headUnits();
        state.put("head.weight", new StoredTensor(new int[] {out, in},
                transpose(read(g, "vars/0", "kernel", label, in, out), in, out)));
        state.put("head.bias", new StoredTensor(new int[] {out},
                s.headBias() ? read(g, "vars/1", "bias", label, out) : new float[out]));
        return state;
    }

    /**
     * One direction of one layer: Keras's kernel {@code [I, G*H]}, recurrent kernel
     * {@code [H, G*H]} and bias into PyTorch's {@code weight_ih [G*H, I]}, {@code weight_hh
     * [G*H, H]}, {@code bias_ih}, {@code bias_hh}, gate blocks reordered for GRU.
     */
    private static void recurrentWeights(Recurrent r, Group g, String vars, int in, String suffix,
                                         Map<String, StoredTensor> state) throws KerasImportException {
        String label = r.label();
        int h = r.units();
        int gh = r.cell().gates() * h;
        // Keras GRU blocks are z, r, h; Recur's (PyTorch's) r, z, n: Recur's block j is Keras's order[j].
        int[] order = r.cell().gates() == 3 ? new int[] {1, 0, 2} : identity(r.cell().gates());
        float[] kernel = read(g, vars + "0", "kernel", label, in, gh);       // [I, G*H]
        float[] recurrent = read(g, vars + "1", "recurrent_kernel", label, h, gh); // [H, G*H]
        float[] biasIh = new float[gh];
        float[] biasHh = new float[gh];
        if (r.useBias()) {
            if (r.resetAfter()) {
                float[] b = read(g, vars + "2", "bias", label, 2, gh); // [2, 3H]: input, recurrent
                System.arraycopy(b, 0, biasIh, 0, gh);
                System.arraycopy(b, gh, biasHh, 0, gh);
            } else {
                biasIh = read(g, vars + "2", "bias", label, gh);
            }
        }
        state.put("rnn.weight_ih" + suffix, new StoredTensor(new int[] {gh, in},
                reorderBlocks(transpose(kernel, in, gh), order, h * in)));
        state.put("rnn.weight_hh" + suffix, new StoredTensor(new int[] {gh, h},
                reorderBlocks(transpose(recurrent, h, gh), order, h * h)));
        state.put("rnn.bias_ih" + suffix, new StoredTensor(new int[] {gh}, reorderBlocks(biasIh, order, h)));
        state.put("rnn.bias_hh" + suffix, new StoredTensor(new int[] {gh}, reorderBlocks(biasHh, order, h)));
    }

    private static Group group(Map<String, Group> groups, String name, String kind) throws KerasImportException {
        Group g = groups.get(name);
        if (g == null) {
            throw new KerasImportException(layerLabel(name, kind) + ": no weights in " + WEIGHTS + " (it holds layers "
                    + groups.keySet() + ")");
        }
        return g;
    }

    /** The float dataset {@code path} under {@code g}, which must have {@code shape}; row-major. */
    private static float[] read(Group g, String path, String what, String label, int... shape)
            throws KerasImportException {
        Node n = find(g, path);
        String where = g.getPath() + path;
        if (!(n instanceof Dataset ds)) {
            throw new KerasImportException(label + ": " + WEIGHTS + " has no dataset " + where + " (" + what + ")");
        }
        if (!Arrays.equals(ds.getDimensions(), shape)) {
            throw new KerasImportException(label + ": " + what + " " + where + " is " + Arrays.toString(
                    ds.getDimensions()) + ", expected " + Arrays.toString(shape));
        }
        Object data = ds.getDataFlat();
        float[] out;
        if (data instanceof float[] f) {
            out = f;
        } else if (data instanceof double[] d) {
            out = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                out[i] = (float) d[i];
            }
        } else {
            throw new KerasImportException(label + ": " + what + " " + where + " holds " + ds.getJavaType()
                    + ", not floats");
        }
        return out;
    }

    private static Node find(Group g, String path) {
        Node n = g;
        for (String part : path.split("/")) {
            if (!(n instanceof Group parent)) {
                return null;
            }
            n = parent.getChild(part);
            if (n == null) {
                return null;
            }
        }
        return n;
    }

    /** {@code a [rows, cols]} as {@code [cols, rows]}. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    /** Blocks of {@code block} values, block {@code j} of the result being block {@code order[j]} of {@code a}. */
    private static float[] reorderBlocks(float[] a, int[] order, int block) {
        float[] out = new float[a.length];
        for (int j = 0; j < order.length; j++) {
            System.arraycopy(a, order[j] * block, out, j * block, block);
        }
        return out;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }
}
