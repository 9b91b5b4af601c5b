package dev.recur.models.nn;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the models built on {@link RecurrentStack}s share: train and eval mode reach every stack
 * (eval turns dropout off), and each stack's dropout stream position is the model's extra state,
 * under the key {@link #stacks()} gives it, so that a resumed run draws the masks an uninterrupted
 * one draws. A stack whose cells draw random numbers (recurrent dropout, zoneout) also saves
 * where their stream stands, under the key followed by {@link #CELL_DRAWS_SUFFIX}; plain stacks
 * save nothing more, so their extra state is what it always was.
 */
public abstract class StackedModel implements Model {

    /** What follows a stack's key in the extra-state key of its cells' draw counter. */
    public static final String CELL_DRAWS_SUFFIX = ".cell_draws";

    private boolean trainingMode = true;

    /** The model's stacks, each under the extra-state key of its dropout counter, in a fixed order. */
    protected abstract Map<String, RecurrentStack> stacks();

    @Override
    public boolean training() {
        return trainingMode;
    }

    /** Eval mode turns dropout off in training steps too; evaluation and generation never use it. */
    @Override
    public void train(boolean on) {
        trainingMode = on;
        stacks().values().forEach(s -> s.train(on));
    }

    @Override
    public Map<String, String> extraState() {
        Map<String, String> out = new LinkedHashMap<>();
        stacks().forEach((key, stack) -> {
            out.put(key, Long.toString(stack.dropoutCounter()));
            if (stack.config().cellOptions().draws()) {
                out.put(key + CELL_DRAWS_SUFFIX, Long.toString(stack.cellDrawCounter()));
            }
        });
        return out;
    }

    /**
     * @throws IllegalArgumentException when a counter is not an integer or is negative
     */
    @Override
    public void loadExtraState(Map<String, String> state) {
        stacks().forEach((key, stack) -> {
            String counter = state.get(key);
            if (counter != null) {
                stack.dropoutCounter(Long.parseLong(counter));
            }
            String draws = state.get(key + CELL_DRAWS_SUFFIX);
            if (draws != null) {
                stack.cellDrawCounter(Long.parseLong(draws));
            }
        });
    }
}
