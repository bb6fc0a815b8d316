#!/usr/bin/env python
"""Downstream accuracy against stage-1 quality: TREC-6 test accuracy of the default recipe (the `cpu` preset, all
labels) started from each per-epoch snapshot of a stage-1 pretraining run, beside that snapshot's WikiText-2
validation perplexity. How far would a better language model go?

    python benchmarks/stage1_trend.py --run DIR [--seeds 0,1,2] [--workers 2] [--out benchmarks/results/stage1_trend.json]

DIR holds `epochN.pth` weights, `itos.json`, `config.json` and `metrics.jsonl` (the per-epoch log of the
pretraining, one record per epoch); each snapshot is loaded as a stage-1 folder (`load_lm_folder`).
"""
import argparse, concurrent.futures, datetime, json, multiprocessing, shutil, sys, tempfile
from pathlib import Path

def run(folder:str, seed:int) -> dict:
    "The default recipe on TREC-6 from the stage-1 folder `folder`, seed `seed`: test accuracy and seconds."
    from ulmfit_nbdev.cli import make_config, run_recipe
    from ulmfit_nbdev.data import load_trec
    trec = load_trec()
    train, test = (trec[s].rename(columns={'coarse': 'label'})[['text', 'label']] for s in ('train', 'test'))
    result = run_recipe(train, test, make_config('cpu', dict(seed=seed, precision='fp32')).to_dict(), Path(folder))
    return dict(accuracy=float(result['accuracy']), seconds=result['seconds'])

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True); ap.add_argument('--seeds', default='0,1,2'); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--epochs', help='comma-separated snapshot epochs (default: all)')
    ap.add_argument('--out', default='benchmarks/results/stage1_trend.json')
    a = ap.parse_args()
    run_dir, seeds = Path(a.run), [int(s) for s in a.seeds.split(',')]
    log = [json.loads(line) for line in (run_dir/'metrics.jsonl').read_text().splitlines()]
    epochs = [int(e) for e in a.epochs.split(',')] if a.epochs else [r['epoch'] + 1 for r in log if (run_dir/f"epoch{r['epoch'] + 1}.pth").exists()]
    work = Path(tempfile.mkdtemp())
    for e in epochs:                                              # one stage-1 folder per snapshot
        folder = work/f'epoch{e}'; folder.mkdir()
        shutil.copy(run_dir/f'epoch{e}.pth', folder/'model.pth')
        for name in ('itos.json', 'config.json'): shutil.copy(run_dir/name, folder/name)
    jobs = [(e, s) for e in epochs for s in seeds]
    results = {}
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = {pool.submit(run, str(work/f'epoch{e}'), s): (e, s) for e, s in jobs}
        for future in concurrent.futures.as_completed(futures):
            (e, s), r = futures[future], future.result(); results[(e, s)] = r
            print(f"stage-1 epoch {e}, seed {s}: {r['accuracy']:.3f} ({r['seconds']:.0f}s)", file=sys.stderr, flush=True)
    rows = [dict(epoch=e, perplexity=next(r['perplexity'] for r in log if r['epoch'] + 1 == e),
                 accuracies=[results[(e, s)]['accuracy'] for s in seeds], seconds=[results[(e, s)]['seconds'] for s in seeds]) for e in epochs]
    Path(a.out).write_text(json.dumps(dict(rows=rows, seeds=seeds, preset='cpu', corpus='WikiText-2 (train), perplexity on its validation split',
                                           command='python ' + ' '.join(sys.argv),
                                           date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')), indent=1))
    shutil.rmtree(work)

if __name__ == '__main__': main()
