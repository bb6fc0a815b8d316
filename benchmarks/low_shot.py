#!/usr/bin/env python
"""Fig. 3 of the paper at a learner's scale: test accuracy against the number of labelled training examples, for
training from scratch, ULMFiT (supervised: LM fine-tuning on the labelled texts), ULMFiT semi-supervised (LM
fine-tuning on every training text, labelled or not) and TF-IDF + logistic regression.

    python benchmarks/low_shot.py [--dataset trec] [--labels 100,200,500,1000,2000,all] [--arms scratch,ulmfit,ulmfit_semi,tfidf]
                                  [--seeds 0,1,2] [--workers 2] [--out benchmarks/results/low_shot.json]

Every run is appended to `<out>.runs.jsonl` as it finishes, and a rerun skips the runs already there, so the command
can be stopped and continued; `<out>` then holds `rows` of {dataset, labels, arm, accuracies} (one accuracy per seed),
the configuration, the command and the date. The labelled subset of seed s is a class-stratified sample drawn with
seed s; all neural arms share the `cpu` preset and at least `--min-steps` classifier steps.
"""
import argparse, concurrent.futures, datetime, json, multiprocessing, sys, time
from pathlib import Path

ARMS = ('scratch', 'ulmfit', 'ulmfit_semi', 'tfidf')

def load(dataset:str):
    "(train, test, unlabelled texts, pretokenized) of `dataset`."
    if dataset == 'trec':
        from ulmfit_nbdev.data import load_trec
        trec = load_trec()
        train, test = (trec[s].rename(columns={'coarse': 'label'})[['text', 'label']] for s in ('train', 'test'))
        return train, test, [], True
    raise ValueError(f"unknown dataset {dataset!r}")

def subset(train, n, seed):
    "`n` labelled examples, stratified by class, drawn with `seed` (all of them for 'all')."
    if n == 'all': return train
    from sklearn.model_selection import train_test_split
    picked, _ = train_test_split(train, train_size=int(n), stratify=train.label, random_state=seed)
    return picked

def run(dataset, labels, arm, seed, settings, threads=1) -> dict:
    "One run: the test accuracy of `arm` with `labels` labelled examples and `seed`."
    train, test, unlabelled, pretokenized = load(dataset)
    labelled = subset(train, labels, seed)
    start = time.time()
    if arm == 'tfidf':
        from ulmfit_nbdev.cli import tfidf_logreg_accuracy
        accuracy = tfidf_logreg_accuracy(labelled.text, labelled.label, test.text, test.label)
    else:
        from ulmfit_nbdev.cli import make_config, run_recipe
        from ulmfit_nbdev.pipeline import get_pretrained
        config = make_config('cpu', {**settings, 'seed': seed, **({'pretrain': 'none'} if arm == 'scratch' else {})})
        extra = train.text[~train.index.isin(labelled.index)].tolist() + list(unlabelled) if arm == 'ulmfit_semi' else None
        accuracy = run_recipe(labelled, test, config.to_dict(), get_pretrained(config), threads, extra)['accuracy']
    return dict(dataset=dataset, labels=labels, arm=arm, seed=seed, accuracy=float(accuracy), seconds=round(time.time() - start, 1))

def summary(runs:list) -> list:
    "One row per (dataset, labels, arm) with the accuracies of its seeds, in seed order."
    rows = {}
    for r in sorted(runs, key=lambda r: r['seed']): rows.setdefault((r['dataset'], r['labels'], r['arm']), []).append(r['accuracy'])
    return [dict(dataset=d, labels=l, arm=a, accuracies=acc) for (d, l, a), acc in rows.items()]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dataset', default='trec'); ap.add_argument('--labels', default='100,200,500,1000,2000,all')
    ap.add_argument('--arms', default=','.join(ARMS)); ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--min-steps', type=int, default=300, help='at least this many classifier steps (and a third as many LM steps)')
    ap.add_argument('--set', action='append', default=[], help='FIELD=VALUE changes of the cpu preset (as `ulmfit --set`)')
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--out', default='benchmarks/results/low_shot.json')
    a = ap.parse_args()
    from ulmfit_nbdev.cli import parse_settings
    settings = dict(clas_min_steps=a.min_steps, lm_min_steps=a.min_steps // 3, **parse_settings(a.set))
    out, log = Path(a.out), Path(a.out + '.runs.jsonl')
    out.parent.mkdir(parents=True, exist_ok=True)
    done = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    key = lambda d, l, arm, s: (d, str(l), arm, s)
    have = {key(r['dataset'], r['labels'], r['arm'], r['seed']) for r in done}
    labels = [l if l == 'all' else int(l) for l in a.labels.split(',')]
    todo = [(a.dataset, l, arm, int(s)) for l in labels for arm in a.arms.split(',') for s in a.seeds.split(',')
            if key(a.dataset, l, arm, int(s)) not in have]
    print(f"{len(todo)} runs to do, {len(done)} done", file=sys.stderr, flush=True)
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = [pool.submit(run, *job, settings) for job in todo]
        for future in concurrent.futures.as_completed(futures):
            r = future.result(); done.append(r)
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
            print(f"{r['dataset']} {r['labels']} {r['arm']} seed {r['seed']}: {r['accuracy']:.3f} ({r['seconds']:.0f}s)", file=sys.stderr, flush=True)
    out.write_text(json.dumps(dict(rows=summary(done), settings=settings, preset='cpu', command='python ' + ' '.join(sys.argv),
                                   date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), runs=done), indent=1))

if __name__ == '__main__': main()
