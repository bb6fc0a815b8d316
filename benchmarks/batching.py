#!/usr/bin/env python
"""Time per language-model batch: `ulmfit_nbdev.batching.LMLoader` vs fastai's `LMDataLoader` on the same ids.

    python benchmarks/batching.py                      # CPU, 2M random ids, bs 64, bptt 70, shuffled
    python benchmarks/batching.py --device cuda        # batches on the GPU (fastai: collated on CPU, then moved)

Both loaders get the same documents (random ids, random lengths). fastai builds every batch row by row in Python;
ours builds each epoch once (one gather on `--device`) and hands out slices. "ms per batch" is the wall time of
iterating the loader (including each epoch's shuffle / buffer build, and waiting for the device), divided by the
batches yielded: ours over `--epochs` whole epochs, fastai over its first `--fastai-batches` batches (a fastai epoch
of 2M tokens takes tens of seconds on CPU). Before timing, the first batches of both (no shuffle) are checked equal.
Writes JSON to `--out` (default benchmarks/results/batching.json, or batching_<device>.json for a non-CPU device).
"""
import argparse, datetime, json, os, platform, sys, time
from pathlib import Path
import numpy as np
import torch

def make_docs(n_tokens, vocab_size, seed):
    "Random documents (lengths 20..480 tokens, ids in [0, vocab_size)) totalling about `n_tokens`."
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 481, size=n_tokens // 250 + 10)
    lengths = lengths[:int(np.searchsorted(np.cumsum(lengths), n_tokens)) + 1]
    ids = torch.from_numpy(rng.integers(0, vocab_size, size=int(lengths.sum())))
    return list(torch.split(ids, lengths.tolist()))

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def time_iteration(make_iter, device, max_batches=None, epochs=1):
    "Seconds and batches of iterating `epochs` epochs (or the first `max_batches` batches) of `make_iter()`."
    sync(device)
    start = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for x, y in make_iter():
            n += 1
            if max_batches is not None and n >= max_batches: break
    sync(device)
    return time.perf_counter() - start, n

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n-tokens', type=int, default=2_000_000)
    p.add_argument('--vocab-size', type=int, default=60_000)
    p.add_argument('--bs', type=int, default=64)
    p.add_argument('--bptt', type=int, default=70)
    p.add_argument('--no-shuffle', action='store_true', help='time unshuffled loaders (default: shuffled, as in training)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--epochs', type=int, default=3, help='epochs of our loader to time')
    p.add_argument('--fastai-batches', type=int, default=100, help='batches of fastai to time')
    p.add_argument('--threads', type=int, default=1, help='torch threads (0: torch default)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default=None)
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    from fastai.text.data import LMDataLoader
    from ulmfit_nbdev.batching import LMLoader

    device, shuffle = torch.device(args.device), not args.no_shuffle
    docs = make_docs(args.n_tokens, args.vocab_size, args.seed)
    n_tokens = sum(len(d) for d in docs)

    # same batches first (unshuffled, fixed length)
    fastai_plain = iter(LMDataLoader(docs, bs=args.bs, seq_len=args.bptt, shuffle=False))
    ours_plain = iter(LMLoader(docs, bs=args.bs, bptt=args.bptt, device=device))
    identical = all(torch.equal(a.cpu(), fa.as_subclass(torch.Tensor)) and torch.equal(b.cpu(), fb.as_subclass(torch.Tensor))
                    for (a, b), (fa, fb), _ in zip(ours_plain, fastai_plain, range(20)))

    start = time.perf_counter()
    ours = LMLoader(docs, bs=args.bs, bptt=args.bptt, shuffle=shuffle, seed=args.seed, device=device)
    sync(device); ours_build_s = time.perf_counter() - start
    start = time.perf_counter()
    fastai = LMDataLoader(docs, bs=args.bs, seq_len=args.bptt, shuffle=shuffle, device=device)
    fastai_build_s = time.perf_counter() - start

    time_iteration(lambda: ours, device, max_batches=5)                 # warm-up (allocator, kernels)
    ours_s, ours_n = time_iteration(lambda: ours, device, epochs=args.epochs)
    time_iteration(lambda: fastai, device, max_batches=5)
    fastai_s, fastai_n = time_iteration(lambda: fastai, device, max_batches=args.fastai_batches)

    ours_ms, fastai_ms = 1000 * ours_s / ours_n, 1000 * fastai_s / fastai_n
    result = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        command=' '.join(['python'] + sys.argv),
        cores=os.cpu_count(), torch_threads=torch.get_num_threads(), device=str(device),
        device_name=torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or platform.machine(),
        torch=torch.__version__, fastai=__import__('fastai').__version__,
        n_tokens=n_tokens, n_docs=len(docs), bs=args.bs, bptt=args.bptt, shuffle=shuffle,
        identical_to_fastai=bool(identical), batches_per_epoch=len(ours),
        ms_per_batch_ours=round(ours_ms, 4), ms_per_batch_fastai=round(fastai_ms, 3),
        speedup=round(fastai_ms / ours_ms, 1),
        tokens_per_s_ours=round(ours_n * args.bs * args.bptt / ours_s), tokens_per_s_fastai=round(fastai_n * args.bs * args.bptt / fastai_s),
        batches_timed_ours=ours_n, batches_timed_fastai=fastai_n,
        construct_s_ours=round(ours_build_s, 3), construct_s_fastai=round(fastai_build_s, 3),
    )
    out = Path(args.out or Path(__file__).parent / 'results' / ('batching.json' if device.type == 'cpu' else f'batching_{device.type}.json'))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))

if __name__ == '__main__': main()
