#!/usr/bin/env python3
"""The GPU peer of `recur bench`: PyTorch's nn.LSTM / nn.GRU / nn.RNN on CUDA (cuDNN's RNN
kernels) on the same shapes, timed the same way, printed as the same JSON lines.

    torch_rnn_bench.py --shape lstm:64:512:512:100 [--shape CELL:B:I:H:T ...]
                       [--iters 5] [--warmup 2] [--peak GFLOPS|auto] [--tf32] [--device cuda]
    torch_rnn_bench.py --print-peak
    torch_rnn_bench.py --device cpu --threads N --gemm M:N:K[:T] --shape ...   (`recur bench --peer torch`)

What is measured, per shape (one layer, one direction, time-major x [T, B, I], zero initial
state, weights uniform in [-1/sqrt(H), 1/sqrt(H)) as PyTorch and Recur initialise them, inputs
and the output gradient dy [T, B, H] uniform in [-1, 1)), matching RecurWorkloads.Layer:
  train_step_ms  forward, then backward from dy to dx and every weight and bias gradient
                 (torch.autograd.grad, so nothing accumulates from run to run);
  forward_ms     the forward alone in training mode (with autograd on, so that cuDNN keeps what
                 backward needs, as Recur's layerForward does with its workspace);
  inference_ms   the forward under torch.inference_mode(), which saves nothing for a backward.
--gemm M:N:K[:T] times torch.mm of [M, K] by [K, N] (":T": B stored [N, K] and transposed, as
weights are), "op":"sgemm" lines with the keys of `recur bench gemm`. --threads sets
torch.set_num_threads (the CPU peer runs on as many threads as Recur's cpu engine).
Every time is the median of --iters timed runs after --warmup untimed ones, each run between two
CUDA events (--device cpu: PyTorch's CPU kernels between two perf_counter readings, which checks
this script on a machine without a GPU and gives a CPU comparison; "engine":"torch-cpu"). GFLOP/s count FLOPs as DESIGN.md and bench's Flops.java do: forward
2*G*H*(I+H)*B*T, a training step 3x that (G = 4 LSTM, 3 GRU, 1 RNN).

Float32 math: TF32 is switched off for cuDNN and cuBLAS (PyTorch lets cuDNN use it by default),
because Recur computes in float32 (DESIGN.md: TF32 comes later, opt-in); --tf32 allows it.

--peak auto (the default) computes the GPU's float32 FMA peak: SMs x float32 lanes per SM x 2 x
the maximum SM clock (from nvidia-smi); peak_share is null when it cannot be known. --print-peak
prints that number alone (bin/gpu-bench passes it to `recur bench --peak`).

Output: one line per shape on stdout, with exactly the keys of `recur bench lstm`:
  {"engine":"cudnn","cell":"lstm","B":64,"I":512,"H":512,"T":100,"train_step_ms":...,
   "forward_ms":...,"gflops":...,"peak_share":...,"forward_gflops":...,"peak_gflops":...,
   "train_step_min_ms":...,"warmup":2,"iters":5}
The library versions and the device go to stderr. Exit status: 0 done, 1 no CUDA device or
PyTorch failed, 2 bad arguments.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from decimal import Decimal

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1}
SEED = 20240601  # Measurements.SEED of the bench module

# float32 FMA lanes per SM by compute capability (the CUDA C programming guide's throughput
# table: 64 on Volta, Turing and GA100; 128 on GA10x, Ada, Hopper and Blackwell).
FP32_LANES = {(7, 0): 64, (7, 2): 64, (7, 5): 64, (8, 0): 64, (8, 6): 128, (8, 7): 128, (8, 9): 128,
              (9, 0): 128, (10, 0): 128, (10, 3): 128, (12, 0): 128, (12, 1): 128}


def fail(message, status=1):
    print("torch_rnn_bench: " + message, file=sys.stderr)
    sys.exit(status)


def shape(text):
    """CELL:B:I:H:T, e.g. lstm:64:512:512:100."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] not in GATES:
        raise argparse.ArgumentTypeError(
            "a shape is CELL:B:I:H:T with CELL one of %s, got '%s'" % (", ".join(GATES), text))
    try:
        b, i, h, t = (int(p) for p in parts[1:])
    except ValueError:
        raise argparse.ArgumentTypeError("B, I, H and T must be integers, got '%s'" % text)
    if min(b, i, h, t) < 1:
        raise argparse.ArgumentTypeError("B, I, H and T must be >= 1, got '%s'" % text)
    return parts[0], b, i, h, t


def gemm_shape(text):
    """M:N:K or M:N:K:T."""
    parts = text.split(":")
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "T"):
        raise argparse.ArgumentTypeError("a GEMM shape is M:N:K or M:N:K:T, got '%s'" % text)
    try:
        m, n, k = (int(p) for p in parts[:3])
    except ValueError:
        raise argparse.ArgumentTypeError("M, N and K must be integers, got '%s'" % text)
    if min(m, n, k) < 1:
        raise argparse.ArgumentTypeError("M, N and K must be >= 1, got '%s'" % text)
    return m, n, k, len(parts) == 4


def number(x):
    """A double as bench's JsonLine writes it: 6 significant digits, plain notation; null if not finite."""
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return None
    d = Decimal("%.6g" % x).normalize()
    s = format(d, "f")
    return RawNumber("0" if s == "-0" else s)


class RawNumber(str):
    """A number already formatted; the encoder below writes it without quotes."""


def line(fields):
    """One flat JSON object, fields in order, RawNumbers unquoted."""
    out = []
    for k, v in fields:
        if isinstance(v, RawNumber):
            out.append(json.dumps(k) + ":" + v)
        else:
            out.append(json.dumps(k) + ":" + json.dumps(v))
    return "{" + ",".join(out) + "}"


def max_sm_clock_mhz(torch, device):
    """The maximum SM clock from nvidia-smi, for the device torch calls `device`; None if unknown."""
    props = torch.cuda.get_device_properties(device)
    ids = []
    uuid = getattr(props, "uuid", None)
    if uuid is not None:
        u = str(uuid)
        ids.append(u if u.startswith("GPU-") else "GPU-" + u)
    ids.append(str(torch.cuda.current_device() if device is None else device))
    for ident in ids:
        try:
            r = subprocess.run(["nvidia-smi", "--query-gpu=clocks.max.sm", "--format=csv,noheader,nounits",
                                "-i", ident], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode == 0:
            try:
                return float(r.stdout.strip().splitlines()[0])
            except (ValueError, IndexError):
                pass
    return None


def fp32_peak_gflops(torch, device=0):
    """SMs x float32 lanes per SM x 2 (an FMA is two FLOPs) x max SM clock; None with a note if unknown."""
    props = torch.cuda.get_device_properties(device)
    lanes = FP32_LANES.get((props.major, props.minor))
    if lanes is None:
        print("torch_rnn_bench: no float32 lane count known for compute capability %d.%d; no peak"
              % (props.major, props.minor), file=sys.stderr)
        return None
    mhz = max_sm_clock_mhz(torch, device)
    if mhz is None:
        print("torch_rnn_bench: nvidia-smi gave no maximum SM clock; no peak", file=sys.stderr)
        return None
    return props.multi_processor_count * lanes * 2 * mhz / 1e3


def set_tf32(torch, allowed):
    mode = "tf32" if allowed else "ieee"
    if hasattr(torch.backends, "fp32_precision"):  # PyTorch 2.9+; the allow_tf32 flags are deprecated there
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.rnn.fp32_precision = mode
    else:
        torch.backends.cuda.matmul.allow_tf32 = allowed
        torch.backends.cudnn.allow_tf32 = allowed


def timed(torch, work, warmup, iters, on_gpu):
    """Milliseconds of each timed run, between CUDA events recorded around it (on_gpu) or two clock readings."""
    for _ in range(warmup):
        work()
    if not on_gpu:
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            work()
            times.append((time.perf_counter() - t0) * 1e3)
        return times
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        work()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def engine_name(torch, on_gpu):
    if not on_gpu:
        return "torch-cpu"
    return "cudnn" if torch.backends.cudnn.enabled and torch.backends.cudnn.is_available() else "torch-cuda"


def measure(torch, device, cell, b, i, h, t, warmup, iters, peak):
    nn = torch.nn
    dev = torch.device(device)
    on_gpu = dev.type == "cuda"
    torch.manual_seed(SEED)
    if cell == "lstm":
        layer = nn.LSTM(i, h)
    elif cell == "gru":
        layer = nn.GRU(i, h)
    else:
        layer = nn.RNN(i, h, nonlinearity="tanh")
    layer = layer.to(dev)
    x = (torch.rand(t, b, i, device=dev) * 2 - 1).requires_grad_(True)  # [T, B, I]
    dy = torch.rand(t, b, h, device=dev) * 2 - 1                           # [T, B, H]
    inputs = [x] + list(layer.parameters())

    def forward():
        layer(x)

    def train_step():
        y, _ = layer(x)  # [T, B, H]
        torch.autograd.grad(y, inputs, grad_outputs=dy)

    def inference():
        with torch.inference_mode():
            layer(x)

    train = timed(torch, train_step, warmup, iters, on_gpu)
    fwd = timed(torch, forward, warmup, iters, on_gpu)
    infer = timed(torch, inference, warmup, iters, on_gpu)
    forward_flops = 2 * GATES[cell] * h * (i + h) * b * t
    train_ms = statistics.median(train)
    forward_ms = statistics.median(fwd)
    gflops = 3 * forward_flops / (train_ms * 1e6)
    return line([
        ("engine", engine_name(torch, on_gpu)),
        ("cell", cell), ("B", b), ("I", i), ("H", h), ("T", t),
        ("train_step_ms", number(train_ms)),
        ("forward_ms", number(forward_ms)),
        ("gflops", number(gflops)),
        ("peak_share", number(gflops / peak) if peak else None),
        ("forward_gflops", number(forward_flops / (forward_ms * 1e6))),
        ("peak_gflops", number(peak) if peak else None),
        ("train_step_min_ms", number(min(train))),
        ("inference_ms", number(statistics.median(infer))),
        ("warmup", warmup), ("iters", iters),
    ])


def measure_gemm(torch, device, m, n, k, trans_b, warmup, iters, peak):
    dev = torch.device(device)
    on_gpu = dev.type == "cuda"
    torch.manual_seed(SEED)
    a = torch.rand(m, k, device=dev) * 2 - 1                               # [M, K]
    b = torch.rand(n, k, device=dev) * 2 - 1 if trans_b else torch.rand(k, n, device=dev) * 2 - 1
    c = torch.empty(m, n, device=dev)                                      # [M, N]
    bb = b.t() if trans_b else b

    def work():
        torch.mm(a, bb, out=c)

    with torch.inference_mode():
        times = timed(torch, work, warmup, iters, on_gpu)
    ms = statistics.median(times)
    gflops = 2.0 * m * n * k / (ms * 1e6)
    return line([
        ("engine", engine_name(torch, on_gpu)), ("op", "sgemm"), ("M", m), ("N", n), ("K", k),
        ("trans_b", trans_b), ("ms", number(ms)), ("gflops", number(gflops)),
        ("peak_share", number(gflops / peak) if peak else None),
        ("peak_gflops", number(peak) if peak else None),
        ("min_ms", number(min(times))), ("warmup", warmup), ("iters", iters),
    ])


def main(argv):
    p = argparse.ArgumentParser(description="PyTorch (cuDNN) RNN layers on the shapes of `recur bench`.")
    p.add_argument("--shape", type=shape, action="append", default=[], metavar="CELL:B:I:H:T")
    p.add_argument("--gemm", type=gemm_shape, action="append", default=[], metavar="M:N:K[:T]")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--peak", default="auto", help="float32 peak in GFLOP/s, or auto")
    p.add_argument("--tf32", action="store_true", help="let cuDNN and cuBLAS use TF32 tensor cores")
    p.add_argument("--print-peak", action="store_true", help="print the GPU's float32 peak (GFLOP/s) and stop")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                   help="cuda (the peer), or cpu to check the script without a GPU")
    a = p.parse_args(argv)
    if a.iters < 1 or a.warmup < 0:
        p.error("--iters must be >= 1 and --warmup >= 0, got %d and %d" % (a.iters, a.warmup))
    if not a.print_peak and not a.shape and not a.gemm:
        p.error("give at least one --shape CELL:B:I:H:T or --gemm M:N:K")
    if a.threads < 0:
        p.error("--threads must be >= 0, got %d" % a.threads)
    peak = None
    if a.peak != "auto":
        try:
            peak = float(a.peak)
        except ValueError:
            p.error("--peak needs a number of GFLOP/s or auto, got '%s'" % a.peak)
        if not peak > 0:
            p.error("--peak must be > 0, got '%s'" % a.peak)

    try:
        import torch
    except ImportError as e:
        fail("PyTorch is not installed: %s" % e)
    on_gpu = a.device == "cuda"
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if on_gpu and not torch.cuda.is_available():
        fail("PyTorch %s sees no CUDA device (built for CUDA %s)" % (torch.__version__, torch.version.cuda))
    if not on_gpu:
        print("torch_rnn_bench: PyTorch %s on the CPU (%d threads), peak %s"
              % (torch.__version__, torch.get_num_threads(), "%.1f GFLOP/s" % peak if peak else "unknown"),
              file=sys.stderr)

    if a.print_peak:
        if not on_gpu:
            p.error("--print-peak is for --device cuda")
        v = fp32_peak_gflops(torch)
        if v is None:
            sys.exit(1)
        print("%.1f" % v)
        return 0
    if peak is None and on_gpu:
        peak = fp32_peak_gflops(torch)

    set_tf32(torch, a.tf32)
    props = torch.cuda.get_device_properties(0) if on_gpu else None
    if on_gpu:
        print("torch_rnn_bench: PyTorch %s, CUDA %s, cuDNN %s, %s (compute capability %d.%d, %d SMs), TF32 %s, "
              "peak %s" % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version(), props.name,
                           props.major, props.minor, props.multi_processor_count, "allowed" if a.tf32 else "off",
                           "%.1f GFLOP/s" % peak if peak else "unknown"), file=sys.stderr)
    for cell, b, i, h, t in a.shape:
        try:
            print(measure(torch, a.device, cell, b, i, h, t, a.warmup, a.iters, peak), flush=True)
        except torch.cuda.OutOfMemoryError as e:
            fail("%s B=%d I=%d H=%d T=%d: out of GPU memory: %s" % (cell, b, i, h, t, e))
    for m, n, k, trans_b in a.gemm:
        print(measure_gemm(torch, a.device, m, n, k, trans_b, a.warmup, a.iters, peak), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
