#!/usr/bin/env python
"""Forward + backward ensemble (§3.3): average the test-set probabilities saved by two runs of
imdb_time_to_accuracy.py (`--save-probs`, one of them with `--backwards`) and report the accuracy.

    python benchmarks/imdb_ensemble.py --npz .cache/gpu/imdb_ids.npz fwd_probs.npy bwd_probs.npy

Merges the result into benchmarks/results/imdb_time_to_accuracy.json under `<preset>-<device>-ensemble`, with the
seconds of both runs added up (they are trained one after the other).
"""
import argparse, datetime, json, sys
from pathlib import Path
import numpy as np

RESULTS = Path(__file__).resolve().parent / 'results'

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('probs', nargs='+', help='.npy files of (n_test, n_classes) probabilities, same document order')
    parser.add_argument('--npz', required=True, help='the .npz the runs read (for the test labels)')
    parser.add_argument('--max-docs', type=int, help='as given to the runs'); parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--key', default='paper-cuda'); parser.add_argument('--out', default=str(RESULTS / 'imdb_time_to_accuracy.json'))
    args = parser.parse_args()
    labels = np.load(args.npz)['test_y'].astype(np.int64)
    if args.max_docs is not None and args.max_docs < len(labels):
        labels = labels[np.sort(np.random.default_rng(args.seed).permutation(len(labels))[:args.max_docs])]
    probs = [np.load(p) for p in args.probs]
    if any(p.shape[0] != len(labels) for p in probs): sys.exit(f'{args.probs}: {[p.shape for p in probs]} rows vs {len(labels)} test labels')
    single = [round(float((p.argmax(1) == labels).mean()), 4) for p in probs]
    accuracy = round(float((np.mean(probs, 0).argmax(1) == labels).mean()), 4)
    out = Path(args.out); results = json.loads(out.read_text()) if out.exists() else {}
    runs = [results.get(f'{args.key}-{d}', {}) for d in ('fwd', 'bwd')]
    seconds = sum(r.get('seconds', 0) for r in runs) or None
    result = dict(test_accuracy=accuracy, single_accuracies=single, seconds=seconds, files=args.probs, direction='ensemble',
                  date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  device_name=runs[0].get('device_name'), command='python ' + ' '.join(sys.argv))
    results[f'{args.key}-ensemble'] = result
    out.write_text(json.dumps(results, indent=2) + '\n')
    print(json.dumps(result))

if __name__ == '__main__': main()
