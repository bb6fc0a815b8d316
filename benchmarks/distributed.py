#!/usr/bin/env python
"""Language-model training tokens/s in 1 process vs 2 processes under torchrun (DDP over gloo, on CPU): scaling efficiency.

Every run trains the project's Learner — `pipeline.lm_learner` (variable BPTT, AR/TAR, `ScaleLRBySeqLen`, the
configuration's Adam), made data-parallel by `distributed.ddp_lm_learner` — on random token ids, and times its training
steps by the wall clock (waiting for the other rank is part of the cost) after a few warm-up steps. Four cases,
interleaved over the repeats so that a busy shared machine slows them alike:

* `single`: one plain process, batch `--batch` (in this process);
* `ddp_same_per_process`: `torchrun --nproc-per-node 2`, `--batch` streams per process (a global batch twice as large):
  scaling efficiency = its tokens/s per process / `single`'s tokens/s;
* `ddp_same_global`: `torchrun --nproc-per-node 2`, the global batch `--batch` (half per process): the speed-up a user
  gets without changing the configuration;
* `independent`: two plain processes side by side, each `single`, nothing exchanged: the most two processes can do on
  this machine, so `ddp_same_per_process / independent` is what the communication and the waiting cost.

Each process also reports its CPU time over the timed steps: `core_share` (CPU time / wall time) says how much of a
core it actually got. On a machine whose cores other jobs also use, the wall-clock efficiency mostly measures them;
`scaling_efficiency_per_cpu_second` (tokens per CPU-second of a DDP rank over those of the single process) counts the
work a rank does, the all-reduce included, and leaves out the time it sleeps waiting for a core or for the other rank:
an estimate of the efficiency with a free core per process, which this shared machine could not give.

    python benchmarks/distributed.py             # the 'cpu' preset's model (100/256, 2 layers), vocab 6,000, 3 repeats (minutes)
    python benchmarks/distributed.py --tiny      # seconds: tiny model, 1 repeat, `single` and `ddp_same_per_process` only

Writes benchmarks/results/distributed.json (with `--tiny`: nothing unless `--out` is given), with the machine's load
average before and after: on a machine shared with other jobs the figures say what this machine did then.
"""
import argparse, datetime, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch
from fastai.callback.core import Callback, CancelFitException
from fastai.torch_core import set_seed
from ulmfit_nbdev.config import preset
from ulmfit_nbdev.distributed import distributed_context, ddp_lm_learner
from ulmfit_nbdev.pipeline import lm_learner

HERE = Path(__file__).resolve()


class StepClock(Callback):
    "Wall-clock time and tokens of every training step; stops the fit after `n_steps`."
    order = 100
    def __init__(self, n_steps): self.n_steps = n_steps
    def before_fit(self): self.times, self.cpu_times, self.tokens = [], [], []
    def after_batch(self):
        if not self.training: return
        self.times.append(time.perf_counter()); self.cpu_times.append(time.process_time()); self.tokens.append(self.xb[0].numel())
        if len(self.times) == self.n_steps: raise CancelFitException


def train_and_time(args, global_batch:int) -> dict:
    "Train `args.warmup + args.steps` steps (in a process group if there is one); this process's tokens and seconds after warm-up."
    torch.set_num_threads(1)
    config = preset(args.preset, bs=global_batch, bptt=args.bptt, pretrain_max_vocab=args.vocab)
    n_tokens = int((args.warmup + args.steps + 4) * global_batch * args.bptt * 1.2)
    generator = torch.Generator().manual_seed(0)
    train = list(torch.randint(2, args.vocab, (n_tokens,), generator=generator).split(500))
    valid = [torch.randint(2, args.vocab, (2 * global_batch * args.bptt,), generator=generator)]
    itos = [f'w{i}' for i in range(args.vocab)]
    with distributed_context() as info:
        set_seed(0)
        learn = ddp_lm_learner(lm_learner(train, valid, itos, config), itos, config.to_dict())
        clock = StepClock(args.warmup + args.steps)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=clock)
    seconds, tokens = clock.times[-1] - clock.times[args.warmup - 1], sum(clock.tokens[args.warmup:])
    cpu_seconds = clock.cpu_times[-1] - clock.cpu_times[args.warmup - 1]      # the share of a core this process got
    return dict(rank=info.rank, world_size=info.world_size, batch_per_process=global_batch // info.world_size,
                tokens=tokens, seconds=round(seconds, 4), tokens_per_s=round(tokens / seconds, 1),
                cpu_seconds=round(cpu_seconds, 4), core_share=round(cpu_seconds / seconds, 3))


def worker_command(args, out:Path, global_batch:int) -> list:
    "The script and its arguments for one process of a case (after `python` or `torchrun`)."
    return [str(HERE), '--worker', str(out), '--global-batch', str(global_batch), '--preset', args.preset,
            '--vocab', str(args.vocab), '--bptt', str(args.bptt), '--steps', str(args.steps), '--warmup', str(args.warmup)]


def run_case(case:str, args, tmp:Path) -> dict:
    "One case: the tokens/s of all its processes together, and of each process."
    out = tmp/case; out.mkdir(parents=True, exist_ok=True)
    for old in out.glob('*.json'): old.unlink()
    env = dict(os.environ, OMP_NUM_THREADS='1')
    load_before = os.getloadavg()
    if case == 'single': ranks = [train_and_time(args, args.batch)]
    else:
        if case == 'independent':                                    # two plain processes, side by side
            procs = [subprocess.Popen([sys.executable, *worker_command(args, out/f'{i}', args.batch)], env=env) for i in range(2)]
            codes = [p.wait() for p in procs]
        else:
            global_batch = 2 * args.batch if case == 'ddp_same_per_process' else args.batch
            torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node=2']
            codes = [subprocess.run(torchrun + worker_command(args, out, global_batch), env=env).returncode]
        if any(codes): sys.exit(f'{case}: a process failed (exit codes {codes})')
        ranks = [json.loads(p.read_text()) for p in sorted(out.glob('*.json'))]
    return dict(case=case, tokens_per_s=round(sum(r['tokens_per_s'] for r in ranks), 1),
                tokens_per_s_per_process=round(statistics.mean(r['tokens_per_s'] for r in ranks), 1),
                batch_per_process=ranks[0]['batch_per_process'], processes=ranks,
                core_share=round(statistics.mean(r['core_share'] for r in ranks), 3),
                load_average=[round(x, 2) for x in load_before])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--tiny', action='store_true', help='seconds: tiny model, one repeat, two cases, nothing written by default')
    parser.add_argument('--preset', default=None, help="model sizes: 'cpu' (default) or 'tiny' (default with --tiny)")
    parser.add_argument('--vocab', type=int, default=None, help='vocabulary size (default 6000; 500 with --tiny)')
    parser.add_argument('--batch', type=int, default=None, help='streams per process for the scaling figure (default 32; 8 with --tiny)')
    parser.add_argument('--bptt', type=int, default=70)
    parser.add_argument('--steps', type=int, default=None, help='timed steps (default 30; 5 with --tiny)')
    parser.add_argument('--warmup', type=int, default=None, help='untimed steps first (default 5; 2 with --tiny)')
    parser.add_argument('--repeats', type=int, default=None, help='rounds of all the cases (default 3; 1 with --tiny)')
    parser.add_argument('--out', default=None, help='results file (default: benchmarks/results/distributed.json; none with --tiny)')
    parser.add_argument('--worker', help=argparse.SUPPRESS); parser.add_argument('--global-batch', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    tiny = args.tiny
    defaults = dict(preset='tiny' if tiny else 'cpu', vocab=500 if tiny else 6000, batch=8 if tiny else 32,
                    steps=5 if tiny else 30, warmup=2 if tiny else 5, repeats=1 if tiny else 3)
    for k, v in defaults.items():
        if getattr(args, k) is None: setattr(args, k, v)
    if args.worker:                                                  # one process of a case: its figures to a file
        result = train_and_time(args, args.global_batch)          # a rank of torchrun: OUT/rank<r>.json; a plain process: OUT.json
        path = Path(args.worker)/f"rank{result['rank']}.json" if result['world_size'] > 1 else Path(f'{args.worker}.json')
        path.write_text(json.dumps(result)); return
    out = Path(args.out) if args.out else (None if tiny else HERE.parent/'results'/'distributed.json')
    cases = ['single', 'ddp_same_per_process'] if tiny else ['single', 'ddp_same_per_process', 'ddp_same_global', 'independent']
    load_start, start = os.getloadavg(), time.time()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for case in cases:
                runs.append(dict(run_case(case, args, Path(tmp)), repeat=repeat))
                print(f"repeat {repeat} {case:>22}: {runs[-1]['tokens_per_s']:>9,.0f} tokens/s ({runs[-1]['tokens_per_s_per_process']:,.0f} "
                      f"per process, each on {runs[-1]['core_share']:.0%} of a core; load {runs[-1]['load_average'][0]:.2f})", flush=True)
    median = {case: statistics.median(r['tokens_per_s'] for r in runs if r['case'] == case) for case in cases}
    per_process = {case: statistics.median(r['tokens_per_s_per_process'] for r in runs if r['case'] == case) for case in cases}
    config = preset(args.preset)
    core_share = {case: statistics.median(r['core_share'] for r in runs if r['case'] == case) for case in cases}
    result = dict(
        scaling_efficiency=round(per_process['ddp_same_per_process'] / per_process['single'], 3),
        tokens_per_s={'1': median['single'], '2': median['ddp_same_per_process']},
        tokens_per_s_per_process={'1': per_process['single'], '2': per_process['ddp_same_per_process']},
        core_share=core_share, batch_per_process=args.batch, bptt=args.bptt,
        clock='wall clock, training steps after warm-up; core_share = process CPU time / wall time',
        model=dict(preset=args.preset, embedding_size=config.embedding_size, hidden_size=config.hidden_size,
                   n_layers=config.n_layers, vocab_size=args.vocab), steps=args.steps, warmup_steps=args.warmup,
        repeats=args.repeats, runs=runs, backend='gloo', threads_per_process=1, cores=os.cpu_count(),
        load_average_before=[round(x, 2) for x in load_start], load_average_after=[round(x, 2) for x in os.getloadavg()],
        seconds=round(time.time() - start, 1), torch=torch.__version__,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        command='python benchmarks/distributed.py' + ''.join(' ' + a for a in sys.argv[1:]))
    per_cpu_second = {case: per_process[case] / core_share[case] for case in cases}   # tokens per second of CPU actually obtained
    result['scaling_efficiency_per_cpu_second'] = round(per_cpu_second['ddp_same_per_process'] / per_cpu_second['single'], 3)
    if 'ddp_same_global' in median:
        result.update(same_global_batch_tokens_per_s={'1': median['single'], '2': median['ddp_same_global']},
                      same_global_batch_speedup=round(median['ddp_same_global'] / median['single'], 3),
                      independent_processes_tokens_per_s={'2': median['independent']},
                      communication_efficiency=round(median['ddp_same_per_process'] / median['independent'], 3),
                      independent_efficiency_per_cpu_second=round(per_cpu_second['independent'] / per_cpu_second['single'], 3))
    print(json.dumps({k: v for k, v in result.items() if k != 'runs'}, indent=1))
    if out is not None: out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
