#!/usr/bin/env python
"""Training-step throughput of this project's AWD-LSTM language model vs fastai's, side by side.

One step = forward, `language_model_loss` (cross-entropy + AR + TAR, fp32), backward, Adam(0.7, 0.99), on slices of
one on-device token tensor (no data loading), hidden state carried across windows as in LM training. The two models
(and, for reference, a bare `nn.LSTM` stack without any dropout, as in ../shared/PAPER.md) are timed in interleaved
rounds so that a busy shared machine slows them alike (on CPU the clock is the process's CPU time, so that
waiting for a core shared with other jobs does not count; with --threads 1 that is the compute time); the fastest round of each (least disturbed by other
processes) gives `tokens_per_s` and the ratios, the median round is reported beside it.

    python benchmarks/model_step.py                                  # tiny model on CPU, < 1 minute
    python benchmarks/model_step.py --preset paper --device cuda     # paper size (vocab 60,000, 64 x 70), GPU
    python benchmarks/model_step.py --preset paper --device cuda --precision fp16 --batch-size 256

Results are merged into benchmarks/results/model_step.json under the key `<preset>-<device>-<precision>-<bs>x<bptt>`.
"""
import sys
import argparse, dataclasses, datetime, json, platform, statistics, time
from pathlib import Path
import torch
from torch import nn
from ulmfit_nbdev.awd_lstm import AWDLSTMConfig, language_model, language_model_loss

PRESETS = {  # config, vocabulary size, batch size, bptt
    'tiny': (AWDLSTMConfig.tiny(), 2_000, 32, 70),
    'paper': (AWDLSTMConfig.lm(), 60_000, 64, 70),
}
DTYPES = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


class BareLSTMStack(nn.Module):
    "Embedding, one stacked `nn.LSTM` (cuDNN's fastest path), tied decoder; no dropout, no AR/TAR inputs worth noting."
    def __init__(self, vocab_size, config):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(config.embedding_size, config.hidden_size, config.n_layers - 1, batch_first=True)
        self.last = nn.LSTM(config.hidden_size, config.embedding_size, batch_first=True)  # back to the embedding size
        self.decoder = nn.Linear(config.embedding_size, vocab_size)
        self.decoder.weight = self.embedding.weight
        self.hidden = None
    def reset(self): self.hidden = None
    def forward(self, ids):
        hidden = self.hidden or (None, None)
        output, first = self.lstm(self.embedding(ids), hidden[0])
        output, last = self.last(output, hidden[1])
        self.hidden = (tuple(s.detach() for s in first), tuple(s.detach() for s in last))
        return self.decoder(output), output, output


def fastai_language_model(vocab_size, config):
    "fastai's `get_language_model(AWD_LSTM, ...)` with the same configuration."
    from fastai.text.models.awdlstm import AWD_LSTM
    from fastai.text.models.core import get_language_model
    return get_language_model(AWD_LSTM, vocab_size, config=config.as_fastai())


def make_step(model, device, precision, alpha_beta=True):
    "A closure running one training step on (inputs, targets)."
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.7, 0.99))
    dtype = DTYPES[precision]
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    def step(inputs, targets):
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            output = model(inputs)
            loss = language_model_loss(output, targets, *((2., 1.) if alpha_beta else (0., 0.)))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
        return loss
    return step


def time_steps(step, model, stream, bptt, n_steps, device):
    "Seconds for `n_steps` consecutive windows of `stream` (state carried): CPU time of this process on CPU, wall on GPU."
    model.train()
    clock = time.perf_counter if device.type == 'cuda' else time.process_time  # CPU time: other processes don't count
    if device.type == 'cuda': torch.cuda.synchronize()
    start = clock()
    for i in range(n_steps):
        offset = (i * bptt) % (stream.size(1) - bptt - 1)
        step(stream[:, offset:offset + bptt], stream[:, offset + 1:offset + bptt + 1])
    if device.type == 'cuda': torch.cuda.synchronize()
    return clock() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--preset', choices=PRESETS, default='tiny')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=DTYPES, default='fp32')
    parser.add_argument('--batch-size', type=int); parser.add_argument('--bptt', type=int)
    parser.add_argument('--steps', type=int, help='timed steps per round (default: 4 tiny, 20 paper)')
    parser.add_argument('--rounds', type=int, default=7, help='interleaved rounds; the fastest and the median are reported')
    parser.add_argument('--threads', type=int, default=1, help='CPU threads (torch.set_num_threads)')
    parser.add_argument('--no-bare', action='store_true', help='skip the bare nn.LSTM stack')
    parser.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'model_step.json'))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config, vocab_size, batch_size, bptt = PRESETS[args.preset]
    batch_size, bptt = args.batch_size or batch_size, args.bptt or bptt
    n_steps = args.steps or (4 if args.preset == 'tiny' else 20)
    if device.type == 'cpu' and args.precision == 'fp16': sys.exit("fp16 autocast is not supported by oneDNN's CPU LSTM")

    torch.manual_seed(0)
    models = {'ours': language_model(vocab_size, config), 'fastai': fastai_language_model(vocab_size, config)}
    if not args.no_bare: models['bare_lstm_no_dropout'] = BareLSTMStack(vocab_size, config)
    stream = torch.randint(0, vocab_size, (batch_size, bptt * (n_steps + 2)), device=device)
    steps = {}
    for name, model in models.items():
        model.to(device)
        steps[name] = make_step(model, device, args.precision, alpha_beta=name != 'bare_lstm_no_dropout')
        model.reset(); time_steps(steps[name], model, stream, bptt, 3, device)  # warm-up (cuDNN plans, allocator)
    seconds = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            seconds[name].append(time_steps(steps[name], model, stream, bptt, n_steps, device))
    tokens = batch_size * bptt * n_steps
    throughput = {name: round(tokens / min(s)) for name, s in seconds.items()}
    median_throughput = {name: round(tokens / statistics.median(s)) for name, s in seconds.items()}
    device_name = torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or platform.machine()
    result = dict(
        preset=args.preset, device=device.type, device_name=device_name, precision=args.precision,
        batch_size=batch_size, bptt=bptt, vocab_size=vocab_size, config=dataclasses.asdict(config),
        steps_per_round=n_steps, rounds=args.rounds, threads=args.threads,
        clock='wall (cuda synchronized)' if device.type == 'cuda' else 'process CPU time',
        tokens_per_s=throughput, tokens_per_s_median_round=median_throughput,
        ratio_ours_to_fastai=round(throughput['ours'] / throughput['fastai'], 3),
        torch=torch.__version__, date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        command='python ' + ' '.join(sys.argv),
    )
    if 'bare_lstm_no_dropout' in throughput:
        result['ratio_ours_to_bare'] = round(throughput['ours'] / throughput['bare_lstm_no_dropout'], 3)
    out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    results[f'{args.preset}-{device.type}-{args.precision}-{batch_size}x{bptt}'] = result
    out.write_text(json.dumps(results, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__': main()
