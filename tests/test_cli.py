"""`ulmfit train` interrupted in a separate process — Ctrl-C (SIGINT), `kill` (SIGTERM), `kill -9` — in the LM
fine-tuning stage and in the classifier stage (in its second candidate, ξ = 1, after the first has finished), then run
again: it must end with exactly the uninterrupted run's metrics, and `metrics.jsonl` must hold every epoch once."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A 400-question TREC-6 CSV (needs FASTAI_HOME laid out as the README says)."
    from ulmfit_nbdev.data import load_trec
    d = tmp_path_factory.mktemp('data')
    trec = load_trec()['train'].rename(columns={'coarse': 'label'})[['text', 'label']]
    trec.sample(400, random_state=0).to_csv(d/'train.csv', index=False)
    trec.sample(100, random_state=1).to_csv(d/'test.csv', index=False)
    return d

def command(data, out):
    "`ulmfit train` on tiny settings with 3 LM epochs and 6 classifier epochs, so that both stages can be interrupted."
    return [sys.executable, '-m', 'ulmfit_nbdev.cli', 'train', '--csv', str(data/'train.csv'), '--test-csv', str(data/'test.csv'),
            '--preset', 'tiny', '--set', 'pretrain=none', '--set', 'lm_epochs=3', '--set', 'clas_epochs=6', '--out', str(out), '--quiet']

def env():
    return dict(os.environ, OMP_NUM_THREADS='1', PYTHONHASHSEED='0')

def interruptible():
    "In the child: Ctrl-C's default action, even when this test runs in a background job that ignores SIGINT."
    signal.signal(signal.SIGINT, signal.SIG_DFL)

def records(out):
    "metrics.jsonl without the timings."
    return [{k: v for k, v in json.loads(line).items() if k != 'seconds'} for line in (out/'metrics.jsonl').read_text().splitlines()]

@pytest.fixture(scope='module')
def reference(data, tmp_path_factory):
    out = tmp_path_factory.mktemp('reference')/'run'
    done = subprocess.run(command(data, out), capture_output=True, text=True, env=env())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), records(out)

def interrupt(cmd, when:Path, sig):
    "Start `cmd`, send `sig` once `when` exists (an epoch of that stage is done); the exit code, or None if it finished first."
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
                               preexec_fn=interruptible)
    deadline = time.time() + 300
    while not when.exists() and process.poll() is None and time.time() < deadline: time.sleep(0.01)
    if process.poll() is not None: return None
    process.send_signal(sig)
    process.communicate(timeout=120)
    return process.returncode

@pytest.mark.parametrize('stage', ['lm_finetune', 'classifier_xi1'])   # stage 3's second candidate (ξ = 1): the first is resumed finished
@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_resume_gives_the_uninterrupted_metrics(data, reference, tmp_path, stage, sig):
    out = tmp_path/'run'
    code = interrupt(command(data, out), out/f'{stage}.ckpt', sig)
    assert code is not None, 'the run finished before it could be interrupted'
    assert code == {signal.SIGINT: 130, signal.SIGTERM: 130, signal.SIGKILL: -9}[sig]
    done = subprocess.run(command(data, out), capture_output=True, text=True, env=env())
    assert done.returncode == 0, done.stderr
    summary, expected = reference
    without_path = lambda result: {k: v for k, v in result.items() if k != 'model'}
    assert without_path(json.loads(done.stdout)) == without_path(summary)
    assert records(out) == expected                                # every epoch once, the same numbers
    assert not list(out.glob('*.ckpt'))                            # checkpoints removed after the finished run

def test_results_on_stdout_progress_on_stderr(data, tmp_path):
    out = tmp_path/'run'
    cmd = [c for c in command(data, out) if c != '--quiet']
    done = subprocess.run(cmd, capture_output=True, text=True, env=env())
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {'model', 'classes', 'valid_accuracy', 'test_accuracy', 'tfidf_valid_accuracy', 'tfidf_test_accuracy',
                                            'lr_decay_choices'}
    assert 'stage 1/3' in done.stderr and 'stage 3/3' in done.stderr and 'epoch' in done.stderr

def test_help_is_fast_and_lists_the_subcommands():
    done = subprocess.run([sys.executable, '-X', 'importtime', '-m', 'ulmfit_nbdev.cli', '--help'], capture_output=True, text=True)
    assert done.returncode == 0 and all(c in done.stdout for c in ('demo', 'train', 'evaluate', 'predict', 'pretrain'))
    assert 'torch' not in done.stderr.split()                     # torch is imported by the commands, not by --help
