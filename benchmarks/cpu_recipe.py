#!/usr/bin/env python
"""The whole three-stage recipe on a CPU, this project's against fastai's documented one, at equal settings.

    python benchmarks/cpu_recipe.py [--datasets trec,imdb_sample] [--seeds 0,1,2] [--threads 2]
                                    [--out benchmarks/results/cpu_recipe.json]

Both sides start from the shipped WikiText-2 stage-1 model (fastai loads the same weights and vocabulary through its
`pretrained_fnames`), read the same raw texts with the same training / validation / test split, keep the same target
vocabulary (tokens seen twice, at most 60,000), build the same 100/256/2 AWD-LSTM with the same dropouts, batch size
and BPTT, train 2 LM epochs and 15 classifier epochs (1 + 1 + 1 + 12 over four unfreezing steps), and predict the
test set. fastai's side is its text tutorial: `DataBlock`/`TextBlock.from_df`, `language_model_learner`,
`fit_one_cycle`, `save_encoder`, `text_classifier_learner`, `load_encoder`, `freeze_to`, with the tutorial's rates.
Ours is `ulmfit()` with the `cpu` preset (STLR, discriminative rates, gradual unfreezing) and `Predictor`.

Every (side, dataset, seed) runs in a fresh process, one after the other, alternating which side goes first, so that
peak RSS is each side's own and machine load falls on both alike. Stages timed: tokenize (with numericalizing and the
loaders), LM fine-tuning, classifier, predict (the test set: our `Predictor.predict`, fastai's `get_preds` on a test
`DataLoader`, and fastai's `learn.predict` one text at a time).
"""
import argparse, datetime, json, os, platform, resource, subprocess, sys, tempfile, time
from statistics import mean, stdev
from functools import partial
from pathlib import Path

DATASETS = ('trec', 'imdb_sample')
LM_EPOCHS, CLAS_EPOCHS = 2, (1, 1, 1, 12)    # the cpu preset's: 2 LM epochs; 15 classifier epochs over 4 unfreezing steps
TINY = dict(train=300, test=40, lm_epochs=1, clas_epochs=(1, 1, 1, 1))   # --tiny: a check that both sides run, in seconds

def settings(seed:int, tiny:bool) -> dict:
    "The `cpu` preset's changes for this run (epochs cut down with `tiny`)."
    return dict(seed=seed, lm_min_steps=0, clas_min_steps=0,     # epochs as configured: fastai's side runs the same numbers
                **(dict(lm_epochs=TINY['lm_epochs'], clas_epochs=sum(TINY['clas_epochs'])) if tiny else {}))

def splits(dataset:str, seed:int, tiny:bool=False):
    "(train, valid, test) DataFrames of raw texts with `text` and `label` (the validation split drawn with `seed`)."
    from ulmfit_nbdev.data import load_imdb_sample, holdout_split
    from ulmfit_nbdev.low_shot import labelled_subset
    from low_shot import load                                      # the one reader of the benchmarks' datasets
    if dataset == 'trec': train, test, _, _ = load('trec')
    elif dataset == 'imdb_sample':                               # its 200 validation reviews are the test set here
        df = load_imdb_sample()
        train, test = df[~df.is_valid][['text', 'label']], df[df.is_valid][['text', 'label']]
    else: raise ValueError(f"unknown dataset {dataset!r}")
    if tiny: train, test = labelled_subset(train, TINY['train'], 0), labelled_subset(test, TINY['test'], 0)
    train, valid = holdout_split(train.assign(label=train.label.astype(str)), 0.1, seed=seed)
    return train.reset_index(drop=True), valid.reset_index(drop=True), test.assign(label=test.label.astype(str)).reset_index(drop=True)

def cpu_model() -> str:
    "The processor's model name, as /proc/cpuinfo gives it ('' where there is none)."
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor()

def peak_rss_mb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def ours(dataset, seed, threads, tiny=False, precision='fp32') -> dict:
    "This project's recipe: `ulmfit()` (tokenize, LM fine-tuning, classifier), then `Predictor` on the test texts."
    import torch
    from ulmfit_nbdev.cli import make_config, training_output
    from ulmfit_nbdev.inference import Predictor
    from ulmfit_nbdev.pipeline import get_pretrained, ulmfit
    torch.set_num_threads(threads)
    train, valid, test = splits(dataset, seed, tiny)
    config = make_config('cpu', {**settings(seed, tiny), 'precision': precision})
    pretrained = get_pretrained(config)                          # the shipped stage 1, read from the package
    start = time.time()
    with training_output(True):                                  # no progress bars (fastai's side shows none either)
        result = ulmfit(train, None, config, valid_df=valid, pretrained=pretrained)
    total, s = time.time() - start, result['seconds']
    start = time.time()
    predictor = Predictor(result['learner'].model, result['itos'], result['classes'], config)
    labels = [p['label'] for p in predictor.predict(test.text.tolist())]
    predict = time.time() - start
    accuracy = sum(l == t for l, t in zip(labels, test.label)) / len(test)
    seconds = dict(tokenize=total - s['lm_finetune'] - s['classifier'] - s['pretrain'], lm_finetune=s['lm_finetune'],
                   classifier=s['classifier'], predict=predict)
    return dict(accuracy=accuracy, seconds=seconds, vocab=len(result['itos']))

def fastai_stage1(folder:Path) -> list:
    "The shipped stage 1 as fastai's `pretrained_fnames` want it: models/wt2.pth and models/wt2.pkl; fastai's config."
    import pickle, shutil
    from ulmfit_nbdev.pipeline import SHIPPED_STAGE1 as src
    (folder/'models').mkdir(parents=True, exist_ok=True)
    shutil.copy(src/'model.pth', folder/'models'/'wt2.pth')
    (folder/'models'/'wt2.pkl').write_bytes(pickle.dumps(json.loads((src/'itos.json').read_text())))
    return ['wt2', 'wt2']

def fastai_side(dataset, seed, threads, tiny=False) -> dict:
    "fastai's text tutorial, at the same sizes, epochs and vocabulary as ours."
    import torch
    from fastai.text.all import (AWD_LSTM, CategoryBlock, ColReader, ColSplitter, DataBlock, Perplexity, TextBlock,
                                 accuracy, awd_lstm_clas_config, awd_lstm_lm_config, language_model_learner, set_seed,
                                 text_classifier_learner)
    from ulmfit_nbdev.cli import make_config
    torch.set_num_threads(threads)
    config = make_config('cpu', settings(seed, tiny))
    train, valid, test = splits(dataset, seed, tiny)
    lm_epochs, clas_epochs = (TINY['lm_epochs'], TINY['clas_epochs']) if tiny else (LM_EPOCHS, CLAS_EPOCHS)
    df = __import__('pandas').concat([train.assign(is_valid=False), valid.assign(is_valid=True)], ignore_index=True)
    folder = Path(tempfile.mkdtemp(prefix='fastai_recipe_'))
    fnames = fastai_stage1(folder)
    sizes = dict(emb_sz=config.embedding_size, n_hid=config.hidden_size, n_layers=config.n_layers)
    set_seed(seed, reproducible=True)
    seconds, start = {}, time.time()
    text = dict(min_freq=config.min_freq, max_vocab=config.max_vocab, seq_len=config.bptt)
    dls_lm = DataBlock(blocks=TextBlock.from_df('text', is_lm=True, **text), get_x=ColReader('text'),
                       splitter=ColSplitter()).dataloaders(df, bs=config.bs, seq_len=config.bptt, path=folder)
    dls_clas = DataBlock(blocks=(TextBlock.from_df('text', vocab=dls_lm.vocab, **text), CategoryBlock),
                         get_x=ColReader('text'), get_y=ColReader('label'),
                         splitter=ColSplitter()).dataloaders(df, bs=config.bs, seq_len=config.bptt, path=folder)
    seconds['tokenize'], start = time.time() - start, time.time()
    learn = language_model_learner(dls_lm, AWD_LSTM, config={**awd_lstm_lm_config, **sizes}, drop_mult=config.lm_drop_mult,
                                   pretrained=True, pretrained_fnames=fnames, metrics=[accuracy, Perplexity()])
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1, 2e-2)                              # the tutorial: one epoch with the body frozen,
        if lm_epochs > 1: learn.unfreeze(); learn.fit_one_cycle(lm_epochs - 1, 2e-3)   # then the rest unfrozen
    learn.save_encoder('finetuned')
    seconds['lm_finetune'], start = time.time() - start, time.time()
    learn = text_classifier_learner(dls_clas, AWD_LSTM, seq_len=config.bptt, config={**awd_lstm_clas_config, **sizes},
                                    drop_mult=config.clas_drop_mult, pretrained=False, lin_ftrs=[config.head_size],
                                    max_len=config.max_len, metrics=accuracy).load_encoder('finetuned')
    with learn.no_bar(), learn.no_logging():                      # the tutorial's gradual unfreezing and rates
        learn.fit_one_cycle(clas_epochs[0], 2e-2)
        learn.freeze_to(-2); learn.fit_one_cycle(clas_epochs[1], slice(1e-2 / 2.6**4, 1e-2))
        learn.freeze_to(-3); learn.fit_one_cycle(clas_epochs[2], slice(5e-3 / 2.6**4, 5e-3))
        learn.unfreeze(); learn.fit_one_cycle(clas_epochs[3], slice(1e-3 / 2.6**4, 1e-3))
    seconds['classifier'], start = time.time() - start, time.time()
    with learn.no_bar():
        probs, _ = learn.get_preds(dl=learn.dls.test_dl(test))
    seconds['predict'], start = time.time() - start, time.time()
    classes = list(learn.dls.vocab[1])
    accuracy_ = sum(classes[int(i)] == t for i, t in zip(probs.argmax(1), test.label)) / len(test)
    with learn.no_bar():
        one_by_one = [learn.predict(t)[0] for t in test.text]
    seconds_predict_loop = time.time() - start
    agree = sum(str(a) == classes[int(i)] for a, i in zip(one_by_one, probs.argmax(1))) / len(test)
    return dict(accuracy=accuracy_, seconds=seconds, predict_loop_seconds=seconds_predict_loop,
                predict_loop_agrees=agree, vocab=len(dls_lm.vocab))

def one(side, dataset, seed, threads, tiny=False):
    "One run in this process; its result as one JSON line on stdout."
    start = time.time()
    run = dict(ours=ours, ours_bf16=partial(ours, precision='bf16'), fastai=fastai_side)[side]
    r = run(dataset, seed, threads, tiny)
    r.update(side=side, dataset=dataset, seed=seed, total_seconds=sum(r['seconds'].values()), wall_seconds=time.time() - start,
             peak_rss_mb=peak_rss_mb())
    print(json.dumps(r), flush=True)

def std(xs): return stdev(xs) if len(xs) > 1 else 0.   # sample standard deviation (n - 1)

def summarize(runs:list, dataset:str) -> dict:
    "Per-dataset figures: wall time per stage (mean over seeds), speedups, accuracies per seed, peak RSS."
    side = lambda s: [r for r in runs if r['side'] == s and r['dataset'] == dataset]
    sides = [s for s in ('ours', 'ours_bf16', 'fastai') if side(s)]
    o, f = side('ours'), side('fastai')
    stages = list(o[0]['seconds'])
    out = dict(dataset=dataset, seeds=[r['seed'] for r in o],
               seconds={k: {s: mean([r['seconds'][k] for r in side(s)]) for s in sides} for k in stages},
               total_seconds={s: mean([r['total_seconds'] for r in side(s)]) for s in sides},
               accuracies={s: [r['accuracy'] for r in side(s)] for s in sides},
               peak_rss_mb={s: max(r['peak_rss_mb'] for r in side(s)) for s in sides},
               fastai_predict_loop_seconds=mean([r['predict_loop_seconds'] for r in f]))
    out['speedup_vs_fastai'] = out['total_seconds']['fastai'] / out['total_seconds']['ours']
    out['stage_speedups'] = {k: v['fastai'] / v['ours'] for k, v in out['seconds'].items()}
    out['predict_speedup_vs_get_preds'] = out['stage_speedups']['predict']
    out['predict_speedup_vs_predict_loop'] = out['fastai_predict_loop_seconds'] / out['seconds']['predict']['ours']
    a = out['accuracies']
    out['accuracy'] = {k: dict(mean=mean(v), std=std(v)) for k, v in a.items()}
    equal = lambda s: mean(a[s]) >= mean(a['fastai']) - max(std(a[s]), std(a['fastai']))   # within one seed-std, or better
    out['equal_accuracy'] = equal('ours')
    if 'ours_bf16' in sides:
        out['speedup_vs_fastai_bf16'] = out['total_seconds']['fastai'] / out['total_seconds']['ours_bf16']
        out['equal_accuracy_bf16'] = equal('ours_bf16')
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--datasets', default=','.join(DATASETS)); ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--out', default='benchmarks/results/cpu_recipe.json')
    from ulmfit_nbdev.training import native_bf16
    ap.add_argument('--sides', default='ours,fastai' + ',ours_bf16' * native_bf16(),
                    help="'ours', 'fastai', 'ours_bf16' (ours with precision='bf16'; by default only where the CPU has native bfloat16)")
    ap.add_argument('--tiny', action='store_true', help='a few hundred texts and 1 + 4 epochs: checks that both sides run')
    ap.add_argument('--one', nargs=3, metavar=('SIDE', 'DATASET', 'SEED'), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: return one(a.one[0], a.one[1], int(a.one[2]), a.threads, a.tiny)
    runs, log, sides = [], Path(a.out + '.runs.jsonl'), a.sides.split(',')
    done = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
    started, load_start = time.time(), os.getloadavg()
    for dataset in a.datasets.split(','):
        for i, seed in enumerate(int(s) for s in a.seeds.split(',')):
            for side in sides[i % len(sides):] + sides[:i % len(sides)]:   # rotate who goes first
                if (r := next((r for r in done if (r['side'], r['dataset'], r['seed']) == (side, dataset, seed)), None)) is None:
                    out = subprocess.run([sys.executable, __file__, '--one', side, dataset, str(seed), '--threads', str(a.threads)] + ['--tiny'] * a.tiny,
                                         capture_output=True, text=True)
                    if out.returncode: sys.exit(f"{side} {dataset} seed {seed} failed:\n{out.stderr[-3000:]}")
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    with open(log, 'a') as f: f.write(json.dumps(r) + '\n')
                runs.append(r)
                print(f"{dataset} seed {seed} {side}: accuracy {r['accuracy']:.3f}, {r['total_seconds']:.0f}s "
                      f"({', '.join(f'{k} {v:.1f}' for k, v in r['seconds'].items())}), peak RSS {r['peak_rss_mb']:.0f} MB",
                      file=sys.stderr, flush=True)
    import torch
    result = dict(results=[summarize(runs, d) for d in a.datasets.split(',')], runs=runs, threads=a.threads, tiny=a.tiny,
                  command='python ' + ' '.join(sys.argv), seconds=round(time.time() - started),
                  date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  load_average_start=load_start, load_average_end=os.getloadavg(), cores=os.cpu_count(),
                  torch=torch.__version__, fastai=__import__('fastai').__version__, platform=platform.platform(),
                  cpu=cpu_model(), cpu_capability=torch.backends.cpu.get_cpu_capability(), native_bf16=native_bf16())
    result['speedup_vs_fastai'] = min(r['speedup_vs_fastai'] for r in result['results'])
    Path(a.out).write_text(json.dumps(result, indent=1))
    for r in result['results']:
        print(f"{r['dataset']}: whole recipe {r['speedup_vs_fastai']:.2f}x fastai; accuracy ours "
              f"{r['accuracy']['ours']['mean']:.3f}±{r['accuracy']['ours']['std']:.3f} vs fastai "
              f"{r['accuracy']['fastai']['mean']:.3f}±{r['accuracy']['fastai']['std']:.3f}; "
              + (f"bf16 {r['speedup_vs_fastai_bf16']:.2f}x at {r['accuracy']['ours_bf16']['mean']:.3f}; " if 'ours_bf16' in r['accuracy'] else '')
              + f"predict {r['predict_speedup_vs_get_preds']:.1f}x "
              f"get_preds, {r['predict_speedup_vs_predict_loop']:.1f}x learn.predict; peak RSS {r['peak_rss_mb']['ours']:.0f} vs "
              f"{r['peak_rss_mb']['fastai']:.0f} MB", file=sys.stderr)

if __name__ == '__main__': main()
