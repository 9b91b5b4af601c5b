#!/usr/bin/env python3
"""The PyTorch peer of `recur bench` with cell options (issue 17): what a PyTorch user runs to get
layer normalisation, recurrent dropout, zoneout or a projection in an LSTM, on the CPU, timed as
torch_rnn_bench.py times nn.LSTM.

    torch_cell_options_bench.py --shape B:I:H:T [--proj-size P] [--threads N] [--iters 5] [--warmup 2]
                                [--variant NAME ...]

Variants (one JSON line each on stdout):
  plain            nn.LSTM: PyTorch's fused CPU kernel, the speed a user gives up by leaving it;
  projection       nn.LSTM(proj_size=P): PyTorch's own projection (fused, like plain);
  loop             the same LSTM as an eager Python loop over time (one matmul of all steps' inputs,
                   one recurrent matmul and the gate math per step): the cost of the loop alone;
  layer_norm       that loop with F.layer_norm on each gate block of W_ih x and W_hh h and on c
                   (Ba et al.), the LayerNorm-LSTM users write because nn.LSTM has none;
  recurrent_dropout that loop with one mask [B, H] per batch on h before W_hh (Keras's form);
  zoneout          that loop with fresh 0/1 masks per step on h and c (Krueger et al.).
Each time is the median of --iters training steps (forward, then torch.autograd.grad from a
random dy [T, B, R] to x and every parameter) after --warmup untimed ones. GFLOP/s count the
GEMM FLOPs as bench's Flops.java does: a training step 3 x 2*4*H*(I+R)*B*T, plus 3 x 2*P*H*B*T
for the projection (R = P with a projection, else H); layer normalisation and the masks add
element-wise work that is not counted.
Exit status: 0 done, 1 PyTorch failed, 2 bad arguments.
"""

import argparse
import json
import statistics
import sys
import time

SEED = 20240601  # Measurements.SEED of the bench module
VARIANTS = ["plain", "projection", "loop", "layer_norm", "recurrent_dropout", "zoneout"]


def shape(text):
    parts = text.split(":")
    try:
        b, i, h, t = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError("a shape is B:I:H:T of integers, got '%s'" % text)
    if min(b, i, h, t) < 1:
        raise argparse.ArgumentTypeError("B, I, H and T must be >= 1, got '%s'" % text)
    return b, i, h, t


def timed(work, warmup, iters):
    for _ in range(warmup):
        work()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def loop_lstm(torch, x, w_ih, w_hh, b_ih, b_hh, h_size, ln=None, rec_mask=None, zoneout=0.0, gen=None):
    """An LSTM over x [T, B, I] as an eager loop; returns y [T, B, H]."""
    F = torch.nn.functional
    steps, batch, _ = x.shape
    xg = torch.addmm(b_ih, x.reshape(steps * batch, -1), w_ih.t()).view(steps, batch, 4, h_size)  # [T, B, 4, H]
    if ln is not None:
        xg = F.layer_norm(xg, (h_size,)) * ln["g_ih"] + ln["b_ih"]
    # unbind, not xg[t]: the backward of T index ops would each fill a [T, B, 4, H] gradient.
    xs = xg.unbind(0)
    h = x.new_zeros(batch, h_size)  # [B, H]
    c = x.new_zeros(batch, h_size)  # [B, H]
    ys = []
    for t in range(steps):
        hin = h * rec_mask if rec_mask is not None else h
        hg = (hin @ w_hh.t()).view(batch, 4, h_size)  # [B, 4, H]
        if ln is not None:
            hg = F.layer_norm(hg, (h_size,)) * ln["g_hh"] + ln["b_hh"]
        a = xs[t] + hg + b_hh.view(4, h_size)
        i, f, g, o = a.unbind(1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_new = f * c + i * g
        cn = F.layer_norm(c_new, (h_size,), ln["g_c"], ln["b_c"]) if ln is not None else c_new
        h_new = o * torch.tanh(cn)
        if zoneout > 0:
            dh = (torch.rand(batch, h_size, generator=gen) < zoneout).to(x.dtype)
            dc = (torch.rand(batch, h_size, generator=gen) < zoneout).to(x.dtype)
            h = dh * h + (1 - dh) * h_new
            c = dc * c + (1 - dc) * c_new
        else:
            h, c = h_new, c_new
        ys.append(h)
    return torch.stack(ys)


def measure(torch, variant, b, i, h, t, proj, warmup, iters, p_drop, p_zone):
    nn = torch.nn
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    r = proj if variant == "projection" else h
    x = (torch.rand(t, b, i) * 2 - 1).requires_grad_(True)  # [T, B, I]
    dy = torch.rand(t, b, r) * 2 - 1                          # [T, B, R]
    if variant in ("plain", "projection"):
        layer = nn.LSTM(i, h, proj_size=proj if variant == "projection" else 0)
        params = list(layer.parameters())

        def run():
            return layer(x)[0]
    else:
        ref = nn.LSTM(i, h)
        w_ih, w_hh, b_ih, b_hh = (p.detach().clone().requires_grad_(True) for p in ref.parameters())
        params = [w_ih, w_hh, b_ih, b_hh]
        ln = None
        if variant == "layer_norm":
            ln = {"g_ih": torch.ones(4, h), "b_ih": torch.zeros(4, h), "g_hh": torch.ones(4, h),
                  "b_hh": torch.zeros(4, h), "g_c": torch.ones(h), "b_c": torch.zeros(h)}
            for v in ln.values():
                v.requires_grad_(True)
            params += list(ln.values())

        def run():
            mask = None
            if variant == "recurrent_dropout":
                mask = (torch.rand(b, h, generator=gen) >= p_drop).to(x.dtype) / (1 - p_drop)
            return loop_lstm(torch, x, w_ih, w_hh, b_ih, b_hh, h, ln=ln, rec_mask=mask,
                             zoneout=p_zone if variant == "zoneout" else 0.0, gen=gen)
    inputs = [x] + params

    def train_step():
        torch.autograd.grad(run(), inputs, grad_outputs=dy)

    times = timed(train_step, warmup, iters)
    ms = statistics.median(times)
    flops = 3 * 2 * 4 * h * (i + r) * b * t + (3 * 2 * proj * h * b * t if variant == "projection" else 0)
    return json.dumps({
        "engine": "torch-cpu", "variant": variant, "cell": "lstm", "B": b, "I": i, "H": h, "T": t,
        "P": proj if variant == "projection" else 0, "threads": torch.get_num_threads(),
        "train_step_ms": round(ms, 3), "train_step_min_ms": round(min(times), 3),
        "gflops": round(flops / (ms * 1e6), 2), "warmup": warmup, "iters": iters,
        "torch": torch.__version__,
    })


def main(argv):
    p = argparse.ArgumentParser(description="PyTorch LSTMs with cell options, as users write them.")
    p.add_argument("--shape", type=shape, required=True, metavar="B:I:H:T")
    p.add_argument("--proj-size", type=int, default=0, help="P of the projection variant (default H/2)")
    p.add_argument("--variant", choices=VARIANTS, action="append", help="default: all")
    p.add_argument("--recurrent-dropout", type=float, default=0.25)
    p.add_argument("--zoneout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args(argv)
    b, i, h, t = a.shape
    proj = a.proj_size or h // 2
    if not 0 < proj < h:
        p.error("--proj-size must be in [1, H) = [1, %d), got %d" % (h, proj))
    if a.iters < 1 or a.warmup < 0 or a.threads < 0:
        p.error("--iters must be >= 1, --warmup and --threads >= 0")
    for name, v in (("--recurrent-dropout", a.recurrent_dropout), ("--zoneout", a.zoneout)):
        if not 0 <= v < 1:
            p.error("%s must be in [0, 1), got %s" % (name, v))
    try:
        import torch
    except ImportError as e:
        print("torch_cell_options_bench: PyTorch is not installed: %s" % e, file=sys.stderr)
        return 1
    if a.threads:
        torch.set_num_threads(a.threads)
    for v in a.variant or VARIANTS:
        print(measure(torch, v, b, i, h, t, proj, a.warmup, a.iters, a.recurrent_dropout, a.zoneout), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
