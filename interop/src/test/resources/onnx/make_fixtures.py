"""Makes the PyTorch-exported ONNX fixtures that OnnxImportTest reads, and their expected outputs.

    pip install torch onnx      # from this machine's local package index
    python3 make_fixtures.py    # writes torch_*.onnx and torch_*.json here

The models: nn.Embedding(V, E) -> nn.LSTM / nn.GRU (E, H, num_layers=2) -> nn.Linear(H, V) on
every step, no initial state passed (PyTorch writes zeros into the graph), exported by
torch.onnx.export's TorchScript exporter (dynamo=False) at opset 17:
  torch_lstm2      LSTM, time-major ids [T, B]
  torch_gru2_bf    GRU, batch_first=True: ids [B, T], logits [B, T, V]
And PyTorch's usual classifier, nn.Embedding(V, E) -> nn.LSTM / nn.GRU (E, H, num_layers) ->
nn.Linear(H, C) on h_n[-1] (the last layer's final hidden state), which torch.onnx.export writes
as a Gather (index -1) of the Concat of the layers' Y_h, then Gemm:
  torch_lstm2_cls  LSTM, 2 layers, time-major ids [T, B], logits [B, C]
  torch_gru1_cls_bf  GRU, 1 layer, batch_first=True: ids [B, T], logits [B, C]
  torch_bilstm2_cls  bidirectional LSTM, 2 layers, head on torch.cat((h_n[-2], h_n[-1]), dim=1):
                     two Gathers (-2, -1) and a Concat on axis 1, then Gemm
The JSON holds the ids and the logits PyTorch computes, flattened in the graph's own layout, as
Python floats (float32 values printed exactly).
"""
import json
import os

import torch
import torch.nn as nn

V, E, H, T, B, C = 11, 5, 7, 6, 3, 3


class CharRnn(nn.Module):
    def __init__(self, rnn, batch_first):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = rnn(E, H, num_layers=2, batch_first=batch_first)
        self.head = nn.Linear(H, V)

    def forward(self, ids):
        y, _ = self.lstm(self.embedding(ids))
        return self.head(y)


class Classifier(nn.Module):
    def __init__(self, rnn, layers, batch_first, bidirectional):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = rnn(E, H, num_layers=layers, batch_first=batch_first, bidirectional=bidirectional)
        self.head = nn.Linear(2 * H if bidirectional else H, C)
        self.is_lstm = rnn is nn.LSTM
        self.bidirectional = bidirectional

    def forward(self, x):
        if self.is_lstm:
            _, (h_n, c_n) = self.rnn(self.emb(x))
        else:
            _, h_n = self.rnn(self.emb(x))
        if self.bidirectional:
            return self.head(torch.cat((h_n[-2], h_n[-1]), dim=1))
        return self.head(h_n[-1])


def classifier_fixture(here, name, rnn, layers, batch_first, seed, bidirectional=False):
    torch.manual_seed(seed)
    model = Classifier(rnn, layers, batch_first, bidirectional).eval()
    shape = (B, T) if batch_first else (T, B)
    ids = torch.randint(0, V, shape, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        logits = model(ids)
    axes = {0: "B", 1: "T"} if batch_first else {0: "T", 1: "B"}
    torch.onnx.export(model, (ids,), os.path.join(here, name + ".onnx"), input_names=["ids"],
                      output_names=["logits"], opset_version=17,
                      dynamic_axes={"ids": axes, "logits": {0: "B"}}, dynamo=False)
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump({"torch": torch.__version__, "T": T, "B": B, "C": C, "layers": layers,
                   "bidirectional": bidirectional,
                   "batch_first": batch_first, "ids": ids.flatten().tolist(),
                   "logits": [float(v) for v in logits.flatten().tolist()]}, f)
        f.write("\n")


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
    classifier_fixture(here, "torch_lstm2_cls", nn.LSTM, 2, False, 4321)
    classifier_fixture(here, "torch_gru1_cls_bf", nn.GRU, 1, True, 77)
    classifier_fixture(here, "torch_bilstm2_cls", nn.LSTM, 2, False, 2468, bidirectional=True)


if __name__ == "__main__":
    main()
