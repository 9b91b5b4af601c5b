#!/usr/bin/env bash
# Char-LM training throughput: `recur train-lm` (cpu engine) beside the same run in PyTorch
# (bench/python/char_lm_torch.py: same model, data, batches, window, optimizer, schedule, clipping,
# truncated BPTT), alternating, REPS times each, on the same thread count. Tokens/s of each run
# over the steps after the first WARMUP: Recur's from the run's metrics (elapsed seconds after each
# step), PyTorch's from its own clock around the same steps.
#   bench/char-lm-vs-torch.sh [DATA] [REPS]    (default /work/shared/data/tinyshakespeare.txt, 3)
# Environment: STEPS (60), WARMUP (10), HIDDEN (256), LAYERS (2), EMBEDDING (64), BATCH (32),
#              WINDOW (100), THREADS (all processors), OUT (a JSON-lines file to append each run to).
# Prints one JSON line per run and a summary line with the medians and Recur/PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-/work/shared/data/tinyshakespeare.txt}
reps=${2:-3}
steps=${STEPS:-60} warmup=${WARMUP:-10} hidden=${HIDDEN:-256} layers=${LAYERS:-2} emb=${EMBEDDING:-64}
batch=${BATCH:-32} window=${WINDOW:-100} threads=${THREADS:-$(nproc)}
[ -f "$data" ] || { echo "char-lm-vs-torch: no data file $data" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--layers "$layers" --hidden "$hidden" --embedding "$emb" --batch "$batch" --window "$window"
        --steps "$steps" --lr 0.005 --clip 5 --dropout 0.1)
lines=()
for rep in $(seq 1 "$reps"); do
  rm -f "$tmp"/lm.*
  RECUR_JAVA_OPTS="-Drecur.cpu.threads=$threads ${RECUR_JAVA_OPTS:-}" ./recur train-lm --backend cpu --data "$data" \
    "${common[@]}" --optimizer adam --schedule cosine --sample-every 0 --validate-every 0 --checkpoint-every 0 \
    --checkpoint "$tmp/lm.safetensors" > "$tmp/recur.log" 2>&1 \
    || { echo "char-lm-vs-torch: recur train-lm failed:" >&2; tail -5 "$tmp/recur.log" >&2; exit 1; }
  recur=$(python3 - "$tmp/lm.metrics.jsonl" "$warmup" "$steps" "$batch" "$window" "$threads" "$hidden" "$layers" \
      "$emb" <<'EOF'
import json, sys
path, warmup, steps, b, t, threads, h, layers, e = sys.argv[1], *map(int, sys.argv[2:])
seconds = {d["step"]: d["seconds"] for d in map(json.loads, open(path)) if "seconds" in d}
start = seconds[warmup] if warmup > 0 else 0.0
timed = seconds[steps] - start
print(json.dumps({"engine": "cpu", "op": "char_lm", "cell": "lstm", "layers": layers, "H": h, "E": e, "B": b, "T": t,
                  "steps": steps, "warmup": warmup, "threads": threads, "seconds": round(timed, 4),
                  "tokens_per_s": round(b * t * (steps - warmup) / timed, 1)}))
EOF
)
  torch=$(python3 bench/python/char_lm_torch.py --data "$data" "${common[@]}" --warmup "$warmup" --threads "$threads")
  for l in "$recur" "$torch"; do
    echo "$l"
    lines+=("$l")
    if [ -n "${OUT:-}" ]; then echo "$l" >> "$OUT"; fi
  done
done
printf '%s\n' "${lines[@]}" | python3 -c '
import json, statistics, sys
runs = [json.loads(l) for l in sys.stdin]
med = {e: statistics.median(r["tokens_per_s"] for r in runs if r["engine"] == e) for e in ("cpu", "torch-cpu")}
print(json.dumps({"op": "char_lm_summary", "recur_tokens_per_s": med["cpu"], "torch_tokens_per_s": med["torch-cpu"],
                  "recur_over_torch": round(med["cpu"] / med["torch-cpu"], 3), "runs_each": len(runs) // 2}))'
