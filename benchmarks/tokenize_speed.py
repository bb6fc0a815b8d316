#!/usr/bin/env python
"""Tokenizer benchmark: `ulmfit_nbdev.fast_tokenizer.tokenize_texts` against fastai's `parallel_tokenize`, side by side.

    FASTAI_HOME=... python benchmarks/tokenize_speed.py [--n-docs 2000] [--workers 2] [--repeats 3] [--full]

Both tokenize the same N IMDb training reviews (a fixed random choice, seed 0) with default rules and the same
number of worker processes, each from a cold start (fresh worker processes, empty caches), alternating, `--repeats`
times. The output must be identical token for token (asserted) before any speed is reported. With `--full`, all
100,000 IMDb reviews (train, test, unsup) are also tokenized by `ulmfit_nbdev.corpus.tokenize_corpus` (streamed, cached) and checked
against fastai's `parallel_tokenize` in blocks. Writes benchmarks/results/tokenize.json.
"""
import os, sys
import argparse, datetime, json, platform, resource, shlex, tempfile, time
from pathlib import Path

import numpy as np


def peak_rss_mb():
    "Peak resident memory of this process and of its finished children, in MiB (the larger)."
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(max(own, children), 1)


def cpu_seconds():
    "CPU time (user + system) used so far by this process and its finished child processes."
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function, *args):
    "(result, wall seconds, CPU seconds of this process and its workers)."
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = function(*args)
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def fastai_tokenize(texts, n_workers, tokenizer=None):
    "fastai's `parallel_tokenize` with default rules, results in input order."
    from fastai.text.all import parallel_tokenize, WordTokenizer, defaults
    out = [None] * len(texts)
    tokenizer = WordTokenizer() if tokenizer is None else tokenizer
    for i, tokens in parallel_tokenize(texts, tokenizer, rules=defaults.text_proc_rules, n_workers=n_workers):
        out[i] = list(tokens)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n-docs', type=int, default=2000, help='IMDb training reviews to tokenize')
    parser.add_argument('--workers', type=int, default=2, help='worker processes, for both')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs of each, alternating')
    parser.add_argument('--full', action='store_true', help='also tokenize all 100,000 IMDb reviews with tokenize_corpus')
    parser.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'tokenize.json'))
    args = parser.parse_args()

    from ulmfit_nbdev.data import load_imdb
    from ulmfit_nbdev.tokenizer import spacy_tokenizer
    from ulmfit_nbdev.fast_tokenizer import tokenize_texts, shared_tokenizer
    from fastai.text.all import WordTokenizer
    import spacy, fastai
    fastai_spacy = WordTokenizer()  # both build their spaCy pipeline once, outside the timings
    spacy_tokenizer()

    train = load_imdb(splits=('train',))['train']
    texts = train.text.sample(n=min(args.n_docs, len(train)), random_state=0).tolist()
    n = len(texts)
    print(f'{n} IMDb training reviews, {sum(map(len, texts)):,} characters, {args.workers} workers', flush=True)

    ours_s, fastai_s, ours_cpu, fastai_cpu, identical = [], [], [], [], True
    for repeat in range(args.repeats):
        ref, wall, cpu = timed(fastai_tokenize, texts, args.workers, fastai_spacy); fastai_s.append(wall); fastai_cpu.append(cpu)
        shared_tokenizer.cache_clear()  # cold start: no run cache inherited by the workers
        mine, wall, cpu = timed(tokenize_texts, texts, args.workers); ours_s.append(wall); ours_cpu.append(cpu)
        same = [list(t) for t in mine] == ref
        identical &= same
        print(f'repeat {repeat}: fastai {n / fastai_s[-1]:7.0f} docs/s ({fastai_cpu[-1]:5.1f} CPU s)   '
              f'ours {n / ours_s[-1]:7.0f} docs/s ({ours_cpu[-1]:5.1f} CPU s)   identical={same}   load {os.getloadavg()[0]:.1f}', flush=True)
    assert identical, 'token sequences differ from fastai'
    n_tokens = sum(map(len, ref))

    ratios = [f / o for f, o in zip(fastai_s, ours_s)]
    result = dict(
        identical_to_fastai=bool(identical), n_docs=n, n_tokens=n_tokens, cores=args.workers,
        docs_per_s=round(n / float(np.median(ours_s)), 1), fastai_docs_per_s=round(n / float(np.median(fastai_s)), 1),
        speedup_vs_fastai=round(float(np.median(ratios)), 2),
        speedup_runs=[round(r, 2) for r in ratios],
        cpu_seconds=round(float(np.median(ours_cpu)), 2), fastai_cpu_seconds=round(float(np.median(fastai_cpu)), 2),
        speedup_cpu_time=round(float(np.median([f / o for f, o in zip(fastai_cpu, ours_cpu)])), 2),
        docs_per_s_runs=[round(n / s, 1) for s in ours_s], fastai_docs_per_s_runs=[round(n / s, 1) for s in fastai_s],
        timing=('median of alternating cold-start runs (fresh worker processes, empty caches, same reviews); '
                'cpu_seconds: user+system time of the main process and its workers, less sensitive to other load'),
        machine_cpus=os.cpu_count(), load_average_at_end=[round(x, 2) for x in os.getloadavg()],
        spacy=spacy.__version__, fastai=fastai.__version__, python=platform.python_version(),
    )

    if args.full:
        from ulmfit_nbdev.corpus import tokenize_corpus
        splits = load_imdb()
        all_texts = [t for split in ('train', 'test', 'unsup') for t in splits[split].text.tolist()]
        with tempfile.TemporaryDirectory() as cache_dir:
            start = time.perf_counter()
            corpus = tokenize_corpus(all_texts, cache_dir, n_workers=args.workers)
            seconds = time.perf_counter() - start
            start = time.perf_counter(); tokenize_corpus(all_texts, cache_dir, n_workers=args.workers); cached_s = time.perf_counter() - start
            block, same, fastai_seconds = 10_000, True, 0.0
            for lo in range(0, len(all_texts), block):
                start = time.perf_counter()
                ref = fastai_tokenize(all_texts[lo:lo + block], args.workers, fastai_spacy)
                fastai_seconds += time.perf_counter() - start
                same &= all(corpus[lo + i] == r for i, r in enumerate(ref))
                print(f'full corpus check {lo + block:,}/{len(all_texts):,}: identical={same}', flush=True)
            assert same, 'full-corpus token sequences differ from fastai'
            result['full_corpus'] = dict(
                n_docs=len(all_texts), n_tokens=int(corpus.offsets[-1]), n_types=len(corpus.types), identical_to_fastai=bool(same),
                seconds=round(seconds, 1), docs_per_s=round(len(all_texts) / seconds, 1),
                fastai_seconds=round(fastai_seconds, 1), fastai_docs_per_s=round(len(all_texts) / fastai_seconds, 1),
                speedup_vs_fastai=round(fastai_seconds / seconds, 2), cached_reload_s=round(cached_s, 2),
                note=('ours: tokenize_corpus (tokenize, number, write ids to disk, one pass); '
                      f'fastai: parallel_tokenize in blocks of {block:,} reviews, token lists in memory'))

    result.update(peak_rss_mb=peak_rss_mb(), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  command='python ' + ' '.join(map(shlex.quote, sys.argv)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
