#!/usr/bin/env python
"""Language-model training throughput INSIDE the whole training loop: this project vs fastai 2.8, in one process.

Every contender trains the same random-init AWD-LSTM configuration on the same token stream (the IMDb training
reviews of a `pretok_imdb.py` .npz, or random ids), batch x bptt windows, AR/TAR on, mixed precision on a GPU:

  fastai_learner  fastai's `TextLearner` fed by its `LMDataLoader` (ModelResetter, RNNCallback, RNNRegularizer,
                  MixedPrecision via `to_fp16()`/`to_bf16()`, fastai's Adam): the bar.
  ours_learner    our `LMLoader` (batches as views of one on-device tensor) + our `language_model` + our
                  `language_model_loss` (AR/TAR inside the loss) in a plain fastai `Learner` with the same callbacks'
                  roles (ModelResetter, MixedPrecision) and fastai's Adam: what fastai users of this package get.
  ours_lean       our `LMLoader` + our model + `language_model_loss` in a lean PyTorch loop: autocast, fused AdamW whose
                  GradScaler step needs no host sync, the loss summed on the device, no per-batch callbacks. This is how
                  this project beats fastai's loop (`imdb_time_to_accuracy.py` trains with it).
  bare_lean       the bare cuDNN LSTM stack of model_step.py (no dropout, no AR/TAR) in the same lean loop and loader:
                  the near-limit reference for the ">= 90% of bare" goal.

Each contender: `--warmup` batches, then `--batches` timed batches (wall clock, synchronized, on a GPU; this process's
CPU time on CPU, so other jobs on shared cores don't count), peak GPU memory from a fresh reset. With `--rounds` > 1
the contenders run in turn that many times and the best round counts.

    python benchmarks/gpu_lm_loop.py                                            # tiny, CPU, < 1 minute
    python benchmarks/gpu_lm_loop.py --preset paper --device cuda --npz .cache/gpu/imdb_ids.npz

Writes benchmarks/results/gpu_lm_loop.json, merged under the key `<preset>-<device>-<precision>`.
"""
import sys
import argparse, dataclasses, gc, json
import numpy as np
import torch


import gpu_common as C  # benchmarks/gpu_common.py: this script's folder is first on sys.path
C.block_spacy()
from ulmfit_nbdev.awd_lstm import AWDLSTMConfig, language_model, language_model_loss
from ulmfit_nbdev.batching import LMLoader

PRESETS = {  # model config, vocabulary size (random ids; an .npz sets its own), batch sizes, bptt, warmup, timed batches
    'tiny': dict(config=AWDLSTMConfig.tiny(), vocab_size=2_000, batch_sizes=(16, 64), bptt=70, warmup=2, batches=8),
    'paper': dict(config=AWDLSTMConfig.lm(), vocab_size=60_000, batch_sizes=(64, 256), bptt=70, warmup=15, batches=100),
}
CONTENDERS = ('fastai_learner', 'ours_learner', 'ours_lean', 'bare_lean')


class Timer:
    "Times batches `warmup` .. `warmup + n` of a fastai fit, then cancels it (a fastai Callback, built lazily)."
    def __new__(cls, device, warmup, n):
        from fastai.callback.core import Callback, CancelFitException
        class _Timer(Callback):
            order = 99
            def before_fit(self): self.i, self.seconds = 0, None
            def after_batch(self):
                self.i += 1
                if self.i == warmup: C.sync(device); self.start = C.clock(device)()
                if self.i == warmup + n:
                    C.sync(device); self.seconds = C.clock(device)() - self.start
                    self.final_loss = float(self.learn.loss)
                    raise CancelFitException()
        return _Timer()


def quiet(learn, precision):
    "No progress bar, no logger; fastai's mixed precision for fp16/bf16."
    from fastai.callback.progress import ProgressCallback
    learn.remove_cb(ProgressCallback); learn.logger = lambda *a, **k: None
    if precision == 'fp16': learn = learn.to_fp16()
    if precision == 'bf16': learn = learn.to_bf16()
    return learn


def run_fastai_learner(docs, valid_docs, vocab_size, config, bs, bptt, device, precision, warmup, n):
    from fastai.text.all import (TextLearner, LMDataLoader, DataLoaders, get_language_model, AWD_LSTM,
                                 CrossEntropyLossFlat, awd_lstm_lm_split, TensorText)
    as_text = lambda ds: [TensorText(d) for d in ds]
    dls = DataLoaders(LMDataLoader(as_text(docs), bs=bs, seq_len=bptt, shuffle=True),
                      LMDataLoader(as_text(valid_docs), bs=bs, seq_len=bptt), device=device)
    model = get_language_model(AWD_LSTM, vocab_size, config=config.as_fastai())
    learn = TextLearner(dls, model, loss_func=CrossEntropyLossFlat(), splitter=awd_lstm_lm_split, path='/tmp/gpu_lm_loop')
    learn = quiet(learn, precision)  # TextLearner's defaults: alpha=2, beta=1 (AR/TAR)
    timer = Timer(device, warmup, n)
    learn.fit(1, 1e-3, cbs=timer)
    if timer.seconds is None: sys.exit(f'fastai_learner: the epoch ended after {timer.i} batches, before {warmup + n}')
    return timer.seconds, timer.final_loss


def run_ours_learner(docs, valid_docs, vocab_size, config, bs, bptt, device, precision, warmup, n):
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.callback.rnn import ModelResetter
    dls = DataLoaders(LMLoader(docs, bs=bs, bptt=bptt, shuffle=True, seed=0, device=device),
                      LMLoader(valid_docs, bs=bs, bptt=bptt, device=device), device=device)
    model = language_model(vocab_size, config)
    learn = Learner(dls, model, loss_func=lambda output, targets: language_model_loss(output, targets, 2., 1.),
                    cbs=[ModelResetter()], path='/tmp/gpu_lm_loop')
    learn = quiet(learn, precision)
    timer = Timer(device, warmup, n)
    learn.fit(1, 1e-3, cbs=timer)
    if timer.seconds is None: sys.exit(f'ours_learner: the epoch ended after {timer.i} batches, before {warmup + n}')
    return timer.seconds, timer.final_loss


def lean_fit(model, loader, device, precision, warmup, n, alpha=2., beta=1., lr=1e-3):
    "The lean loop: autocast, fused AdamW (its GradScaler step never syncs), loss summed on the device; (seconds, mean loss)."
    model.to(device).train(); model.reset()
    fused = device.type == 'cuda'
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01, fused=fused)
    dtype = C.DTYPES[precision]
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    total = torch.zeros((), device=device)
    batches = iter(loader)
    for i in range(warmup + n):
        if i == warmup: C.sync(device); start = C.clock(device)(); total.zero_()
        inputs, targets = next(batches)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = language_model_loss(model(inputs), targets, alpha, beta)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
        total += loss.detach()
    C.sync(device)
    return C.clock(device)() - start, float(total) / n


def run_ours_lean(docs, valid_docs, vocab_size, config, bs, bptt, device, precision, warmup, n):
    loader = LMLoader(docs, bs=bs, bptt=bptt, shuffle=True, seed=0, device=device)
    return lean_fit(language_model(vocab_size, config), loader, device, precision, warmup, n)


def run_bare_lean(docs, valid_docs, vocab_size, config, bs, bptt, device, precision, warmup, n):
    from model_step import BareLSTMStack  # benchmarks/model_step.py
    bare = BareLSTMStack(vocab_size, config)
    loader = LMLoader(docs, bs=bs, bptt=bptt, shuffle=True, seed=0, device=device)
    return lean_fit(bare, loader, device, precision, warmup, n, alpha=0., beta=0.)


RUNNERS = dict(fastai_learner=run_fastai_learner, ours_learner=run_ours_learner, ours_lean=run_ours_lean, bare_lean=run_bare_lean)


def token_stream(args, vocab_size, n_tokens):
    "Training and validation documents: the first IMDb training reviews of the .npz, or random ids."
    if args.npz:
        data = C.load_npz(args.npz)
        docs, _ = C.split_docs(data, 'train', vocab_size=vocab_size)
        lengths = np.cumsum([len(d) for d in docs])
        k = int(np.searchsorted(lengths, n_tokens)) + 1
        if k > len(docs): sys.exit(f'{args.npz}: train split has {lengths[-1]} tokens, {n_tokens} needed; lower --batches')
        return docs[:k], docs[k:k + 50], 'npz:' + str(args.npz)
    docs = C.random_docs(n_tokens, vocab_size, seed=0)
    return docs, C.random_docs(20_000, vocab_size, seed=1), 'random ids'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--preset', choices=PRESETS, default='tiny')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=C.DTYPES, help='default: fp16 on cuda, fp32 on cpu')
    parser.add_argument('--npz', help='pre-tokenized IMDb from pretok_imdb.py (default: random ids)')
    parser.add_argument('--batch-sizes', help='comma-separated, e.g. 64,256 (default: the preset\'s)')
    parser.add_argument('--bptt', type=int); parser.add_argument('--warmup', type=int); parser.add_argument('--batches', type=int)
    parser.add_argument('--rounds', type=int, default=1, help='run all contenders this many times, keep the best of each')
    parser.add_argument('--contenders', default=','.join(CONTENDERS), help=f'comma-separated subset of {CONTENDERS}')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=str(C.RESULTS / 'gpu_lm_loop.json'))
    args = parser.parse_args()
    device = C.setup(args.device, args.threads)
    precision = C.default_precision(device, args.precision)
    preset = PRESETS[args.preset]
    config, bptt = preset['config'], args.bptt or preset['bptt']
    warmup, n = args.warmup or preset['warmup'], args.batches or preset['batches']
    batch_sizes = [int(b) for b in args.batch_sizes.split(',')] if args.batch_sizes else list(preset['batch_sizes'])
    contenders = args.contenders.split(',')
    if bad := [c for c in contenders if c not in RUNNERS]: sys.exit(f'unknown contenders {bad}; choose from {CONTENDERS}')
    vocab_size = preset['vocab_size']
    if args.npz and args.preset == 'paper': vocab_size = len(C.load_npz(args.npz)['vocab'])

    result = dict(C.run_info(device), preset=args.preset, precision=precision, vocab_size=vocab_size, bptt=bptt,
                  config=dataclasses.asdict(config), warmup_batches=warmup, timed_batches=n, rounds=args.rounds,
                  threads=args.threads, clock='wall (cuda synchronized)' if device.type == 'cuda' else 'process CPU time',
                  contenders=contenders,
                  runs={}, tokens_per_s={}, ms_per_batch={}, peak_gib={}, ratios={})
    for bs in batch_sizes:
        key = f'{bs}x{bptt}'
        docs, valid_docs, source = token_stream(args, vocab_size, (warmup + n + 4) * bs * bptt)
        result['token_source'] = source
        seconds, peaks, losses = {c: [] for c in contenders}, {}, {}
        for _ in range(args.rounds):
            for name in contenders:
                C.reset_peak(device); torch.manual_seed(0)
                s, loss = RUNNERS[name](docs, valid_docs, vocab_size, config, bs, bptt, device, precision, warmup, n)
                seconds[name].append(s); peaks[name] = C.peak_gib(device); losses[name] = round(loss, 4)
                print(json.dumps(dict(batch=key, contender=name, seconds=round(s, 3), tokens_per_s=round(bs * bptt * n / s),
                                      peak_gib=peaks[name], loss=losses[name])), flush=True)
                gc.collect()
        best = {c: min(s) for c, s in seconds.items()}
        tps = {c: round(bs * bptt * n / s) for c, s in best.items()}
        result['runs'][key] = dict(seconds=seconds, final_loss=losses)
        result['tokens_per_s'][key] = tps
        result['ms_per_batch'][key] = {c: round(1000 * s / n, 2) for c, s in best.items()}
        result['peak_gib'][key] = peaks
        ratios = {}
        if 'fastai_learner' in tps:
            for c in ('ours_lean', 'ours_learner'):
                if c in tps: ratios[f'{c}_vs_fastai_learner'] = round(tps[c] / tps['fastai_learner'], 3)
        if 'bare_lean' in tps:
            for c in ('ours_lean', 'ours_learner', 'fastai_learner'):
                if c in tps: ratios[f'{c}_vs_bare'] = round(tps[c] / tps['bare_lean'], 3)
        result['ratios'][key] = ratios
    last = f'{batch_sizes[-1]}x{bptt}'
    result['lm_loop_speedup_vs_fastai'] = result['ratios'][last].get('ours_lean_vs_fastai_learner')
    result['lm_loop_ratio_to_bare'] = result['ratios'][last].get('ours_lean_vs_bare')
    result['headline_batch'] = last
    C.write_result(result, args.out, key=f'{args.preset}-{device.type}-{precision}')
    print(json.dumps({k: result[k] for k in ('device_name', 'precision', 'tokens_per_s', 'ratios', 'peak_gib')}, indent=1))


if __name__ == '__main__': main()
