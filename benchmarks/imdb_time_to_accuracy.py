#!/usr/bin/env python
"""Time to accuracy on IMDb from a random init: the whole ULMFiT recipe under a wall-clock budget, this project's code.

The bar (../shared/PAPER.md, "Measured here"): fastai 2.8's own recipe, from a random init, data already tokenized,
reached 93.02% test accuracy in 332 s on one H200. Goals: >= 93.0% in <= 200 s; >= 94.4% in one 9-minute run.

Recipe (fastai's, so that only the speed of the loop differs; every number is an option):
  1. language model on train + unsup (1% held out for a perplexity check), our `language_model` (LM dropouts x 0.3),
     our `LMLoader` (views of one on-device tensor), `--lm-epochs` at batch 256 x bptt 70, one-cycle lr 1e-2,
     moms (0.8, 0.7, 0.8), weight decay 0.1, AR/TAR 2/1 in `language_model_loss`;
  2. classifier: our `text_classifier` (classifier dropouts x 0.5, BPT3C chunks of 72, max_len 1440), encoder from
     the LM (`load_encoder`), our `ClassifierLoader` (fastai's sorted-chunk order, batch 64), gradual unfreezing over
     `classifier_layer_groups` with `freeze_groups` (§3.3): head 1 epoch at 2e-2, then top LSTM + head, top two
     LSTMs + head, all groups (2 epochs), each phase one-cycle with discriminative rates (eq. 2, factor 2.6),
     AR/TAR 2/1 on the encoder outputs as fastai's `TextLearner` adds them to the classifier too;
  3. test accuracy on all 25,000 test reviews, once at the end (fastai validated on them after every epoch).
Training runs in the lean loop of gpu_lm_loop.py: autocast (fp16 + GradScaler on a GPU), fused AdamW (decoupled weight
decay; eps 1e-5 as fastai's Adam), no per-batch host sync, no callbacks.

Budget (`--budget-s`, from the start of data loading): the LM gets `--lm-budget-frac` of it; after `--probe-steps`
steps its speed is measured and the number of LM steps cut if needed (the one-cycle schedule is then re-planned);
a classifier phase that would end past the budget (estimated from the last epoch's time) is shortened or skipped,
and the test evaluation always runs. JSON lines on stdout; the final line holds `test_accuracy` and `seconds`.

    python benchmarks/pretok_imdb.py --max-docs 200 --out /tmp/imdb200.npz
    python benchmarks/imdb_time_to_accuracy.py --npz /tmp/imdb200.npz --preset tiny --max-docs 200      # CPU, ~1 min
    python benchmarks/imdb_time_to_accuracy.py --npz .cache/gpu/imdb_ids.npz --preset paper --device cuda --budget-s 200

Writes benchmarks/results/imdb_time_to_accuracy.json (merged under `<preset>-<device>-<direction>`); `--save-probs`
keeps the test-set probabilities, so that a forward and a backward run (`--backwards`) can be averaged (§3.3).
"""
import argparse, json, math, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

IMPORT_START = time.time()


import gpu_common as C  # benchmarks/gpu_common.py: this script's folder is first on sys.path
C.block_spacy()
from ulmfit_nbdev.awd_lstm import AWDLSTMConfig, language_model, language_model_loss
from ulmfit_nbdev.batching import LMLoader, seq_len_lr_scale
from ulmfit_nbdev.clas_batching import ClassifierLoader
from ulmfit_nbdev.classifier import text_classifier, classifier_layer_groups, load_encoder
from ulmfit_nbdev.discriminative import discriminative_lrs
from ulmfit_nbdev.unfreezing import freeze_groups
from ulmfit_nbdev.stlr import stlr
from ulmfit_nbdev.dropout import activation_regularization, temporal_activation_regularization

PRESETS = {
    'tiny': dict(embedding_size=32, hidden_size=48, lm_bs=32, lm_epochs=1., clas_bs=16, eval_bs=64, budget_s=120., probe_steps=10,
                 max_vocab=4000),
    'paper': dict(embedding_size=400, hidden_size=1152, lm_bs=256, lm_epochs=2., clas_bs=64, eval_bs=128, budget_s=200., probe_steps=30,
                  max_vocab=None),
}
T0 = None


def log(**fields):
    print(json.dumps(dict(t=round(time.time() - T0, 1), **fields)), flush=True)


def schedule(kind:str, pct:float, lr:float) -> float:
    "Learning rate at progress `pct` of a phase: fastai's one-cycle, or the paper's slanted triangular rates (eq. 3)."
    if kind == 'onecycle': return C.one_cycle(pct, lr)
    return float(stlr(min(int(pct * 1000), 999), 1000, lr))


def momentum(kind:str, pct:float, moms) -> float:
    return C.one_cycle_mom(pct, moms) if kind == 'onecycle' else moms[1]


def param_groups(model, groups, weight_decay):
    "One optimizer group per layer group and decay flag: no weight decay on biases and BatchNorm (fastai's wd_bn_bias=False)."
    norm = {id(p) for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._NormBase) for p in m.parameters()}
    names = {id(p): n for n, p in model.named_parameters()}
    out = []
    for i, group in enumerate(groups):
        decay = [p for p in group if not (names[id(p)].endswith('.bias') or id(p) in norm)]
        plain = [p for p in group if names[id(p)].endswith('.bias') or id(p) in norm]
        out += [dict(params=decay, weight_decay=weight_decay, layer_group=i), dict(params=plain, weight_decay=0., layer_group=i)]
    return [g for g in out if g['params']]


def make_optimizer(model, groups, weight_decay, device, betas):
    return torch.optim.AdamW(param_groups(model, groups, weight_decay), lr=1e-3, betas=betas, eps=1e-5,
                             fused=device.type == 'cuda')


def set_hypers(optimizer, lrs, beta1):
    "Per-layer-group learning rates `lrs` and Adam's beta1 for the next step."
    for group in optimizer.param_groups:
        group['lr'] = float(lrs[group['layer_group']]); group['betas'] = (beta1, group['betas'][1])


# --- 1. language model ----------------------------------------------------------------------------------------------
def train_lm(args, vocab_size, lm_train, lm_valid, device, dtype, lm_deadline):
    config = AWDLSTMConfig.lm(args.lm_drop_mult, embedding_size=args.embedding_size, hidden_size=args.hidden_size)
    model = language_model(vocab_size, config).to(device)
    loader = LMLoader(lm_train, bs=args.lm_bs, bptt=args.bptt, shuffle=True, seed=args.seed,
                      variable_bptt=args.variable_bptt, device=device)
    groups = [list(model.parameters())]                                   # one group: the LM trains whole, as fastai's
    optimizer = make_optimizer(model, groups, args.lm_wd, device, (0.8, 0.99))
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    steps_per_epoch = len(loader)
    total = max(1, round(args.lm_epochs * steps_per_epoch))
    log(stage='lm_start', tokens=int(loader.stream_length * args.lm_bs), steps_per_epoch=steps_per_epoch, steps=total,
        parameters=sum(p.numel() for p in model.parameters()))
    start, step, n_tokens = time.time(), 0, 0
    epoch = 0
    while step < total:
        model.train(); model.reset()
        loss_sum, batches = torch.zeros((), device=device), 0
        for inputs, targets in loader:
            if step >= total: break
            pct = step / total
            scale = seq_len_lr_scale(inputs.size(1), args.bptt) if args.variable_bptt else 1.
            set_hypers(optimizer, [schedule(args.schedule, pct, args.lm_lr) * scale], momentum(args.schedule, pct, (0.8, 0.7, 0.8)))
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                loss = language_model_loss(model(inputs), targets, 2., 1.)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
            loss_sum += loss.detach(); batches += 1; step += 1; n_tokens += inputs.numel()
            if lm_deadline is not None and step == args.probe_steps // 3: C.sync(device); probe_start = (step, time.time())
            if lm_deadline is not None and step == args.probe_steps and total > step:
                C.sync(device); now = time.time()
                per_step = (now - probe_start[1]) / (step - probe_start[0])      # after the first (warm-up) steps
                affordable = step + int(max(0., lm_deadline - now) / (per_step * 1.02))  # 2%: the LM check per epoch
                log(stage='lm_probe', seconds_per_step=round(per_step, 4), tokens_per_s=round(inputs.numel() / per_step),
                    planned_steps=total, affordable_steps=affordable)
                if affordable < total: total = affordable; log(stage='lm_cut', steps=total, epochs=round(total / steps_per_epoch, 3))
        valid = evaluate_lm(model, lm_valid, args, device, dtype)
        log(stage='lm_epoch', epoch=epoch, steps=step, train_loss=round(float(loss_sum) / max(batches, 1), 4), **valid,
            **(dict(grad_scale=scaler.get_scale()) if scaler.is_enabled() else {}))
        epoch += 1
    C.sync(device)
    seconds = time.time() - start
    log(stage='lm_done', seconds=round(seconds, 1), tokens=n_tokens, tokens_per_s=round(n_tokens / seconds), epochs=round(step / steps_per_epoch, 3))
    return model, dict(lm_seconds=round(seconds, 1), lm_tokens_per_s=round(n_tokens / seconds), lm_epochs=round(step / steps_per_epoch, 3),
                       lm_valid=valid)


@torch.no_grad()
def evaluate_lm(model, docs, args, device, dtype):
    if not docs: return {}
    loader = LMLoader(docs, bs=min(args.lm_bs, max(1, (sum(map(len, docs)) - 1) // (args.bptt + 1))), bptt=args.bptt, device=device)
    model.eval(); model.reset()
    loss, correct, count = torch.zeros((), device=device), torch.zeros((), device=device), 0
    for inputs, targets in loader:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model(inputs)[0]
        loss += F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), reduction='sum')
        correct += (logits.argmax(-1) == targets).sum(); count += targets.numel()
    model.train()
    return dict(valid_loss=round(float(loss) / count, 4), valid_perplexity=round(math.exp(float(loss) / count), 1),
                valid_accuracy=round(float(correct) / count, 4))


# --- 2. classifier --------------------------------------------------------------------------------------------------
def train_classifier(args, vocab_size, lm, train_docs, train_y, device, dtype, deadline, eval_estimate):
    config = AWDLSTMConfig.classifier(args.clas_drop_mult, embedding_size=args.embedding_size, hidden_size=args.hidden_size)
    model = text_classifier(vocab_size, 2, config, seq_len=72, max_len=1440).to(device)
    load_encoder(model, lm)
    assert torch.equal(model[0].module.encoder.weight, lm[0].encoder.weight), 'load_encoder did not copy the LM embedding'
    groups = classifier_layer_groups(model)                               # embedding, LSTM 1..3, head
    n_groups = len(groups)
    optimizer = make_optimizer(model, groups, args.clas_wd, device, (0.8, 0.99))
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    loader = ClassifierLoader(train_docs, train_y, bs=args.clas_bs, shuffle=True, seed=args.seed, drop_last=True,
                              seq_len=72, device=device)
    epochs = [int(e) for e in args.clas_epochs.split(',')]
    peaks = [float(x) for x in args.clas_lrs.split(',')]
    phases = list(zip(range(1, len(epochs) + 1), epochs, peaks))       # (trainable top groups, epochs, peak lr)
    start, last_epoch_s, done = time.time(), None, []
    for n_top, n_epochs, peak in phases:
        n_top = n_groups if n_top == len(phases) and args.last_phase_all else min(n_top, n_groups)
        if last_epoch_s is not None and deadline is not None:
            epoch_estimate = last_epoch_s * (1.25 if n_top > done[-1][0] else 1.)   # more groups train: slower epochs
            fits = int((deadline - time.time() - eval_estimate) // epoch_estimate)
            if fits < 1: log(stage='clas_skip', trainable_groups=n_top, epoch_estimate_s=round(epoch_estimate, 1)); break
            if fits < n_epochs: log(stage='clas_shorten', trainable_groups=n_top, epochs=fits, planned=n_epochs); n_epochs = fits
        trainable = tuple(range(n_groups - n_top, n_groups))
        freeze_groups(groups, trainable)
        lrs = discriminative_lrs(peak, n_groups, args.lr_decay) if n_top > 1 else np.full(n_groups, peak)
        total = n_epochs * len(loader)
        step = 0
        for epoch in range(n_epochs):
            epoch_start = time.time()
            model.train()
            loss_sum, correct, count = torch.zeros((), device=device), torch.zeros((), device=device), 0
            for ids, labels in loader:
                pct = step / total
                set_hypers(optimizer, [schedule(args.schedule, pct, lr) for lr in lrs], momentum(args.schedule, pct, (0.8, 0.7, 0.8)))
                with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                    logits, outputs, _ = model(ids)
                    logits = logits.float()
                    loss = F.cross_entropy(logits, labels)
                    if args.clas_ar: loss = loss + activation_regularization(outputs, args.clas_ar)   # fastai's TextLearner
                    if args.clas_tar: loss = loss + temporal_activation_regularization(outputs, args.clas_tar)  # does this too
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward(); scaler.step(optimizer); scaler.update()
                loss_sum += loss.detach() * len(labels); correct += (logits.argmax(1) == labels).sum(); count += len(labels)
                step += 1
            C.sync(device)
            last_epoch_s = time.time() - epoch_start
            log(stage='clas_epoch', trainable_groups=n_top, epoch=epoch, seconds=round(last_epoch_s, 1),
                train_loss=round(float(loss_sum) / count, 4), train_accuracy=round(float(correct) / count, 4),
                docs_per_s=round(count / last_epoch_s, 1), trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
                **(dict(grad_scale=scaler.get_scale()) if scaler.is_enabled() else {}))
        done.append((n_top, n_epochs))
    return model, dict(clas_seconds=round(time.time() - start, 1), clas_phases=done)


@torch.no_grad()
def predict(model, docs, labels, args, device, dtype):
    "Class probabilities of `docs` (in their order) and the accuracy against `labels`."
    loader = ClassifierLoader(docs, labels, bs=args.eval_bs, shuffle=False, seq_len=72, device=device)
    order = torch.as_tensor(np.asarray(loader.get_idxs()), device=device)
    model.eval()
    probs = []
    for ids, _ in loader:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            probs.append(model(ids)[0].float().softmax(1))
    probs = torch.cat(probs)
    out = torch.empty_like(probs); out[order] = probs
    accuracy = float((out.argmax(1) == labels.to(device)).float().mean())
    return out.cpu().numpy(), accuracy


def main():
    global T0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--npz', default=str(Path(__file__).resolve().parent.parent / '.cache' / 'gpu' / 'imdb_ids.npz'))
    parser.add_argument('--preset', choices=PRESETS, default='tiny')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=C.DTYPES, help='default: fp16 on cuda, fp32 on cpu')
    parser.add_argument('--budget-s', type=float, help='wall-clock budget from data loading to test accuracy (0: none); default: the preset\'s')
    parser.add_argument('--lm-budget-frac', type=float, default=0.55, help='share of the budget the language model may use')
    parser.add_argument('--max-docs', type=int, help='at most this many documents per split (CPU tests)')
    parser.add_argument('--max-vocab', type=int, help="ids >= this become xxunk (default: the preset's; tiny: 4000, paper: all)")
    parser.add_argument('--lm-epochs', type=float); parser.add_argument('--lm-bs', type=int); parser.add_argument('--bptt', type=int, default=70)
    parser.add_argument('--lm-lr', type=float, default=1e-2); parser.add_argument('--lm-wd', type=float, default=0.1)
    parser.add_argument('--lm-drop-mult', type=float, default=0.3); parser.add_argument('--lm-valid-frac', type=float, default=0.01)
    parser.add_argument('--variable-bptt', action='store_true', help="AWD-LSTM's random window lengths (lr scaled by length)")
    parser.add_argument('--clas-bs', type=int); parser.add_argument('--eval-bs', type=int)
    parser.add_argument('--clas-epochs', default='1,1,1,2', help='epochs of each gradual-unfreezing phase')
    parser.add_argument('--clas-lrs', default='2e-2,1e-2,5e-3,1e-3', help='peak (top group) learning rate of each phase')
    parser.add_argument('--lr-decay', type=float, default=2.6, help='discriminative fine-tuning factor between layer groups (1: off)')
    parser.add_argument('--clas-ar', type=float, default=2.); parser.add_argument('--clas-tar', type=float, default=1.)
    parser.add_argument('--clas-wd', type=float, default=0.01); parser.add_argument('--clas-drop-mult', type=float, default=0.5)
    parser.add_argument('--no-last-phase-all', dest='last_phase_all', action='store_false',
                        help='the last phase unfreezes only its own count of groups instead of all')
    parser.add_argument('--schedule', choices=('onecycle', 'stlr'), default='onecycle')
    parser.add_argument('--backwards', action='store_true', help='train on reversed documents (the backward model of §3.3)')
    parser.add_argument('--save-probs', help='.npy file for the test-set probabilities (for a forward + backward ensemble)')
    parser.add_argument('--seed', type=int, default=0); parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=str(C.RESULTS / 'imdb_time_to_accuracy.json'))
    args = parser.parse_args()
    preset = PRESETS[args.preset]
    for k in ('lm_bs', 'lm_epochs', 'clas_bs', 'eval_bs', 'budget_s', 'max_vocab'):
        if getattr(args, k) is None: setattr(args, k, preset[k])
    args.embedding_size, args.hidden_size, args.probe_steps = preset['embedding_size'], preset['hidden_size'], preset['probe_steps']
    device = C.setup(args.device, args.threads, args.seed)
    precision = C.default_precision(device, args.precision)
    dtype = C.DTYPES[precision]
    T0 = time.time()
    deadline = T0 + args.budget_s if args.budget_s else None
    log(stage='start', device=C.device_name(device), precision=precision, import_s=round(T0 - IMPORT_START, 1), budget_s=args.budget_s)

    data = C.load_npz(args.npz)
    vocab_size = min(len(data['vocab']), args.max_vocab or len(data['vocab']))
    train, index = C.split_docs(data, 'train', args.max_docs, vocab_size, rng=args.seed)
    train_y = torch.from_numpy(data['train_y'][index].astype(np.int64))
    test, index = C.split_docs(data, 'test', args.max_docs, vocab_size, rng=args.seed)
    test_y = torch.from_numpy(data['test_y'][index].astype(np.int64))
    unsup = C.split_docs(data, 'unsup', args.max_docs, vocab_size)[0] if 'unsup_ids' in data else []
    if args.backwards: train, test, unsup = [[d.flip(0) for d in ds] for ds in (train, test, unsup)]
    lm_docs = train + unsup
    permutation = np.random.default_rng(args.seed).permutation(len(lm_docs))
    n_valid = int(len(lm_docs) * args.lm_valid_frac)
    lm_valid, lm_train = [lm_docs[i] for i in permutation[:n_valid]], [lm_docs[i] for i in permutation[n_valid:]]
    log(stage='data', vocab=vocab_size, lm_train_docs=len(lm_train), lm_tokens=int(sum(map(len, lm_train))),
        clas_train_docs=len(train), test_docs=len(test), test_pos_frac=round(float(test_y.float().mean()), 3))

    C.reset_peak(device)
    lm_deadline = T0 + args.budget_s * args.lm_budget_frac if args.budget_s else None
    lm, lm_stats = train_lm(args, vocab_size, lm_train, lm_valid, device, dtype, lm_deadline)
    lm_peak = C.peak_gib(device)
    test_tokens = sum(map(len, test))
    eval_estimate = 1.5 * test_tokens / max(lm_stats['lm_tokens_per_s'], 1)   # a forward pass is ~3x faster than a step
    C.reset_peak(device)
    clas, clas_stats = train_classifier(args, vocab_size, lm, train, train_y, device, dtype, deadline, eval_estimate)
    del lm
    eval_start = time.time()
    probs, accuracy = predict(clas, test, test_y, args, device, dtype)
    eval_s = time.time() - eval_start
    seconds = time.time() - T0
    if args.save_probs: np.save(args.save_probs, probs)
    result = dict(C.run_info(device), preset=args.preset, precision=precision, npz=str(args.npz), max_docs=args.max_docs,
                  direction='bwd' if args.backwards else 'fwd', budget_s=args.budget_s,
                  test_accuracy=round(accuracy, 4), seconds=round(seconds, 1), import_s=round(T0 - IMPORT_START, 1),
                  eval_seconds=round(eval_s, 1), **lm_stats, **clas_stats, lm_peak_gib=lm_peak, clas_peak_gib=C.peak_gib(device),
                  settings={k: v for k, v in vars(args).items() if k not in ('out',)},
                  bar='fastai 2.8 recipe, random init: 93.02% in 332 s on one H200 (../shared/PAPER.md)')
    log(stage='final', test_accuracy=round(accuracy, 4), seconds=round(seconds, 1), eval_seconds=round(eval_s, 1))
    C.write_result(result, args.out, key=f"{args.preset}-{device.type}-{result['direction']}")


if __name__ == '__main__': main()
