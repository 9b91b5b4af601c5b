#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that TorchReferenceTest checks Recur's recurrent stacks against.

One safetensors file per case, float64 throughout, named <cell>-<shape>.safetensors. A case is a
stack of recurrent layers as torch.nn.RNN / LSTM / GRU build it (num_layers, bidirectional,
batch_first, no dropout), run forward and backward once in float64 on the CPU.

Where the reference comes from
  rnn_tanh, rnn_relu, lstm, gru       torch.nn.RNN / LSTM / GRU themselves; variable lengths go
                                      through torch.nn.utils.rnn.pack_padded_sequence
                                      (enforce_sorted=False) and pad_packed_sequence.
  lstm_peephole, lstm_coupled,        no PyTorch module has these, so this script computes them
  gru_original                        with explicit tensor operations (explicit_stack below) and
                                      autograd. Before any file is written, explicit_stack is run on
                                      the four cells above, every case, and must agree with the
                                      torch.nn modules to 1e-12 in every output and gradient; that
                                      check is what vouches for it.

The cells' formulas are those in dev.recur.api.Cell's javadoc (gate order LSTM i, f, g, o;
GRU r, z, n; peephole p_i, p_f reading c_{t-1} and p_o reading c_t; the coupled LSTM stores
only f, g, o and takes i = 1 - f; the original GRU's n = tanh(W_in x + b_in + W_hn (r*h) + b_hn)).

Inputs and weights are drawn in float64 and rounded to float32 values, so Recur (float32) gets
exactly the numbers the float64 reference used and the only difference left is its float32
arithmetic. Weights are drawn as PyTorch initialises them, uniform(-1/sqrt(H), 1/sqrt(H));
peephole weights likewise.

Tensors in each file (PyTorch's names and shapes):
  input            [T, B, I], or [B, T, I] when batch_first
  h0, c0           [L*D, B, H] initial states (absent when initial_state is "zeros"; c0 for LSTMs)
  weight_ih_l{k}[_reverse], weight_hh_l{k}[_reverse], bias_ih_l{k}[_reverse],
  bias_hh_l{k}[_reverse]              the parameters, as in the module's state_dict
  weight_peephole_l{k}[_reverse] [3H] p_i, p_f, p_o (lstm_peephole only; Recur's name)
  output           [T, B, D*H] (or batch-first), zero past each sequence's length
  h_n, c_n         [L*D, B, H] final states, each sequence's state after its own last step
  grad_output, grad_h_n, grad_c_n     the upstream gradients: the loss is
                                      sum(output*grad_output) + sum(h_n*grad_h_n) + sum(c_n*grad_c_n);
                                      grad_output is non-zero past the lengths too, where it
                                      must have no effect
  grad.input, grad.h0, grad.c0, grad.<parameter>   the gradients of that loss
Metadata (__metadata__, all strings): cell, num_layers, bidirectional, batch_first, input_size,
hidden_size, steps, batch, lengths (comma-separated, or "" when every sequence has T steps),
initial_state ("given" or "zeros"), reference ("torch.nn.<Module>" or "explicit ops + autograd"),
torch (its version), seed.

Run from this folder (needs torch and safetensors; a CPU-only torch is enough):
    python3 make_fixtures.py
It rewrites every file and index.txt (the file names, one per line, which the test reads). With
the same torch version the values come out the same bit for bit (the order of the metadata in
a file's header may differ from run to run). Last run with
torch 2.13.0+cpu, safetensors 0.8.0, numpy 2.4.6.
"""
import torch
from safetensors.torch import save_file

torch.set_default_dtype(torch.float64)

# Shapes: name -> (T, B, I, H, layers, bidirectional, batch_first, initial state given, lengths)
SHAPES = {
    "tiny": (1, 1, 1, 1, 1, False, False, False, None),
    "init": (4, 2, 3, 5, 1, False, False, True, None),
    "stack-varlen": (3, 4, 2, 2, 2, False, False, True, [3, 1, 2, 3]),
    "bi-stack-varlen": (5, 3, 4, 3, 2, True, False, True, [5, 2, 4]),
    "bi-batch-first": (6, 2, 5, 7, 1, True, True, False, None),
    "odd-width": (2, 3, 17, 19, 1, False, False, True, [2, 1, 2]),
}

# Cell -> (gate blocks G, has a cell state, torch.nn module or None, nonlinearity for nn.RNN)
CELLS = {
    "rnn_tanh": (1, False, torch.nn.RNN, "tanh"),
    "rnn_relu": (1, False, torch.nn.RNN, "relu"),
    "lstm": (4, True, torch.nn.LSTM, None),
    "gru": (3, False, torch.nn.GRU, None),
    "lstm_peephole": (4, True, None, None),
    "lstm_coupled": (3, True, None, None),
    "gru_original": (3, False, None, None),
}


def f32(t):
    """Rounds to the nearest float32 value, kept in float64."""
    return t.float().double()


def param_names(layers, dirs, peephole):
    names = []
    for k in range(layers):
        for d in range(dirs):
            sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
            names += [f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}"]
            if peephole:
                names.append(f"weight_peephole{sfx}")
    return names


def draw_case(cell, shape, seed):
    """Inputs, parameters and upstream gradients of one case, all float32-exact float64 tensors."""
    steps, batch, inp, hid, layers, bi, batch_first, given, lengths = SHAPES[shape]
    gates, has_c, _, _ = CELLS[cell]
    dirs = 2 if bi else 1
    gen = torch.Generator().manual_seed(seed)

    def normal(*size):
        return f32(torch.randn(*size, generator=gen))

    def uniform(*size):
        bound = 1 / hid ** 0.5
        return f32((torch.rand(*size, generator=gen) * 2 - 1) * bound)

    params = {}
    for k in range(layers):
        layer_in = inp if k == 0 else dirs * hid
        for d in range(dirs):
            sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
            params[f"weight_ih{sfx}"] = uniform(gates * hid, layer_in)
            params[f"weight_hh{sfx}"] = uniform(gates * hid, hid)
            params[f"bias_ih{sfx}"] = uniform(gates * hid)
            params[f"bias_hh{sfx}"] = uniform(gates * hid)
            if cell == "lstm_peephole":
                params[f"weight_peephole{sfx}"] = uniform(3 * hid)
    x = normal(batch, steps, inp) if batch_first else normal(steps, batch, inp)
    h0 = normal(layers * dirs, batch, hid) if given else torch.zeros(layers * dirs, batch, hid)
    c0 = (normal(layers * dirs, batch, hid) if given else torch.zeros(layers * dirs, batch, hid)) if has_c else None
    out_shape = (batch, steps, dirs * hid) if batch_first else (steps, batch, dirs * hid)
    upstream = {"grad_output": normal(*out_shape), "grad_h_n": normal(layers * dirs, batch, hid)}
    if has_c:
        upstream["grad_c_n"] = normal(layers * dirs, batch, hid)
    return x, h0, c0, params, upstream


def torch_stack(cell, shape, x, h0, c0, params):
    """The case through the torch.nn module itself: (output, h_n, c_n)."""
    steps, batch, inp, hid, layers, bi, batch_first, _, lengths = SHAPES[shape]
    _, has_c, module_type, nonlinearity = CELLS[cell]
    kwargs = {"nonlinearity": nonlinearity} if nonlinearity else {}
    module = module_type(inp, hid, num_layers=layers, bidirectional=bi, batch_first=batch_first, **kwargs)
    # The module's own parameters are replaced by the case's tensors (the leaves autograd differentiates).
    for name in param_names(layers, 2 if bi else 1, False):
        delattr(module, name)
        setattr(module, name, params[name])
    module._flat_weights = [params[n] for n in module._flat_weights_names]
    state = (h0, c0) if has_c else h0
    if lengths is None:
        out, fin = module(x, state)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first,
                                                         enforce_sorted=False)
        out, fin = module(packed, state)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=steps)
    return (out, fin[0], fin[1]) if has_c else (out, fin, None)


def cell_step(cell, x_proj, h, c, w_hh, b_hh, peep):
    """One step of one cell from x_proj = W_ih x_t + b_ih: returns (h', c')."""
    hid = h.shape[1]
    if cell in ("rnn_tanh", "rnn_relu"):
        a = x_proj + h @ w_hh.T + b_hh
        return (torch.tanh(a) if cell == "rnn_tanh" else torch.relu(a)), None
    if cell == "gru_original":
        r = torch.sigmoid(x_proj[:, :hid] + h @ w_hh[:hid].T + b_hh[:hid])
        z = torch.sigmoid(x_proj[:, hid:2 * hid] + h @ w_hh[hid:2 * hid].T + b_hh[hid:2 * hid])
        n = torch.tanh(x_proj[:, 2 * hid:] + (r * h) @ w_hh[2 * hid:].T + b_hh[2 * hid:])
        return (1 - z) * n + z * h, None
    a_h = h @ w_hh.T + b_hh
    if cell == "gru":
        r = torch.sigmoid(x_proj[:, :hid] + a_h[:, :hid])
        z = torch.sigmoid(x_proj[:, hid:2 * hid] + a_h[:, hid:2 * hid])
        n = torch.tanh(x_proj[:, 2 * hid:] + r * a_h[:, 2 * hid:])
        return (1 - z) * n + z * h, None
    a = x_proj + a_h
    if cell == "lstm_coupled":
        f = torch.sigmoid(a[:, :hid])
        g = torch.tanh(a[:, hid:2 * hid])
        o = torch.sigmoid(a[:, 2 * hid:])
        c_new = f * c + (1 - f) * g
        return o * torch.tanh(c_new), c_new
    p_i, p_f, p_o = (peep[:hid], peep[hid:2 * hid], peep[2 * hid:]) if peep is not None else (0, 0, 0)
    i = torch.sigmoid(a[:, :hid] + p_i * c)
    f = torch.sigmoid(a[:, hid:2 * hid] + p_f * c)
    g = torch.tanh(a[:, 2 * hid:3 * hid])
    c_new = f * c + i * g
    o = torch.sigmoid(a[:, 3 * hid:] + p_o * c_new)
    return o * torch.tanh(c_new), c_new


def explicit_stack(cell, shape, x, h0, c0, params):
    """The case with explicit tensor operations: (output, h_n, c_n). Steps at or past a sequence's
    length leave its state alone and output zeros; the reverse direction starts at its last step."""
    steps, batch, inp, hid, layers, bi, batch_first, _, lengths = SHAPES[shape]
    dirs = 2 if bi else 1
    has_c = CELLS[cell][1]
    lens = torch.tensor(lengths if lengths is not None else [steps] * batch)
    seq = x.transpose(0, 1) if batch_first else x  # [T, B, I]
    h_n, c_n = [], []
    for k in range(layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{k}" + ("_reverse" if d == 1 else "")
            w_ih, w_hh = params[f"weight_ih{sfx}"], params[f"weight_hh{sfx}"]
            b_ih, b_hh = params[f"bias_ih{sfx}"], params[f"bias_hh{sfx}"]
            peep = params.get(f"weight_peephole{sfx}")
            h = h0[k * dirs + d]
            c = c0[k * dirs + d] if has_c else None
            ys = [None] * steps
            order = range(steps) if d == 0 else range(steps - 1, -1, -1)
            for t in order:
                h_new, c_new = cell_step(cell, seq[t] @ w_ih.T + b_ih, h, c, w_hh, b_hh, peep)
                live = (t < lens).unsqueeze(1)
                ys[t] = torch.where(live, h_new, torch.zeros_like(h_new))
                h = torch.where(live, h_new, h)
                if has_c:
                    c = torch.where(live, c_new, c)
            outs.append(torch.stack(ys))
            h_n.append(h)
            c_n.append(c)
        seq = torch.cat(outs, dim=2)
    out = seq.transpose(0, 1) if batch_first else seq
    return out, torch.stack(h_n), (torch.stack(c_n) if has_c else None)


def run(stack, cell, shape, drawn):
    """Forward and backward of one case: (tensors by name, whose 'grad.*' entries are the gradients)."""
    x, h0, c0, params, upstream = drawn
    leaves = {"input": x, "h0": h0, **({"c0": c0} if c0 is not None else {}), **params}
    leaves = {k: v.clone().requires_grad_(True) for k, v in leaves.items()}
    named = {k: v for k, v in leaves.items() if k not in ("input", "h0", "c0")}
    out, h_n, c_n = stack(cell, shape, leaves["input"], leaves["h0"], leaves.get("c0"), named)
    loss = (out * upstream["grad_output"]).sum() + (h_n * upstream["grad_h_n"]).sum()
    result = {"output": out.detach(), "h_n": h_n.detach()}
    if c_n is not None:
        loss = loss + (c_n * upstream["grad_c_n"]).sum()
        result["c_n"] = c_n.detach()
    loss.backward()
    for k, v in leaves.items():
        result["grad." + k] = v.grad.detach()
    return result


def check_explicit_against_torch():
    """explicit_stack must agree with the torch.nn modules on every case they share."""
    worst = 0.0
    for seed, (cell, shape) in enumerate((c, s) for c in CELLS for s in SHAPES):
        if CELLS[cell][2] is None:
            continue
        drawn = draw_case(cell, shape, seed)
        mine, theirs = run(explicit_stack, cell, shape, drawn), run(torch_stack, cell, shape, drawn)
        assert mine.keys() == theirs.keys(), (cell, shape, mine.keys(), theirs.keys())
        for k in mine:
            err = (mine[k] - theirs[k]).abs().max().item()
            worst = max(worst, err)
            assert err <= 1e-12, f"explicit_stack differs from torch.nn on {cell}-{shape} {k}: {err}"
    print(f"explicit ops agree with torch.nn.RNN/LSTM/GRU on every shared case: largest difference {worst:.2e}")


def main():
    check_explicit_against_torch()
    for seed, (cell, shape) in enumerate((c, s) for c in CELLS for s in SHAPES):
        steps, batch, inp, hid, layers, bi, batch_first, given, lengths = SHAPES[shape]
        drawn = draw_case(cell, shape, seed)
        x, h0, c0, params, upstream = drawn
        module = CELLS[cell][2]
        result = run(torch_stack if module else explicit_stack, cell, shape, drawn)
        tensors = {"input": x, **params, **upstream, **result}
        if given:
            tensors["h0"] = h0
            if c0 is not None:
                tensors["c0"] = c0
        else:  # zero initial states are not stored, and neither are gradients for them
            tensors.pop("grad.h0")
            tensors.pop("grad.c0", None)
        metadata = {
            "cell": cell, "num_layers": str(layers), "bidirectional": str(bi).lower(),
            "batch_first": str(batch_first).lower(), "input_size": str(inp), "hidden_size": str(hid),
            "steps": str(steps), "batch": str(batch),
            "lengths": "" if lengths is None else ",".join(map(str, lengths)),
            "initial_state": "given" if given else "zeros",
            "reference": f"torch.nn.{module.__name__}" if module else "explicit ops + autograd",
            "torch": torch.__version__, "seed": str(seed),
        }
        save_file({k: v.contiguous() for k, v in tensors.items()}, f"{cell}-{shape}.safetensors", metadata=metadata)
    names = [f"{cell}-{shape}.safetensors" for cell in CELLS for shape in SHAPES]
    with open("index.txt", "w") as index:
        index.write("".join(n + "\n" for n in names))
    print(f"wrote {len(names)} fixtures and index.txt")


if __name__ == "__main__":
    main()
