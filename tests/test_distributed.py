"""Language-model training on torch.distributed (DDP) on CPU with gloo, 2 processes (`nbs/14_distributed.ipynb`).

Two ranks give the numbers one process gives; checkpoints move between world sizes; a rank that dies or hangs ends the
others with a clear message. The file is also the worker the tests launch:

    torchrun --standalone --nproc-per-node 2 tests/test_distributed.py worker OUT
    RANK=r LOCAL_RANK=r WORLD_SIZE=2 MASTER_ADDR=.. MASTER_PORT=.. python tests/test_distributed.py kill   # no agent
"""
import hashlib, json, os, signal, socket, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from fastai.callback.core import Callback
from fastai.torch_core import set_seed
from ulmfit_nbdev.config import preset
from ulmfit_nbdev.distributed import distributed_context, ddp_lm_learner, is_main_process, RankLostError
from ulmfit_nbdev.pipeline import lm_learner
from ulmfit_nbdev.training import Fit, fit_stage

HERE = Path(__file__).resolve()
VOCAB = [f'w{i}' for i in range(40)]

def markov_corpus(n_docs=100, seed=0):
    "Documents of a random first-order Markov chain over `VOCAB` (each word has a few likely successors)."
    rng = np.random.default_rng(seed)
    successors = rng.dirichlet(np.full(len(VOCAB) - 2, 0.05), size=len(VOCAB))
    docs = []
    for _ in range(n_docs):
        words = [2]
        for _ in range(rng.integers(30, 120)): words.append(2 + rng.choice(len(VOCAB) - 2, p=successors[words[-1]]))
        docs.append(torch.tensor(words))
    return docs

DOCS = markov_corpus()
TRAIN, VALID = DOCS[:90], DOCS[90:]

def learner(dropout:bool, train=TRAIN, valid=VALID, **changes):
    "`pipeline.lm_learner` (variable BPTT, AR/TAR, ScaleLRBySeqLen) of the tiny preset, global batch 16 x 20, data-parallel under torchrun."
    config = preset('tiny', bs=16, bptt=20, dropout=dropout, **changes)
    set_seed(config.seed)
    return ddp_lm_learner(lm_learner(train, valid, VOCAB, config), VOCAB, config.to_dict())

class StepLog(Callback):
    "Each training step's loss on this rank, and a hash of torch's generator when the first batch starts (after `DDPCallback`)."
    order = 100
    def before_fit(self): self.learn.step_losses, self.learn.first_rng = [], None
    def before_batch(self):
        if self.training and self.learn.first_rng is None:
            self.learn.first_rng = hashlib.sha1(torch.get_rng_state().numpy().tobytes()).hexdigest()
    def after_batch(self):
        if self.training: self.learn.step_losses.append(self.loss.item())

class InterruptAfter(Callback):
    "Ctrl-C right after epoch `epoch`, its checkpoint written."
    order = 99  # after `Checkpoint` (95)
    def __init__(self, epoch): self.at = epoch
    def after_epoch(self):
        if self.epoch == self.at: raise KeyboardInterrupt

FITS = [Fit(2, 1e-2, 'one-cycle', (), 'lm')]

def train_parity():
    "2 epochs without dropout."
    learn = learner(False)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(2, 1e-2, cbs=StepLog())
    return learn

def train_dropout():
    "4 epochs with the AWD-LSTM's dropouts, a model of 32/64 (in one process the masks drawn move its perplexity by ~0.3%)."
    longer = markov_corpus(300)                     # enough data that the final perplexity hardly depends on the masks drawn
    learn = learner(True, longer[:270], longer[270:], embedding_size=32, hidden_size=64)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(4, 3e-2, cbs=StepLog())
    return learn

def train_stage(checkpoint, log, interrupt_after=None):
    "`fit_stage` of `FITS` with a checkpoint; interrupted after an epoch if asked (None then)."
    learn = learner(False)
    try:
        with learn.no_bar(), learn.no_logging():
            fit_stage(learn, FITS, checkpoint, log, cbs=None if interrupt_after is None else [InterruptAfter(interrupt_after)])
    except KeyboardInterrupt: return None
    return learn

def metrics(learn): return [[float(v) for v in epoch] for epoch in learn.recorder.values]

class LoseRank1(Callback):
    "At its 3rd step rank 1 dies (`kill`: SIGKILL, what the out-of-memory killer sends) or stops answering (`hang`)."
    def __init__(self, how): self.how = how
    def after_batch(self):
        if not (self.training and self.train_iter == 3 and int(os.environ['RANK']) == 1): return
        if self.how == 'kill': os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(600)

def lose_a_rank(how):
    "50 epochs (minutes) that rank 1 never finishes: the other rank must end within the timeout."
    learn = learner(False)
    with learn.no_bar(), learn.no_logging(): learn.fit(50, 1e-3, cbs=LoseRank1(how))

def worker(out):
    "Every 2-rank scenario in one torchrun job (one start-up), results to `out`; last, rank 1 hangs and rank 0 must give up."
    out, start = Path(out), None
    try:
        with distributed_context() as info:
            result = dict(rank=info.rank, world_size=info.world_size)
            learn = train_parity()
            result['parity'] = dict(losses=learn.step_losses, metrics=metrics(learn))
            if is_main_process(): torch.save(learn.model.state_dict(), out/'parity.pth')
            learn = train_dropout()
            result['dropout'] = dict(metrics=metrics(learn), first_rng=learn.first_rng)
            train_stage(out/'two.ckpt', out/'two.jsonl', interrupt_after=0)      # interrupted: the pytest process resumes it
            learn = train_stage(out/'one.ckpt', out/'one.jsonl')                   # resumes the pytest process's checkpoint
            if is_main_process(): torch.save(learn.model.state_dict(), out/'resumed_under_two.pth')
            try: learner(False, TRAIN[info.rank:])                                 # rank 1: one document less
            except ValueError as e: result['mismatch'] = str(e)
            (out/f'rank{info.rank}.json').write_text(json.dumps(result))
            start = time.time(); lose_a_rank('hang')
    except RankLostError as e:
        (out/'lost.txt').write_text(f'{time.time() - start:.1f}\n{e}')
        raise

# --- the tests, in the pytest process ---

def assert_weights_close(a, b, eps=1e-5):
    assert list(a) == list(b)
    for name in a: assert torch.allclose(a[name], b[name], atol=eps, rtol=0), (name, float((a[name] - b[name]).abs().max()))

@pytest.fixture(scope='module')
def one_process(tmp_path_factory):
    "The one-process runs, here: parity, dropout, and the uninterrupted stage as the reference of the resumed ones."
    torch.set_num_threads(1)
    parity, dropout = train_parity(), train_dropout()
    reference = train_stage(tmp_path_factory.mktemp('reference')/'stage.ckpt', None)
    return dict(parity=parity, dropout=dropout, reference=reference.model.state_dict())

HANG_TIMEOUT_S = 8   # gloo's timeout in the torchrun job: a hung rank is given up after this long

@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory, one_process):
    "A checkpoint written here after 1 epoch of 2, then the worker under torchrun with 2 processes (gloo)."
    out = tmp_path_factory.mktemp('two_ranks')
    assert train_stage(out/'one.ckpt', out/'one.jsonl', interrupt_after=0) is None
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node=2', str(HERE), 'worker', str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ, ULMFIT_DIST_TIMEOUT=str(HANG_TIMEOUT_S)))
    assert all((out/f'rank{r}.json').exists() for r in range(2)), done.stdout[-2000:] + done.stderr[-4000:]
    assert done.returncode != 0 and (out/'lost.txt').exists(), done.stderr[-4000:]    # the hang at the end
    return out, [json.loads((out/f'rank{r}.json').read_text()) for r in range(2)]

def test_two_ranks_give_one_process_losses_metrics_and_weights(two_ranks, one_process):
    out, ranks = two_ranks
    assert [r['world_size'] for r in ranks] == [2, 2]
    single = one_process['parity']
    mean = np.mean([r['parity']['losses'] for r in ranks], axis=0)               # each rank: the loss of its 8 streams
    assert len(mean) == len(single.step_losses) >= 20
    np.testing.assert_allclose(mean[:20], single.step_losses[:20], rtol=0, atol=1e-5)
    np.testing.assert_allclose(mean, single.step_losses, rtol=0, atol=1e-4)
    for r in ranks: np.testing.assert_allclose(r['parity']['metrics'], metrics(single), rtol=1e-5)   # averaged over ranks
    assert_weights_close(torch.load(out/'parity.pth'), single.model.state_dict())

def test_dropout_on_same_perplexity_within_2_percent(two_ranks, one_process):
    _, ranks = two_ranks
    single = one_process['dropout']
    ppl_one, ppl_two = metrics(single)[-1][-1], ranks[0]['dropout']['metrics'][-1][-1]
    assert abs(ppl_two / ppl_one - 1) < 0.02, (ppl_one, ppl_two)
    assert ranks[0]['dropout']['first_rng'] == single.first_rng                  # rank 0 draws one process's masks...
    assert ranks[1]['dropout']['first_rng'] != ranks[0]['dropout']['first_rng']  # ...rank 1 masks of its own

def test_checkpoint_of_two_ranks_resumes_in_one(two_ranks, one_process):
    out, _ = two_ranks
    assert [json.loads(line)['epoch'] for line in (out/'two.jsonl').read_text().splitlines()] == [0]   # rank 0 alone logged
    assert not list(out.glob('.*.tmp'))                                           # written atomically
    resumed = train_stage(out/'two.ckpt', out/'two.jsonl')
    assert [json.loads(line)['epoch'] for line in (out/'two.jsonl').read_text().splitlines()] == [0, 1]
    assert_weights_close(resumed.model.state_dict(), one_process['reference'])

def test_checkpoint_of_one_process_resumes_under_two(two_ranks, one_process):
    out, _ = two_ranks
    assert [json.loads(line)['epoch'] for line in (out/'one.jsonl').read_text().splitlines()] == [0, 1]
    assert_weights_close(torch.load(out/'resumed_under_two.pth'), one_process['reference'])

def test_ranks_that_disagree_stop_with_a_clear_error(two_ranks):
    _, ranks = two_ranks
    for r in ranks: assert r['mismatch'].startswith('the ranks disagree on training_data ('), r['mismatch']

def test_hung_rank_ends_the_other_after_the_timeout(two_ranks):
    out, _ = two_ranks
    seconds, message = (out/'lost.txt').read_text().split('\n', 1)
    assert message.startswith('rank 0 of 2: another rank died or stopped answering') and 'Timed out' in message, message
    assert HANG_TIMEOUT_S <= float(seconds) < HANG_TIMEOUT_S + 20, seconds

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_killed_rank_ends_the_other_with_a_clear_message():
    "The two ranks as plain processes with torchrun's variables, as on two machines: no torchrun agent stops the survivor."
    env = dict(os.environ, WORLD_SIZE='2', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()), OMP_NUM_THREADS='1',
               ULMFIT_DIST_TIMEOUT='60')
    survivor, killed = [subprocess.Popen([sys.executable, str(HERE), 'kill'], env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    try:
        _, stderr = survivor.communicate(timeout=120)                  # 50 epochs would take minutes
        killed.communicate(timeout=10)
    finally: survivor.kill(); killed.kill()
    assert killed.returncode == -signal.SIGKILL and survivor.returncode == 1
    assert 'RankLostError: rank 0 of 2: another rank died or stopped answering' in stderr, stderr[-3000:]
    assert 'Connection' in stderr.split('RankLostError')[-1]           # found out at once: the peer's sockets closed
    assert 'Timed out' not in stderr

if __name__ == '__main__':
    if sys.argv[1] == 'worker': worker(sys.argv[2])
    elif sys.argv[1] == 'kill':
        with distributed_context(): lose_a_rank('kill')
