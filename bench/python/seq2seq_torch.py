#!/usr/bin/env python3
"""The encoder-decoder of `recur translate` in PyTorch, trained on the same split and vocabularies.

`recur translate --save-split SPLIT.json ...` writes the pairs it kept, their split (train,
validation, test) and both vocabularies as ids; this script trains the same architecture on them
with the same sizes, optimizer, batch, epochs and clipping, and decodes the test part the same
ways (greedy, and a beam search with GNMT's length penalty and the same rules as
`dev.recur.models.seq2seq.BeamSearch`), then prints one JSON line per decoding: BLEU-4 (corpus,
no smoothing, as `Bleu.java`), exact matches and seconds (training, and training + decoding).

Architecture, as Seq2SeqModel builds it: word embeddings (N(0, 1)), a one-layer GRU encoder whose
final state (after each sentence's own last word: packed sequences) starts a GRU decoder, teacher
forcing; with attention the decoder's outputs h_t attend over the encoder's outputs (padding
masked) and h~_t = tanh(W_c [c_t; h_t] + b_c) feeds the output layer (Luong et al., 2015), scores
dot (h·k), general (h·W_a k) or additive (v·tanh(W_q h + b_q + W_k k), Bahdanau et al., 2015).
Loss: mean cross-entropy over the target tokens, <eos> included. Adam, clipping by global norm.

    python3 bench/python/seq2seq_torch.py SPLIT.json --attention general --beam 5 --threads 2
"""
import argparse
import json
import math
import random
import time
from collections import Counter

import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq2Seq(nn.Module):
    def __init__(self, vs, vt, emb, hidden, attention):
        super().__init__()
        self.attention = attention
        self.src_emb = nn.Embedding(vs, emb)
        self.encoder = nn.GRU(emb, hidden)
        self.tgt_emb = nn.Embedding(vt, emb)
        self.decoder = nn.GRU(emb, hidden)
        self.head = nn.Linear(hidden, vt)
        if attention == "general":
            self.w_a = nn.Linear(hidden, hidden, bias=False)   # [H, K]
        elif attention == "additive":
            self.query = nn.Linear(hidden, hidden)
            self.key = nn.Linear(hidden, hidden, bias=False)
            self.v = nn.Linear(hidden, 1, bias=False)
        if attention != "none":
            self.combine = nn.Linear(2 * hidden, hidden)

    def encode(self, src, lengths):
        """src [Ts, B] ids, lengths [B]: outputs [B, Ts, H] (zero past each length) and h0 [1, B, H]."""
        x = self.src_emb(src)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, h = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=src.shape[0])
        return out.transpose(0, 1), h

    def attend(self, q, keys, mask):
        """q [B, T, H], keys [B, S, K], mask [B, S] (True = a word): h~ [B, T, H] and weights [B, T, S]."""
        if self.attention == "dot":
            e = q @ keys.transpose(1, 2)
        elif self.attention == "general":
            e = q @ self.w_a(keys).transpose(1, 2)
        else:
            e = self.v(torch.tanh(self.query(q).unsqueeze(2) + self.key(keys).unsqueeze(1))).squeeze(-1)
        e = e.masked_fill(~mask.unsqueeze(1), float("-inf"))
        a = torch.softmax(e, dim=-1)
        c = a @ keys
        return torch.tanh(self.combine(torch.cat([c, q], dim=-1))), a

    def decode(self, inp, h, keys, mask):
        """inp [Tt, B] ids from state h: logits [Tt, B, V], the last state and the weights."""
        y, h = self.decoder(self.tgt_emb(inp), h)
        a = None
        if self.attention != "none":
            att, a = self.attend(y.transpose(0, 1), keys, mask)
            y = att.transpose(0, 1)
        return self.head(y), h, a


def batches(pairs, batch, bos, eos, shuffle, rng):
    order = list(range(len(pairs)))
    if shuffle:
        rng.shuffle(order)
    for start in range(0, len(order), batch):
        chunk = [pairs[i] for i in order[start:start + batch]]
        ts = max(len(s) for s, _ in chunk)
        tt = max(len(t) for _, t in chunk) + 1
        b = len(chunk)
        src = torch.zeros(ts, b, dtype=torch.long)
        inp = torch.zeros(tt, b, dtype=torch.long)
        tgt = torch.full((tt, b), -1, dtype=torch.long)
        lengths = torch.tensor([len(s) for s, _ in chunk])
        for j, (s, t) in enumerate(chunk):
            src[:len(s), j] = torch.tensor(s)
            inp[0, j] = bos
            if t:
                inp[1:len(t) + 1, j] = torch.tensor(t)
                tgt[:len(t), j] = torch.tensor(t)
            tgt[len(t), j] = eos
        yield src, lengths, inp, tgt


def mask_of(lengths, ts):
    return torch.arange(ts).unsqueeze(0) < lengths.unsqueeze(1)


def loss_of(model, src, lengths, inp, tgt):
    keys, h = model.encode(src, lengths)
    logits, _, _ = model.decode(inp, h, keys, mask_of(lengths, src.shape[0]))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-1)


def length_penalty(n, alpha):
    return ((5.0 + n) / 6.0) ** alpha


@torch.no_grad()
def beam_search(model, src, lengths, bos, eos, max_words, beam, alpha):
    """BeamSearch.java's rules over n sentences x K rows: of the 2K best proposals, EOS among the
    first K finish, the first K others go on; a sentence stops with K finished; the cut at
    max_words finishes the live beams; the best by log P / ((5 + len) / 6)^alpha wins."""
    n = src.shape[1]
    keys, h = model.encode(src, lengths)
    rows = n * beam
    expand = torch.arange(rows) // beam
    keys = keys[expand]
    mask = mask_of(lengths[expand], src.shape[0])
    h = h[:, expand]
    live = torch.full((rows,), float("-inf"), dtype=torch.float64)
    live[::beam] = 0.0
    tokens = torch.full((rows,), bos, dtype=torch.long)
    history = []   # per step: (parents [rows], tokens fed next [rows])
    finished = [[] for _ in range(n)]
    done = [False] * n
    v = model.head.out_features
    for t in range(max_words):
        if all(done):
            break
        logits, h, _ = model.decode(tokens.unsqueeze(0), h, keys, mask)
        logp = torch.log_softmax(logits[0].double(), dim=-1)                # [rows, V]
        cand = (live.unsqueeze(1) + logp).view(n, beam * v)
        top_v, top_i = torch.topk(cand, min(2 * beam, beam * v), dim=1)
        parents = torch.arange(rows)
        nxt = torch.full((rows,), eos, dtype=torch.long)
        nlive = torch.full((rows,), float("-inf"), dtype=torch.float64)
        top_v, top_i = top_v.tolist(), top_i.tolist()
        for s in range(n):
            if done[s]:
                continue
            kept = 0
            for rank, (val, idx) in enumerate(zip(top_v[s], top_i[s])):
                if kept == beam or val == float("-inf"):
                    break
                row, word = s * beam + idx // v, idx % v
                if word == eos:
                    if rank < beam:
                        finished[s].append((val / length_penalty(t + 1, alpha), t, row, eos))
                    continue
                r = s * beam + kept
                parents[r], nxt[r], nlive[r] = row, word, val
                kept += 1
            for k in range(kept, beam):
                parents[s * beam + k] = s * beam
            if len(finished[s]) >= beam or kept == 0:
                done[s] = True
            elif t == max_words - 1:
                for k in range(kept):
                    r = s * beam + k
                    finished[s].append((nlive[r].item() / length_penalty(max_words, alpha), t, parents[r].item(),
                                        nxt[r].item()))
        history.append((parents.clone(), nxt.clone()))
        h = h[:, parents]
        tokens, live = nxt, nlive
    out = []
    for s in range(n):
        best = max(finished[s], key=lambda f: f[0])   # the first among equals
        _, step, row, token = best
        words = [token]
        for t in range(step, 0, -1):
            # row of step t was fed tokens chosen at step t - 1 by its parent there
            words.append(history[t - 1][1][row].item())
            row = history[t - 1][0][row].item()
        words.reverse()
        out.append(words[:-1] if token == eos else words)
    return out


def bleu(candidates, references, order=4):
    matched, total = [0] * order, [0] * order
    c_len = r_len = 0
    for cand, ref in zip(candidates, references):
        c_len += len(cand)
        r_len += len(ref)
        for k in range(1, order + 1):
            rc = Counter(tuple(ref[i:i + k]) for i in range(len(ref) - k + 1))
            cc = Counter(tuple(cand[i:i + k]) for i in range(len(cand) - k + 1))
            matched[k - 1] += sum(min(c, rc[g]) for g, c in cc.items())
            total[k - 1] += sum(cc.values())
    if c_len == 0 or min(matched) == 0:
        return 0.0
    log = sum(math.log(m / t) for m, t in zip(matched, total)) / order
    bp = math.exp(1 - r_len / c_len) if c_len < r_len else 1.0
    return bp * math.exp(log)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", help="the JSON that recur translate --save-split wrote")
    ap.add_argument("--attention", default="none", choices=["none", "additive", "dot", "general"])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embedding", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--beam", type=int, nargs="+", default=[1, 5], help="beam widths to decode with (1 = greedy)")
    ap.add_argument("--length-penalty", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    with open(args.split, encoding="utf-8") as f:
        d = json.load(f)
    vs, vt = len(d["source_vocabulary"]), len(d["target_vocabulary"])
    bos, eos = d["bos"], d["eos"]
    model = Seq2Seq(vs, vt, args.embedding, args.hidden, args.attention)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for src, lengths, inp, tgt in batches(d["train"], args.batch, bos, eos, True, rng):
            opt.zero_grad()
            loss = loss_of(model, src, lengths, inp, tgt)
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
        model.eval()
        with torch.no_grad():
            tokens = total = 0.0
            for src, lengths, inp, tgt in batches(d["validation"], args.batch, bos, eos, False, rng):
                count = (tgt >= 0).sum().item()
                total += loss_of(model, src, lengths, inp, tgt).item() * count
                tokens += count
        print(f"epoch {epoch + 1}: last train loss {loss.item():.4f}, validation loss {total / tokens:.4f}",
              flush=True)
    trained = time.perf_counter() - started
    refs = d["test_references"]
    words = d["target_vocabulary"]
    for k in args.beam:
        t0 = time.perf_counter()
        hyps = []
        test = d["test"]
        for start in range(0, len(test), args.batch):
            chunk = test[start:start + args.batch]
            ts = max(len(s) for s, _ in chunk)
            src = torch.zeros(ts, len(chunk), dtype=torch.long)
            for j, (s, _) in enumerate(chunk):
                src[:len(s), j] = torch.tensor(s)
            lengths = torch.tensor([len(s) for s, _ in chunk])
            hyps += beam_search(model, src, lengths, bos, eos, d["max_words"], k, args.length_penalty)
        decoded = time.perf_counter() - t0
        cands = [[words[i] for i in h] for h in hyps]
        exact = sum(c == r for c, r in zip(cands, refs))
        print(json.dumps({"peer": "pytorch " + torch.__version__, "attention": args.attention, "beam": k,
                          "bleu4": round(100 * bleu(cands, refs), 2), "exact": exact, "test": len(refs),
                          "train_s": round(trained, 1), "decode_s": round(decoded, 2),
                          "threads": args.threads}), flush=True)


if __name__ == "__main__":
    main()
