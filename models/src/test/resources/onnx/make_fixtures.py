"""Makes the PyTorch-exported ONNX fixtures that OnnxImportTest reads, and their expected outputs.

    pip install torch onnx      # from this machine's local package index
    python3 make_fixtures.py    # writes torch_*.onnx and torch_*.json here

The models: nn.Embedding(V, E) -> nn.LSTM / nn.GRU (E, H, num_layers=2) -> nn.Linear(H, V) on
every step, no initial state passed (PyTorch writes zeros into the graph), exported by
torch.onnx.export's TorchScript exporter (dynamo=False) at opset 17:
  torch_lstm2      LSTM, time-major ids [T, B]
  torch_gru2_bf    GRU, batch_first=True: ids [B, T], logits [B, T, V]
The JSON holds the ids and the logits PyTorch computes, flattened in the graph's own layout, as
Python floats (float32 values printed exactly).
"""
import json
import os

import torch
import torch.nn as nn

V, E, H, T, B = 11, 5, 7, 6, 3


class CharRnn(nn.Module):
    def __init__(self, rnn, batch_first):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = rnn(E, H, num_layers=2, batch_first=batch_first)
        self.head = nn.Linear(H, V)

    def forward(self, ids):
        y, _ = self.lstm(self.embedding(ids))
        return self.head(y)


def fixture(here, name, rnn, batch_first, seed):
    torch.manual_seed(seed)
    model = CharRnn(rnn, batch_first).eval()
    shape = (B, T) if batch_first else (T, B)
    ids = torch.randint(0, V, shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        logits = model(ids)
    axes = {0: "B", 1: "T"} if batch_first else {0: "T", 1: "B"}
    torch.onnx.export(model, (ids,), os.path.join(here, name + ".onnx"), input_names=["ids"],
                      output_names=["logits"], opset_version=17, dynamic_axes={"ids": axes, "logits": axes},
                      dynamo=False)
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump({"torch": torch.__version__, "T": T, "B": B, "V": V, "batch_first": batch_first,
                   "ids": ids.flatten().tolist(),
                   "logits": [float(v) for v in logits.flatten().tolist()]}, f)
        f.write("\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    fixture(here, "torch_lstm2", nn.LSTM, False, 1234)
    fixture(here, "torch_gru2_bf", nn.GRU, True, 99)


if __name__ == "__main__":
    main()
