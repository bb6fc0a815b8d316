#!/usr/bin/env python
"""Tables 4, 6 and 7 of the paper at a learner's scale: every row of `ABLATIONS` on TREC-6 (all 5,452 labels), from
the shipped WikiText-2 stage 1, with the `cpu` preset (but 2 LM fine-tuning epochs, not its 100-step minimum, to fit
80 runs in an hour on 2 cores) and one seed per run.

    python benchmarks/ablations.py [--seeds 0,1,2,3,4] [--rows all] [--workers 2] [--out benchmarks/results/ablations.json]
    python benchmarks/ablations.py --dataset imdb [--labels 1000] [--seeds 0,1,2] [--rows ...]   # -> ablations_imdb.json

Without `--out`, another label count than the default goes to its own file (`ablations_imdb_500.json`), and so do
`--tiny` runs (`ablations_tiny.json`): neither can mix into the tables the notebooks read. Each run keeps the commit it
ran on (`commit`): across code versions a seed's accuracy moves (see 13).

`--dataset imdb` runs the rows of `IMDB_ROWS` (those that isolate STLR, discriminative rates, gradual unfreezing,
pretraining and LM fine-tuning) on `--labels` labelled reviews, drawn per seed exactly as `low_shot.py` draws them,
tested on its fixed 1,000 test reviews and with its IMDb settings: so the `ULMFiT` and `without pretraining` rows are
the configurations of its `ulmfit` and `scratch` arms at that label count (on the same code version a seed repeats
their runs).
'vanilla LM' (Table 5) turns dropout off in stages 2 and 3 only: the shipped stage 1 was pretrained with AWD-LSTM's
dropouts, and pretraining one without (83 minutes on this class of machine) is not part of this run. 'Freez + discr +
stlr' is full ULMFiT by definition and shares its runs. Every run is appended to `<out>.runs.jsonl` as it finishes and a
rerun skips those and the runs kept in `<out>` (the log is not committed), so the command can be stopped and
continued. `<out>` holds per row the accuracies per seed and the
paired differences to full ULMFiT (same seed: same labelled examples, validation split and initialisation of what both
train).
"""
import argparse, concurrent.futures, datetime, json, multiprocessing, sys, time
from pathlib import Path

SAME_AS = {'Freez + discr + stlr': 'ULMFiT'}                    # identical settings: one set of runs
NEEDS_STAGE1 = ()                                                # rows that would need a stage 1 of their own

TINY = dict(train=300, test=60, lm_epochs=1, clas_epochs=4, lm_min_steps=0, clas_min_steps=0)   # --tiny: checks that the script runs, in seconds (no step floors)
FIXED = dict(trec=dict(lm_min_steps=0,   # 2 LM epochs (the preset's 100-step minimum would give 8): 80 runs in an hour
                       precision='fp32'), # the stored runs' (the preset's 'auto' would pick bf16 on some CPUs)
             imdb=dict(clas_min_steps=100, lm_min_steps=33, precision='fp32'))   # low_shot.py's IMDb runs (--min-steps 100)
IMDB_ROWS = ('ULMFiT', 'Freez + discr', 'Freez + stlr', 'Full + discr', 'no LM fine-tuning', 'Last', 'Freez', 'Full',
             'without pretraining')   # in the order they run: the techniques of 05-07 first
DEFAULTS = dict(trec=dict(labels=None, seeds='0,1,2,3,4'), imdb=dict(labels=1000, seeds='0,1,2'))   # None: all labels
DESCRIPTION = dict(trec='TREC-6 (coarse, 6 classes), {labels} training questions, 500 test',
                   imdb='IMDb, {labels} labelled training reviews (a class-stratified draw per seed, as low_shot.py), '
                        'its 1,000 test reviews (500 per class)')

def run(row:str, seed:int, tiny:bool=False, threads:int=1, dataset:str='trec', labels:int|None=None) -> dict:
    "Test accuracy of the ablation `row` with `seed` (`dataset`, `labels` labelled examples or all, cpu preset, shipped stage 1)."
    from ulmfit_nbdev.cli import make_config, run_recipe
    from ulmfit_nbdev.config import ABLATIONS
    from ulmfit_nbdev.low_shot import labelled_subset
    from ulmfit_nbdev.pipeline import get_pretrained
    from low_shot import load                                      # the one reader of the benchmarks' datasets
    train, test, _, pretokenized = load(dataset)
    if labels: train = labelled_subset(train, labels, seed)        # low_shot.py's draw for this seed
    if tiny: train, test = labelled_subset(train, TINY['train'], 0), labelled_subset(test, TINY['test'], 0)
    config = make_config('cpu', {**ABLATIONS[row], 'seed': seed, **FIXED[dataset],
                                 **({k: v for k, v in TINY.items() if k not in ('train', 'test')} if tiny else {})})
    r = run_recipe(train, test, config.to_dict(), get_pretrained(config), threads, pretokenized=pretokenized)
    return dict(row=row, seed=seed, **({'labels': labels} if labels else {}), accuracy=float(r['accuracy']),
                valid_accuracy=float(r['valid_accuracy']), seconds=r['seconds'])

def summary(runs:list, rows:list) -> list:
    "Per row: accuracies by seed, error mean and std (%), and the paired difference to ULMFiT (`paired_difference`)."
    import numpy as np
    from ulmfit_nbdev.ablation import paired_difference
    errors = {}
    for r in runs: errors.setdefault(r['row'], {})[r['seed']] = 100 * (1 - r['accuracy'])
    out = []
    for row in rows:
        by_seed = errors.get(SAME_AS.get(row, row), {})
        if not by_seed: continue
        seeds = sorted(by_seed)
        e = np.array([by_seed[s] for s in seeds])
        d = dict(row=row, seeds=seeds, accuracies=[1 - by_seed[s] / 100 for s in seeds], error=float(e.mean()),
                 error_std=float(e.std(ddof=1)) if len(e) > 1 else 0.)
        if row != 'ULMFiT' and len(set(seeds) & set(errors.get('ULMFiT', {}))) > 1:
            d['vs_ulmfit'] = paired_difference(errors['ULMFiT'], by_seed)
        if row in SAME_AS: d['same_runs_as'] = SAME_AS[row]
        out.append(d)
    return out

def main():
    from ulmfit_nbdev.config import ABLATIONS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seeds', help='default: 0,1,2,3,4 (trec), 0,1,2 (imdb)'); ap.add_argument('--rows', default='all')
    ap.add_argument('--dataset', default='trec', choices=sorted(FIXED))
    ap.add_argument('--labels', type=int, help='labelled training examples per run (imdb: 1000; trec: all)')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--out', help='default: benchmarks/results/ablations.json (trec), ablations_imdb.json (imdb)')
    ap.add_argument('--tiny', action='store_true', help='300 training questions, 1 + 4 epochs, no step floors: checks that the script runs')
    ap.add_argument('--no-run', action='store_true', help='run nothing: write <out> from the runs already logged')
    a = ap.parse_args()
    default_rows = [r for r in ABLATIONS if r not in NEEDS_STAGE1] if a.dataset == 'trec' else list(IMDB_ROWS)
    rows = default_rows if a.rows == 'all' else a.rows.split(';')
    if unknown := [r for r in rows if r not in ABLATIONS]: sys.exit(f"--rows: unknown row(s) {unknown}; expected rows of ABLATIONS")
    labels, a.seeds = a.labels or DEFAULTS[a.dataset]['labels'], a.seeds or DEFAULTS[a.dataset]['seeds']
    parts = [a.dataset] * (a.dataset != 'trec') + [str(labels)] * (labels != DEFAULTS[a.dataset]['labels']) + ['tiny'] * a.tiny
    a.out = a.out or 'benchmarks/results/' + '_'.join(['ablations', *parts]) + '.json'   # e.g. ablations_imdb_500.json
    out, log = Path(a.out), Path(a.out + '.runs.jsonl')
    from low_shot import runs_so_far, checked_out
    previous = json.loads(out.read_text()) if out.exists() else {}
    done = [r for r in runs_so_far(out, lambda r: (r['row'], r['seed'], r.get('labels'), r.get('tiny', False)))
            if r.get('labels') == labels and r.get('tiny', False) == a.tiny]   # no other table's runs
    have = {(r['row'], r['seed']) for r in done}
    todo = [(row, int(s)) for row in rows if row not in SAME_AS for s in a.seeds.split(',') if (row, int(s)) not in have]
    print(f"{len(todo)} runs to do, {len(done)} done", file=sys.stderr, flush=True)
    if a.no_run: todo = []                                        # only write <out> from the runs logged so far
    started, commit = time.time(), checked_out()
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = [pool.submit(run, *job, a.tiny, 1, a.dataset, labels) for job in todo]
        for future in concurrent.futures.as_completed(futures):
            r = {**future.result(), **({'tiny': True} if a.tiny else {}), 'commit': commit}; done.append(r)
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
            print(f"{r['row']} seed {r['seed']}: {r['accuracy']:.3f} ({r['seconds']:.0f}s)", file=sys.stderr, flush=True)
    command = previous.get('command') if a.no_run and previous.get('command') else 'python ' + ' '.join(sys.argv)
    when = dict(seconds=round(time.time() - started), workers=a.workers,
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    if a.no_run: when = {k: previous.get(k, v) for k, v in when.items()}   # a rewrite keeps when and how the runs were made
    out.write_text(json.dumps(dict(dataset=DESCRIPTION[a.dataset].format(labels=f'{labels:,}' if labels else 'all 5,452'), preset='cpu',
                                   stage1='the shipped WikiText-2 model', rows=summary(done, rows),
                                   skipped={r: 'changes the stage-1 model: needs its own pretraining' for r in NEEDS_STAGE1 if r not in rows},
                                   ablations={r: ABLATIONS[r] for r in rows}, settings=FIXED[a.dataset], command=command,
                                   threads_per_worker=1, tiny=a.tiny, **when, runs=done), indent=1))

if __name__ == '__main__': main()
