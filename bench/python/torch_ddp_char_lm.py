#!/usr/bin/env python3
"""The PyTorch peer of `recur bench data-parallel`: the same char-LM training step (embedding,
stacked nn.LSTM, linear head, mean cross-entropy, clip_grad_norm_, Adam), timed in one process with
--threads threads, then in --ranks processes of --threads/--ranks threads each under
DistributedDataParallel on the gloo backend over TCP on 127.0.0.1 (what `mpirun --mca btl tcp,self`
is on Recur's side), each on --batch/--ranks of the global batch.

Prints one JSON line per configuration, as Recur's lines:
  {"engine":"torch-cpu","op":"data_parallel_char_lm","ranks":1,"threads_per_rank":2,...,"tokens_per_s":...}
The inputs are random ids of --vocab characters: the time of a step does not depend on which ids.
Timed: --iters steps after --warmup untimed ones, the whole step (forward, backward with DDP's
bucketed all-reduce overlapping it, clipping, update).
"""
import argparse
import json
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--vocab", type=int, default=70)
    p.add_argument("--iters", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--port", type=int, default=29517)
    return p.parse_args()


def train(a, rank, world, threads, out):
    import torch
    import torch.nn as nn
    torch.set_num_threads(threads)
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{a.port}", rank=rank, world_size=world)
    torch.manual_seed(1)

    class CharLm(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(a.vocab, a.embedding)
            self.rnn = nn.LSTM(a.embedding, a.hidden, a.layers)  # time-major [T, B, F], as Recur's
            self.head = nn.Linear(a.hidden, a.vocab)

        def forward(self, x):
            y, _ = self.rnn(self.embedding(x))
            return self.head(y)

    model = CharLm()
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)  # 25 MiB buckets, all-reduce overlapping backward
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    local = a.batch // world
    g = torch.Generator().manual_seed(rank)
    x = torch.randint(0, a.vocab, (a.window, local), generator=g)
    t = torch.randint(0, a.vocab, (a.window * local,), generator=g)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x).reshape(-1, a.vocab), t)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    for _ in range(a.warmup):
        step()
    if world > 1:
        dist.barrier()
    t0 = time.perf_counter()
    for _ in range(a.iters):
        step()
    if world > 1:
        dist.barrier()
    seconds = time.perf_counter() - t0
    if rank == 0:
        tokens = a.batch * a.window * a.iters
        line = {"engine": "torch-cpu", "op": "data_parallel_char_lm", "torch": torch.__version__, "ranks": world,
                "threads_per_rank": threads, "collective": "gloo over TCP (DDP)" if world > 1 else "single process",
                "B": a.batch, "T": a.window, "H": a.hidden, "layers": a.layers, "steps": a.iters,
                "seconds": round(seconds, 6), "tokens_per_s": round(tokens / seconds, 3),
                "step_ms": round(1e3 * seconds / a.iters, 3)}
        if out is None:
            print(json.dumps(line), flush=True)
        else:
            out.put(line)
    if world > 1:
        dist.destroy_process_group()


def worker(rank, a, threads, out):
    train(a, rank, a.ranks, threads, out)


def main():
    a = parse()
    if a.batch % a.ranks:
        sys.exit("torch_ddp_char_lm: --batch must be a multiple of --ranks")
    train(a, 0, 1, a.threads, None)
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    mp.start_processes(worker, args=(a, max(1, a.threads // a.ranks), q), nprocs=a.ranks, start_method="spawn")
    print(json.dumps(q.get()), flush=True)


if __name__ == "__main__":
    main()
