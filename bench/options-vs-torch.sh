#!/usr/bin/env bash
# Issue 17's rows: one layer's training step with each cell option on and off (`recur bench options`,
# LSTM and GRU, B=64 I=H=512 T=100, P=256 for the projection) beside what a PyTorch user runs for the
# same LSTM (bench/python/torch_cell_options_bench.py: nn.LSTM, nn.LSTM(proj_size), and the eager
# loops written for layer norm, recurrent dropout and zoneout), one process at a time, same threads.
# Writes OUT.jsonl (every line) and OUT.md (the table). Needs PyTorch for the peer rows.
#   bench/options-vs-torch.sh [OUT]     (default bench/results/options-vs-torch-<date>)
# Environment: THREADS (default: the cores), WARMUP, ITERS, RECUR_CLASSPATH (a built class path,
# see ./recur). Run it on a machine nothing else is using.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/options-vs-torch-$(date +%F)}
threads=${THREADS:-$(nproc)}
warmup=${WARMUP:-2}
iters=${ITERS:-5}
mkdir -p "$(dirname "$out")"
: > "$out.jsonl"
./recur bench peak --seconds 1 2>/dev/null | tee -a "$out.jsonl" >&2
shape=(--batch 64 --input 512 --hidden 512 --steps 100)
for cell in lstm gru; do
  echo "== recur bench options --cell $cell" >&2
  RECUR_JAVA_OPTS="-Drecur.cpu.threads=$threads ${RECUR_JAVA_OPTS:-}" \
    ./recur bench options --cell "$cell" "${shape[@]}" --proj-size 256 --warmup "$warmup" --iters "$iters" \
    2>/dev/null | tee -a "$out.jsonl" >&2
done
if python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch" >&2
  python3 bench/python/torch_cell_options_bench.py --shape 64:512:512:100 --proj-size 256 --threads "$threads" \
    --warmup "$warmup" --iters "$iters" | tee -a "$out.jsonl" >&2
else
  echo "PyTorch is not installed: the peer rows are left out" >&2
fi
python3 - "$out" "$threads" <<'PY'
import json, subprocess, sys
out, threads = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(out + ".jsonl") if l.strip()]
recur = {(r["cell"], r["row"]): r for r in rows if r.get("op") == "cell_options"}
torch = {r["variant"]: r for r in rows if r.get("engine") == "torch-cpu"}
peak = next((r for r in rows if r.get("op") == "fma_peak"), {})
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = ["# Cell options (issue 17): Recur's cpu engine beside PyTorch", "",
         "CPU: %s, %s-bit vectors, FMA peak %s GFLOP/s, %s threads each; commit %s. One layer, B=64 I=H=512 T=100, P=256; training step "
         "(forward + backward), median of the runs. PyTorch's rows are what a PyTorch user runs: nn.LSTM, "
         "nn.LSTM(proj_size), or an eager loop for the options nn.LSTM lacks." % (cpu, peak.get("vector_bits", "?"), peak.get("gflops", "?"), threads, commit), "",
         "| cell | option | Recur ms | Recur / plain | Recur GFLOP/s | PyTorch ms (how) | Recur / PyTorch |",
         "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
how = {"plain": "plain", "layer_norm": "layer_norm", "recurrent_dropout": "recurrent_dropout",
       "zoneout": "zoneout", "projection": "projection"}
for (cell, name), r in recur.items():
    t = torch.get(how.get(name)) if cell == "lstm" else None
    peer = "%.1f (%s)" % (t["train_step_ms"], "nn.LSTM" if name in ("plain", "projection") else "eager loop") if t else "—"
    ratio = "%.2f" % (r["train_step_ms"] / t["train_step_ms"]) if t else "—"
    lines.append("| %s | %s | %.1f | %.2f | %.1f | %s | %s |" % (cell, name, r["train_step_ms"], r["ratio_to_plain"],
                 r["gflops"], peer, ratio))
if "loop" in torch:
    lines += ["", "PyTorch's plain LSTM as the same eager loop (the loop's own cost): %.1f ms." % torch["loop"]["train_step_ms"]]
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
