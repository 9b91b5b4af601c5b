package dev.recur.models.seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.api.Tensor;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import dev.recur.models.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Many-to-one models: whole-model finite differences with padding, and two small learning tasks. */
class SequenceModelTest {

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    @Test
    void classifierBackwardMatchesFiniteDifferencesWithPadding() {
        // Stacked, bidirectional, variable lengths; padded ids are arbitrary and must not matter.
        SequenceModelConfig cfg = SequenceModelConfig.classifier(7, 4, Cell.LSTM, 3, 2, true, 0f, 3);
        int t = 5;
        int b = 3;
        int[] lengths = {5, 2, 3};
        int[] ids = new int[t * b];
        Random r = new Random(2);
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(7);
        }
        try (SequenceModel model = new SequenceModel(be, cfg, 11);
             IndexTensor tIds = be.indices(ids, t, b);
             IndexTensor labels = be.indices(new int[] {2, 0, 1}, b);
             Optimizer frozen = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.SGD).build(),
                     model.parameters())) {
            model.trainStep(tIds, lengths, labels, frozen, 0f, 0f); // lr 0: gradients only
            float step = 1e-2f;
            for (Parameter p : model.parameters()) {
                float[] g = p.grad().toArray();
                float[] v = p.value().toArray();
                for (int i = 0; i < v.length; i++) {
                    float keep = v[i];
                    v[i] = keep + step;
                    p.value().copyFrom(v);
                    double up = model.trainStep(tIds, lengths, labels, frozen, 0f, 0f);
                    v[i] = keep - step;
                    p.value().copyFrom(v);
                    double down = model.trainStep(tIds, lengths, labels, frozen, 0f, 0f);
                    v[i] = keep;
                    p.value().copyFrom(v);
                    double fd = (up - down) / (2 * step);
                    // float32 forward, step 1e-2: noise ~1e-4 (see RecurrentStackGradientTest).
                    if (Math.abs(g[i] - fd) > 3e-3 + 3e-2 * Math.abs(fd)) {
                        fail(p.name() + "[" + i + "] = " + g[i] + ", finite difference " + fd);
                    }
                }
                model.trainStep(tIds, lengths, labels, frozen, 0f, 0f);
            }
            // Padding: changing ids past each length changes neither the loss nor any gradient.
            float before = model.trainStep(tIds, lengths, labels, frozen, 0f, 0f);
            float[] gradBefore = model.parameters().get(1).grad().toArray();
            int[] changed = ids.clone();
            for (int s = 0; s < t; s++) {
                for (int j = 0; j < b; j++) {
                    if (s >= lengths[j]) {
                        changed[s * b + j] = (changed[s * b + j] + 3) % 7;
                    }
                }
            }
            tIds.copyFrom(changed);
            assertEquals(before, model.trainStep(tIds, lengths, labels, frozen, 0f, 0f));
            org.junit.jupiter.api.Assertions.assertArrayEquals(gradBefore, model.parameters().get(1).grad().toArray());
        }
    }

    @Test
    void classifierLearnsWhichTokenIsMoreFrequent() {
        // Label 1 when token 1 appears more often than token 2 in a sequence of 1s, 2s and 3s.
        SequenceModelConfig cfg = SequenceModelConfig.classifier(4, 8, Cell.GRU, 16, 1, true, 0f, 2);
        int t = 9;
        int b = 32;
        Random r = new Random(5);
        try (SequenceModel model = new SequenceModel(be, cfg, 3);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters());
             IndexTensor ids = be.indices(t, b);
             IndexTensor labels = be.indices(b)) {
            int[] x = new int[t * b];
            int[] y = new int[b];
            int[] lengths = new int[b];
            for (int step = 0; step < 300; step++) {
                batch(r, x, y, lengths, t, b);
                ids.copyFrom(x);
                labels.copyFrom(y);
                model.trainStep(ids, lengths, labels, opt, 0.01f, 5f);
            }
            int correct = 0;
            for (int round = 0; round < 10; round++) {
                batch(r, x, y, lengths, t, b);
                ids.copyFrom(x);
                float[] scores = model.predict(ids, lengths).toArray();
                for (int j = 0; j < b; j++) {
                    int guess = scores[2 * j + 1] > scores[2 * j] ? 1 : 0;
                    correct += guess == y[j] ? 1 : 0;
                }
            }
            // Chance is 50%; the rule is exact, so a trained model should be nearly always right.
            assertTrue(correct >= 0.9 * 320, "accuracy " + correct + "/320");
        }
    }

    private static void batch(Random r, int[] x, int[] y, int[] lengths, int t, int b) {
        for (int j = 0; j < b; j++) {
            int len = 3 + r.nextInt(t - 2);
            lengths[j] = len;
            int ones = 0;
            int twos = 0;
            do {
                ones = 0;
                twos = 0;
                for (int s = 0; s < t; s++) {
                    int v = s < len ? 1 + r.nextInt(3) : 0;
                    x[s * b + j] = v;
                    ones += v == 1 ? 1 : 0;
                    twos += v == 2 ? 1 : 0;
                }
            } while (ones == twos);
            y[j] = ones > twos ? 1 : 0;
        }
    }

    @Test
    void forecasterBeatsTheLastValueOnASine() {
        SequenceModelConfig cfg = SequenceModelConfig.regressor(1, Cell.LSTM, 16, 1, 0f, 1);
        int w = 12;
        int b = 16;
        try (SequenceModel model = new SequenceModel(be, cfg, 9);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters());
             Tensor x = be.tensor(w, b, 1);
             Tensor target = be.tensor(b, 1)) {
            float[] xs = new float[w * b];
            float[] ys = new float[b];
            Random r = new Random(1);
            for (int step = 0; step < 300; step++) {
                windows(r, xs, ys, w, b);
                x.copyFrom(xs);
                target.copyFrom(ys);
                model.trainStep(x, null, target, opt, 0.01f, 1f);
            }
            windows(r, xs, ys, w, b);
            x.copyFrom(xs);
            float[] pred = model.predict(x, null).toArray();
            double model2 = 0;
            double naive2 = 0;
            for (int j = 0; j < b; j++) {
                model2 += Math.pow(pred[j] - ys[j], 2);
                naive2 += Math.pow(xs[(w - 1) * b + j] - ys[j], 2);
            }
            assertTrue(model2 < 0.5 * naive2, "model MSE " + model2 / b + " vs last value " + naive2 / b);
        }
    }

    private static void windows(Random r, float[] xs, float[] ys, int w, int b) {
        for (int j = 0; j < b; j++) {
            double phase = r.nextDouble() * 2 * Math.PI;
            for (int s = 0; s <= w; s++) {
                float v = (float) Math.sin(phase + 0.5 * s);
                if (s < w) {
                    xs[s * b + j] = v;
                } else {
                    ys[j] = v;
                }
            }
        }
    }
}
