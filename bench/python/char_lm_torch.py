#!/usr/bin/env python3
"""The char-LM training run of `recur train-lm`, written in PyTorch, for a tokens/s comparison.

    char_lm_torch.py --data FILE [--layers 2] [--hidden 256] [--embedding 64] [--dropout 0.1]
                     [--batch 32] [--window 100] [--steps 60] [--warmup 10] [--lr 0.005] [--clip 5]
                     [--threads N] [--seed 1]

The same model, data, batches and optimizer as `recur train-lm` with the same options (models/lm):
- text: the file's characters (Unicode code points); vocabulary the sorted distinct ones; the first
  n - n//10 characters are the training part (TextCorpus);
- batches: the training part cut into B stripes of L = n_train // B ids; batch k of an epoch holds,
  for every row b, ids [b*L + k*T, b*L + k*T + T + 1): inputs the first T, targets the last T; an
  epoch has (L - 1) // T batches; the carried state is reset at each epoch's first batch
  (CharBatches, LmTraining.Task);
- model: nn.Embedding(V, E) -> nn.LSTM(E, H, num_layers, dropout between layers) -> nn.Linear(H, V),
  time-major [T, B] (CharLanguageModel);
- loss: mean softmax cross-entropy over the T*B predictions;
- truncated BPTT: each window starts from the previous window's final (h, c), detached;
- optimizer: Adam (betas 0.9/0.999, eps 1e-8: Recur's and PyTorch's defaults), learning rate on
  train-lm's default cosine schedule (lr to lr/20 over --steps), gradients clipped to global norm
  --clip (clip_grad_norm_), zeroed each step;
- a training step reads its loss back to the host, as Recur's trainStep does.

Prints one JSON line: {"engine":"torch-cpu","op":"char_lm",...,"tokens_per_s":...,"seconds":...}
with tokens/s = B*T*(steps - warmup) / (time of the steps after the first `warmup`).
"""
import argparse
import json
import math
import sys
import time


def fail(message, status=1):
    print("char_lm_torch: " + message, file=sys.stderr)
    sys.exit(status)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    for name in ("layers", "hidden", "embedding", "batch", "window", "steps"):
        if getattr(a, name) < 1:
            p.error("--%s must be >= 1, got %d" % (name, getattr(a, name)))
    if not 0 <= a.warmup < a.steps:
        p.error("--warmup must be in [0, --steps), got %d with --steps %d" % (a.warmup, a.steps))
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        fail("PyTorch is not installed (%s)" % e)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    try:
        with open(a.data, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        fail("cannot read --data %s: %s" % (a.data, e), 2)
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    train = ids[: len(ids) - len(ids) // 10]
    b, t = a.batch, a.window
    stripe = len(train) // b
    per_epoch = (stripe - 1) // t if stripe >= 1 else 0
    if per_epoch < 1:
        fail("%s has %d training characters, too few for one batch of %d x (%d + 1)" % (a.data, len(train), b, t), 2)
    stripes = train[: b * stripe].view(b, stripe)  # [B, L]

    def batch(k):
        window = stripes[:, k * t: k * t + t + 1].t().contiguous()  # [T + 1, B]
        return window[:-1], window[1:].reshape(-1)  # inputs [T, B], targets [T*B]

    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(len(chars), a.embedding)
            rnn = nn.LSTM if a.cell == "lstm" else nn.GRU
            self.rnn = rnn(a.embedding, a.hidden, num_layers=a.layers, dropout=a.dropout if a.layers > 1 else 0.0)
            self.head = nn.Linear(a.hidden, len(chars))

        def forward(self, x, state):
            y, state = self.rnn(self.embedding(x), state)
            return self.head(y.reshape(-1, a.hidden)), state

    model = CharLM()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.CrossEntropyLoss()
    state = None
    started = None
    loss = float("nan")
    for step in range(a.steps):
        if step == a.warmup:
            started = time.perf_counter()
        k = step % per_epoch
        if k == 0:
            state = None  # a new pass starts each stripe from its beginning
        for group in opt.param_groups:  # train-lm's default schedule: cosine from lr to lr/20
            low = a.lr / 20
            group["lr"] = low + (a.lr - low) * (1 + math.cos(math.pi * step / a.steps)) / 2
        x, target = batch(k)
        opt.zero_grad(set_to_none=False)
        logits, state = model(x, state)
        out = loss_fn(logits, target)
        out.backward()
        if a.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        loss = out.item()
        if not math.isfinite(loss):
            fail("the loss is %s at step %d" % (loss, step + 1))
    seconds = time.perf_counter() - started
    timed = a.steps - a.warmup
    print(json.dumps({"engine": "torch-cpu", "op": "char_lm", "cell": a.cell, "layers": a.layers, "H": a.hidden,
                      "E": a.embedding, "V": len(chars), "B": b, "T": t, "steps": a.steps, "warmup": a.warmup,
                      "threads": torch.get_num_threads(), "seconds": round(seconds, 4),
                      "tokens_per_s": round(b * t * timed / seconds, 1), "last_loss": round(loss, 4),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main(sys.argv[1:])
