package dev.recur.bench.jmh;

import dev.recur.bench.Flops;

/**
 * A GEMM shape as the benchmarks' {@code shape} parameter spells it: {@code MxNxK}, or
 * {@code MxNxK:T} when op(B) is {@code B[N, K]} transposed.
 */
public record GemmShape(int m, int n, int k, boolean transB) {

    /** @throws IllegalArgumentException naming the text when it is not of that form */
    public static GemmShape parse(String text) {
        String s = text.strip();
        boolean t = s.endsWith(":T");
        if (t) {
            s = s.substring(0, s.length() - 2);
        }
        String[] p = s.split("x");
        if (p.length != 3) {
            throw new IllegalArgumentException("GEMM shape '" + text + "': expected MxNxK or MxNxK:T");
        }
        try {
            int m = Integer.parseInt(p[0]);
            int n = Integer.parseInt(p[1]);
            int k = Integer.parseInt(p[2]);
            if (m < 1 || n < 1 || k < 1) {
                throw new IllegalArgumentException("GEMM shape '" + text + "': sizes must be >= 1");
            }
            return new GemmShape(m, n, k, t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GEMM shape '" + text + "': expected MxNxK or MxNxK:T");
        }
    }

    public long flops() {
        return Flops.gemm(m, n, k);
    }
}
