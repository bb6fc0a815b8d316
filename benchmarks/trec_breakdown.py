#!/usr/bin/env python
"""Where ULMFiT loses to TF-IDF + logistic regression at few TREC-6 labels: test accuracy split between the bare
definition questions ("What is X ?", "What are the Y ?": 84 of the 500 test questions, 125 of the 5,452 training ones)
and all the others, for both methods, on the labelled subsets of the low-shot benchmark.

    python benchmarks/trec_breakdown.py [--labels 200] [--seeds 0,1,2] [--set FIELD=VALUE ...] [--ensemble] [--workers 2]
                                        [--out benchmarks/results/trec_breakdown.json]

ULMFiT runs the `cpu` preset in float32 with the low-shot floors (`clas_min_steps=300`, `lm_min_steps=100`) and the
`--set` changes; the labelled subset of seed s is the low-shot benchmark's (`labelled_subset(train, labels, s)`).
"""
import argparse, concurrent.futures, datetime, json, multiprocessing, subprocess, sys
from pathlib import Path

DEFINITION = r"^What (is|are) (an? |the )?\S+ \?$"   # a bare definition question: "What is an atom ?"

def trec():
    "(train, test) of TREC-6, as the low-shot benchmark loads them."
    from low_shot import load                                     # benchmarks/ is the script's folder, so on sys.path
    return load('trec')[:2]

def accuracies(predicted, test) -> dict:
    "Accuracy on the definition questions, on the others, and on all."
    import numpy as np
    right, definition = np.asarray(predicted) == test.label.to_numpy(), test.text.str.match(DEFINITION).to_numpy()
    return dict(definition=float(right[definition].mean()), other=float(right[~definition].mean()), all=float(right.mean()))

def ulmfit_probabilities(labelled, test, settings:dict, seed:int):
    "(classes, test probabilities) of one ULMFiT run."
    from ulmfit_nbdev.cli import make_config, run_recipe
    from ulmfit_nbdev.pipeline import get_pretrained
    config = make_config('cpu', {**settings, 'seed': seed})
    r = run_recipe(labelled, test, config.to_dict(), get_pretrained(config), 1, None, True)
    return r['classes'], r['probabilities']

def run(labels:int, seed:int, settings:dict, ensemble:bool=False) -> dict:
    import numpy as np
    from ulmfit_nbdev.cli import tfidf_logreg_predict
    from ulmfit_nbdev.low_shot import labelled_subset
    train, test = trec()
    labelled = labelled_subset(train, labels, seed)
    tfidf_predicted = tfidf_logreg_predict(labelled.text, labelled.label, test.text)
    classes, forward = ulmfit_probabilities(labelled, test, settings, seed)
    out = dict(labels=labels, seed=seed, ulmfit=accuracies(np.asarray(classes)[forward.argmax(-1)], test),
               tfidf=accuracies(tfidf_predicted, test))
    if ensemble:                                                  # §3.3: the backward classifier, and the average of both
        bwd_classes, backward = ulmfit_probabilities(labelled, test, {**settings, 'backwards': True}, seed)
        assert bwd_classes == classes
        out.update(ulmfit_backward=accuracies(np.asarray(classes)[backward.argmax(-1)], test),
                   ulmfit_ensemble=accuracies(np.asarray(classes)[(forward + backward).argmax(-1)], test))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--labels', type=int, default=200); ap.add_argument('--seeds', default='0,1,2')
    ap.add_argument('--set', action='append', default=[]); ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--ensemble', action='store_true', help='also the backward classifier and the forward + backward average')
    ap.add_argument('--out', default='benchmarks/results/trec_breakdown.json')
    a = ap.parse_args()
    from ulmfit_nbdev.cli import parse_settings
    if a.set and a.out == ap.get_default('out'): sys.exit("trec_breakdown.py: with --set, give --out (the default file holds the preset's runs)")
    settings = {**dict(clas_min_steps=300, lm_min_steps=100, precision='fp32'), **parse_settings(a.set)}
    train, test = trec()
    definitions = {name: df[df.text.str.match(DEFINITION)] for name, df in (('train', train), ('test', test))}
    counts = dict(test=len(definitions['test']), train=len(definitions['train']), test_total=len(test), train_total=len(train),
                  labels={name: d.label.value_counts().to_dict() for name, d in definitions.items()})
    with concurrent.futures.ProcessPoolExecutor(a.workers, mp_context=multiprocessing.get_context('spawn')) as pool:
        runs = list(pool.map(run, *zip(*[(a.labels, int(s), settings, a.ensemble) for s in a.seeds.split(',')])))
    for r in runs:
        print(f"seed {r['seed']}: " + '; '.join(f"{m} definition {100 * r[m]['definition']:.1f}%, other {100 * r[m]['other']:.1f}%, "
                                                f"all {100 * r[m]['all']:.1f}%" for m in r if m not in ('labels', 'seed')), file=sys.stderr)
    commit = subprocess.run(['git', 'describe', '--always', '--dirty'], capture_output=True, text=True).stdout.strip()   # -dirty: uncommitted changes
    Path(a.out).write_text(json.dumps(dict(definition_pattern=DEFINITION, counts=counts, settings=settings, runs=runs, commit=commit,
                                           command='python ' + ' '.join(sys.argv),
                                           date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')), indent=1))

if __name__ == '__main__': main()
