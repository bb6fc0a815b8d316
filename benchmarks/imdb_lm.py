#!/usr/bin/env python
"""Stage 2 done once, as the paper's semi-supervised IMDb arm does it: the shipped WikiText-2 language model fine-tuned
on IMDb's unlabelled reviews, saved as a stage-1 folder that `low_shot.py --stage1` (and `ulmfit train --pretrained`)
start from.

    python benchmarks/imdb_lm.py --out runs/imdb_lm [--reviews 50000] [--valid 1000] [--epochs 1] [--max-vocab 16000]
                                 [--threads 2] [--set FIELD=VALUE] [--json benchmarks/results/imdb_lm.json]

The unlabelled reviews are shuffled with seed 0; the first `--valid` are held out for perplexity and the LM reads the
next `--reviews` minus those. Everything else is the `cpu` preset's LM fine-tuning (STLR, eq. 2's rates, its dropouts),
in fp32. The labelled training and test reviews are never read. A run is resumable per epoch (`<out>/work`); on a
finished `<out>` the command trains nothing and only measures. `--json` records the held-out perplexity of the shipped
model (mapped to the new vocabulary, before any fine-tuning) and of the fine-tuned one, with the corpus and the time.
"""
import argparse, datetime, json, sys, time
from pathlib import Path

def held_out_perplexity(valid:list, itos:list, config, folder:Path) -> float:
    "Perplexity on the held-out reviews of the stage-1 model in `folder`, mapped to `itos`, without fine-tuning."
    from dataclasses import replace
    from ulmfit_nbdev.pipeline import finetune_lm
    learn = finetune_lm(valid, valid, itos, replace(config, lm_finetune=False), folder)
    return float(learn.validate()[-1])                              # metrics: loss, accuracy, perplexity

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True); ap.add_argument('--reviews', type=int, default=50_000)
    ap.add_argument('--valid', type=int, default=1_000); ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--max-vocab', type=int, default=16_000); ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--json', help='write the corpus, time and held-out perplexities here')
    ap.add_argument('--set', action='append', default=[], help='FIELD=VALUE changes of the cpu preset (as `ulmfit --set`)')
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from ulmfit_nbdev.cli import make_config, parse_settings
    from ulmfit_nbdev.data import load_imdb
    from ulmfit_nbdev.fast_tokenizer import tokenize
    from ulmfit_nbdev.tokenizer import Vocab
    from ulmfit_nbdev.training import read_log
    from ulmfit_nbdev.pipeline import finetune_lm, save_stage1, shipped_stage1
    from low_shot import checked_out                                # the benchmarks' one record of the commit
    start, out = time.time(), Path(a.out)
    unsup = load_imdb(splits=('unsup',))['unsup'].sample(frac=1, random_state=0).text.tolist()[:a.reviews]
    valid, train = tokenize(unsup[:a.valid]), tokenize(unsup[a.valid:])
    config = make_config('cpu', {**dict(lm_epochs=a.epochs, max_vocab=a.max_vocab, precision='fp32', seed=0), **parse_settings(a.set)})
    saved = out/'itos.json'                                         # a finished folder is measured with its own vocabulary
    itos = json.loads(saved.read_text()) if (out/'model.pth').exists() else Vocab.build(train, config.min_freq, config.max_vocab).itos
    n_tokens = sum(map(len, train))
    print(f"{len(train):,} reviews ({n_tokens:,} tokens), {len(valid):,} held out, vocabulary {len(itos):,}; "
          f"tokenized in {time.time() - start:.0f}s", file=sys.stderr, flush=True)
    command = 'python ' + ' '.join(sys.argv)
    if not (out/'model.pth').exists():                             # a finished folder is only measured
        records = []
        learn = finetune_lm(train, valid, itos, config, shipped_stage1(), out/'work', records)
        save_stage1(out, dict(model=learn.model.state_dict(), itos=list(itos), records=records, seconds=time.time() - start), config, command)
        curve = ', '.join(f"{r['perplexity']:.1f}" for r in records if 'perplexity' in r)
        (out/'README.md').write_text(                               # save_stage1's card describes WikiText-2 pretraining: say what this is
            f"# IMDb-adapted language model (ULMFiT §3.2 on unlabelled text)\n\nThe shipped WikiText-2 model "
            f"({config.embedding_size}/{config.hidden_size}/{config.n_layers}) fine-tuned for {a.epochs} epoch(s) on "
            f"{len(train):,} of IMDb's 50,000 unlabelled reviews ({n_tokens:,} tokens, vocabulary {len(itos):,}), "
            f"the `cpu` preset's LM fine-tuning, seed 0, in {(time.time() - start) / 60:.0f} minutes.\n\n"
            f"Held-out perplexity ({len(valid):,} other unlabelled reviews): {curve}.\n\nReproduce it with:\n\n    {command}\n")
    if a.json:
        records = [r for r in read_log(out/'metrics.jsonl') if 'perplexity' in r]
        summary = dict(reviews=len(train), tokens=n_tokens, valid_reviews=len(valid), vocabulary=len(itos), epochs=len(records),
                       minutes=round(sum(r.get('seconds', 0) for r in records) / 60, 1),
                       perplexity_shipped=held_out_perplexity(valid, itos, config, shipped_stage1()),
                       perplexity_adapted=held_out_perplexity(valid, itos, config, out),
                       perplexity_per_epoch=[r['perplexity'] for r in records], command=command,
                       commit=checked_out(),
                       date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
        Path(a.json).write_text(json.dumps(summary, indent=1))
        print(json.dumps(summary), flush=True)

if __name__ == '__main__': main()
