#!/usr/bin/env python3
"""Writes the reference safetensors files that SafeTensorsReferenceTest reads.

They come from the reference implementation (Hugging Face safetensors, Rust core), so the test
proves that Recur reads what PyTorch users write:

  lstm-state-dict.safetensors  the state dict of torch.nn.LSTM(input_size=3, hidden_size=2),
                               no __metadata__, as safetensors.torch.save_file writes it
  mixed-dtypes.safetensors     F16, F64 and F32 tensors with a __metadata__ map

Values are k/8 for small integers k, exact in every dtype, so the test can demand equality:
value i (row-major) of the tensor with seed s is ((i * 7 + s) % 17 - 8) / 8.

Run from this folder:  python3 make_reference.py
Needs numpy and safetensors (pip install numpy safetensors). With PyTorch installed it saves the
state dict of a real nn.LSTM, with the values overwritten as above; without it, numpy arrays of
the same names and shapes through safetensors.numpy, which calls the same Rust serializer.
Last run with safetensors 0.8.0, numpy 2.4.6, without PyTorch.
"""
import numpy as np
from safetensors.numpy import save_file


def values(shape, seed, dtype):
    n = int(np.prod(shape)) if shape else 1
    i = np.arange(n)
    return (((i * 7 + seed) % 17 - 8) / 8.0).astype(dtype).reshape(shape)


def lstm_state_dict():
    shapes = {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2), "bias_ih_l0": (8,), "bias_hh_l0": (8,)}
    try:
        import torch
        from safetensors.torch import save_file as save_torch
        lstm = torch.nn.LSTM(input_size=3, hidden_size=2)
        sd = lstm.state_dict()
        assert {k: tuple(v.shape) for k, v in sd.items()} == shapes
        for seed, (k, shape) in enumerate(shapes.items()):
            sd[k] = torch.from_numpy(values(shape, seed, np.float32))
        save_torch(sd, "lstm-state-dict.safetensors")
    except ImportError:
        save_file({k: values(shape, seed, np.float32) for seed, (k, shape) in enumerate(shapes.items())},
                  "lstm-state-dict.safetensors")


def mixed_dtypes():
    save_file({"half": values((2, 3), 0, np.float16),
               "double": values((5,), 1, np.float64),
               "single": values((), 2, np.float32)},
              "mixed-dtypes.safetensors", metadata={"source": "make_reference.py", "note": "k/8 values"})


if __name__ == "__main__":
    lstm_state_dict()
    mixed_dtypes()
