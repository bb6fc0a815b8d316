#!/usr/bin/env python
"""Fig. 3 of the paper at a learner's scale: test accuracy against the number of labelled training examples, for
training from scratch, ULMFiT (supervised: LM fine-tuning on the labelled texts), ULMFiT semi-supervised (LM
fine-tuning on every training text, labelled or not) and TF-IDF + logistic regression.

    python benchmarks/low_shot.py [--dataset trec|imdb] [--labels 100,200,500,1000,2000,all] [--arms scratch,ulmfit,ulmfit_semi,tfidf]
                                  [--seeds 0,1,2] [--workers 2] [--stage1 FOLDER] [--out benchmarks/results/low_shot.json]

Every run is appended to `<out>.runs.jsonl` as it finishes, and a rerun skips the runs already there or kept in
`<out>` (the log is not committed), so the command can be stopped and continued; `<out>` then holds `rows` of {dataset, labels, arm, accuracies} (one accuracy per seed),
and per dataset its settings and every command that added runs (with its settings and the date it finished). The labelled subset of seed s is a class-stratified sample drawn with
seed s; all neural arms share the `cpu` preset and at least `--min-steps` classifier steps. IMDb is sized for a CPU:
1,000 test reviews (500 per class, fixed), and for the semi-supervised arm 2,000 of the unlabelled reviews (fixed);
its runs use `--min-steps 100` (labels 100, 200, 500, 1,000, 2,000). `--stage1 FOLDER` starts the ULMFiT arms from that
stage-1 folder instead of the preset's model: `benchmarks/imdb_lm.py`'s LM fine-tuned on IMDb's unlabelled reviews, say.
"""
import argparse, concurrent.futures, datetime, functools, json, multiprocessing, subprocess, sys, time
from pathlib import Path

ARMS = ('scratch', 'ulmfit', 'ulmfit_semi', 'tfidf')
IMDB_TEST, IMDB_UNLABELLED = 1000, 2000   # IMDb: test on 1,000 of the 25,000 test reviews (500 per class); LM fine-tuning
                                           # of the semi-supervised arm on 2,000 of the 50,000 unlabelled ones

@functools.cache                                               # once per worker process: IMDb is 100,000 files
def load(dataset:str, n_unlabelled:int=IMDB_UNLABELLED):
    "(train, test, unlabelled texts, pretokenized) of `dataset`; IMDb's unlabelled: `n_unlabelled` of its 50,000 (seed 0)."
    if dataset == 'trec':
        from ulmfit_nbdev.data import load_trec
        trec = load_trec()
        train, test = (trec[s].rename(columns={'coarse': 'label'})[['text', 'label']] for s in ('train', 'test'))
        return train, test, [], True
    if dataset == 'imdb':                                      # CPU budget: a fixed subset of the test and unlabelled reviews
        from ulmfit_nbdev.data import load_imdb
        imdb = load_imdb()
        test = imdb['test'].groupby('label', group_keys=False).sample(IMDB_TEST // 2, random_state=0)[['text', 'label']]
        unlabelled = imdb['unsup'].sample(n_unlabelled, random_state=0).text.tolist()
        return imdb['train'][['text', 'label']], test, unlabelled, False
    raise ValueError(f"unknown dataset {dataset!r}")

def runs_so_far(out:Path, key) -> list:
    "Every run in `<out>.runs.jsonl`, then the runs kept in `out` that the log lacks (the log is not committed), by `key(run)`."
    from ulmfit_nbdev.training import read_log
    logged = read_log(Path(f'{out}.runs.jsonl'))
    seen = {key(r) for r in logged}
    kept = json.loads(out.read_text()).get('runs', []) if out.exists() else []
    return logged + [r for r in kept if key(r) not in seen]

def checked_out() -> str:
    "The commit the runs are made on, '-dirty' when the tree has changes (empty outside a git checkout)."
    return subprocess.run(['git', 'describe', '--always', '--dirty'], capture_output=True, text=True).stdout.strip()

def run(dataset, labels, arm, seed, settings, stage1=None, threads=1) -> dict:
    "One run: the test accuracy of `arm` with `labels` labelled examples and `seed`."
    from ulmfit_nbdev.low_shot import labelled_subset
    train, test, unlabelled, pretokenized = load(dataset)
    labelled = labelled_subset(train, labels, seed)
    start = time.time()
    if arm == 'tfidf':
        from ulmfit_nbdev.cli import tfidf_logreg_accuracy
        accuracy = tfidf_logreg_accuracy(labelled.text, labelled.label, test.text, test.label)
    else:
        from ulmfit_nbdev.cli import make_config, run_recipe
        from ulmfit_nbdev.pipeline import get_pretrained
        config = make_config('cpu', {**settings, 'seed': seed, **({'pretrain': 'none'} if arm == 'scratch' else {})})
        # semi-supervised: LM fine-tuning also reads the unlabelled texts (TREC-6 has none: its unused training questions)
        extra = (list(unlabelled) or train.text[~train.index.isin(labelled.index)].tolist()) if arm == 'ulmfit_semi' else None
        pretrained = Path(stage1) if stage1 and arm != 'scratch' else get_pretrained(config)
        done = run_recipe(labelled, test, config.to_dict(), pretrained, threads, extra, pretokenized)
        accuracy, choices = done['accuracy'], done['lr_decay_choices']
    return dict(dataset=dataset, labels=labels, arm=arm, seed=seed, accuracy=float(accuracy), seconds=round(time.time() - start, 1),
                **({'lr_decay_choices': choices} if arm != 'tfidf' and len(choices) > 1 else {}))   # --set clas_lr_decay_choices=[...]

def summary(runs:list, n_all:dict) -> list:
    "`low_shot_rows` of the runs ('all' labels counted); TREC-6 has no unlabelled text: with all labels, semi = supervised."
    from ulmfit_nbdev.low_shot import low_shot_rows
    runs = [{**r, 'labels': n_all[r['dataset']] if r['labels'] == 'all' else r['labels']} for r in runs]
    rows = low_shot_rows(runs)
    same = [{**r, 'arm': 'ulmfit_semi', 'same_runs_as': 'ulmfit'} for r in rows
            if r['dataset'] == 'trec' and r['labels'] == n_all.get('trec') and r['arm'] == 'ulmfit']
    return rows + same

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dataset', default='trec'); ap.add_argument('--labels', default='100,200,500,1000,2000,all')
    ap.add_argument('--arms', default=','.join(ARMS)); ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--min-steps', type=int, default=300, help='at least this many classifier steps (and a third as many LM steps)')
    ap.add_argument('--set', action='append', default=[], help='FIELD=VALUE changes of the cpu preset (as `ulmfit --set`)')
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--out', default='benchmarks/results/low_shot.json')
    ap.add_argument('--no-run', action='store_true', help='run nothing: write <out> from the runs already logged')
    ap.add_argument('--stage1', help="a stage-1 folder for the ULMFiT arms instead of the preset's model")
    a = ap.parse_args()
    from ulmfit_nbdev.cli import parse_settings
    settings = {**dict(clas_min_steps=a.min_steps, lm_min_steps=a.min_steps // 3, precision='fp32'),   # fp32, as the stored runs
                **parse_settings(a.set)}                                                            # --set has the last word
    if a.stage1:                                                   # checked once here, not in every worker
        from ulmfit_nbdev.cli import make_config
        from ulmfit_nbdev.pipeline import stage1_problem
        if problem := stage1_problem(make_config('cpu', settings), Path(a.stage1)): sys.exit(f"--stage1 {a.stage1}: cannot be used: {problem}")
    out, log = Path(a.out), Path(a.out + '.runs.jsonl')
    out.parent.mkdir(parents=True, exist_ok=True)
    key = lambda r: (r['dataset'], r['labels'], r['arm'], r['seed'])
    done = runs_so_far(out, key)                                   # a fresh clone has <out>'s runs but no log
    n_all = {d: len(load(d)[0]) for d in {a.dataset} | {r['dataset'] for r in done}}   # 'all' labels, counted
    count = lambda d, l: n_all[d] if l == 'all' else int(l)
    have = {(r['dataset'], count(r['dataset'], r['labels']), r['arm'], r['seed']) for r in done}
    labels = [count(a.dataset, l) for l in a.labels.split(',')]
    todo = [(a.dataset, l, arm, int(s)) for l in labels for arm in a.arms.split(',') for s in a.seeds.split(',')
            if (a.dataset, l, arm, int(s)) not in have and not (a.dataset == 'trec' and l == n_all['trec'] and arm == 'ulmfit_semi')]
    print(f"{len(todo)} runs to do, {len(done)} done", file=sys.stderr, flush=True)
    if a.no_run: todo = []                                        # only write <out> from the runs logged so far
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = [pool.submit(run, *job, settings, a.stage1) for job in todo]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
            print(f"{r['dataset']} {r['labels']} {r['arm']} seed {r['seed']}: {r['accuracy']:.3f} ({r['seconds']:.0f}s)", file=sys.stderr, flush=True)
    done = runs_so_far(out, key)                                   # the whole log again: with this invocation's runs and any
    n_all.update({d: len(load(d)[0]) for d in {r['dataset'] for r in done} - set(n_all)})   # that another one logged meanwhile
    previous = json.loads(out.read_text()) if out.exists() else {}
    per_dataset = previous.get('datasets', {})                    # each dataset's settings and the commands that made its runs
    entry = per_dataset.setdefault(a.dataset, {})
    if todo or 'command' not in entry:                             # a command that ran nothing is added only as a dataset's first
        commands = entry.get('commands') or ([dict(command=entry['command'], date=entry['date'], settings=entry['settings'])]
                                             if 'command' in entry else [])
        if entry.get('settings', settings) != settings:
            print(f"note: {a.dataset}'s runs now mix settings: {entry['settings']} before, {settings} now", file=sys.stderr)
        if 'command' in entry and entry.get('stage1') != a.stage1:
            print(f"note: {a.dataset}'s runs now mix stage-1 models: {entry.get('stage1')} before, {a.stage1} now", file=sys.stderr)
        commands.append(dict(command='python ' + ' '.join(sys.argv), settings=settings, commit=checked_out(),  # date: when it finished
                             date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')))
        entry.update(settings=settings, command=commands[-1]['command'], date=commands[-1]['date'], commands=commands)
        if a.stage1: entry['stage1'] = a.stage1                    # the stage-1 folder of the latest command (None: the preset's)
        else: entry.pop('stage1', None)
    out.write_text(json.dumps(dict(rows=summary(done, n_all), preset='cpu', datasets=per_dataset, runs=done), indent=1))

if __name__ == '__main__': main()
