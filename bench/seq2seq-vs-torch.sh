#!/usr/bin/env bash
# recur translate beside the same encoder-decoder in PyTorch (bench/python/seq2seq_torch.py) on one
# data file, in one session, one process at a time, 2 threads each: without attention and with
# --attention ATT, greedy (--beam 1) and beam 5 (length penalty 0.6). Recur writes the split and
# vocabularies (--save-split) that PyTorch then trains on. Each Recur row is its own run (training
# is deterministic, so the beam-5 run trains the same weights again); PyTorch trains once per
# attention setting and decodes both ways. Writes OUT.jsonl (one line per row).
#   bench/seq2seq-vs-torch.sh DATA [ATT] [OUT]   (defaults: general, bench/results/seq2seq-vs-torch-<date>)
# Run it on a machine nothing else is using; the script records the load average before each row.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$1
att=${2:-general}
out=${3:-bench/results/seq2seq-vs-torch-$(date +%F)}
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$out.jsonl"
load() { cut -d' ' -f1 /proc/loadavg; }
for a in none "$att"; do
  for k in 1 5; do
    echo "== recur attention=$a beam=$k" >&2
    l=$(load)
    line=$(RECUR_JAVA_OPTS="-Drecur.cpu.threads=2" ./recur translate --data "$data" --attention "$a" --beam "$k" \
        --length-penalty 0.6 --save-split "$work/split.json" --checkpoint "$work/recur-$a-$k.safetensors" \
        --examples 0 2>&1 | grep '^test loss' | tee /dev/stderr)
    python3 - "$line" "$a" "$k" "$l" >> "$out.jsonl" <<'EOF'
import json, re, sys
line, a, k, load = sys.argv[1:]
m = re.search(r"BLEU-4 ([0-9.]+), exact [0-9.]+ \((\d+)/(\d+)\).*; ([0-9.]+) s", line)
print(json.dumps({"peer": "recur", "attention": a, "beam": int(k), "bleu4": float(m.group(1)),
                  "exact": int(m.group(2)), "test": int(m.group(3)), "total_s": float(m.group(4)),
                  "threads": 2, "load_before": float(load)}))
EOF
  done
  echo "== pytorch attention=$a" >&2
  l=$(load)
  python3 bench/python/seq2seq_torch.py "$work/split.json" --attention "$a" --beam 1 5 --threads 2 \
    | grep '^{' | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    d["total_s"] = round(d["train_s"] + d["decode_s"], 1)
    d["load_before"] = float(sys.argv[1])
    print(json.dumps(d))' "$l" | tee -a "$out.jsonl" >&2
done
echo "wrote $out.jsonl" >&2
