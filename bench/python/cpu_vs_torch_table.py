#!/usr/bin/env python3
"""The table of bench/cpu-vs-torch.sh from its JSON lines: cpu_vs_torch_table.py OUT PEAK_GFLOPS
(reads OUT.jsonl, writes OUT.md and prints it)."""
import json, os, subprocess, sys
out, peak = sys.argv[1], float(sys.argv[2])
# The peak at 256-bit vectors (optional third argument), named in the header.
peak256 = float(sys.argv[3]) if len(sys.argv) > 3 else None


def peak_of(label):
    """The peak a row's share is of: its Recur line's own (the script passes the 256-bit peak to the
    256-bit rows), else the 256-bit one for a 256-bit row when given, else the table's."""
    own = (rows.get(label, {}).get("cpu") or {}).get("peak_gflops")
    return own or (peak256 if peak256 and "256-bit" in label else peak)
import statistics
rows = {}
char_lm = {}  # row -> engine -> [tokens/s of each run]
for line in open(out + ".jsonl"):
    d = json.loads(line)
    if d.get("op") == "char_lm":
        char_lm.setdefault(d["row"], {}).setdefault(d["engine"], []).append(d["tokens_per_s"])
        continue
    rows.setdefault(d["row"], {})[d["engine"]] = d
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
date = subprocess.run(["date", "+%F"], capture_output=True, text=True).stdout.strip()
flags = open("/proc/cpuinfo").read()
width = "512-bit (AVX-512)" if "avx512f" in flags else "256-bit (AVX2)"
md = ["# Recur cpu engine vs PyTorch CPU, %s" % date, "",
      "Made by `bench/cpu-vs-torch.sh` at commit `%s`: CPU %s, %d cores, vector width %s (rows marked 256-bit "
      "ran the JVM with `-XX:MaxVectorSize=32`; PyTorch keeps its own choice), FMA peak %.0f GFLOP/s "
      "(`recur bench peak`, both cores)%s. Both engines on %s threads; medians; times in ms; GFLOP/s by DESIGN.md's "
      "counts (training step 3 x 2·G·H·(I+H)·B·T). Recur / PyTorch < 1 means Recur is faster." % (
          commit, cpu, os.cpu_count(), width, peak,
          "; at 256-bit vectors %.0f GFLOP/s, the peak the 256-bit rows' share of peak is taken against" % peak256
          if peak256 else "", os.cpu_count()), "",
      "SGEMM rows also give numpy's OpenBLAS (`bench/python/numpy_gemm_bench.py`, the same threads, run right "
      "after the row's Recur and PyTorch runs; OpenBLAS's kernels: its own choice, or the OPENBLAS_CORETYPE named "
      "beside the figure) and Recur's GFLOP/s over numpy's (> 1 means Recur is faster). ", "",
      "| work | Recur ms | PyTorch ms | Recur / PyTorch time | Recur GFLOP/s | share of peak | PyTorch GFLOP/s "
      "| numpy GFLOP/s | Recur / numpy GFLOP/s |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for label, r in rows.items():
    rc, pt, npy = r.get("cpu"), r.get("torch-cpu"), r.get("numpy-openblas")
    if rc is not None and "op" in rc and npy is not None:
        core = "" if npy.get("coretype", "auto") == "auto" else " (%s)" % npy["coretype"]
        vs_numpy = "%.1f%s | %.2f" % (npy["gflops"], core, rc["gflops"] / npy["gflops"])
    else:
        vs_numpy = " | "
    # An SGEMM line's share is of the peak it was given (cpu-vs-torch.sh gives the 256-bit rows the 256-bit peak).
    if rc is None or pt is None or "unavailable" in pt:
        if rc is not None and "op" in rc:
            md.append("| %s | %.2f | unavailable | | %.1f | %.0f%% | | %s |" % (label, rc["ms"], rc["gflops"],
                      100 * rc["gflops"] / peak_of(label), vs_numpy))
        else:
            md.append("| %s | %s | unavailable | | | | | | |" % (label, rc and rc.get("train_step_ms", rc.get("ms"))))
        continue
    if "op" in rc:
        md.append("| %s | %.2f | %.2f | %.2f | %.1f | %.0f%% | %.1f | %s |" % (label, rc["ms"], pt["ms"],
                  rc["ms"] / pt["ms"], rc["gflops"], 100 * rc["gflops"] / peak_of(label), pt["gflops"], vs_numpy))
    else:
        md.append("| %s, training step | %.1f | %.1f | %.2f | %.1f | %.0f%% | %.1f | | |" % (label, rc["train_step_ms"],
                  pt["train_step_ms"], rc["train_step_ms"] / pt["train_step_ms"], rc["gflops"], 100 * rc["gflops"] / peak_of(label),
                  pt["gflops"]))
        md.append("| %s, forward (both saving for a backward) | %.1f | %.1f | %.2f | %.1f | %.0f%% | %.1f | | |" % (
                  label, rc["forward_ms"], pt["forward_ms"], rc["forward_ms"] / pt["forward_ms"],
                  rc["forward_gflops"], 100 * rc["forward_gflops"] / peak_of(label), pt["forward_gflops"]))
        if "inference_ms" in rc:
            md.append("| %s, inference (Recur layerInference, PyTorch inference_mode) | %.1f | %.1f | %.2f | %.1f "
                      "| %.0f%% | %.1f | | |" % (label, rc["inference_ms"], pt["inference_ms"],
                      rc["inference_ms"] / pt["inference_ms"], rc["inference_gflops"],
                      100 * rc["inference_gflops"] / peak_of(label), rc["inference_gflops"] * rc["inference_ms"] / pt["inference_ms"]))
        else:  # lines from before Recur had an inference op
            md.append("| %s, inference (PyTorch inference_mode; Recur's forward above) "
                      "| %.1f | %.1f | %.2f | | | | | |" % (label, rc["forward_ms"], pt["inference_ms"],
                      rc["forward_ms"] / pt["inference_ms"]))
if char_lm:
    md += ["", "| char-LM training (`recur train-lm` vs `bench/python/char_lm_torch.py`) | Recur tokens/s | "
           "PyTorch tokens/s | Recur / PyTorch tokens/s | runs each |", "| --- | ---: | ---: | ---: | ---: |"]
    for label, r in char_lm.items():
        rc, pt = r.get("cpu", []), r.get("torch-cpu", [])
        if rc and pt:
            md.append("| %s | %.0f | %.0f | %.2f | %d |" % (label, statistics.median(rc), statistics.median(pt),
                      statistics.median(rc) / statistics.median(pt), min(len(rc), len(pt))))
md += ["", "Raw lines: `%s.jsonl`." % out.split("/")[-1], ""]
open(out + ".md", "w").write("\n".join(md))
print("\n".join(md))
