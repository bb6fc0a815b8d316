#!/usr/bin/env python
"""The project's whole test suite, the README's test command and what `.ci/run` runs.

    python tools/test_all.py [--flags "slow"] [--fresh-install] [--skip-docs]

1. nbdev hygiene: `nbdev-export` and `nbdev-clean` leave no diff (modules agree with notebooks, notebooks are clean),
   and `ruff check` finds no unused, redefined or undefined names (F401, F811, F821, F841) in the code;
2. every notebook through `nbdev-test` (two workers; `#| slow`/`#| cuda` cells skipped unless `--flags` names them);
3. every benchmark script's tiny CPU mode runs, two at a time (no speed is asserted: speed goals are benchmarks, not tests);
4. the committed `docs/` and `README.md` are what the notebooks build today, and the site passes the browser test;
5. with `--fresh-install`, `pip install .` into a brand-new virtual environment gives an importable package (with the
   shipped stage-1 model) and command.
Needs `FASTAI_HOME` laid out by `../shared/seed-fastai-cache` (or network access). Ends with `N passed, M failed`.
"""
import argparse, concurrent.futures, os, re, subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
results = []  # (name, passed, seconds)

def sh(cmd, **kw):
    "Run `cmd` in the repo root, streaming nothing; return (returncode, combined output)."
    p = subprocess.run(cmd, cwd=ROOT, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)
    return p.returncode, p.stdout + p.stderr

_lock = threading.Lock()   # benchmark jobs record from two threads

def record(name, ok, t0, detail=''):
    with _lock:
        results.append((name, ok, time.time() - t0))
        print(f"{'PASS' if ok else 'FAIL'} {name} ({time.time()-t0:.0f}s)", flush=True)
        if not ok and detail: print('  ' + detail.strip().replace('\n', '\n  ')[-4000:], flush=True)

def check_hygiene():
    t0 = time.time()
    before = sh(['git', 'status', '--porcelain'])[1]
    rc1, out1 = sh([str(BIN/'nbdev-export')])
    rc2, out2 = sh([str(BIN/'nbdev-clean')])
    after = sh(['git', 'status', '--porcelain'])[1]
    changed = sorted(set(after.splitlines()) - set(before.splitlines()))
    record('nbdev-export and nbdev-clean leave no diff', rc1 == 0 and rc2 == 0 and not changed, t0,
           out1 + out2 + '\nfiles changed by export/clean:\n' + '\n'.join(changed))

RUFF_RULES = 'F401,F811,F821,F841'   # unused imports, redefinitions, undefined names, unused variables

def check_ruff():
    t0 = time.time()
    rc, out = sh([str(BIN/'ruff'), 'check', '--select', RUFF_RULES, '--exclude', 'ulmfit_nbdev/_modidx.py',
                  'ulmfit_nbdev', 'tools', 'benchmarks', 'tests'])
    record(f'ruff check --select {RUFF_RULES}: clean', rc == 0, t0, out)

def notebooks():
    return sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def check_notebooks(flags):
    t0 = time.time()
    cmd = [str(BIN/'nbdev-test'), '--n-workers', '2', '--timing'] + (['--flags', flags] if flags else [])
    rc, out = sh(cmd)
    print(out.strip(), flush=True)
    failed = set(re.findall(r'^\t(\S+\.ipynb)$', out, re.M)) if rc else set()
    if rc and not failed: failed = {'(nbdev-test itself)'}
    for nb in notebooks(): results.append((f'notebook {nb.name}', nb.name not in failed, 0))
    if '(nbdev-test itself)' in failed: results.append(('nbdev-test ran', False, 0))
    print(f"notebooks: {len(notebooks())-len(failed & {n.name for n in notebooks()})} passed, "
          f"{len(failed)} failed ({time.time()-t0:.0f}s)", flush=True)

def check_readme():
    t0 = time.time()
    rc, out = sh([sys.executable, str(ROOT/'tools'/'make_readme.py'), '--check'])
    record('README.md is what nbs/index.ipynb gives', rc == 0, t0, out)

def check_docs():
    builder, browser = ROOT/'tools'/'build_docs.py', ROOT/'tools'/'check_docs.py'
    t0 = time.time()
    rc, out = sh([sys.executable, str(builder), '--check'])
    record('docs/ is up to date with the notebooks', rc == 0, t0, out)
    if not browser.exists(): return
    t0 = time.time()
    rc, out = sh([sys.executable, str(browser), '--require-stlr'])
    print(out.strip()[-3000:], flush=True)
    m = re.search(r'^(\d+) passed, (\d+) failed', out, re.M)
    n_ok, n_bad = (int(m[1]), int(m[2])) if m else (0, 1)
    for i in range(n_ok): results.append((f'browser check {i}', True, 0))
    for i in range(n_bad or (rc != 0)): results.append((f'browser check failed {i}', False, 0))

def check_pytest():
    "The plain pytest tests in tests/ (tools and scripts that are not notebooks), one result per test case."
    if not list((ROOT/'tests').glob('test_*.py')): return
    t0 = time.time()
    rc, out = sh([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'])
    m_ok, m_bad = re.search(r'(\d+) passed', out), re.search(r'(\d+) (?:failed|error)', out)
    n_ok, n_bad = int(m_ok[1]) if m_ok else 0, int(m_bad[1]) if m_bad else 0
    if rc and not n_bad: n_bad = 1
    results.extend([('pytest case', True, 0)] * n_ok + [('pytest case (see output above)', False, 0)] * n_bad)
    print(out.strip().splitlines()[-1] if out.strip() else '', f'(pytest, {time.time()-t0:.0f}s)', flush=True)
    if rc: print(out[-4000:], flush=True)

def check_benchmarks():
    "Every benchmark script's tiny CPU mode runs end to end (figures to a temporary folder; speed is not asserted)."
    with tempfile.TemporaryDirectory() as d:
        py, b = sys.executable, ROOT/'benchmarks'
        tiny = 'clas_min_steps=0,lm_min_steps=0,clas_epochs=4,lm_epochs=1'     # the few-label scripts' floors lifted
        runs = {
            'tokenize_speed.py': [py, b/'tokenize_speed.py', '--n-docs', '200', '--repeats', '1', '--out', f'{d}/tokenize.json'],
            'batching.py': [py, b/'batching.py', '--n-tokens', '200000', '--epochs', '1', '--fastai-batches', '20', '--out', f'{d}/batching.json'],
            'model_step.py': [py, b/'model_step.py', '--steps', '2', '--rounds', '2', '--out', f'{d}/model_step.json'],
            'gpu_lm_loop.py': [py, b/'gpu_lm_loop.py', '--out', f'{d}/gpu_lm_loop.json'],
            'gpu_clas.py': [py, b/'gpu_clas.py', '--out', f'{d}/gpu_clas.json'],
            'low_shot.py (tiny)': [py, b/'low_shot.py', '--labels', '100', '--arms', 'tfidf,scratch', '--seeds', '0', '--workers', '1',
                                   '--min-steps', '0', '--set', 'clas_epochs=2', '--set', 'lm_epochs=1', '--out', f'{d}/low_shot.json'],
            'imdb_lm.py, then low_shot.py --stage1 on its model (tiny)': [
                [py, b/'imdb_lm.py', '--out', f'{d}/imdb_lm', '--reviews', '200', '--valid', '40', '--threads', '1', '--set', 'lm_min_steps=0',
                 '--json', f'{d}/imdb_lm.json'],
                [py, b/'low_shot.py', '--dataset', 'imdb', '--labels', '100', '--arms', 'ulmfit', '--seeds', '0', '--workers', '1', '--min-steps', '0',
                 '--set', 'clas_epochs=2', '--set', 'lm_epochs=1', '--set', 'keep_pretrained_vocab=true', '--stage1', f'{d}/imdb_lm',
                 '--out', f'{d}/low_shot_stage1.json']],
            'few_label_dev.py (tiny)': [py, b/'few_label_dev.py', '--labels', '100', '--seeds', '10', '--workers', '1', '--out', f'{d}/few_label_dev.json',
                                        '--variant', f'f:{tiny}', '--variant', f'b:{tiny},backwards=true', '--ensemble', 'f+b'],
            'few_label_dev.py --dataset imdb (tiny)': [py, b/'few_label_dev.py', '--dataset', 'imdb', '--labels', '100', '--seeds', '10', '--workers', '1',
                                                       '--arm', 'ulmfit_semi', '--unlabelled', '300', '--out', f'{d}/few_label_dev_imdb.json', '--variant', f'f:{tiny}'],
            'trec_breakdown.py (tiny)': [py, b/'trec_breakdown.py', '--labels', '100', '--seeds', '0', '--workers', '1', '--out', f'{d}/trec_breakdown.json',
                                         *[x for kv in tiny.split(',') for x in ('--set', kv)]],
            'ablations.py (tiny)': [py, b/'ablations.py', '--tiny', '--rows', 'ULMFiT;Last', '--seeds', '0,1', '--workers', '1', '--out', f'{d}/ablations.json'],
            'ablations.py --dataset imdb (tiny)': [py, b/'ablations.py', '--dataset', 'imdb', '--tiny', '--rows', 'Last', '--seeds', '0', '--workers', '1',
                                                   '--out', f'{d}/ablations_imdb.json'],
            'cpu_recipe.py (tiny)': [py, b/'cpu_recipe.py', '--tiny', '--datasets', 'trec', '--seeds', '0', '--threads', '1', '--out', f'{d}/cpu_recipe.json'],
            'csv_check.py (tiny)': [py, b/'csv_check.py', '--datasets', 'trec', '--seeds', '0', '--max-train', '300', '--threads', '1',
                                    '--set', 'lm_epochs=1', '--set', 'clas_epochs=4', '--set', 'lm_min_steps=0', '--set', 'clas_min_steps=0',
                                    '--unlabeled', '300', '--out', f'{d}/csv_check.json'],   # the default choice of ξ: two classifier runs
            'distributed.py (tiny)': [py, b/'distributed.py', '--tiny', '--out', f'{d}/distributed.json'],
            'long_document.py (tiny)': [py, b/'long_document.py', '--words', '500', '--rows', '30', '--out', f'{d}/long_document.json'],
            'pretok_imdb.py --sample, then imdb_time_to_accuracy.py (tiny) on its .npz': [
                [py, b/'pretok_imdb.py', '--sample', '--workers', '1', '--out', f'{d}/sample.npz', '--cache-dir', f'{d}/tokens'],
                [py, b/'imdb_time_to_accuracy.py', '--npz', f'{d}/sample.npz', '--preset', 'tiny', '--max-docs', '200', '--out', f'{d}/tta.json']],
        }
        def one(name, cmds):                      # a job: one command, or several that must run in order
            t0, out = time.time(), ''
            for cmd in (cmds if isinstance(cmds[0], list) else [cmds]):
                rc, o = sh([str(c) for c in cmd]); out += o
                if rc: break
            record(f'benchmark {name} runs (tiny, CPU)', rc == 0, t0, out)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:       # two at a time: most use one thread, the machine has two cores
            for f in [pool.submit(one, name, cmds) for name, cmds in runs.items()]: f.result()

def check_fresh_install():
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        venv = Path(d)/'venv'
        steps = [[sys.executable, '-m', 'venv', str(venv)],
                 [str(venv/'bin'/'pip'), 'install', '-q', '--no-compile', 'torch==2.13.0', 'torchvision==0.28.0', str(ROOT)],
                 [str(venv/'bin'/'python'), '-c', 'import ulmfit_nbdev, ulmfit_nbdev.data; print(ulmfit_nbdev.__version__)'],
                 [str(venv/'bin'/'python'), '-c', "from ulmfit_nbdev.pipeline import SHIPPED_STAGE1 as s; "
                  "assert all((s/f).is_file() for f in ('model.pth', 'itos.json', 'config.json', 'README.md')), 'the stage-1 model is not in the package'"]]
        if (ROOT/'ulmfit_nbdev'/'cli.py').exists(): steps.append([str(venv/'bin'/'ulmfit'), '--help'])
        out = ''
        for s in steps:
            p = subprocess.run(s, cwd=d, capture_output=True, text=True)
            out += f'$ {" ".join(s)}\n{p.stdout}{p.stderr}'
            if p.returncode: break
        record('pip install . in a fresh venv: importable package and `ulmfit` command', p.returncode == 0, t0, out)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--flags', default='', help='test flags to run too, e.g. "slow"')
    ap.add_argument('--fresh-install', action='store_true', help='also check `pip install .` in a new venv')
    ap.add_argument('--skip-docs', action='store_true', help='skip the docs checks')
    ap.add_argument('--skip-benchmarks', action='store_true', help="skip the benchmarks' tiny CPU runs")
    a = ap.parse_args()
    if not os.environ.get('FASTAI_HOME'): print('note: FASTAI_HOME is not set; datasets come from ~/.fastai or the network')
    check_hygiene()
    check_ruff()
    check_readme()
    check_notebooks(a.flags)
    check_pytest()
    if not a.skip_benchmarks: check_benchmarks()
    if not a.skip_docs and (ROOT/'tools'/'build_docs.py').exists(): check_docs()
    if a.fresh_install: check_fresh_install()
    bad = [n for n, ok, _ in results if not ok]
    if bad: print('failed:\n  ' + '\n  '.join(bad))
    print(f"{len(results)-len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
