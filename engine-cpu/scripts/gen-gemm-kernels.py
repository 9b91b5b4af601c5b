#!/usr/bin/env python3
"""Writes engine-cpu/src/main/java/dev/recur/cpu/GemmKernels.java: Sgemm's register kernels,
unrolled by hand for every block shape it uses (the JIT keeps each accumulator in a register only
when it is a local variable of its own). Run from the repository root after changing a shape:

    python3 engine-cpu/scripts/gen-gemm-kernels.py
"""

# (rows, vectors) of each kernel: the full blocks 8x2 (32 vector registers) and 6x2 (16), and
# the narrower and shorter blocks of the edges and of GEMMs with few rows (B = 1 generation).
SHAPES = [(r, v) for r in (1, 2, 4, 6, 8) for v in (1, 2)]
# The full blocks, also as kernels that end in C (see c_kernel).
C_SHAPES = [(8, 2), (6, 2)]
# B strips of the one-row kernel for B = 1 per-step GEMMs (8 accumulators).
WIDE_STRIPS = 4


def kernel(rows, vecs):
    name = f"k{rows}x{vecs}"
    out = []
    out.append(f"    /** {rows} rows x {vecs} vectors: {{@code out[r*NR + v*LANES ..] = Σ_kk pa[ao + kk*MR + r]·pb[bo + kk*NR + v*LANES ..]}}. */")
    out.append(f"    static void {name}(float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {{")
    names = [f"c{r}{v}" for r in range(rows) for v in range(vecs)]
    # One declaration of every accumulator, from one zero; one reused broadcast register; the
    # loads of B in one statement. C2 schedules the loop as it likes all the same: see Sgemm's
    # class comment for why the wide block is 8 x 2 and not 8 x 3.
    out.append("        FloatVector " + names[0] + " = FloatVector.zero(SPECIES)"
               + "".join(f", {n} = {names[0]}" for n in names[1:]) + ";")
    out.append("        for (int kk = 0; kk < kc; kk++) {")
    out.append("            int bi = bo + kk * NR;")
    out.append("            int ai = ao + kk * MR;")
    loads = []
    for v in range(vecs):
        off = "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
        loads.append(f"b{v} = FloatVector.fromArray(SPECIES, pb, bi{off})")
    out.append("            FloatVector " + ", ".join(loads) + ";")
    out.append("            FloatVector a;")
    for r in range(rows):
        idx = "ai" if r == 0 else f"ai + {r}"
        out.append(f"            a = FloatVector.broadcast(SPECIES, pa[{idx}]);")
        for v in range(vecs):
            out.append(f"            c{r}{v} = a.fma(b{v}, c{r}{v});")
    out.append("        }")
    for r in range(rows):
        row = "0" if r == 0 else ("NR" if r == 1 else f"{r} * NR")
        for v in range(vecs):
            col = "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
            at = (row + col) if row != "0" else (col[3:] if col else "0")
            out.append(f"        c{r}{v}.intoArray(out, {at});")
    out.append("    }")
    return "\n".join(out)


def c_kernel(rows, vecs):
    """The full block's kernel ending in C itself instead of `out`: the same loop as kernel(), then,
    by `mode`, C = sums (STORE), C = row + sums (ROW: a bias row, from row[ro ..]) or C = C + sums
    (ADD), with the operands of each addition in the order Sgemm's edge path uses, so the bits are
    those of storing to `out` and adding that into C."""
    name = f"c{rows}x{vecs}"
    out = []
    out.append("    /**")
    out.append(f"     * {rows} rows x {vecs} vectors into C at {{@code c[co + r*ldc + v*LANES ..]}}: the sums of {{@link #k{rows}x{vecs}}},")
    out.append("     * stored ({@link #STORE}), added to the row {@code row[ro ..]} ({@link #ROW}) or to C ({@link #ADD}).")
    out.append("     */")
    out.append(f"    static void {name}(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc, int mode,")
    out.append(f"                      float[] row, int ro) {{")
    names = [f"c{r}{v}" for r in range(rows) for v in range(vecs)]
    out.append("        FloatVector " + names[0] + " = FloatVector.zero(SPECIES)"
               + "".join(f", {n} = {names[0]}" for n in names[1:]) + ";")
    out.append("        for (int kk = 0; kk < kc; kk++) {")
    out.append("            int bi = bo + kk * NR;")
    out.append("            int ai = ao + kk * MR;")
    loads = []
    for v in range(vecs):
        off = "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
        loads.append(f"b{v} = FloatVector.fromArray(SPECIES, pb, bi{off})")
    out.append("            FloatVector " + ", ".join(loads) + ";")
    out.append("            FloatVector a;")
    for r in range(rows):
        idx = "ai" if r == 0 else f"ai + {r}"
        out.append(f"            a = FloatVector.broadcast(SPECIES, pa[{idx}]);")
        for v in range(vecs):
            out.append(f"            c{r}{v} = a.fma(b{v}, c{r}{v});")
    out.append("        }")
    def col(v):
        return "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
    def at(r, v):
        base = "co" if r == 0 else ("co + ldc" if r == 1 else f"co + {r} * ldc")
        return base + col(v)
    out.append("        if (mode == STORE) {")
    for r in range(rows):
        for v in range(vecs):
            out.append(f"            c{r}{v}.intoArray(c, {at(r, v)});")
    out.append("        } else if (mode == ROW) {")
    out.append("            FloatVector " + ", ".join(f"r{v} = FloatVector.fromArray(SPECIES, row, ro{col(v)})" for v in range(vecs)) + ";")
    for r in range(rows):
        for v in range(vecs):
            out.append(f"            r{v}.add(c{r}{v}).intoArray(c, {at(r, v)});")
    out.append("        } else {")
    for r in range(rows):
        for v in range(vecs):
            out.append(f"            FloatVector.fromArray(SPECIES, c, {at(r, v)}).add(c{r}{v}).intoArray(c, {at(r, v)});")
    out.append("        }")
    out.append("    }")
    return "\n".join(out)


def direct_kernel(rows, vecs):
    """The kernel of rows x vecs reading A where it lies, row-major (no packing): row r of the
    block at a[ao + r*lda + kk], rows past `valid` reading row valid-1 again (their sums are not
    used), so that no read leaves the rows the caller has."""
    name = f"d{rows}x{vecs}"
    out = []
    out.append(f"    /** {rows} rows x {vecs} vectors, A unpacked: {{@code out[r*NR + v*LANES ..] = Σ_kk a[ao + r*lda + kk]·pb[bo + kk*NR + v*LANES ..]}}. */")
    out.append(f"    static void {name}(float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc, float[] out) {{")
    for r in range(rows):
        if r == 0:
            out.append("        int a0 = ao;")
        else:
            out.append(f"        int a{r} = ao + Math.min({r}, valid - 1) * lda;")
    names = [f"c{r}{v}" for r in range(rows) for v in range(vecs)]
    out.append("        FloatVector " + names[0] + " = FloatVector.zero(SPECIES)"
               + "".join(f", {n} = {names[0]}" for n in names[1:]) + ";")
    out.append("        for (int kk = 0; kk < kc; kk++) {")
    out.append("            int bi = bo + kk * NR;")
    loads = []
    for v in range(vecs):
        off = "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
        loads.append(f"b{v} = FloatVector.fromArray(SPECIES, pb, bi{off})")
    out.append("            FloatVector " + ", ".join(loads) + ";")
    out.append("            FloatVector x;")
    for r in range(rows):
        out.append(f"            x = FloatVector.broadcast(SPECIES, a[a{r} + kk]);")
        for v in range(vecs):
            out.append(f"            c{r}{v} = x.fma(b{v}, c{r}{v});")
    out.append("        }")
    for r in range(rows):
        row = "0" if r == 0 else ("NR" if r == 1 else f"{r} * NR")
        for v in range(vecs):
            col = "" if v == 0 else (" + LANES" if v == 1 else f" + {v} * LANES")
            at = (row + col) if row != "0" else (col[3:] if col else "0")
            out.append(f"        c{r}{v}.intoArray(out, {at});")
    out.append("    }")
    return "\n".join(out)


def one_row_wide_kernel(strips):
    """One row of A (unpacked, at a[ao + kk]) against `strips` consecutive packed B strips at
    once: NV vectors of each, strips*NV accumulators, so that a row of C (B = 1) does not wait on
    the latency of one FMA chain per vector and keeps several streams of B in flight."""
    vecs = 2 * strips
    name = f"d1s{strips}"
    out = []
    out.append(f"    /**")
    out.append(f"     * One row x {strips} B strips ({vecs} vectors), A unpacked: {{@code out[s*NR + v*LANES ..] = Σ_kk")
    out.append(f"     * a[ao + kk]·pb[bo + s*strip + kk*NR + v*LANES ..]}}, the sums of the one-row kernel, strip by strip")
    out.append(f"     * ({{@code strip}}: floats from one packed B strip to the next, {{@code kc*NR}} in Sgemm's layout).")
    out.append(f"     */")
    out.append(f"    static void {name}(float[] a, int ao, float[] pb, int bo, int strip, int kc, float[] out) {{")
    names = [f"c{s}{v}" for s in range(strips) for v in range(2)]
    out.append("        FloatVector " + names[0] + " = FloatVector.zero(SPECIES)"
               + "".join(f", {n} = {names[0]}" for n in names[1:]) + ";")
    out.append("        for (int kk = 0; kk < kc; kk++) {")
    out.append("            int bi = bo + kk * NR;")
    out.append("            FloatVector x = FloatVector.broadcast(SPECIES, a[ao + kk]);")
    for st in range(strips):
        base = "bi" if st == 0 else ("bi + strip" if st == 1 else f"bi + {st} * strip")
        out.append(f"            c{st}0 = x.fma(FloatVector.fromArray(SPECIES, pb, {base}), c{st}0);")
        out.append(f"            c{st}1 = x.fma(FloatVector.fromArray(SPECIES, pb, {base} + LANES), c{st}1);")
    out.append("        }")
    for st in range(strips):
        at = "0" if st == 0 else ("NR" if st == 1 else f"{st} * NR")
        out.append(f"        c{st}0.intoArray(out, {at});")
        out.append(f"        c{st}1.intoArray(out, {at} + LANES);")
    out.append("    }")
    return "\n".join(out)


def direct_dispatch():
    out = []
    out.append("    /**")
    out.append("     * Runs the kernel of {@code rows x vecs} with A unpacked ({@code a[ao + r*lda + kk]}, rows")
    out.append("     * {@code r < valid} of it, {@code valid <= rows}) on {@code kc} steps into {@code out [rows][NR]}.")
    out.append("     */")
    out.append("    static void runDirect(int rows, int vecs, float[] a, int ao, int lda, int valid, float[] pb, int bo, int kc,")
    out.append("                          float[] out) {")
    out.append("        switch (rows * 4 + vecs) {")
    for r, v in SHAPES:
        out.append(f"            case {r * 4 + v} -> d{r}x{v}(a, ao, lda, valid, pb, bo, kc, out);")
    out.append("            default -> throw new IllegalStateException(\"no kernel of \" + rows + \" rows x \" + vecs + \" vectors\");")
    out.append("        }")
    out.append("    }")
    return "\n".join(out)


def dispatch():
    out = []
    out.append("    /**")
    out.append("     * Runs the kernel of {@code rows x vecs} on {@code kc} steps into {@code out [rows][NR]}.")
    out.append("     */")
    out.append("    static void run(int rows, int vecs, float[] pa, int ao, float[] pb, int bo, int kc, float[] out) {")
    out.append("        switch (rows * 4 + vecs) {")
    for r, v in SHAPES:
        out.append(f"            case {r * 4 + v} -> k{r}x{v}(pa, ao, pb, bo, kc, out);")
    out.append("            default -> throw new IllegalStateException(\"no kernel of \" + rows + \" rows x \" + vecs + \" vectors\");")
    out.append("        }")
    out.append("    }")
    return "\n".join(out)


def c_dispatch():
    out = []
    out.append("    /** Runs the C kernel of the full block, {@code MR x 2}: see {@link #c8x2}. */")
    out.append("    static void runC(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc, int mode,")
    out.append("                     float[] row, int ro) {")
    out.append("        switch (MR) {")
    for r, v in C_SHAPES:
        out.append(f"            case {r} -> c{r}x{v}(pa, ao, pb, bo, kc, c, co, ldc, mode, row, ro);")
    out.append("            default -> throw new IllegalStateException(\"no C kernel of \" + MR + \" rows\");")
    out.append("        }")
    out.append("    }")
    return "\n".join(out)


def main():
    parts = [
        "package dev.recur.cpu;",
        "",
        "import jdk.incubator.vector.FloatVector;",
        "import jdk.incubator.vector.VectorSpecies;",
        "",
        "/**",
        " * Sgemm's register kernels, one method per block shape ({@code rows x vectors} of C held in",
        " * registers): written out by {@code engine-cpu/scripts/gen-gemm-kernels.py}; edit that, not this.",
        " *",
        " * <p>Each kernel keeps {@code rows x vecs} accumulators, starts them from zero, and per step of k",
        " * loads {@code vecs} vectors of the packed B strip and broadcasts one value of the packed A strip",
        " * per row (a broadcast from memory, which the load ports serve): {@code rows x vecs} fused",
        " * multiply-adds for {@code vecs + rows} loads. At the end it stores the accumulators, the block's",
        " * partial sums accumulated from zero in ascending k, for Sgemm to add into C: the order its",
        " * determinism rests on, whatever the kernel's shape.",
        " *",
        " * <p>The full blocks (8 x 2, 6 x 2) also come as {@code c} kernels that end in C itself instead",
        " * of {@code out}: the sums stored ({@link #STORE}, the first K block over C = 0), added to a bias",
        " * row ({@link #ROW}) or to C ({@link #ADD}), the operands of each addition in the order Sgemm's",
        " * buffered path uses, so the bits are the same. An earlier measurement found a kernel that added",
        " * into C slower (165-174 GFLOP/s against 213-218 for plain stores; one core of the Zen 5 VM,",
        " * kc = 256, strips in L1, in one JVM); in Sgemm's loops, with KC = 512, the store-then-add pass",
        " * it saves measured the larger cost: on 1 thread, 1024³ ran at 175 without the add pass against",
        " * 160 with it (KC = 128), and at 184 against 165 with the c kernels and KC = 512.",
        " *",
        " * <p>An A strip is {@code [kc][MR]} floats (alpha already applied), a B strip {@code [kc][NR]}.",
        " * The {@code d} kernels read A where it lies instead ({@code a[ao + r*lda + kk]}, alpha 1): for",
        " * the per-step GEMMs of a recurrence, whose few rows of A (h_{t-1}, or a step's gate gradients)",
        " * would otherwise be packed at every step, by every thread that needs them. The same products",
        " * summed in the same order: the same bits as the packed kernel of the same shape.",
        " */",
        "final class GemmKernels {",
        "",
        "    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;",
        "    static final int LANES = SPECIES.length();",
        "    static final int MR = Sgemm.MR;",
        "    static final int NR = Sgemm.NR;",
        "    /** Epilogue modes of the C kernels: C = sums; C = row + sums; C = C + sums. */",
        "    static final int STORE = 0;",
        "    static final int ROW = 1;",
        "    static final int ADD = 2;",
        f"    /** B strips of the one-row wide kernel {{@link #d1s{WIDE_STRIPS}}}. */",
        f"    static final int WIDE_STRIPS = {WIDE_STRIPS};",
        "",
        "    private GemmKernels() {",
        "    }",
        "",
        dispatch(),
        "",
        direct_dispatch(),
        "",
        c_dispatch(),
        "",
    ]
    for r, v in SHAPES:
        parts.append(kernel(r, v))
        parts.append("")
    for r, v in C_SHAPES:
        parts.append(c_kernel(r, v))
        parts.append("")
    for r, v in SHAPES:
        parts.append(direct_kernel(r, v))
        parts.append("")
    parts.append(one_row_wide_kernel(WIDE_STRIPS))
    parts.append("")
    parts[-1] = "}"
    with open("engine-cpu/src/main/java/dev/recur/cpu/GemmKernels.java", "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
