#!/usr/bin/env python
"""Choosing the few-label recipe without looking at the test set: TREC-6 (or IMDb) runs scored on a development split
carved from the *training* examples, with seeds that the test-set benchmarks (0, 1, 2) never use.

    python benchmarks/few_label_dev.py --variant NAME:FIELD=VALUE[,FIELD=VALUE...] [--variant ...] [--dataset trec|imdb]
                                       [--labels 200] [--arm ulmfit|ulmfit_semi|tfidf] [--seeds 10,11,12] [--workers 2]
                                       [--ensemble A+B] [--unlabelled 2000] [--out benchmarks/results/few_label_dev.json]

The development split is 500 training examples (stratified, drawn once with seed 100); the labelled subset of seed s
is drawn from the others. TREC-6's semi-supervised arm fine-tunes its LM on all 4,952 other questions (labelled or
not), IMDb's on the labelled reviews and the first `--unlabelled` (default 2,000: the low-shot benchmark's) of the
unlabelled reviews in a fixed order. `--dataset imdb` writes
`benchmarks/results/few_label_dev_imdb.json` unless `--out` says otherwise. Every variant is the `cpu` preset in
float32 with the low-shot benchmark's step floors (`clas_min_steps=300`, `lm_min_steps=100`) and the variant's
changes. Every run is appended to `<out>.runs.jsonl`; a rerun skips runs already there (with the development
probabilities), and so do the runs kept in `<out>` (the log is not committed). `<out>` holds per variant, labels and
arm the accuracies per seed, their mean and the settings, for each `--ensemble A+B` the accuracy of the two variants'
averaged probabilities, and every run with its per-epoch records (training and validation loss of each stage). Before
its runs, each variant's stage-1 model is made once if it is pretrained here (`pretrain=corpus`, into `ulmfit`'s
cache, 1 thread per variant, in parallel) and its row keeps that model's WikiText-2 validation perplexity
(`stage1_perplexity`, read from the training log kept with the weights): accuracy against stage-1 perplexity is what
`--variant` over pretraining budgets measures.
"""
import argparse, concurrent.futures, datetime, functools, json, multiprocessing, statistics, sys, time
from pathlib import Path
from low_shot import IMDB_UNLABELLED, checked_out, runs_so_far   # the low-shot benchmark's 2,000 unlabelled IMDb reviews; its run log

DEV_SIZE, DEV_SEED = 500, 100
BASE = dict(clas_min_steps=300, lm_min_steps=100, precision='fp32')

@functools.cache
def split(dataset:str='trec'):
    "(pool, dev): the training examples a labelled subset is drawn from, and the development split."
    from sklearn.model_selection import train_test_split
    from low_shot import load                                     # the dataset as the low-shot benchmark loads it
    train = load(dataset)[0]
    pool, dev = train_test_split(train, test_size=DEV_SIZE, stratify=train.label, random_state=DEV_SEED)
    return pool, dev

@functools.cache
def unlabelled_texts(dataset:str, n:int) -> list:
    "IMDb: the first `n` unlabelled reviews in the low-shot benchmark's fixed order (its 2,000 are the first 2,000); TREC-6: none."
    from low_shot import load
    if dataset != 'imdb' or n == IMDB_UNLABELLED: return load(dataset)[2]
    from ulmfit_nbdev.data import load_imdb                       # pandas' sample(n, random_state=0): a prefix of a longer one
    return load_imdb(splits=('unsup',))['unsup'].sample(n, random_state=0).text.tolist()

def run(dataset:str, variant:str, changes:dict, labels:int, arm:str, seed:int, n_unlabelled:int=IMDB_UNLABELLED) -> dict:
    "Development-split accuracy of one run."
    from ulmfit_nbdev.cli import _cache_dir, make_config, run_recipe, tfidf_logreg_accuracy
    from ulmfit_nbdev.low_shot import labelled_subset
    from ulmfit_nbdev.pipeline import get_pretrained
    from low_shot import load
    pool, dev = split(dataset)
    pretokenized, unlabelled = load(dataset)[3], unlabelled_texts(dataset, n_unlabelled)
    labelled, start = labelled_subset(pool, labels, seed), time.time()
    if arm == 'tfidf':
        accuracy = tfidf_logreg_accuracy(labelled.text, labelled.label, dev.text, dev.label)
        return dict(dataset=dataset, variant=variant, changes={}, labels=labels, arm=arm, seed=seed, accuracy=accuracy, seconds=round(time.time() - start, 1))
    config = make_config('cpu', {**BASE, **changes, 'seed': seed})
    extra = (list(unlabelled) or pool.text[~pool.index.isin(labelled.index)].tolist()) if arm == 'ulmfit_semi' else None
    r = run_recipe(labelled, dev, config.to_dict(), get_pretrained(config, cache_dir=_cache_dir()), 1, extra, pretokenized)
    return dict(dataset=dataset, variant=variant, changes=changes, labels=labels, arm=arm, seed=seed, accuracy=float(r['accuracy']),
                **({'unlabelled': len(unlabelled)} if arm == 'ulmfit_semi' and unlabelled else {}),
                seconds=round(time.time() - start, 1), valid_accuracy=float(r['valid_accuracy']), stage_seconds=r['stage_seconds'],
                records=r['records'], probabilities=r['probabilities'].tolist(), classes=list(r['classes']))

def stage1_perplexity(changes:dict) -> float|None:
    "WikiText-2 validation perplexity of a variant's stage-1 model, pretraining it first (into `ulmfit`'s cache) if it is made here."
    import torch
    from ulmfit_nbdev.cli import _cache_dir, make_config
    from ulmfit_nbdev.pipeline import get_pretrained, stage1_perplexity as perplexity
    config = make_config('cpu', {**BASE, **changes})
    if config.pretrain == 'wt103': return None                        # fastai's weights: not measured here
    torch.set_num_threads(1)                                          # one thread per variant: they pretrain in parallel
    return perplexity(get_pretrained(config, cache_dir=_cache_dir()))  # the shipped model's log, or the cached model's

def ensemble_rows(pair:str, done:list, dataset:str) -> dict:
    "Rows of the `A+B` ensemble: per seed, the development accuracy of the two variants' averaged probabilities."
    from ulmfit_nbdev.cli import ensemble_accuracy
    first, second = pair.split('+')
    runs = {(r['variant'], r['labels'], r['arm'], r['seed']): r for r in done}
    dev, rows = split(dataset)[1].label.astype(str).tolist(), {}
    for (v, l, arm, s), r in sorted(runs.items(), key=lambda kv: kv[0][3]):
        if v != first: continue
        other = runs.get((second, l, arm, s))
        if other is None or 'probabilities' not in r or 'probabilities' not in other:
            sys.exit(f"few_label_dev.py: --ensemble {pair}: no probabilities logged for both at {l} labels, seed {s} (rerun both under new names)")
        if r['classes'] != other['classes']: sys.exit(f"few_label_dev.py: --ensemble {pair}: the two variants' classes differ")
        row = rows.setdefault((pair, l, arm), dict(variant=pair, labels=l, arm=arm, changes=None, seeds=[], accuracies=[]))
        row['seeds'].append(s)
        row['accuracies'].append(ensemble_accuracy(r['probabilities'], other['probabilities'], [r['classes'].index(y) for y in dev]))
    if not rows: sys.exit(f"few_label_dev.py: --ensemble {pair}: no runs of {first!r}")
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--variant', action='append', required=True, help='NAME:FIELD=VALUE,... (NAME: alone for no change)')
    ap.add_argument('--dataset', default='trec', choices=('trec', 'imdb')); ap.add_argument('--labels', default='200'); ap.add_argument('--arm', default='ulmfit', choices=('ulmfit', 'ulmfit_semi', 'tfidf'))
    ap.add_argument('--seeds', default='10,11,12'); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--out', help='default: benchmarks/results/few_label_dev.json (TREC-6), few_label_dev_imdb.json (IMDb)')
    ap.add_argument('--ensemble', action='append', default=[], help='A+B: also the average of variants A and B (e.g. a backward one)')
    ap.add_argument('--note', help='a note kept in <out> (the last one given stays)')
    ap.add_argument('--unlabelled', type=int, default=IMDB_UNLABELLED, help="IMDb's semi-supervised arm: how many of the 50,000 unlabelled reviews LM fine-tuning also reads")
    a = ap.parse_args()
    if a.dataset == 'imdb' and not 1 <= a.unlabelled <= 50_000: sys.exit(f"few_label_dev.py: --unlabelled {a.unlabelled}: IMDb has 1 to 50,000 unlabelled reviews to read")
    a.out = a.out or f"benchmarks/results/few_label_dev{'' if a.dataset == 'trec' else '_' + a.dataset}.json"
    from ulmfit_nbdev.cli import parse_settings
    variants = {}
    for v in a.variant:
        name, _, spec = v.partition(':')
        variants[name] = parse_settings([s for s in spec.split(',') if s])
    if a.arm == 'tfidf' and any(variants.values()): sys.exit("few_label_dev.py: --arm tfidf takes no recipe changes (give NAME: alone)")
    out, log = Path(a.out), Path(a.out + '.runs.jsonl')
    out.parent.mkdir(parents=True, exist_ok=True)
    done = runs_so_far(out, lambda r: (r['variant'], r['labels'], r['arm'], r['seed']))   # <out>'s runs have no probabilities:
                                                                                          # an ensemble over them needs reruns
    done = [{'dataset': 'trec', **r} for r in done]                # the first runs were all TREC-6
    if (other := {r['dataset'] for r in done} - {a.dataset}): sys.exit(f"few_label_dev.py: {log} holds {other.pop()} runs: give another --out")
    for r in done:                                                # a name means one set of changes, run after run
        if r['variant'] in variants and r['arm'] == a.arm and r['changes'] != variants[r['variant']]:
            sys.exit(f"few_label_dev.py: variant {r['variant']!r} was run with {r['changes']}, not {variants[r['variant']]}: use another name")
        if r['variant'] in variants and r['arm'] == a.arm == 'ulmfit_semi' and r.get('unlabelled', IMDB_UNLABELLED) != a.unlabelled and a.dataset == 'imdb':
            sys.exit(f"few_label_dev.py: variant {r['variant']!r} read {r.get('unlabelled', IMDB_UNLABELLED):,} unlabelled reviews, not {a.unlabelled:,}: use another name")
    if (too_many := [l for l in a.labels.split(',') if int(l) > len(split(a.dataset)[0])]):
        sys.exit(f"few_label_dev.py: --labels {too_many[0]} is more than the {len(split(a.dataset)[0]):,} training examples outside the development split")
    have = {(r['variant'], r['labels'], r['arm'], r['seed']) for r in done}
    todo = [(a.dataset, name, changes, int(l), a.arm, int(s), a.unlabelled) for s in a.seeds.split(',') for l in a.labels.split(',')
            for name, changes in variants.items() if (name, int(l), a.arm, int(s)) not in have]
    print(f"{len(todo)} runs to do, {len(done)} done", file=sys.stderr, flush=True)
    stage1 = {}
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        start = lambda name: {pool.submit(run, *job) for job in todo if job[1] == name}
        if a.arm == 'tfidf': waiting, made = set().union(*map(start, variants)), {}
        else:                                                     # each stage-1 model first (made once), then its variant's runs
            made = {pool.submit(stage1_perplexity, changes): name for name, changes in variants.items()}
            waiting = set(made)
        while waiting:
            finished, waiting = concurrent.futures.wait(waiting, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                if future in made:
                    name = made[future]; stage1[name] = future.result(); waiting |= start(name)
                    print(f"{name}: stage-1 perplexity {stage1[name] and round(stage1[name], 1)}", file=sys.stderr, flush=True)
                    continue
                r = future.result(); done.append(r)
                with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
                print(f"{r['variant']} {r['labels']} {r['arm']} seed {r['seed']}: {r['accuracy']:.3f} ({r['seconds']:.0f}s)", file=sys.stderr, flush=True)
    rows = {}
    for r in sorted(done, key=lambda r: r['seed']):
        row = rows.setdefault((r['variant'], r['labels'], r['arm']), dict(variant=r['variant'], labels=r['labels'], arm=r['arm'],
                                                                       changes=r['changes'], seeds=[], accuracies=[],
                                                                       **({'unlabelled': r['unlabelled']} if 'unlabelled' in r else {})))
        row['seeds'].append(r['seed']); row['accuracies'].append(r['accuracy'])
    previous = json.loads(out.read_text()) if out.exists() else {}
    rows.update({(r['variant'], r['labels'], r['arm']): r for r in previous.get('rows', []) if r['changes'] is None})   # earlier ensembles
    for pair in a.ensemble:                                       # §3.3: the two classifiers' probabilities averaged
        rows.update(ensemble_rows(pair, done, a.dataset))
    for row in rows.values(): row['mean'] = round(statistics.mean(row['accuracies']), 4)
    for (name, _, arm), row in rows.items():                      # the stage-1 model's WikiText-2 validation perplexity
        if arm == a.arm and stage1.get(name) is not None: row['stage1_perplexity'] = stage1[name]
        elif 'stage1_perplexity' in (old := next((r for r in previous.get('rows', []) if (r['variant'], r['labels'], r['arm']) == (name, row['labels'], arm)), {})):
            row['stage1_perplexity'] = old['stage1_perplexity']
    commit = checked_out()
    out.write_text(json.dumps(dict(dataset=a.dataset, rows=list(rows.values()), base=BASE, preset='cpu', dev=dict(size=DEV_SIZE, seed=DEV_SEED),
                                   **({'note': a.note or previous['note']} if a.note or 'note' in previous else {}),
                                   commands=previous.get('commands', []) + [f"python {' '.join(sys.argv)}  (commit {commit})"],
                                   date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                                   runs=[{k: v for k, v in r.items() if k not in ('probabilities', 'classes')} for r in done]), indent=1))
    for row in sorted(rows.values(), key=lambda r: (r['arm'], r['labels'], -r['mean'])):
        print(f"{row['arm']:12} {row['labels']:5} {row['variant']:24} {100 * row['mean']:5.1f}  "
              + ' '.join(f"{100 * x:.1f}" for x in row['accuracies']))

if __name__ == '__main__': main()
