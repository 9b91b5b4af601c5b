#!/usr/bin/env python3
"""numpy's matmul (OpenBLAS sgemm in the numpy wheel) on the shapes of `recur bench gemm`, printed as
the same "op":"sgemm" JSON lines: the BLAS peer of bench/cpu-vs-torch.sh's SGEMM rows.

    numpy_gemm_bench.py --gemm M:N:K[:T] [--gemm ...] [--threads N] [--warmup 20] [--iters 15]
                        [--peak GFLOPS] [--coretype NAME]

--gemm M:N:K[:T] times numpy.matmul of A [M, K] by B [K, N] into a preallocated C (":T": B stored
[N, K] and passed transposed, as a layer's weights are, which OpenBLAS reads without a copy).
A and B are float32, uniform in [-1, 1). Every time is the median of --iters runs after --warmup
untimed ones, each between two perf_counter readings; GFLOP/s = 2·M·N·K / time.

Threads and kernels: OpenBLAS reads OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE when it loads, so
this script sets them before it imports numpy, in its own process:
  --threads N   OPENBLAS_NUM_THREADS (the peer runs on as many threads as Recur's cpu engine);
  --coretype    OPENBLAS_CORETYPE: left out, the variable is removed and OpenBLAS picks the kernels
                for the CPU it finds. The environment here sets OPENBLAS_CORETYPE=Haswell, which
                forces its AVX2 kernels on an AVX-512 machine: 1024^3 on the 2-core Zen 5 VM ran at
                194 GFLOP/s with it against 353 without (2 threads). The AVX-512 row compares with
                OpenBLAS's best (variable removed); bench/cpu-vs-torch.sh's 256-bit row passes
                --coretype Haswell, OpenBLAS's own AVX2 kernels, the same vector width as Recur there.
The line's "engine" is "numpy-openblas", with "coretype" (the forced name, or "auto") and
"blas_threads". Exit status: 0 done, 1 numpy missing, 2 bad arguments.
"""

import argparse
import json
import os
import statistics
import sys
import time

from torch_rnn_bench import gemm_shape  # the same M:N:K[:T] shapes (torch itself is imported only there, by its main)


def number(x):
    """A double as bench's JsonLine writes it: 6 significant digits."""
    return float("%.6g" % x)


def main(argv):
    p = argparse.ArgumentParser(description="numpy (OpenBLAS) SGEMM on the shapes of `recur bench gemm`.")
    p.add_argument("--gemm", type=gemm_shape, action="append", default=[], metavar="M:N:K[:T]")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="OPENBLAS_NUM_THREADS (default: all processors)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--iters", type=int, default=15)
    p.add_argument("--peak", type=float, default=None, help="the FMA peak in GFLOP/s, for peak_share")
    p.add_argument("--coretype", default=None, help="OPENBLAS_CORETYPE to force (default: removed, OpenBLAS picks)")
    a = p.parse_args(argv)
    if not a.gemm:
        p.error("give at least one --gemm M:N:K[:T]")
    if a.threads < 1:
        p.error("--threads must be >= 1, got %d" % a.threads)
    if a.iters < 1 or a.warmup < 0:
        p.error("--iters must be >= 1 and --warmup >= 0, got %d and %d" % (a.iters, a.warmup))
    if a.peak is not None and not a.peak > 0:
        p.error("--peak must be > 0, got %s" % a.peak)
    # Before numpy loads OpenBLAS: see the module comment.
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    if a.coretype:
        os.environ["OPENBLAS_CORETYPE"] = a.coretype
    else:
        os.environ.pop("OPENBLAS_CORETYPE", None)
    try:
        import numpy as np
    except ImportError as e:
        print("numpy_gemm_bench: numpy is not installed: %s" % e, file=sys.stderr)
        return 1
    print("numpy_gemm_bench: numpy %s, OPENBLAS_NUM_THREADS=%d, OPENBLAS_CORETYPE=%s"
          % (np.__version__, a.threads, a.coretype or "(removed)"), file=sys.stderr)
    rng = np.random.default_rng(20240601)
    for m, n, k, trans_b in a.gemm:
        x = rng.random((m, k), dtype=np.float32) * 2 - 1                              # [M, K]
        w = rng.random((n, k) if trans_b else (k, n), dtype=np.float32) * 2 - 1       # [N, K] or [K, N]
        b = w.T if trans_b else w
        c = np.empty((m, n), dtype=np.float32)                                         # [M, N]
        for _ in range(a.warmup):
            np.matmul(x, b, out=c)
        times = []
        for _ in range(a.iters):
            t0 = time.perf_counter()
            np.matmul(x, b, out=c)
            times.append((time.perf_counter() - t0) * 1e3)
        ms = statistics.median(times)
        gflops = 2.0 * m * n * k / (ms * 1e6)
        line = {"engine": "numpy-openblas", "op": "sgemm", "M": m, "N": n, "K": k, "trans_b": trans_b,
                "ms": number(ms), "gflops": number(gflops),
                "peak_share": number(gflops / a.peak) if a.peak else None,
                "peak_gflops": a.peak, "min_ms": number(min(times)), "warmup": a.warmup, "iters": a.iters,
                "blas_threads": a.threads, "coretype": a.coretype or "auto"}
        print(json.dumps(line, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
