#!/usr/bin/env bash
# Recur's cpu engine beside PyTorch's CPU kernels on the rows of issue 13, in one session, one
# process at a time, the same thread count and runs: `recur bench ... --peer torch` for each row.
# Writes OUT.jsonl (every line) and OUT.md (the table). Needs PyTorch (pip install torch numpy). The
# SGEMM rows also run numpy's OpenBLAS (bench/python/numpy_gemm_bench.py), see numpy_row below.
#   bench/cpu-vs-torch.sh [OUT]     (default bench/results/cpu-vs-torch-<date>)
# Run it on a machine nothing else is using.
# Environment: ONLY (a bash regexp: only the rows whose label matches it, e.g. 'B=1 |B=16');
#   CHAR_LM_DATA (the char-LM text; CHAR_LM=0 leaves that row out); RECUR_JAVA_OPTS (added to each
#   row's JVM options); RECUR_CLASSPATH (a built class path, see ./recur, so that edits made
#   meanwhile do not rebuild the jars under a running measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/cpu-vs-torch-$(date +%F)}
mkdir -p "$(dirname "$out")"
: > "$out.jsonl"
peak=$(./recur bench peak --seconds 1 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["gflops"])')
echo "FMA peak: $peak GFLOP/s" >&2
# The peak at 256-bit vectors, for the share of the 256-bit rows (on Zen 5 about half the 512-bit one).
peak256=$(RECUR_JAVA_OPTS=-XX:MaxVectorSize=32 ./recur bench peak --seconds 1 2>/dev/null \
  | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["gflops"])')
echo "FMA peak at 256-bit: $peak256 GFLOP/s" >&2
peak_for() { # label: the 256-bit peak for a 256-bit row, else the full-width one
  case $1 in *256-bit*) echo "$peak256" ;; *) echo "$peak" ;; esac
}
row() { # label, java opts, bench args...
  local label=$1 opts=$2; shift 2
  if [ -n "${ONLY:-}" ] && ! [[ $label =~ $ONLY ]]; then return; fi
  echo "== $label" >&2
  # The torch peer finds its script beside the bench jar; a RECUR_CLASSPATH snapshot elsewhere has
  # none, so name this checkout's.
  RECUR_JAVA_OPTS="-Drecur.bench.torchScript=$PWD/bench/python/torch_rnn_bench.py ${RECUR_JAVA_OPTS:-} $opts" \
    ./recur bench "$@" --peer torch --peak "$(peak_for "$label")" 2>/dev/null \
    | sed "s/^{/{\"row\":\"$label\",/" | tee -a "$out.jsonl" >&2
}
row "LSTM B=64 I=H=512 T=100" "" lstm --batch 64 --input 512 --hidden 512 --steps 100 --warmup 5 --iters 5
row "GRU B=64 I=H=512 T=100" "" gru --batch 64 --input 512 --hidden 512 --steps 100 --warmup 5 --iters 5
row "RNN tanh B=64 I=H=512 T=100" "" rnn --batch 64 --input 512 --hidden 512 --steps 100 --warmup 5 --iters 5
# Short calls get more warm-up runs (about 2 s of them): the JIT compiles the kernels in the first
# seconds, and ten 20 ms runs would leave part of the timed runs to the interpreter and C1.
row "LSTM B=16 I=H=256 T=100" "" lstm --batch 16 --input 256 --hidden 256 --steps 100 --warmup 100 --iters 9
row "LSTM B=128 I=H=1024 T=25" "" lstm --batch 128 --input 1024 --hidden 1024 --steps 25 --warmup 5 --iters 5
row "LSTM B=1 I=H=512 T=100" "" lstm --batch 1 --input 512 --hidden 512 --steps 100 --warmup 100 --iters 9
row "LSTM B=64 I=H=512 T=100, 256-bit" "-XX:MaxVectorSize=32" lstm --batch 64 --input 512 --hidden 512 --steps 100 --warmup 5 --iters 5
# numpy's OpenBLAS beside the SGEMM rows, in the same run, on as many threads as Recur (all
# processors, as `recur bench` takes by default). numpy_gemm_bench.py removes OPENBLAS_CORETYPE
# (this environment sets Haswell, which forces OpenBLAS's AVX2 kernels on an AVX-512 CPU: 194
# against 353 GFLOP/s at 1024^3 on the 2-core Zen 5 VM), so the full-width rows meet OpenBLAS's best;
# the 256-bit rows pass Haswell, OpenBLAS's AVX2 kernels, the width Recur runs at there.
numpy_row() { # label, OPENBLAS_CORETYPE ("" to remove it), M:N:K[:T], warmup, iters
  local label=$1 core=$2
  if [ -n "${ONLY:-}" ] && ! [[ $label =~ $ONLY ]]; then return; fi
  python3 bench/python/numpy_gemm_bench.py --gemm "$3" --threads "$(nproc)" --warmup "$4" --iters "$5" \
      --peak "$(peak_for "$label")" ${core:+--coretype "$core"} 2>/dev/null \
    | sed "s/^{/{\"row\":\"$label\",/" | tee -a "$out.jsonl" >&2 \
    || echo "numpy peer failed for $label (pip install numpy)" >&2
}
row "SGEMM 1024^3" "" gemm --m 1024 --n 1024 --k 1024 --warmup 20 --iters 15
numpy_row "SGEMM 1024^3" "" 1024:1024:1024 20 15
row "SGEMM 1024^3, 256-bit" "-XX:MaxVectorSize=32" gemm --m 1024 --n 1024 --k 1024 --warmup 20 --iters 15
numpy_row "SGEMM 1024^3, 256-bit" Haswell 1024:1024:1024 20 15
# The LSTM input projection of B=64 T=100 I=512 H=512: X [6400, 512] times W_ih [2048, 512] transposed.
row "SGEMM X·W_ihT 6400x2048x512" "" gemm --m 6400 --n 2048 --k 512 --trans-b --warmup 5 --iters 10
numpy_row "SGEMM X·W_ihT 6400x2048x512" "" 6400:2048:512:T 5 10
row "SGEMM X·W_ihT 6400x2048x512, 256-bit" "-XX:MaxVectorSize=32" gemm --m 6400 --n 2048 --k 512 --trans-b --warmup 5 --iters 10
numpy_row "SGEMM X·W_ihT 6400x2048x512, 256-bit" Haswell 6400:2048:512:T 5 10
# Char-LM training throughput (train-lm against bench/python/char_lm_torch.py), 3 runs each,
# alternating; rows "char-LM ..." of the jsonl. CHAR_LM_DATA names the text (default tinyshakespeare).
lmdata=${CHAR_LM_DATA:-/work/shared/data/tinyshakespeare.txt}
if [ "${CHAR_LM:-1}" = 0 ]; then
  :
elif [ -f "$lmdata" ]; then
  echo "== char-LM 2x256 LSTM, emb 64, batch 32, window 100" >&2
  bench/char-lm-vs-torch.sh "$lmdata" 3 \
    | grep '"op": "char_lm"' | sed 's/^{/{"row":"char-LM training, 2x256 LSTM, emb 64, batch 32, window 100",/' \
    | tee -a "$out.jsonl" >&2
else
  echo "no char-LM text at $lmdata (set CHAR_LM_DATA): char-LM row left out" >&2
fi
python3 bench/python/cpu_vs_torch_table.py "$out" "$peak" "$peak256"
