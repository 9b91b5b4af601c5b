package dev.recur.models.nn;

import dev.recur.models.io.Checkpoint;
import dev.recur.models.io.CheckpointException;
import dev.recur.models.io.Json;

import java.util.Arrays;
import java.util.Map;

/**
 * The kinds of saved model and the command that makes each, so that a checkpoint given to the
 * wrong command is refused with both named: {@code "runs/sent.safetensors holds a
 * sequence-classifier model (made by recur classify), not a char-lm model (made by recur
 * train-lm)"}.
 */
public final class ModelKinds {

    public static final String CHAR_LM = "char-lm";
    public static final String CLASSIFIER = "sequence-classifier";
    public static final String REGRESSOR = "sequence-regressor";
    public static final String SEQ2SEQ = "seq2seq";

    private static final Map<String, String> MADE_BY = Map.of(CHAR_LM, "recur train-lm", CLASSIFIER,
            "recur classify", REGRESSOR, "recur forecast", SEQ2SEQ, "recur translate");

    private ModelKinds() {
    }

    /** The {@code "model"} field of a configuration, or null when it has none or is not JSON. */
    public static String of(String configJson) {
        return configJson == null ? null : Json.kindOf(configJson);
    }

    /** {@code "a char-lm model (made by recur train-lm)"}, or with no maker for a kind Recur lacks. */
    public static String describe(String kind) {
        if (kind == null) {
            return "no model configuration";
        }
        String by = MADE_BY.get(kind);
        return "a " + kind + " model" + (by == null ? "" : " (made by " + by + ")");
    }

    /**
     * Checks that {@code c} holds one of {@code kinds}.
     *
     * @return the kind it holds
     * @throws CheckpointException naming what the file holds and what was wanted
     */
    public static String require(Checkpoint c, String... kinds) throws CheckpointException {
        String found = of(c.modelConfig());
        if (found != null && Arrays.asList(kinds).contains(found)) {
            return found;
        }
        StringBuilder wanted = new StringBuilder();
        for (int i = 0; i < kinds.length; i++) {
            wanted.append(i == 0 ? "" : " or ").append(describe(kinds[i]));
        }
        throw new CheckpointException(c.source(), "holds " + describe(found) + ", not " + wanted);
    }
}
