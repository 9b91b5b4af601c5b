package dev.recur.models.nn;

import dev.recur.api.Backend;
import dev.recur.api.Tensor;

import java.util.SplittableRandom;

/** Seeded parameter initialisation, as PyTorch initialises the same layers. */
final class Init {

    private Init() {
    }

    /** U(-bound, bound), the default of nn.Linear, nn.RNN, nn.LSTM, nn.GRU ({@code bound = 1/sqrt(fan)}). */
    static Tensor uniform(Backend be, SplittableRandom r, float bound, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return be.tensor(v, shape);
    }

    /** N(0, 1), the default of nn.Embedding. */
    static Tensor normal(Backend be, SplittableRandom r, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i += 2) {
            // Box-Muller: two normals from two uniforms.
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double rad = Math.sqrt(-2 * Math.log(u1));
            v[i] = (float) (rad * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                v[i + 1] = (float) (rad * Math.sin(2 * Math.PI * u2));
            }
        }
        return be.tensor(v, shape);
    }
}
