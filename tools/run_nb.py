#!/usr/bin/env python
"""Execute notebooks in place so their outputs (figures as PNG) are stored, the way `nbdev-test` runs them.

    python tools/run_nb.py nbs/05_stlr.ipynb [more.ipynb ...] [--flags slow]

Cells carrying a `#| slow`, `#| cuda` or `#| notest` directive are skipped unless the flag is passed, exactly like
`nbdev-test`; a skipped cell keeps the outputs it has (the stored result of a long run). Runs with the notebook's folder as working directory, through a real Jupyter
kernel, so matplotlib stores `image/png` outputs (not `<Figure size…>` text, nbdev#1420). Run `nbdev-clean` after.
"""
import argparse, re, sys, time
from pathlib import Path
import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

FLAGS = ('notest', 'slow', 'cuda')
_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+)', re.M)

def cell_flags(src):
    "The nbdev directives (`#| slow` …) at the top of a cell's source."
    return {m.group(1) for m in _directive.finditer(src)}

class SkipFlagged(ExecutePreprocessor):
    "Execute every code cell except those whose test flag is not enabled."
    run_flags = ()
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == 'code' and (cell_flags(cell.source) & (set(FLAGS) - set(self.run_flags))):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)

def run(path, flags=(), timeout=1800):
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    ep = SkipFlagged(timeout=timeout, kernel_name='python3')
    ep.run_flags = tuple(flags)
    t0 = time.time()
    ep.preprocess(nb, {'metadata': {'path': str(path.parent)}})
    bad = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])
           if o.get('output_type') in ('execute_result', 'display_data')
           and 'text/plain' in o.get('data', {}) and str(o['data']['text/plain']).startswith('<Figure size')
           and 'image/png' not in o.get('data', {})]
    if bad: sys.exit(f'{path}: {len(bad)} figure(s) stored as "<Figure size…>" text instead of PNG')
    nbformat.write(nb, path)
    print(f'{path}: executed in {time.time()-t0:.1f}s')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('notebooks', nargs='+')
    p.add_argument('--flags', nargs='*', default=[], help='test flags to run too (slow, cuda)')
    p.add_argument('--timeout', type=int, default=1800, help='seconds per cell')
    a = p.parse_args()
    for nbp in a.notebooks: run(nbp, a.flags, a.timeout)
