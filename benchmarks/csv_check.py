#!/usr/bin/env python
"""`ulmfit train --csv` as a user runs it, on labelled CSVs written from TREC-6 and from an IMDb subset, beside the
TF-IDF + logistic-regression baseline that `ulmfit train` itself reports on the same split.

    python benchmarks/csv_check.py [--datasets trec,imdb] [--seeds 0,1,2] [--imdb-train 1000] [--threads 2]
                                   [--max-train N] [--unlabeled N] [--pretrained FOLDER] [--out benchmarks/results/csv_check.json]

TREC-6: all 5,452 training questions and the 500 test questions, as raw text. IMDb: `--imdb-train` reviews of the
25,000 training ones (balanced, drawn with seed 0) and the 1,000 test reviews `low_shot.py` uses (500 per class).
Each (dataset, seed) is one `ulmfit train --csv train.csv --test-csv test.csv --seed S` in a fresh process; its JSON
result (test accuracy and `tfidf_test_accuracy`; with `--set clas_lr_decay_choices=[...]`, each ξ's validation and test
accuracy and which one the validation split kept) is kept, with the command and the date.

`--max-train N` keeps N training rows (stratified, drawn with seed 0). `--unlabeled N` also writes N unlabelled texts
of the same kind and passes them as `ulmfit train --unlabeled` (the paper's semi-supervised recipe): for TREC-6, N of
the training questions `--max-train` left out, without their labels; for IMDb, N of its 50,000 unlabelled reviews
(drawn with seed 0; the first 2,000 are `low_shot.py`'s). `--pretrained FOLDER` is passed on as `ulmfit train --pretrained`:
a stage-1 folder to start from, such as the LM `imdb_lm.py` adapts once on IMDb's unlabelled reviews.
"""
import argparse, datetime, json, os, subprocess, sys, tempfile, time
from statistics import mean
from pathlib import Path

def write_csvs(dataset:str, folder:Path, imdb_train:int, max_train:int|None=None, unlabeled:int=0) -> tuple:
    "train.csv, test.csv (text, label) and, with `unlabeled`, unlabeled.csv (text) of `dataset` in `folder`."
    import pandas as pd
    from ulmfit_nbdev.low_shot import labelled_subset
    from low_shot import load                                      # the one reader of the benchmarks' datasets
    all_train, test, unlabelled, _ = load(dataset, **({'n_unlabelled': unlabeled} if dataset == 'imdb' and unlabeled else {}))
    train = labelled_subset(all_train, imdb_train, 0) if dataset == 'imdb' else all_train
    if max_train: train = labelled_subset(train, max_train, 0)
    if not unlabeled: unlabelled = []
    elif dataset == 'trec':                                         # the questions left out, labels dropped
        rest = all_train.drop(train.index)
        unlabelled = rest.sample(min(unlabeled, len(rest)), random_state=0).text.tolist()
    paths = folder/f'{dataset}_train.csv', folder/f'{dataset}_test.csv', folder/f'{dataset}_unlabeled.csv'
    for df, path in zip((train, test, pd.DataFrame(dict(text=unlabelled))), paths): df.to_csv(path, index=False)
    return paths, len(train), len(test), len(unlabelled)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--datasets', default='trec,imdb'); ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--imdb-train', type=int, default=1000); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--set', action='append', default=[], help='FIELD=VALUE passed on to `ulmfit train --set`')
    ap.add_argument('--max-train', type=int, help='at most this many training rows, stratified, drawn with seed 0 (few labels; a quick check)')
    ap.add_argument('--unlabeled', type=int, default=0, help='this many unlabelled texts for `ulmfit train --unlabeled` (see above)')
    ap.add_argument('--pretrained', help='a stage-1 folder, passed on as `ulmfit train --pretrained`')
    ap.add_argument('--out', default='benchmarks/results/csv_check.json')
    a = ap.parse_args()
    if a.unlabeled and 'trec' in a.datasets.split(',') and not a.max_train:
        ap.error('--unlabeled on TREC-6 takes the questions --max-train leaves out: give --max-train too')
    if a.unlabeled > 50_000: ap.error(f'--unlabeled {a.unlabeled}: IMDb has 50,000 unlabelled reviews')
    results, started = [], time.time()
    with tempfile.TemporaryDirectory() as d:
        for dataset in a.datasets.split(','):
            (train, test, unlabeled), n_train, n_test, n_unlabeled = write_csvs(dataset, Path(d), a.imdb_train, a.max_train, a.unlabeled)
            for seed in a.seeds.split(','):
                cmd = ['ulmfit', 'train', '--csv', str(train), '--test-csv', str(test), '--seed', seed, '--quiet',
                       '--out', f'{d}/run_{dataset}_{seed}'] + [x for s in a.set for x in ('--set', s)] + (
                       ['--unlabeled', str(unlabeled)] if n_unlabeled else []) + (['--pretrained', a.pretrained] if a.pretrained else [])
                t0 = time.time()
                done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': str(a.threads)})
                if done.returncode: sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
                r = json.loads(done.stdout)
                results.append(dict(dataset=dataset, seed=int(seed), n_train=n_train, n_test=n_test, n_unlabeled=n_unlabeled, test_accuracy=r['test_accuracy'],
                                    tfidf_test_accuracy=r['tfidf_test_accuracy'], valid_accuracy=r['valid_accuracy'],
                                    tfidf_valid_accuracy=r['tfidf_valid_accuracy'], seconds=round(time.time() - t0, 1),
                                    **({'lr_decay_choices': r['lr_decay_choices']} if 'lr_decay_choices' in r else {})))
                print(f"{dataset} seed {seed}: ulmfit train {r['test_accuracy']:.3f} vs TF-IDF + LR {r['tfidf_test_accuracy']:.3f} "
                      f"({time.time() - t0:.0f}s)" + ''.join(f"; ξ = {c['lr_decay']:g}: valid {c['valid_accuracy']:.3f}, test {c['test_accuracy']:.3f}{' (kept)' if c['kept'] else ''}"
                                             for c in r.get('lr_decay_choices', [])), file=sys.stderr, flush=True)
    summary = {ds: dict(ulmfit=mean([r['test_accuracy'] for r in results if r['dataset'] == ds]),
                        tfidf=mean([r['tfidf_test_accuracy'] for r in results if r['dataset'] == ds]))
               for ds in a.datasets.split(',')}
    Path(a.out).write_text(json.dumps(dict(summary=summary, runs=results, command='python ' + ' '.join(sys.argv),
                                           seconds=round(time.time() - started), threads=a.threads,
                                           date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')), indent=1))

if __name__ == '__main__': main()
