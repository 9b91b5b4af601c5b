package dev.recur.models.nn;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A whole model: a {@link Module} with a kind and a configuration, so that it saves and loads
 * itself in one call (weights and configuration in a Recur checkpoint, see {@link Checkpoint}).
 * Each model class has a static {@code load(Backend, Checkpoint)} that refuses a checkpoint of
 * another kind, naming both.
 */
public interface Model extends Module {

    /**
     * What the model is, as written in its configuration's {@code "model"} field:
     * {@code char-lm}, {@code sequence-classifier}, {@code sequence-regressor}, {@code seq2seq}.
     */
    String kind();

    /** The configuration as one JSON object, {@code "model": kind()} among its fields. */
    String configJson();

    /**
     * State that is not a parameter yet decides what training does next (a dropout stream's
     * position), saved with a training checkpoint; PyTorch's {@code get_extra_state}.
     */
    default Map<String, String> extraState() {
        return Map.of();
    }

    /** Restores what {@link #extraState()} returned. */
    default void loadExtraState(Map<String, String> state) {
    }

    /** A checkpoint builder holding this model's configuration and weights. */
    default Checkpoint.Builder checkpoint() {
        Checkpoint.Builder b = Checkpoint.builder().modelConfig(configJson());
        for (Parameter p : parameters()) {
            b.tensor(p.name(), p.value().shape().toArray(), p.value().toArray());
        }
        return b;
    }

    /**
     * Saves the configuration, the weights and {@code metadata} (a vocabulary, say) to
     * {@code file}, atomically (see {@link Checkpoint#write}).
     */
    default void save(Path file, Map<String, String> metadata) throws IOException {
        Checkpoint.Builder b = checkpoint();
        metadata.forEach(b::metadata);
        b.build().write(file);
    }

    /** {@link #save(Path, Map)} without metadata. */
    default void save(Path file) throws IOException {
        save(file, Map.of());
    }

    /**
     * What each model's static {@code load(Backend, Checkpoint)} does: checks that {@code c} holds
     * one of {@code kinds}, parses its configuration with {@code parse}, makes the model with
     * {@code make} and copies the weights in; the model is closed again when anything fails.
     *
     * @throws CheckpointException naming what does not fit
     */
    static <C, M extends Model> M load(Checkpoint c, java.util.function.Function<String, C> parse,
                                       java.util.function.ToLongFunction<C> parameterCount,
                                       java.util.function.Function<C, M> make, String... kinds)
            throws CheckpointException {
        ModelKinds.require(c, kinds);
        C cfg;
        try {
            cfg = parse.apply(c.modelConfig());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source(), "model configuration: " + e.getMessage());
        }
        // Sizes in a damaged configuration must not allocate: the weights it describes are in the
        // file, so a configuration that needs more values than the file holds is refused first.
        long needed = parameterCount.applyAsLong(cfg);
        long stored = 0;
        for (Map.Entry<String, dev.recur.models.io.StoredTensor> e : c.tensors().entrySet()) {
            if (!e.getKey().startsWith("optimizer.") && !e.getKey().startsWith("trainer.")) {
                stored += e.getValue().size();
            }
        }
        if (needed > stored) {
            throw new CheckpointException(c.source(), "the model configuration describes " + needed
                    + " weights, the file holds " + stored + "; the configuration does not belong to these weights");
        }
        M model;
        try {
            model = make.apply(cfg);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source(), "model configuration: " + e.getMessage());
        }
        try {
            model.loadWeights(c);
            return model;
        } catch (CheckpointException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Refuses a model whose weights and gradients (8 bytes per parameter) would not fit in what
     * this JVM may still allocate, before anything is allocated; models call it first thing.
     *
     * @throws IllegalArgumentException naming the parameter count and both sizes
     */
    static void requireMemory(long parameters) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        double need = parameters * 8.0;
        if (need > free) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "a model of %,d parameters needs"
                    + " %.1f GiB for its weights and gradients, and this JVM can allocate %.1f GiB more (raise -Xmx,"
                    + " e.g. RECUR_JAVA_OPTS=-Xmx16g, or make the model smaller)", parameters, need / (1L << 30),
                    free / (double) (1L << 30)));
        }
    }

    /**
     * The cell option a recurrent parameter's name belongs to ({@code "a projection"} for
     * {@code weight_hr_l{k}}, {@code "layer normalisation"} for {@code ln_*_l{k}}), or null for
     * other names.
     */
    static String cellOptionOf(String name) {
        String last = name.substring(name.lastIndexOf('.') + 1);
        if (last.matches("weight_hr_l\\d+(_reverse)?")) {
            return "a projection";
        }
        if (last.matches("ln_(ih|hh|c)_(weight|bias)_l\\d+(_reverse)?")) {
            return "layer normalisation";
        }
        return null;
    }

    /**
     * Copies a checkpoint's weights into this model.
     *
     * @throws CheckpointException when the checkpoint holds another kind of model or its weights
     *                             do not fit this one, among them a cell option's parameter
     *                             (a projection's {@code weight_hr_l{k}}, layer normalisation's
     *                             {@code ln_*}) that this model's configuration does not have
     */
    default void loadWeights(Checkpoint c) throws CheckpointException {
        ModelKinds.require(c, kind());
        java.util.Set<String> mine = new java.util.HashSet<>();
        parameters().forEach(p -> mine.add(p.name()));
        for (String name : new java.util.TreeSet<>(c.tensors().keySet())) {
            // Training state (an optimizer's moments of each weight) carries the names too.
            String option = name.startsWith("optimizer.") || name.startsWith("trainer.") ? null : cellOptionOf(name);
            if (option != null && !mine.contains(name)) {
                throw new CheckpointException(c.source(), "the checkpoint holds " + name + " (" + option
                        + "), which this model's configuration has not; build the model with " + option);
            }
        }
        try {
            loadStateDict(c.tensors(), false);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(c.source(), e.getMessage());
        }
    }
}
