#!/usr/bin/env bash
# Compiles src/main/cuda/recur.cu with nvcc into one fatbin and packages it as a class-path
# resource; run by Maven (exec-maven-plugin, phase compile) on every build, since it is one nvcc
# call of a few seconds and so a changed .cu or .cuh is always picked up.
#
#   build-kernels.sh <cuda source dir> <classes dir> <target dir>
#
# Writes <classes>/dev/recur/kernels/recur.fatbin  SASS for sm_80, sm_86, sm_89, sm_90 + PTX compute_90
#        <classes>/dev/recur/kernels/recur.ptx     the compute_90 PTX alone (KernelSignatureTest)
#        <target>/ptxas-report.txt                 nvcc's output with ptxas's resource report (-Xptxas -v)
# Fails when a gate kernel (the cells) spills registers to local memory.
# RECUR_NVCC_FLAGS, when set, is added to the nvcc command line (e.g. another -gencode).
# Without nvcc ($CUDA_HOME/bin/nvcc, then nvcc on PATH) it warns, writes no fatbin, and leaves the
# reason in <classes>/dev/recur/kernels/NOT-BUILT.txt for CudaKernels.missingReason().
set -euo pipefail

src=$1
classes=$2
target=$3
out="$classes/dev/recur/kernels"
work="$target/nvcc-work"
report="$target/ptxas-report.txt"

mkdir -p "$out" "$target"
rm -f "$out/recur.fatbin" "$out/recur.ptx" "$out/NOT-BUILT.txt" "$report"

nvcc=""
if [[ -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then
    nvcc="$CUDA_HOME/bin/nvcc"
elif command -v nvcc > /dev/null 2>&1; then
    nvcc=$(command -v nvcc)
fi
if [[ -z "$nvcc" ]]; then
    reason="nvcc was not found when the kernels module was built (looked for \$CUDA_HOME/bin/nvcc with CUDA_HOME=${CUDA_HOME:-<unset>}, then nvcc on PATH); install the CUDA toolkit (12.x or 13.x) or set CUDA_HOME, and rebuild"
    printf '%s\n' "$reason" > "$out/NOT-BUILT.txt"
    echo "[WARNING] ================================================================"
    echo "[WARNING] CUDA kernels NOT built: $reason."
    echo "[WARNING] The kernels jar has no recur.fatbin; the CUDA engine will report itself unavailable."
    echo "[WARNING] ================================================================"
    exit 0
fi

# Gate kernels: a spill there costs local-memory traffic on every step of every layer.
gate_kernels="rnnForward rnnBackward lstmForward lstmBackward gruForward gruBackward gruOriginalGates gruOriginalOutput gruOriginalBackwardOutput gruOriginalBackwardGates optLstmForward optLstmBackward optGruForward optGruBackward optGruOriginalGates optGruOriginalOutput optGruOriginalBackwardOutput optGruOriginalBackwardGates optRnnForward optRnnBackward"

rm -rf "$work"
mkdir -p "$work"
echo "[INFO] kernels: $("$nvcc" --version | tail -n 2 | head -n 1)"
echo "[INFO] kernels: $nvcc -fatbin ... $src/recur.cu"
# One cicc run per virtual architecture: compute_80 PTX gives the SASS for sm_80, sm_86 and sm_89
# (these kernels use nothing newer), compute_90 gives sm_90 SASS and the PTX that newer GPUs JIT.
# -fmad=false: products and sums round separately, as in Java (see cell_math.cuh).
# --keep leaves recur.compute_90.ptx in the work folder, so one call yields the PTX as well.
start=$(date +%s)
status=0
"$nvcc" -fatbin -std=c++17 -O3 -fmad=false -lineinfo --threads 0 \
    -gencode "arch=compute_80,code=[sm_80,sm_86,sm_89]" \
    -gencode "arch=compute_90,code=[sm_90,compute_90]" \
    -Xptxas -v ${RECUR_NVCC_FLAGS:-} \
    --keep --keep-dir "$work" \
    -o "$out/recur.fatbin" "$src/recur.cu" > "$report" 2>&1 || status=$?
cat "$report"
if [[ $status -ne 0 ]]; then
    rm -f "$out/recur.fatbin"
    echo "[ERROR] kernels: nvcc failed with status $status (output above and in $report)" >&2
    exit "$status"
fi
cp "$work/recur.compute_90.ptx" "$out/recur.ptx"

# ptxas -v prints, per kernel and architecture:
#   ptxas info    : Compiling entry function 'lstmForward' for 'sm_80'
#   ptxas info    : Function properties for lstmForward
#       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
#   ptxas info    : Used 40 registers, used 0 barriers, 440 bytes cmem[0]
summary=$(awk -v gates=" $gate_kernels " '
    /Compiling entry function/ {
        split($0, q, "\047"); name = q[2]; arch = q[4]
    }
    /bytes spill stores/ { stores = $5; loads = $9 }
    /ptxas info *: Used [0-9]+ registers/ {
        for (i = 1; i <= NF; i++) if ($i == "Used") regs = $(i + 1)
        gate = index(gates, " " name " ") > 0
        if (gate) printf "%-28s %-6s %4s registers  %s bytes spill stores  %s bytes spill loads\n", name, arch, regs, stores, loads
        if ((stores + 0) > 0 || (loads + 0) > 0) {
            printf "%s %s for %s: %s bytes spill stores, %s bytes spill loads\n", (gate ? "SPILL-GATE" : "SPILL-OTHER"), name, arch, stores, loads
        }
    }' "$report")
echo "[INFO] kernels: gate kernels (ptxas):"
grep -v '^SPILL' <<< "$summary" | sort -k1,1 -k2,2 | sed 's/^/[INFO]   /'
if grep -q '^SPILL-OTHER' <<< "$summary"; then
    grep '^SPILL-OTHER' <<< "$summary" | sed 's/^SPILL-OTHER/[WARNING] kernels: spill in/'
fi
if grep -q '^SPILL-GATE' <<< "$summary"; then
    grep '^SPILL-GATE' <<< "$summary" | sed 's/^SPILL-GATE/[ERROR] kernels: register spill in gate kernel/' >&2
    echo "[ERROR] kernels: a gate kernel spills registers (stores/loads in bytes above; full report in $report)" >&2
    rm -f "$out/recur.fatbin" "$out/recur.ptx"
    exit 1
fi
echo "[INFO] kernels: $out/recur.fatbin ($(wc -c < "$out/recur.fatbin") bytes) and recur.ptx built in $(( $(date +%s) - start )) s"
