#!/usr/bin/env python
"""Build the documentation site `docs/` from the notebooks: offline, without Quarto, byte-for-byte reproducible.

    python tools/build_docs.py            # (re)build docs/ from nbs/*.ipynb (index first, then in filename order)
    python tools/build_docs.py --check    # build into a temporary folder and compare with docs/: exit 1 listing stale files
    python tools/build_docs.py --rev HEAD # build docs/ from the committed notebooks only (leaves work in progress out)
    python -m http.server -d docs 8000    # preview the site at http://localhost:8000

Pipeline, one notebook at a time:
1. nbdev's own docs processors (`nbdev.processors.FilterDefaults`, what `nbdev-docs` runs before handing the notebooks to
   Quarto): frontmatter from the `# title` / `> summary` cell, a `show_doc` cell after every exported definition, hidden
   cells removed, backticked names linked to their documentation. `#| export` cells stay visible (the exported code is the
   lesson) under their `show_doc` entry, like nbdev's `#| exports`.
2. The `show_doc` cells are rendered here, in one Python process, with nbdev's `show_doc` (`BasicMarkdownRenderer`) on the
   objects of the exported modules, instead of re-executing every notebook's exported cells in a fresh kernel
   (`exec_show_docs`). Methods that `_modidx.py` lists but no `show_doc` covers are added after their class, so every
   exported name has an API entry whose anchor is the one nbdev's doc links use (`stlr.html#stlr_schedule`).
3. Quarto-isms become MyST: cell options (`#| echo: false`, ...) become myst-nb tags, callouts become admonitions, links to
   the hosted docs and to `NN_name.ipynb` become relative links to the `.html` pages, ipywidgets outputs become the static
   output they last showed (the figure an `interact` drew), so no widget JavaScript is needed.
4. Sphinx + myst-nb render the stored outputs (no execution) with the furo theme (navigation in notebook order,
   client-side search) and MathJax 3 vendored in `tools/docs/_static/mathjax` (no CDN).
"""
import argparse, ast, contextlib, filecmp, importlib, io, json, os, re, shutil, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT/'tools'/'docs'
DOCS_DIR = ROOT/'docs'
KEEP_IN_DOCS = {'_screenshots'}  # ignored local artefacts (browser test screenshots) that a build leaves alone
ASSET_SUFFIXES = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp'}
SKIP_ASSET_DIRS = {'data', 'models'}

WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'

# --- what to build ---------------------------------------------------------------------------------------------------

def notebook_paths(nbs_path:Path) -> list:
    "The notebooks to publish: `index.ipynb` first, then the others in filename order (`_`/`.` files skipped)."
    nbs = sorted(p for p in nbs_path.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    return sorted(nbs, key=lambda p: (p.name != 'index.ipynb', p.name))

def docname(nb_path:Path) -> str:
    "The page name nbdev/Quarto give a notebook: `05_stlr.ipynb` -> `stlr` (served as `stlr.html`)."
    from nbdev.config import nbpath2html
    return nbpath2html(Path(nb_path.name)).stem

# --- show_doc rendered in-process --------------------------------------------------------------------------------------

class ShowDocNamespace:
    "Every exported module imported once; `show_doc(...)` cells are evaluated against them."
    def __init__(self, lib_name:str):
        from nbdev.showdoc import show_doc
        self.show_doc, self.lib_name = show_doc, lib_name
        idx = importlib.import_module(f'{lib_name}._modidx').d
        self.syms = idx['syms']
        self.modules, self.errors = {}, []
        for mod in sorted(self.syms):
            try: self.modules[mod] = importlib.import_module(mod)
            except Exception as e: self.errors.append(f'cannot import {mod}: {type(e).__name__}: {e}')
        self.common = {}
        for m in self.modules.values(): self.common.update(vars(m))

    def namespace(self, default_exp):
        ns = dict(self.common)
        mod = self.modules.get(f'{self.lib_name}.{default_exp}') if default_exp else None
        if mod is not None: ns.update(vars(mod))
        ns['show_doc'] = self.show_doc
        return ns

    def pages(self):
        "{page: [(qualified name, short name, anchor), ...]} for every exported name in `_modidx.py`."
        res = {}
        for mod, syms in self.syms.items():
            for full, (link, _) in syms.items():
                page, anchor = link.split('#', 1)
                res.setdefault(page, []).append((full, full[len(mod)+1:], anchor))
        return res

_directive_line = re.compile(r'^\s*#\s*\|.*$\n?', re.M)

def eval_show_doc(source:str, ns:dict):
    "Run a `show_doc(...)` cell; the markdown its last expression displays."
    src = _directive_line.sub('', source).strip()
    tree = ast.parse(src)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        exec(compile(tree, '<show_doc>', 'exec'), ns)
        res = eval(compile(ast.Expression(last.value), '<show_doc>', 'eval'), ns) if last else None
    return res._repr_markdown_() if hasattr(res, '_repr_markdown_') else None

_re_sd_name = re.compile(r'^show_doc\(\s*([\w.]+)', re.M)
_re_sd_source = re.compile(r'\[source\]\((\S+?)\)\{[^}\n]*\}')
_re_sd_heading = re.compile(r'^(#+) (.+)$', re.M)

def source_url(url:str, name:str) -> str:
    "nbdev 3.3's `NbdevLookup.code` looks the line up by qualified name and finds none (`#LNone`): use the short name."
    if not url.endswith('#LNone'): return url
    from nbdev.doclinks import _get_exps
    url = url.removesuffix('#LNone')
    py = url.split('/blob/', 1)[-1].split('/', 1)[-1]
    line = _get_exps(py).get(name) if name else None
    return f'{url}#L{line}' if line else url

def showdoc_markdown(md:str) -> tuple:
    "nbdev's show_doc markdown made MyST-friendly; returns (markdown, documented name)."
    m = _re_sd_heading.search(md)
    name = m.group(2).strip() if m else None
    md = _re_sd_source.sub(lambda s: f'[source]({source_url(s.group(1), name)}){{.showdoc-source}}', md)
    m = _re_sd_heading.search(md)
    if name:
        from docutils.nodes import make_id
        heading = f'{m.group(1)} {name.replace("_", chr(92)+"_")}'
        anchor = f'<span id="{name.lower()}"></span>\n\n' if make_id(name) != name.lower() else ''
        md = md[:m.start()] + anchor + heading + md[m.end():]
    return md, name

# --- nbdev processing --------------------------------------------------------------------------------------------------

def make_showdoc_proc(shown:ShowDocNamespace, problems:list):
    from nbdev.process import Processor
    from nbdev.processors import _is_showdoc, _default_exp
    class render_show_docs(Processor):
        "Replace `show_doc` cells by markdown cells holding their rendered output (stands in for `exec_show_docs`)."
        def begin(self):
            self.ns = shown.namespace(_default_exp(self.nb))
            self.title = Path(getattr(self.nb, 'path_', '?')).name
        def cell(self, cell):
            if not _is_showdoc(cell): return
            try: md = eval_show_doc(cell.source, self.ns)
            except Exception as e:
                md = None
                problems.append(f'{self.title}: show_doc failed for `{cell.source.splitlines()[-1]}`: {type(e).__name__}: {e}')
            if md is None:  # keep what the notebook stored, if anything
                md = next((''.join(o['data']['text/markdown']) for o in cell.get('outputs', [])
                           if 'text/markdown' in o.get('data', {})), None)
            if md is None: cell.source = None; return
            md, name = showdoc_markdown(md)
            cell.cell_type, cell.source, cell.sd_name = 'markdown', md, name
            cell.pop('outputs', None); cell.pop('execution_count', None)
    return render_show_docs

_re_export = re.compile(r'^(\s*#\s*\|\s*)export(?=\s|$)', re.M)

def show_exported_source(nb):
    "`#| export` cells are kept on the page (as nbdev does for `#| exports`): the exported code is what is taught."
    for c in nb.cells:
        if c.cell_type == 'code': c.source = _re_export.sub(r'\1exports', c.source)

def is_public(short:str) -> bool:
    "Names that get an API entry: no `_private` or `__dunder__` part (but `__call__`), as nbdev's show_doc defaults."
    return not any(p.startswith('_') and p != '__call__' for p in short.split('.'))

def split_title_cell(nb):
    "Keep prose that shares the `# title` / `> summary` cell: nbdev turns that whole cell into frontmatter."
    from fastcore.nbio import mk_cell
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'markdown': continue
        lines = c.source.splitlines()
        h = next((j for j, l in enumerate(lines) if re.match(r'^#\s+\S', l)), None)
        if h is None: continue
        end = h + 1
        while end < len(lines) and (not lines[end].strip() or lines[end].startswith('>')): end += 1
        rest = '\n'.join(lines[end:]).strip()
        if rest:
            c.source = '\n'.join(lines[:end]).strip()
            nb.cells.insert(i + 1, mk_cell(rest, 'markdown'))
        return

def add_method_docs(nb, page_syms:list, shown:ShowDocNamespace, problems:list):
    "Add a show_doc entry for every exported name of this page not documented yet (methods, mostly), after its class."
    documented = {getattr(c, 'sd_name', None) for c in nb.cells}
    shown.namespace(None)
    for full, short, anchor in page_syms:
        if short in documented or not is_public(short): continue
        owner = short.rsplit('.', 1)[0] if '.' in short else None
        mod_name = full[:-len(short)-1]
        try:
            obj = shown.modules[mod_name]
            for part in short.split('.'): obj = getattr(obj, part)
            md = shown.show_doc(obj, name=short, title_level=4 if owner else 3)._repr_markdown_()
        except Exception as e:
            problems.append(f'{nb.path_.name}: no API entry for {full}: {type(e).__name__}: {e}'); continue
        md, name = showdoc_markdown(md)
        from fastcore.nbio import mk_cell
        new = mk_cell(md, 'markdown'); new.sd_name = name
        # after the class's entry and the methods already placed after it
        pos = next((i for i, c in enumerate(nb.cells) if getattr(c, 'sd_name', None) == owner), None)
        if pos is None: pos = len(nb.cells) - 1
        elif pos + 1 < len(nb.cells) and nb.cells[pos+1].cell_type == 'code' and 'code-fold' in nb.cells[pos+1].source:
            pos += 1  # the class's exported source, which nbdev's `mv_exports` put right after its entry
        while pos + 1 < len(nb.cells) and (getattr(nb.cells[pos+1], 'sd_name', '') or '').startswith(f'{owner}.'): pos += 1
        nb.cells.insert(pos + 1, new)
        documented.add(short)
    return nb

# --- Quarto-isms -> MyST/myst-nb ---------------------------------------------------------------------------------------

_re_quarto_opt = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_callout = re.compile(r'^:::+\s*\{\s*\.callout-(\w+)[^}]*\}\s*$', re.M)
_callouts = dict(note='note', tip='tip', warning='warning', caution='caution', important='important')

def cell_options(cell):
    "Strip the Quarto cell options (`#| echo: false` ...) from a code cell's source and turn them into myst-nb tags."
    lines, opts = cell.source.splitlines(), {}
    while lines and (m := _re_quarto_opt.match(lines[0])):
        opts[m.group(1)] = m.group(2).strip('"\'').lower(); lines.pop(0)
    cell.source = '\n'.join(lines).strip('\n')
    tags = []
    if opts.get('include') == 'false': tags.append('remove-cell')
    if opts.get('echo') == 'false': tags.append('remove-input')
    if opts.get('output') == 'false': tags.append('remove-output')
    if opts.get('code-fold') in ('true', 'show'): tags.append('hide-input')  # the show_doc entry above has the signature
    if opts.get('code-summary') == 'exported source': tags.append('exported')  # nbdev's `add_fold`: an exported cell
    cell.metadata = {'tags': tags} if tags else {}
    return opts

def fix_links(md:str, doc_prefix:str, pages:set, problems:list=None, where='') -> str:
    "Links to the hosted docs and to notebooks become relative links to this site's pages (those that it builds)."
    def _page(url, name, rest):
        if name in pages: return f'{name}.html{rest}'
        if problems is not None: problems.append(f'{where}: link to a page no notebook builds yet: {url}')
        return None
    def _hosted(m):
        return _page(m.group(0), m.group(1), m.group(2) or '') or m.group(0)
    if doc_prefix: md = re.sub(re.escape(doc_prefix) + r'([\w.-]+?)\.html(#[^)\s"]*)?', _hosted, md)
    def _nb(m):  # a notebook not built yet: its page on the hosted site (or the link as written, without doc_host)
        name, rest = docname(Path(m.group(2))), m.group(3) or ''
        return m.group(1) + (_page(m.group(2), name, rest) or
                             (f'{doc_prefix}{name}.html{rest}' if doc_prefix else m.group(2) + rest))
    md = re.sub(r'(\]\(\s*)(?:\./)?([\w.-]+\.ipynb)(#[^)\s]*)?', _nb, md)
    def _html(m):  # a relative link to a page not built (yet): its page on the hosted site
        name, rest = m.group(2), m.group(3) or ''
        if name in pages or name in ('search', 'genindex') or not doc_prefix: return m.group(0)
        _page(m.group(0)[len(m.group(1)):], name, rest)
        return f'{m.group(1)}{doc_prefix}{name}.html{rest}'
    md = re.sub(r'(\]\(\s*)(?:\./)?([\w.-]+)\.html(#[^)\s]*)?', _html, md)
    return _re_callout.sub(lambda m: f':::{{{_callouts.get(m.group(1), "note")}}}', md)

def widget_fallback(out, state:dict):
    "The static outputs a widget view last showed (an `interact`'s figure), else its text if it isn't a widget repr."
    def outputs_of(model_id, seen=()):
        model = state.get(model_id, {})
        if model_id in seen or not model: return []
        st = model.get('state', {})
        if model.get('model_name') == 'OutputModel': return list(st.get('outputs', []))
        return [o for child in st.get('children', []) if isinstance(child, str)
                for o in outputs_of(child.removeprefix('IPY_MODEL_'), seen + (model_id,))]
    data = out.get('data', {})
    res = outputs_of(data[WIDGET_VIEW].get('model_id', ''))
    if res: return [dict(o, metadata=o.get('metadata', {})) for o in res]
    rest = {k: v for k, v in data.items() if k != WIDGET_VIEW}
    text = ''.join(rest.get('text/plain', ''))
    if set(rest) <= {'text/plain'} and re.match(r'^[A-Za-z_]\w*\(', text): return []  # `interactive(children=...)`
    return [dict(out, data=rest)] if rest else []

def degrade_widgets(nb):
    state = (nb.metadata.get('widgets') or {}).get(WIDGET_STATE, {}).get('state', {})
    for c in nb.cells:
        if c.cell_type != 'code' or not c.get('outputs'): continue
        outs = []
        for o in c.outputs:
            outs += widget_fallback(o, state) if WIDGET_VIEW in o.get('data', {}) else [o]
        c.outputs = outs
    nb.metadata.pop('widgets', None)

# --- one notebook ------------------------------------------------------------------------------------------------------

def process_notebook(path:Path, cfg, shown, problems, pages:set, page_syms:list):
    from fastcore.nbio import read_nb, mk_cell
    from nbdev.processors import FilterDefaults, exec_show_docs
    from nbdev.processors import _default_exp
    nb = read_nb(path)
    nb.path_ = path
    module = _default_exp(nb)
    show_exported_source(nb)
    split_title_cell(nb)
    sd_proc = make_showdoc_proc(shown, problems)
    class Procs(FilterDefaults):
        def base_procs(self): return [sd_proc if p is exec_show_docs else p for p in super().base_procs()]
    Procs()(nb)
    add_method_docs(nb, page_syms, shown, problems)
    degrade_widgets(nb)

    fm = getattr(nb, 'frontmatter_', {}) or {}
    title, desc = fm.get('title') or path.stem, fm.get('description')
    doc_prefix = f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}/".replace('//', '/').replace(':/', '://') \
        if cfg.get('doc_host') else ''
    git = f"{cfg.git_url.rstrip('/')}/blob/{cfg.branch}"
    cells, prev_doc = [], False
    for c in nb.cells:
        if c.cell_type == 'raw' or (c.cell_type == 'markdown' and c.source.strip().startswith('<!-- WARNING: THIS FILE')):
            continue
        if c.cell_type == 'markdown': c.source = fix_links(c.source, doc_prefix, pages, problems, path.name)
        if c.cell_type == 'code':
            opts = cell_options(c)
            if opts.get('code-fold') == 'show' and not prev_doc:  # exported, but no API entry above (an assignment,
                c.metadata = {'tags': [t for t in c.metadata.get('tags', []) if t != 'hide-input']}  # imports): show it
                if not c.metadata['tags']: c.metadata = {}
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}):
                    o['data']['text/markdown'] = fix_links(''.join(o['data']['text/markdown']), doc_prefix, pages, problems, path.name)
            if not c.source.strip() and not c.get('outputs'): continue
            c.execution_count = None
        prev_doc = bool(c.get('sd_name'))
        for k in [k for k in c if k.endswith('_') or k in ('has_sd', 'sd_name', 'idx_')]: c.pop(k, None)
        cells.append(c)

    head = f'# {title}\n\n' + (f'{{.page-description}}\n{desc}\n\n' if desc else '')
    links = [f'[{cfg.nbs_path.name}/{path.name}]({git}/{cfg.nbs_path.name}/{path.name})']
    if module:
        py = f"{cfg.lib_path.name}/{module.replace('.', '/')}.py"
        links.append(f'[{py}]({git}/{py})')
    head += '{.page-source}\nSource: ' + ' · exports ' .join(links) + '\n'
    cells.insert(0, mk_cell(head, 'markdown'))
    keep = dict(markdown=('cell_type', 'source', 'metadata'),
                code=('cell_type', 'source', 'metadata', 'outputs', 'execution_count'))
    cells = [dict({k: c.get(k) for k in keep[c.cell_type]}, id=f'cell-{i}') for i, c in enumerate(cells)]
    for c in cells:
        c['metadata'] = dict(c.get('metadata') or {})
        if c['cell_type'] == 'code': c['outputs'] = c.get('outputs') or []
    return {'nbformat': 4, 'nbformat_minor': 5, 'cells': cells,
            'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'},
                         'language_info': {'name': 'python'}}}, title

# --- the site ----------------------------------------------------------------------------------------------------------

def build(outdir:Path, verbose=False, root:Path=ROOT) -> list:
    "Build the site of the project at `root` into `outdir`; returns the problems found (show_doc failures, warnings)."
    t0 = time.time()
    os.chdir(root)
    sys.path.insert(0, str(root))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    from nbdev.config import get_config
    import nbformat
    cfg = get_config()
    problems = []
    shown = ShowDocNamespace(cfg.lib_name)
    problems += shown.errors
    by_page = shown.pages()
    paths = notebook_paths(cfg.nbs_path)
    names = [docname(p) for p in paths]
    if 'index' not in names: raise SystemExit(f'{cfg.nbs_path}/index.ipynb is missing: it is the home page')

    with tempfile.TemporaryDirectory(prefix='ulmfit-docs-') as tmp:
        src = Path(tmp)/'src'; src.mkdir()
        for p in cfg.nbs_path.rglob('*'):  # images that markdown cells reference
            rel = p.relative_to(cfg.nbs_path)
            if p.suffix.lower() in ASSET_SUFFIXES and p.is_file() and \
               not any(s.startswith(('.', '_')) or s in SKIP_ASSET_DIRS for s in rel.parts[:-1]):
                (src/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(p, src/rel)
        for path, name in zip(paths, names):
            nb, title = process_notebook(path, cfg, shown, problems, set(names), by_page.get(f'{name}.html', []))
            if name == 'index' and len(names) > 1:  # the sidebar: every notebook, in order
                toc = '```{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(n for n in names if n != 'index') + '\n```\n'
                nb['cells'].append({'cell_type': 'markdown', 'id': 'toctree', 'metadata': {}, 'source': toc})
            out = nbformat.from_dict(json.loads(json.dumps(nb)))
            nbformat.validate(out)
            nbformat.write(out, src/f'{name}.ipynb')
        missing = [f'{page}#{anchor}' for page, syms in by_page.items() for _, short, anchor in syms
                   if Path(page).stem not in names]
        if missing: problems.append(f'_modidx.py links to pages no notebook builds: {missing[:5]}')

        from sphinx.application import Sphinx
        warn_io = io.StringIO()
        html = Path(tmp)/'html'
        title = cfg.get('title', cfg.lib_name)
        overrides = dict(project=title, html_title=title, version=str(cfg.get('version', '')),
                         release=str(cfg.get('version', '')))
        try:
            version = importlib.import_module(cfg.lib_name).__version__
            overrides.update(version=version, release=version)
        except Exception: pass
        app = Sphinx(str(src), str(CONF_DIR), str(html), str(Path(tmp)/'doctrees'), 'html',
                     confoverrides=overrides, status=sys.stdout if verbose else None, warning=warn_io,
                     freshenv=True, parallel=0)
        app.build(force_all=True)
        problems += [l for l in warn_io.getvalue().splitlines() if l.strip()]
        (html/'.buildinfo').unlink(missing_ok=True)
        (html/'.buildinfo.bak').unlink(missing_ok=True)
        (html/'.nojekyll').write_text('')
        for d in sorted(html.rglob('*'), reverse=True):  # e.g. _sources/ (html_copy_source = False)
            if d.is_dir() and not any(d.iterdir()): d.rmdir()
        if outdir.exists(): shutil.rmtree(outdir)
        shutil.copytree(html, outdir)
    print(f'built {len(paths)} pages in {time.time()-t0:.1f}s')
    return problems

def tree_files(d:Path) -> set:
    return {p.relative_to(d).as_posix() for p in d.rglob('*') if p.is_file()
            and p.relative_to(d).parts[0] not in KEEP_IN_DOCS}

def stale_files(built:Path, committed:Path) -> list:
    a, b = tree_files(built), tree_files(committed) if committed.exists() else set()
    res = [f'{f} (not in {committed.name}/: rebuild)' for f in sorted(a - b)]
    res += [f'{f} (no longer built: remove)' for f in sorted(b - a)]
    res += [f'{f} (differs)' for f in sorted(a & b) if not filecmp.cmp(built/f, committed/f, shallow=False)]
    return res

def install(built:Path, dest:Path):
    "Replace `dest`'s content by `built`'s, leaving the ignored artefacts (`_screenshots/`) alone."
    dest.mkdir(exist_ok=True)
    for p in dest.iterdir():
        if p.name in KEEP_IN_DOCS: continue
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    for p in built.iterdir():
        shutil.copytree(p, dest/p.name) if p.is_dir() else shutil.copy2(p, dest/p.name)

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='exit 1 if docs/ differs from a fresh build')
    parser.add_argument('--strict', action='store_true', help='exit 1 on any build warning or show_doc failure')
    parser.add_argument('--rev', help='build from this git revision (e.g. HEAD) instead of the working tree')
    parser.add_argument('--verbose', action='store_true', help="print Sphinx's progress")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='ulmfit-site-') as tmp:
        built, root = Path(tmp)/'site', ROOT
        if args.rev:
            import subprocess
            root = Path(tmp)/'rev'; root.mkdir()
            archive = subprocess.run(['git', '-C', str(ROOT), 'archive', args.rev], check=True, capture_output=True).stdout
            subprocess.run(['tar', '-x', '-C', str(root)], input=archive, check=True)
        problems = build(built, verbose=args.verbose, root=root)
        for p in problems: print(f'warning: {p}', file=sys.stderr)
        if args.check:
            stale = stale_files(built, DOCS_DIR)
            if stale:
                print(f'docs/ is stale ({len(stale)} files); run `python tools/build_docs.py` and commit docs/:')
                for s in stale[:50]: print(f'  {s}')
                if len(stale) > 50: print(f'  ... and {len(stale)-50} more')
                sys.exit(1)
            print('docs/ is up to date')
        else:
            install(built, DOCS_DIR)
            print(f'wrote {DOCS_DIR.relative_to(ROOT)}/ ({len(tree_files(DOCS_DIR))} files)')
    if args.strict and problems: sys.exit(f'{len(problems)} build warning(s)')

if __name__ == '__main__': main()
