#!/usr/bin/env python
"""Tokenize and numericalize IMDb once, into a compact .npz to carry to the GPU machine (which has no spaCy).

Reads train/test/unsup with `ulmfit_nbdev.data.load_imdb` (or, with `--sample`, fastai's 1,000-review IMDB_SAMPLE:
train = not is_valid, test = is_valid, no unsup; for CI), tokenizes with `ulmfit_nbdev.fast_tokenizer` (identical to
fastai's tokenizer), by default through the cached `ulmfit_nbdev.corpus.tokenize_corpus` (`--tokenizer lists`: `tokenize_texts`;
`--tokenizer fastai`: fastai's `parallel_tokenize`), builds fastai's vocabulary rule (`Vocab.from_counter` / `make_vocab`:
min_freq 3, max_vocab 60,000, special tokens first, padded to a multiple of 8) on the language-model texts
(train + unsup) and saves:

  vocab            the itos list (str array)
  <split>_ids      uint16 token ids of the split's documents, concatenated
  <split>_offsets  int64, n_docs + 1: document i is ids[offsets[i]:offsets[i+1]]
  <split>_len      int32 document lengths (the layout ../shared/reference-bench reads)
  <split>_y        int8 labels, 1 = pos (train and test)
  meta             a JSON string: tokenizer, vocabulary rules, counts, seconds, date

    python benchmarks/pretok_imdb.py                                  # all 100,000 reviews -> .cache/gpu/imdb_ids.npz
    python benchmarks/pretok_imdb.py --sample --out /tmp/sample.npz   # IMDB_SAMPLE, a few seconds (CI)
    python benchmarks/pretok_imdb.py --max-docs 200 --out /tmp/small.npz

The full run takes about two minutes on 2 cores (`tokenize_corpus`; a cached corpus: seconds) and writes 36 MiB.
"""
import sys
import argparse, datetime, json, time
from collections import Counter
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def tokenize_with_corpus(splits:dict, workers:int, cache_dir:Path, min_freq:int, max_vocab:int):
    "Ids of every split with `ulmfit_nbdev.corpus.tokenize_corpus` (cached) and `Vocab` built on train + unsup."
    from ulmfit_nbdev.corpus import tokenize_corpus
    from ulmfit_nbdev.tokenizer import Vocab
    from collections import Counter
    names = [s for s in ('train', 'unsup', 'test') if s in splits]        # LM texts first: first-seen order = fastai's
    texts = [t for s in names for t in splits[s][0]]
    corpus = tokenize_corpus(texts, cache_dir, n_workers=workers, progress=False)
    n_docs = np.cumsum([0] + [len(splits[s][0]) for s in names])
    offsets = np.asarray(corpus.offsets)
    lm_end = int(offsets[n_docs[names.index('test')]]) if 'test' in names else int(offsets[-1])
    counts = np.bincount(np.asarray(corpus.ids[:lm_end]), minlength=len(corpus.types))   # train + unsup only
    order = [i for i in np.argsort(corpus.first_seen, kind='stable').tolist() if counts[i] > 0]  # LM texts come first
    vocab = Vocab.from_counter(Counter({corpus.types[i]: int(counts[i]) for i in order}), min_freq, max_vocab)
    if len(vocab) > np.iinfo(np.uint16).max + 1: sys.exit(f'vocabulary of {len(vocab)} tokens does not fit uint16 ids')
    ids = corpus.numericalize(vocab, dtype=np.uint16)
    out = {}
    for k, s in enumerate(names):
        doc_offsets = offsets[n_docs[k]:n_docs[k + 1] + 1]
        out[s] = (ids[doc_offsets[0]:doc_offsets[-1]], doc_offsets - doc_offsets[0])
    return vocab.itos, out, 'ulmfit_nbdev.corpus.tokenize_corpus + Vocab.from_counter'


def tokenize_with_lists(splits:dict, workers:int, tokenizer:str, min_freq:int, max_vocab:int):
    "Ids of every split from token lists: `ulmfit_nbdev.fast_tokenizer.tokenize_texts` or fastai's `parallel_tokenize`; fastai's `make_vocab`."
    from fastai.text.data import make_vocab
    if tokenizer == 'lists':
        from ulmfit_nbdev.fast_tokenizer import tokenize_texts
        tokenize, name = (lambda texts: tokenize_texts(texts, n_workers=workers)), 'ulmfit_nbdev.fast_tokenizer.tokenize_texts'
    else:
        from fastai.text.all import parallel_tokenize, WordTokenizer, defaults
        def tokenize(texts):
            out = [None] * len(texts)
            for i, tokens in parallel_tokenize(texts, WordTokenizer(), rules=defaults.text_proc_rules, n_workers=workers):
                out[i] = list(tokens)
            return out
        name = 'fastai parallel_tokenize(WordTokenizer, defaults.text_proc_rules)'
    tokens = {s: tokenize(texts) for s, (texts, _) in splits.items()}
    counts = Counter(t for s in ('train', 'unsup') if s in tokens for doc in tokens[s] for t in doc)
    itos = make_vocab(counts, min_freq=min_freq, max_vocab=max_vocab)
    if len(itos) > np.iinfo(np.uint16).max + 1: sys.exit(f'vocabulary of {len(itos)} tokens does not fit uint16 ids')
    from ulmfit_nbdev.tokenizer import Vocab
    index = Vocab(itos).stoi  # fastai's Numericalize: `xxfake` gets no id
    out = {}
    for s, docs in tokens.items():
        lengths = np.array([len(d) for d in docs], dtype=np.int64)
        ids = np.fromiter((index.get(t, 0) for d in docs for t in d), dtype=np.uint16, count=int(lengths.sum()))
        out[s] = (ids, np.concatenate([[0], np.cumsum(lengths)]))
    return itos, out, name


def read_splits(sample:bool, max_docs:int|None, path:str|None) -> dict:
    "split -> (texts, labels or None), labels as 1 = positive."
    if sample:
        from ulmfit_nbdev.data import load_imdb_sample
        df = load_imdb_sample()
        frames = {'train': df[~df.is_valid], 'test': df[df.is_valid]}
    else:
        from ulmfit_nbdev.data import load_imdb
        frames = load_imdb(path)
    out = {}
    for split, df in frames.items():
        df = df.iloc[:max_docs] if max_docs is None or split == 'unsup' or len(df) <= max_docs else \
            df.sample(n=max_docs, random_state=0).sort_index()                  # both labels, not the first max_docs
        labels = None if split == 'unsup' else df.label.astype(str).str.startswith('pos').to_numpy().astype(np.int8)
        out[split] = (df.text.tolist(), labels)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=str(ROOT / '.cache' / 'gpu' / 'imdb_ids.npz'))
    parser.add_argument('--sample', action='store_true', help="fastai's IMDB_SAMPLE instead of the full IMDb")
    parser.add_argument('--imdb-path', help='extracted IMDb folder (default: ulmfit_nbdev.data.load_imdb finds it)')
    parser.add_argument('--max-docs', type=int, help='at most this many documents per split')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--tokenizer', choices=('corpus', 'lists', 'fastai'), default='corpus',
                        help="corpus: ulmfit_nbdev's cached tokenize_corpus + Vocab; lists: its tokenize_texts + fastai's make_vocab; fastai: fastai's tokenizer")
    parser.add_argument('--cache-dir', default=str(ROOT / '.cache' / 'tokens'), help="tokenize_corpus's cache (not carried)")
    parser.add_argument('--min-freq', type=int, default=3); parser.add_argument('--max-vocab', type=int, default=60_000)
    args = parser.parse_args()
    start = time.time()
    splits = read_splits(args.sample, args.max_docs, args.imdb_path)
    print(json.dumps({s: len(t) for s, (t, _) in splits.items()} | dict(stage='read', seconds=round(time.time() - start, 1))), flush=True)
    if args.tokenizer == 'corpus':
        itos, ids, tokenizer_name = tokenize_with_corpus(splits, args.workers, Path(args.cache_dir), args.min_freq, args.max_vocab)
    else: itos, ids, tokenizer_name = tokenize_with_lists(splits, args.workers, args.tokenizer, args.min_freq, args.max_vocab)
    print(json.dumps(dict(stage='tokenized', seconds=round(time.time() - start, 1))), flush=True)
    arrays = dict(vocab=np.array(itos))
    for split, (split_ids, offsets) in ids.items():
        lengths = np.diff(offsets)
        if (lengths == 0).any(): sys.exit(f'{split}: document {int(np.flatnonzero(lengths == 0)[0])} has no tokens')
        arrays[f'{split}_ids'], arrays[f'{split}_offsets'] = split_ids.astype(np.uint16), offsets.astype(np.int64)
        arrays[f'{split}_len'] = lengths.astype(np.int32)
        if splits[split][1] is not None: arrays[f'{split}_y'] = splits[split][1]
    meta = dict(tokenizer=tokenizer_name, vocab_rules=f'fastai make_vocab(min_freq={args.min_freq}, max_vocab={args.max_vocab}) on '
                + '+'.join(s for s in ('train', 'unsup') if s in ids), vocab_size=len(itos),
                docs={s: len(o) - 1 for s, (_, o) in ids.items()}, tokens={s: int(arrays[f'{s}_len'].sum()) for s in ids},
                unk_fraction={s: round(float((arrays[f'{s}_ids'] == 0).mean()), 4) for s in ids},
                source='IMDB_SAMPLE' if args.sample else 'IMDb (load_imdb)', max_docs=args.max_docs,
                seconds=round(time.time() - start, 1), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                command='python ' + ' '.join(sys.argv))
    arrays['meta'] = np.array(json.dumps(meta))
    out = Path(args.out); out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(json.dumps(dict(meta, stage='saved', out=str(out), mib=round(out.stat().st_size / 2**20, 1))), flush=True)


if __name__ == '__main__': main()
