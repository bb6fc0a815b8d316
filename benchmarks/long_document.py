#!/usr/bin/env python
"""One very long document among short ones: seconds per classifier epoch and for evaluation, with the default
`ULMFiTConfig.max_tokens` bound and without it (`max_tokens=None`).

    python benchmarks/long_document.py [--words 200000] [--rows 200] [--out benchmarks/results/long_document.json]

The 200 shortest-first TREC-6 questions plus one document of `--words` words (TREC questions repeated), the `cpu`
preset's classifier, one thread. Writes per-setting seconds, the command and the date.
"""
import argparse, datetime, json, sys, time, warnings
from pathlib import Path
import torch

def measure(texts, labels, config, classes):
    "Seconds of one training epoch of the classifier and of evaluating the same texts."
    from ulmfit_nbdev.fast_tokenizer import tokenize
    from ulmfit_nbdev.tokenizer import Vocab, numericalize
    from ulmfit_nbdev.pipeline import classifier_learner, evaluate, class_indices
    tokens = tokenize(texts, pretokenized=True)
    itos = Vocab.build(tokens, 1, 60_000).itos
    ids, y = numericalize(tokens, itos), class_indices(labels, classes)
    learn = classifier_learner(ids, y, ids[:20], y[:20], itos, len(classes), config)
    start = time.time()
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter('ignore'); learn.fit(1, lr=1e-3)
    epoch = time.time() - start
    start = time.time(); evaluate(learn.model, ids, y, config)
    return dict(epoch_seconds=round(epoch, 2), evaluate_seconds=round(time.time() - start, 2), longest_tokens=max(map(len, ids)))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--words', type=int, default=200_000); ap.add_argument('--rows', type=int, default=200)
    ap.add_argument('--out', default='benchmarks/results/long_document.json')
    a = ap.parse_args()
    torch.set_num_threads(1)
    from ulmfit_nbdev.config import preset
    from ulmfit_nbdev.data import load_trec
    train = load_trec()['train'].rename(columns={'coarse': 'label'}).iloc[:a.rows]
    long_text = ' '.join((' '.join(train.text.tolist()) + ' ').split()[:a.words] * (1 + a.words // max(1, len(' '.join(train.text).split()))))
    long_text = ' '.join(long_text.split()[:a.words])
    texts, labels = train.text.tolist() + [long_text], train.label.tolist() + [train.label.iloc[0]]
    classes = sorted(set(labels))
    results = {}
    for name, max_tokens in [('bounded (default max_tokens)', preset('cpu').max_tokens), ('unbounded (max_tokens=None)', None)]:
        results[name] = dict(max_tokens=max_tokens, **measure(texts, labels, preset('cpu', max_tokens=max_tokens), classes))
        print(name, results[name], flush=True)
    out = dict(results=results, rows=a.rows, words=a.words, threads=1, command='python ' + ' '.join(sys.argv),
               date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))

if __name__ == '__main__': main()
