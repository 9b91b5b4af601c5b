package dev.recur.models.seq2seq;

import dev.recur.api.Backend;
import dev.recur.api.Backends;
import dev.recur.api.Cell;
import dev.recur.api.IndexTensor;
import dev.recur.models.nn.Optimizer;
import dev.recur.models.nn.OptimizerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Copy task probe. */
class AttentionCopyTaskTest {

    static final int SYMBOLS = Integer.getInteger("copy.symbols", 40);
    static final int LONGEST = 30;
    static final int SHORTEST = Integer.getInteger("copy.shortest", 25);
    static final int BOS = 2;
    static final int EOS = 3;
    static final int IGNORE = -1;

    private static Backend be;

    @BeforeAll
    static void start() {
        be = Backends.named("cpu");
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    record Batch(int[] source, int[] sourceLengths, int[] decoderInput, int[] targetLengths, int[] decoderTarget,
                 int[][] sentences) {
        static Batch random(Random r, int b) {
            int[][] sentences = new int[b][];
            for (int i = 0; i < b; i++) {
                sentences[i] = new int[SHORTEST + r.nextInt(LONGEST - SHORTEST + 1)];
                for (int t = 0; t < sentences[i].length; t++) {
                    sentences[i][t] = r.nextInt(SYMBOLS);
                }
            }
            int ts = LONGEST;
            int tt = LONGEST + 1;
            int[] source = new int[ts * b];
            int[] input = new int[tt * b];
            int[] target = new int[tt * b];
            Arrays.fill(target, IGNORE);
            int[] sourceLengths = new int[b];
            int[] targetLengths = new int[b];
            for (int i = 0; i < b; i++) {
                int[] s = sentences[i];
                int n = s.length;
                sourceLengths[i] = n;
                targetLengths[i] = n + 1;
                input[i] = BOS;
                for (int t = 0; t < n; t++) {
                    source[t * b + i] = 2 + s[t];
                    target[t * b + i] = 4 + s[t];
                    input[(t + 1) * b + i] = 4 + s[t];
                }
                target[n * b + i] = EOS;
            }
            return new Batch(source, sourceLengths, input, targetLengths, target, sentences);
        }
    }

    static int exact(Attention.Kind kind, int steps) {
        Seq2SeqConfig cfg = new Seq2SeqConfig(Cell.GRU, 2 + SYMBOLS, 4 + SYMBOLS, 16, 32, 1, 0f, false, kind);
        Random r = new Random(3);
        long t0 = System.nanoTime();
        try (Seq2SeqModel model = new Seq2SeqModel(be, cfg, 5);
             Optimizer opt = new Optimizer(be, OptimizerConfig.builder(Optimizer.Kind.ADAM).build(),
                     model.parameters())) {
            int b = Integer.getInteger("copy.batch", 32);
            for (int s = 0; s < steps; s++) {
                Batch d = Batch.random(r, b);
                try (IndexTensor src = be.indices(d.source(), LONGEST, b);
                     IndexTensor in = be.indices(d.decoderInput(), LONGEST + 1, b);
                     IndexTensor tgt = be.indices(d.decoderTarget(), (LONGEST + 1) * b)) {
                    float loss = model.trainStep(src, d.sourceLengths(), in, d.targetLengths(), tgt, IGNORE, opt,
                            Float.parseFloat(System.getProperty("copy.lr", "0.01")) * (s < 0.7 * steps ? 1f : 0.15f), 5f);
                    if (s % 100 == 0) System.out.println(kind + " step " + s + " loss " + loss);
                }
            }
            model.eval();
            Batch held = Batch.random(new Random(99), 100);
            int exact = 0;
            try (IndexTensor src = be.indices(held.source(), LONGEST, 100)) {
                int[][] out = model.translate(src, held.sourceLengths(), BOS, EOS, LONGEST + 2);
                for (int i = 0; i < 100; i++) {
                    int[] want = Arrays.stream(held.sentences()[i]).map(x -> x + 4).toArray();
                    exact += Arrays.equals(out[i], want) ? 1 : 0;
                }
            }
            System.out.printf("%s: %d steps, exact %d/100, %.1f s%n", kind, steps, exact, (System.nanoTime() - t0) / 1e9);
            return exact;
        }
    }

    @Test
    void probe() {
        int steps = Integer.getInteger("copy.steps", 300);
        exact(Attention.Kind.valueOf(System.getProperty("copy.kind", "GENERAL")), steps);
    }
}
