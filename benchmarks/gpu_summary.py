#!/usr/bin/env python
"""Collect the GPU runs of gpu_lm_loop.py, model_step.py, gpu_clas.py and imdb_time_to_accuracy.py into
benchmarks/results/gpu.json: the headline figures of issue 8, each with its device, date and command, and the goals.

    python benchmarks/gpu_summary.py [--device cuda] [--out benchmarks/results/gpu.json]

Reads the entries whose key names `--device` (`paper-cuda-...`); missing ones are reported as null.
"""
import argparse, datetime, json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results'


def entries(name, device, preset='paper', results=RESULTS):
    "The entries of <results>/<name>.json whose key starts with `<preset>-<device>`, newest last."
    path = Path(results) / f'{name}.json'
    if not path.exists(): return []
    data = json.loads(path.read_text())
    found = [v for k, v in data.items() if k.startswith(f'{preset}-{device}')]
    return sorted(found, key=lambda v: v.get('date', ''))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', default='cuda'); parser.add_argument('--preset', default='paper')
    parser.add_argument('--results', default=str(RESULTS), help='folder of the results JSON files')
    parser.add_argument('--out', help='default: <results>/gpu.json')
    args = parser.parse_args()
    args.out = args.out or str(Path(args.results) / 'gpu.json')
    lm = entries('gpu_lm_loop', args.device, args.preset, args.results)
    clas = entries('gpu_clas', args.device, args.preset, args.results)
    all_tta = entries('imdb_time_to_accuracy', args.device, args.preset, args.results)
    tta = [e for e in all_tta if e.get('direction') == 'fwd']
    ensemble = [e for e in all_tta if e.get('direction') == 'ensemble']
    step = entries('model_step', args.device, args.preset, args.results)
    lm, clas, tta = (lm[-1] if lm else {}), (clas[-1] if clas else {}), (tta[-1] if tta else {})
    devices = sorted({e.get('device_name') for e in [lm, clas, tta, *step] if e.get('device_name')})
    result = dict(
        device=', '.join(devices) or None,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        lm_loop_speedup_vs_fastai=lm.get('lm_loop_speedup_vs_fastai'),
        lm_loop_ratio_to_bare=lm.get('lm_loop_ratio_to_bare'),
        lm_loop_batch=lm.get('headline_batch'), lm_loop_precision=lm.get('precision'),
        lm_loop_tokens_per_s=lm.get('tokens_per_s'), lm_loop_ratios=lm.get('ratios'), lm_loop_peak_gib=lm.get('peak_gib'),
        model_step={f"{e['precision']}-{e['batch_size']}x{e['bptt']}": dict(tokens_per_s=e['tokens_per_s'],
                    ratio_ours_to_fastai=e.get('ratio_ours_to_fastai'), ratio_ours_to_bare=e.get('ratio_ours_to_bare'))
                    for e in step},
        clas_speedup_vs_fastai=clas.get('clas_speedup_vs_fastai'), clas_docs_per_s=clas.get('docs_per_s'),
        clas_peak_gib=clas.get('peak_gib'), clas_memory_ratio_vs_fastai=clas.get('memory_ratio_vs_fastai'),
        imdb_test_accuracy=tta.get('test_accuracy'), imdb_seconds=tta.get('seconds'), imdb_budget_s=tta.get('budget_s'),
        imdb_lm_tokens_per_s=tta.get('lm_tokens_per_s'), imdb_lm_epochs=tta.get('lm_epochs'),
        imdb_ensemble_accuracy=ensemble[-1]['test_accuracy'] if ensemble else None,
        imdb_ensemble_seconds=ensemble[-1]['seconds'] if ensemble else None,
        fastai_bar='fastai 2.8 on one H200 (../shared/PAPER.md): LM in its Learner 256,609 tokens/s at bs 256 fp16; '
                   'classifier 281 docs/s fp16 at 64 x 1400; IMDb recipe from random init 93.02% in 332 s',
        dates={n: e.get('date') for n, e in [('lm_loop', lm), ('clas', clas), ('imdb', tta)] if e},
        commands=[e['command'] for e in [lm, *step, clas, tta] if e.get('command')],
    )
    e2e = Path(args.results) / 'fastai_e2e.jsonl'   # device_check.sh FASTAI_E2E=1: fastai's recipe on the same device
    if e2e.exists():
        lines = [json.loads(l) for l in e2e.read_text().splitlines() if l.startswith('{')]
        final = [l for l in lines if l.get('stage') == 'final']
        result['fastai_e2e_same_device'] = dict(test_accuracy=final[-1]['test_accuracy'], seconds=final[-1]['total_s']) if final else 'no final line'
    goals = {}
    if result['lm_loop_speedup_vs_fastai'] is not None: goals['lm_loop >= 1.8x fastai'] = result['lm_loop_speedup_vs_fastai'] >= 1.8
    if result['lm_loop_ratio_to_bare'] is not None: goals['lm_loop >= 0.9 of bare'] = result['lm_loop_ratio_to_bare'] >= 0.9
    if result['clas_speedup_vs_fastai'] is not None:
        goals['clas >= 1.5x fastai'] = result['clas_speedup_vs_fastai'] >= 1.5
        if result['clas_memory_ratio_vs_fastai'] is not None: goals['clas memory <= fastai'] = result['clas_memory_ratio_vs_fastai'] <= 1.0
    if result['imdb_test_accuracy'] is not None:
        goals['imdb >= 93.0% in <= 200 s'] = result['imdb_test_accuracy'] >= 0.93 and result['imdb_seconds'] <= 200
    result['goals_met'] = goals
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__': main()
