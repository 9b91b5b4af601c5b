"""Makes the PyTorch-exported ONNX fixtures that OnnxImportTest reads, and their expected outputs.

    pip install torch onnx      # from this machine's local package index
    python3 make_fixtures.py    # writes torch_lstm2.onnx and torch_lstm2.json here

The model: nn.Embedding(V, E) -> nn.LSTM(E, H, num_layers=2) -> nn.Linear(H, V) on every step,
time-major ids [T, B], no initial state passed (PyTorch writes zeros into the graph), exported by
torch.onnx.export's TorchScript exporter (dynamo=False) at opset 17. The JSON holds the ids and
the logits PyTorch computes, [T, B, V] flattened, in float32 printed with repr (round-trips).
"""
import json
import os

import torch
import torch.nn as nn

V, E, H, T, B = 11, 5, 7, 6, 3


class CharLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, num_layers=2)
        self.head = nn.Linear(H, V)

    def forward(self, ids):
        y, _ = self.lstm(self.embedding(ids))
        return self.head(y)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(1234)
    model = CharLstm().eval()
    ids = torch.randint(0, V, (T, B), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        logits = model(ids)
    path = os.path.join(here, "torch_lstm2.onnx")
    torch.onnx.export(model, (ids,), path, input_names=["ids"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"ids": {0: "T", 1: "B"}, "logits": {0: "T", 1: "B"}}, dynamo=False)
    with open(os.path.join(here, "torch_lstm2.json"), "w") as f:
        json.dump({"torch": torch.__version__, "T": T, "B": B, "V": V,
                   "ids": ids.flatten().tolist(),
                   "logits": [float(v) for v in logits.flatten().tolist()]}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
