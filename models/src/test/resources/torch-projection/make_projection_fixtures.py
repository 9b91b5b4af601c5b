#!/usr/bin/env python3
"""Writes the PyTorch fixtures that TorchProjectionTest checks Recur's projected stacks against.

torch.nn.LSTM(input_size, hidden_size, num_layers, bidirectional=..., proj_size=P) in float64 on
the CPU, one forward and backward, with PyTorch's parameter names (weight_ih_l{k}, weight_hh_l{k}
[4H, P], bias_*, weight_hr_l{k} [P, H], _reverse). Layer k > 0 reads D*P values. Inputs and
weights are drawn in float64 and rounded to float32 values, so Recur (float32) gets exactly the
numbers of the float64 reference. The loss is sum(output*grad_output) + sum(h_n*grad_h_n) +
sum(c_n*grad_c_n); zero initial states.

Tensors: input [T, B, I]; the parameters; output [T, B, D*P]; h_n [L*D, B, P]; c_n [L*D, B, H];
grad_output, grad_h_n, grad_c_n; grad.input and grad.<parameter>. Metadata: num_layers,
bidirectional, input_size, hidden_size, proj_size, steps, batch, torch.

Run from this folder (torch and safetensors; CPU torch is enough): python3 make_projection_fixtures.py
Last run with torch 2.13.0+cpu, safetensors 0.8.0.
"""
import torch
from safetensors.torch import save_file

torch.set_default_dtype(torch.float64)

# name -> (T, B, I, H, P, layers, bidirectional)
CASES = {
    "lstm-proj-stack": (4, 3, 5, 6, 3, 2, False),
    "lstm-proj-bi-stack": (3, 2, 4, 5, 2, 2, True),
}


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def main():
    for i, (name, (T, B, I, H, P, L, bi)) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(1000 + i)
        lstm = torch.nn.LSTM(I, H, num_layers=L, bidirectional=bi, proj_size=P)
        with torch.no_grad():
            for p in lstm.parameters():  # PyTorch's own initialisation, drawn here from g, float32 values
                p.copy_(f32((torch.rand(p.shape, generator=g) * 2 - 1) / H ** 0.5))
        D = 2 if bi else 1
        x = f32(torch.randn(T, B, I, generator=g)).requires_grad_(True)
        out, (h_n, c_n) = lstm(x)
        go = f32(torch.randn(out.shape, generator=g))
        gh = f32(torch.randn(h_n.shape, generator=g))
        gc = f32(torch.randn(c_n.shape, generator=g))
        loss = (out * go).sum() + (h_n * gh).sum() + (c_n * gc).sum()
        loss.backward()
        t = {"input": x.detach(), "output": out.detach(), "h_n": h_n.detach(), "c_n": c_n.detach(),
             "grad_output": go, "grad_h_n": gh, "grad_c_n": gc, "grad.input": x.grad}
        for n, p in lstm.named_parameters():
            t[n] = p.detach()
            t["grad." + n] = p.grad
        assert h_n.shape == (L * D, B, P) and c_n.shape == (L * D, B, H)
        meta = {"num_layers": str(L), "bidirectional": str(bi).lower(), "input_size": str(I), "hidden_size": str(H),
                "proj_size": str(P), "steps": str(T), "batch": str(B), "torch": torch.__version__}
        save_file({k: v.contiguous() for k, v in t.items()}, name + ".safetensors", metadata=meta)
        print(name, sorted(k for k in t if not k.startswith("grad")))


if __name__ == "__main__":
    main()
