#!/usr/bin/env python
"""Classifier training throughput with BPT3C: this project's `text_classifier` vs fastai's `get_text_classifier`, in one process.

Same configuration for both (the paper's classifier AWD-LSTM, `AWDLSTMConfig.classifier()`, seq_len 72 chunks,
max_len 1440, head [1200, 50, 2]), same random-init batches of `--doc-len` tokens (1,400: a long IMDb review; no
padding), one training step = reset, forward over all chunks, cross-entropy, backward, fused AdamW, under autocast
(fp16 with a GradScaler by default on a GPU). The models are timed in interleaved rounds (the fastest round counts,
the median is reported beside it); on CPU the clock is this process's CPU time. Peak GPU memory of each is its own
footprint: the most allocated during its steps minus what was allocated before its model was built.

    python benchmarks/gpu_clas.py                                   # tiny, CPU, < 30 s
    python benchmarks/gpu_clas.py --preset paper --device cuda      # vocab 60,000, 64 x 1,400 tokens, fp16

Writes benchmarks/results/gpu_clas.json, merged under the key `<preset>-<device>-<precision>-<bs>x<doc_len>`.
"""
import argparse, dataclasses, json, statistics
import torch
import torch.nn.functional as F


import gpu_common as C  # benchmarks/gpu_common.py: this script's folder is first on sys.path
C.block_spacy()
from ulmfit_nbdev.awd_lstm import AWDLSTMConfig
from ulmfit_nbdev.classifier import text_classifier

PRESETS = {  # config, vocabulary, batch size, document length, timed steps per round, rounds
    'tiny': dict(config=AWDLSTMConfig.classifier(embedding_size=32, hidden_size=48), vocab_size=2_000, bs=8, doc_len=300, steps=2, rounds=3),
    'paper': dict(config=AWDLSTMConfig.classifier(), vocab_size=60_000, bs=64, doc_len=1400, steps=8, rounds=3),
}


def fastai_classifier(vocab_size, n_classes, config, seq_len, max_len):
    from fastai.text.models.awdlstm import AWD_LSTM
    from fastai.text.models.core import get_text_classifier
    fastai_config = {k: v for k, v in config.as_fastai().items() if k not in ('tie_weights', 'out_bias')}  # LM-only keys
    return get_text_classifier(AWD_LSTM, vocab_size, n_classes, seq_len=seq_len, config=fastai_config,
                               drop_mult=1., lin_ftrs=[50], ps=[0.1], max_len=max_len)


def make_step(model, device, precision):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.7, 0.99), eps=1e-5, weight_decay=0.01,
                                  fused=device.type == 'cuda')
    dtype = C.DTYPES[precision]
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    def step(ids, labels):
        model.reset()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = F.cross_entropy(model(ids)[0].float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
        return loss.detach()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--preset', choices=PRESETS, default='tiny')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=C.DTYPES, help='default: fp16 on cuda, fp32 on cpu')
    parser.add_argument('--batch-size', type=int); parser.add_argument('--doc-len', type=int)
    parser.add_argument('--steps', type=int); parser.add_argument('--rounds', type=int)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=str(C.RESULTS / 'gpu_clas.json'))
    args = parser.parse_args()
    device = C.setup(args.device, args.threads)
    precision = C.default_precision(device, args.precision)
    p = PRESETS[args.preset]
    config, vocab_size = p['config'], p['vocab_size']
    bs, doc_len = args.batch_size or p['bs'], args.doc_len or p['doc_len']
    n_steps, rounds = args.steps or p['steps'], args.rounds or p['rounds']
    seq_len, max_len = 72, 1440

    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randint(9, vocab_size, (bs, doc_len), generator=generator).to(device),
                torch.randint(0, 2, (bs,), generator=generator).to(device)) for _ in range(2)]
    builders = {'ours': lambda: text_classifier(vocab_size, 2, config, seq_len=seq_len, max_len=max_len),
                'fastai': lambda: fastai_classifier(vocab_size, 2, config, seq_len, max_len)}
    steps, peaks = {}, {}
    for name, build in builders.items():
        torch.manual_seed(0)
        base = torch.cuda.memory_allocated(device) if device.type == 'cuda' else 0
        C.reset_peak(device)
        model = build().to(device).train()
        steps[name] = make_step(model, device, precision)
        for ids, labels in batches: steps[name](ids, labels)              # warm-up: cuDNN plans, allocator, Adam state
        C.sync(device)
        peaks[name] = round(torch.cuda.max_memory_allocated(device) / 2**30 - base / 2**30, 3) if device.type == 'cuda' else None
    seconds = {name: [] for name in builders}
    clock = C.clock(device)
    for _ in range(rounds):
        for name, step in steps.items():
            C.sync(device); start = clock()
            for i in range(n_steps): step(*batches[i % 2])
            C.sync(device); seconds[name].append(clock() - start)
    docs_per_s = {n: round(bs * n_steps / min(s), 1) for n, s in seconds.items()}
    result = dict(C.run_info(device), preset=args.preset, precision=precision, vocab_size=vocab_size, batch_size=bs,
                  doc_len=doc_len, seq_len=seq_len, max_len=max_len, config=dataclasses.asdict(config),
                  steps_per_round=n_steps, rounds=rounds, threads=args.threads,
                  clock='wall (cuda synchronized)' if device.type == 'cuda' else 'process CPU time',
                  docs_per_s=docs_per_s,
                  docs_per_s_median_round={n: round(bs * n_steps / statistics.median(s), 1) for n, s in seconds.items()},
                  tokens_per_s={n: round(v * doc_len) for n, v in docs_per_s.items()},
                  peak_gib=peaks,
                  clas_speedup_vs_fastai=round(docs_per_s['ours'] / docs_per_s['fastai'], 3),
                  memory_ratio_vs_fastai=round(peaks['ours'] / peaks['fastai'], 3) if device.type == 'cuda' else None)
    C.write_result(result, args.out, key=f'{args.preset}-{device.type}-{precision}-{bs}x{doc_len}')
    print(json.dumps({k: result[k] for k in ('device_name', 'precision', 'docs_per_s', 'peak_gib', 'clas_speedup_vs_fastai')}))


if __name__ == '__main__': main()
