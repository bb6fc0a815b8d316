#!/usr/bin/env python
"""Build the documentation site `docs/` from the notebooks: offline, without Quarto, byte-for-byte reproducible.

    python tools/build_docs.py            # (re)build docs/ from nbs/*.ipynb (index first, then in filename order)
    python tools/build_docs.py --check    # build into a temporary folder and compare with docs/: exit 1 listing stale files
    python tools/build_docs.py --rev HEAD # build docs/ from the committed notebooks only (leaves work in progress out)
    python tools/build_docs.py --out /tmp/site  # build into another folder (docs/ untouched), e.g. for
    python tools/check_docs.py --docs /tmp/site # the browser test of that build
    python -m http.server -d docs 8000    # preview the site at http://localhost:8000

Pipeline, one notebook at a time:
1. nbdev's own docs processors (`nbdev.processors.FilterDefaults`, what `nbdev-docs` runs before handing the notebooks to
   Quarto): frontmatter from the `# title` / `> summary` cell, a `show_doc` cell after every exported definition, hidden
   cells removed, backticked names linked to their documentation. `#| export` cells stay visible (the exported code is the
   lesson) under their `show_doc` entry, like nbdev's `#| exports`.
2. The `show_doc` cells are rendered here, in one Python process, with nbdev's `show_doc` (`BasicMarkdownRenderer`) on the
   objects of the exported modules, instead of re-executing every notebook's exported cells in a fresh kernel
   (`exec_show_docs`). An entry shows the object's own docstring, never one inherited from PyTorch or fastai (`forward`,
   callback events), and a one-line note where there is none, so no entry is empty; `=None`, not `:NoneType=None`.
   Methods that `_modidx.py` lists but no `show_doc` covers are added after their class, so every exported name has an
   API entry whose anchor is the one nbdev's doc links use (`stlr.html#stlr_schedule`). Each exported cell is folded
   ("Show exported source") under the entry of the name its code defines, matched by name (`place_sources`).
3. Quarto-isms become MyST: cell options (`#| echo: false`, ...) become myst-nb tags, callouts become admonitions, links to
   the hosted docs and to `NN_name.ipynb` become relative links to the `.html` pages, ipywidgets outputs become the static
   output they last showed (the figure an `interact` drew), so no widget JavaScript is needed. fastai's training
   progress becomes one summary table per cell (`tidy_progress`), its progress bars are dropped; every output figure
   gets alt text from its titles and axis labels (else the prose before it).
4. Sphinx + myst-nb render the stored outputs (no execution) with the furo theme (navigation in notebook order,
   client-side search) and MathJax 3 vendored in `tools/docs/_static/mathjax` (no CDN), plus `SITE_CSS` (figures keep a
   readable width on a phone and scroll sideways, shell commands wrap).
"""
import argparse, ast, base64, contextlib, filecmp, hashlib, html, html.parser, importlib, inspect, io, json, os, re, shutil, sys, \
    tempfile, time, warnings
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

def own_docstring(sym) -> str:
    "The docstring written for `sym` itself, never one inherited (PyTorch's `forward`, fastai's callback events)."
    if isinstance(sym, property): sym = sym.fget
    sym = getattr(sym, '__func__', sym)
    if inspect.isclass(sym):
        doc = sym.__dict__.get('__doc__')
        init = sym.__dict__.get('__init__')
        if not (isinstance(doc, str) and doc.strip()) and init is not None: doc = getattr(init, '__doc__', None)
    else: doc = getattr(sym, '__doc__', None)  # a function's `__doc__` is its own
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else ''

def _callback_events() -> set:
    try:
        from fastai.callback.core import _events
        return set(_events)
    except Exception: return set()

def missing_docstring(sym, name:str) -> tuple:
    "What an entry without a docstring of its own says instead, and whether that is worth a build warning."
    short = (name or getattr(sym, '__name__', '')).rsplit('.', 1)[-1]
    if short in _callback_events(): return f"*Callback event: fastai's `Learner` calls it at `{short}`.*", False
    if short == 'forward': return '*The forward pass: what calling the module computes.*', False
    if short == 'extra_repr': return "*The extra text the module's `repr` shows.*", False
    return f'*`{short}` has no docstring yet: see its source.*', True

_re_nonetype = re.compile(r':\s*NoneType(?=\s*=\s*None\b)')

def signature_markdown(md:str) -> str:
    "A parameter whose default is `None` shows `=None`, not the `:NoneType=None` docments infers from the default."
    return _re_nonetype.sub('', md)

def _make_renderer():
    from nbdev.showdoc import BasicMarkdownRenderer
    from fastcore.docments import _docstring, _ital_first, DocmentText
    class OwnDocRenderer(BasicMarkdownRenderer):
        "nbdev's show_doc markdown, with the symbol's own docstring only and never an empty entry."
        missing = []  # names whose entry says they have no docstring (build warnings)
        def __init__(self, sym, name=None, title_level=3, maxline=110):
            super().__init__(sym, name=name, title_level=title_level, maxline=maxline)
            own = own_docstring(self.sym)
            self.docs = _docstring(own, self.dm.dm if isinstance(self.dm, DocmentText) else {}) if own else ''
            self.fallback = None
            if not own:
                self.fallback, warn = missing_docstring(self.sym, self.nm)
                if warn: OwnDocRenderer.missing.append(self.nm)
        def _repr_markdown_(self):
            md = signature_markdown(super()._repr_markdown_())
            if self.docs:  # the description paragraph is marked, so the browser test can find empty entries
                tail = _ital_first(self.docs)
                return md[:-len(tail)] + '{.showdoc-desc}\n' + tail if md.endswith(tail) else md
            return md.rstrip('\n') + f'\n\n{{.showdoc-desc .showdoc-nodoc}}\n{self.fallback}\n'
    return OwnDocRenderer

class ShowDocNamespace:
    "Every exported module imported once; `show_doc(...)` cells are evaluated against them."
    def __init__(self, lib_name:str):
        from functools import partial
        from nbdev.showdoc import show_doc
        self.renderer = _make_renderer()
        self.show_doc, self.lib_name = partial(show_doc, renderer=self.renderer), lib_name
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

def _is_patch(dec) -> bool:
    f = dec.func if isinstance(dec, ast.Call) else dec
    return (f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None) == 'patch'

def _patched_classes(fn) -> list:
    "The classes a fastcore `@patch` function is added to (the annotation of its first argument)."
    args = fn.args.posonlyargs + fn.args.args
    anno = args[0].annotation if args else None
    elts = anno.elts if isinstance(anno, ast.Tuple) else [anno]
    if isinstance(anno, ast.BinOp): elts = [anno.left, anno.right]  # `self:A|B`
    return [ast.unparse(e) for e in elts if e is not None]

def defined_names(source:str) -> list:
    """(name, is_method) for what a code cell defines, in order: functions, classes and their methods (`Cls.meth`,
    a method), `@patch`ed functions (`Cls.meth`, not a method: defined on their own), assignments."""
    src = '\n'.join(l for l in source.splitlines() if not l.lstrip().startswith(('%', '!')))
    try: tree = ast.parse(src)
    except SyntaxError: return []
    res = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(_is_patch(d) for d in node.decorator_list): res += [(f'{c}.{node.name}', False) for c in _patched_classes(node)]
            else: res.append((node.name, False))
        elif isinstance(node, ast.ClassDef):
            res.append((node.name, False))
            res += [(f'{node.name}.{b.name}', True) for b in node.body if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                res += [(n.id, False) for n in ast.walk(t) if isinstance(n, ast.Name)]
    return res

def is_exported(cell) -> bool:
    return cell.cell_type == 'code' and 'exports' in (getattr(cell, 'directives_', None) or {})

def place_sources(nb):
    """Put each exported cell right under the API entries of the names it defines (its "Show exported source" fold).

    nbdev's `mv_exports` swaps an exported cell with the `show_doc` cell after it by position: two exported cells in a
    row (a constant, then the function) end with the function's entry folding the constant. Here cells are matched by
    name: an exported cell goes under the last entry of the functions and classes it defines (entries nbdev generated are
    put in the order of the code), else under the entry of a method it defines; a cell that defines no documented name
    (imports, constants, private helpers) stays where it is, shown unfolded. Sets `fold_owner_` on exported cells."""
    pos = {id(c): i for i, c in enumerate(nb.cells)}
    entries = {c.sd_name: c for c in nb.cells if getattr(c, 'sd_name', None)}
    owned = {}
    for c in nb.cells:
        if not is_exported(c): continue
        names = [(n, m) for n, m in defined_names(c.source) if n in entries]
        top = [n for n, m in names if not m]
        auto = [entries[n] for n in top if getattr(entries[n], 'has_sd', False)]
        for slot, e in zip(sorted(pos[id(e)] for e in auto), auto): nb.cells[slot], pos[id(e)] = e, slot  # code order
        c.fold_owner_ = top[-1] if top else names[0][0] if names else None
        if c.fold_owner_: owned.setdefault(c.fold_owner_, []).append(c)
    cells = []
    for c in nb.cells:
        if getattr(c, 'fold_owner_', None): continue
        cells.append(c)
        cells += owned.get(getattr(c, 'sd_name', None), [])
    nb.cells = cells
    return nb

def add_method_docs(nb, page_syms:list, shown:ShowDocNamespace, problems:list):
    "Add a show_doc entry for every exported name of this page not documented yet (methods, mostly), after its class."
    from fastcore.nbio import mk_cell
    documented = {getattr(c, 'sd_name', None) for c in nb.cells}
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
        new = mk_cell(md, 'markdown'); new.sd_name = name
        # after the class's entry, its exported source, and the methods (with their sources) already placed after it
        pos = next((i for i, c in enumerate(nb.cells) if getattr(c, 'sd_name', None) == owner), None)
        if pos is None: pos = len(nb.cells) - 1
        def _ours(c):
            n = getattr(c, 'sd_name', None) or getattr(c, 'fold_owner_', None) or ''
            return n == owner or n.startswith(f'{owner}.')
        while owner and pos + 1 < len(nb.cells) and _ours(nb.cells[pos+1]): pos += 1
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

# --- fastai's progress output: one summary table per cell -------------------------------------------------------------

class _ProgressTables(html.parser.HTMLParser):
    "The `<table class=\"fastprogress\">` tables of an HTML output: [(header, rows)]."
    def __init__(self):
        super().__init__(); self.tables, self.cur, self.cell = [], None, None
    def handle_starttag(self, tag, attrs):
        if tag == 'table' and 'fastprogress' in (dict(attrs).get('class') or ''): self.cur = ([], [])
        elif self.cur is None: return
        elif tag == 'tr' and self.cur[0]: self.cur[1].append([])
        elif tag in ('th', 'td'): self.cell = []
    def handle_data(self, data):
        if self.cell is not None: self.cell.append(data)
    def handle_endtag(self, tag):
        if self.cur is None: return
        if tag in ('th', 'td') and self.cell is not None:
            text = ''.join(self.cell).strip()
            (self.cur[0] if tag == 'th' else self.cur[1][-1] if self.cur[1] else self.cur[0]).append(text)
            self.cell = None
        elif tag == 'table': self.tables.append((tuple(self.cur[0]), [r for r in self.cur[1] if r])); self.cur = None

def progress_tables(html_text:str) -> list:
    "[(header, rows)] of fastai's training-progress tables in `html_text`."
    p = _ProgressTables(); p.feed(html_text); p.close(); return p.tables

_re_progress_bar = re.compile(r'<progress\b[^>]*>.*?</progress>[^<]*', re.S)
_re_progress_table = re.compile(r'<table\s+class="fastprogress".*?</table>', re.S)

def is_progress_output(html_text:str) -> bool:
    "fastai/fastprogress output only: progress bars, progress tables and fastprogress's `<style>`, nothing else."
    if '<progress' not in html_text and 'fastprogress' not in html_text: return False
    rest = re.sub(r'<style\b.*?</style>', '', html_text, flags=re.S)
    rest = _re_progress_table.sub('', _re_progress_bar.sub('', rest))
    return not re.sub(r'<[^>]+>', '', rest).strip()

def progress_summary(header:tuple, fits:list) -> str:
    "One table for several fits' progress tables with the same columns (a `fit` column numbers them)."
    esc = lambda v: html.escape(str(v), quote=False)
    many = len(fits) > 1
    head = (['fit'] if many else []) + list(header)
    rows = [([str(i)] if many else []) + r for i, rows in enumerate(fits, 1) for r in rows]
    cap = f'<caption>{len(fits)} fits, one row per epoch</caption>' if many else ''
    return ('<table class="fastprogress">' + cap + '<thead><tr>' + ''.join(f'<th>{esc(h)}</th>' for h in head) +
            '</tr></thead><tbody>' + ''.join('<tr>' + ''.join(f'<td>{esc(v)}</td>' for v in r) + '</tr>' for r in rows) +
            '</tbody></table>')

def tidy_progress(outputs:list) -> list:
    """fastai's training progress as the docs show it: the tables of a cell's fits merged into one per set of columns
    (gradual unfreezing is one fit per epoch: dozens of one-row tables), at the first one's place; progress bars,
    empty tables and fastprogress's `<style>` dropped; every other output kept, in order."""
    res, groups = [], {}
    for o in outputs:
        data = o.get('data', {})
        text = ''.join(data.get('text/html', '')) if 'text/html' in data else None
        if text is None: res.append(o); continue
        if not text.strip() and set(data) <= {'text/html', 'text/plain'} and \
           ''.join(data.get('text/plain', '')).strip() in ('', '<IPython.core.display.HTML object>'): continue
        if not is_progress_output(text): res.append(o); continue
        for header, rows in progress_tables(text):
            if not rows: continue
            if header not in groups: groups[header] = (len(res), []); res.append(None)
            groups[header][1].append(rows)
    for header, (i, fits) in groups.items():
        res[i] = {'output_type': 'display_data', 'metadata': {},
                  'data': {'text/html': progress_summary(header, fits),
                           'text/plain': f'training progress: {len(fits)} fit(s), {sum(map(len, fits))} epoch(s)'}}
    return res

# --- alt text of figures ---------------------------------------------------------------------------------------------

_PLOT_TEXT = dict(set_title='title', title='title', suptitle='suptitle', set_xlabel='xlabel', xlabel='xlabel',
                  set_ylabel='ylabel', ylabel='ylabel')

def _formatted(v, consts:dict) -> str:
    "An f-string's `{name:spec}` with the value `name` was last given in the notebook, else `…`."
    if not (isinstance(v.value, ast.Name) and v.value.id in consts): return '…'
    spec = ''.join(str(x.value) for x in v.format_spec.values if isinstance(x, ast.Constant)) if v.format_spec else ''
    try: return format(consts[v.value.id], spec)
    except (ValueError, TypeError): return '…'

def _literal_text(node, consts:dict=None):
    "A string literal's text; an f-string's with the constants it formats, `…` for others (None if it formats only)."
    if isinstance(node, ast.Constant) and isinstance(node.value, str): return node.value
    if isinstance(node, ast.JoinedStr):
        if not any(isinstance(v, ast.Constant) and str(v.value).strip() for v in node.values): return None
        return ''.join(str(v.value) if isinstance(v, ast.Constant) else _formatted(v, consts or {}) for v in node.values)
    return None

def record_constants(nodes, consts:dict):
    "Names given a number or a string at the top level of a cell (`T, lr_max = 200, 0.01`), into `consts`."
    for node in nodes:
        if not isinstance(node, ast.Assign): continue
        for t in node.targets:
            pairs = zip(t.elts, node.value.elts) if isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple) \
                    and len(t.elts) == len(node.value.elts) else [(t, node.value)]
            for name, value in pairs:
                if not isinstance(name, ast.Name): continue
                try: v = ast.literal_eval(value)
                except Exception: consts.pop(name.id, None); continue
                if isinstance(v, (int, float, str)) and not isinstance(v, bool): consts[name.id] = v
                else: consts.pop(name.id, None)

def _plot_texts(nodes, known:dict, consts:dict=None) -> dict:
    "Titles and axis labels that the statements `nodes` write, with those of the known plotting functions they use."
    res = {k: [] for k in ('suptitle', 'title', 'xlabel', 'ylabel')}
    def add(kind, node):
        t = _literal_text(node, consts)
        if t and t.strip() and t.strip() not in res[kind]: res[kind].append(t.strip())
    for n in (x for node in nodes for x in ast.walk(node)):
        if isinstance(n, ast.Call):
            f = n.func.attr if isinstance(n.func, ast.Attribute) else n.func.id if isinstance(n.func, ast.Name) else None
            if f in _PLOT_TEXT and n.args: add(_PLOT_TEXT[f], n.args[0])
            if f == 'set':
                for k in n.keywords:
                    if k.arg in res: add(k.arg, k.value)
        if isinstance(n, ast.Name) and n.id in known:  # a plotting function defined in an earlier cell, called or passed
            for k, v in known[n.id].items(): res[k] += [t for t in v if t not in res[k]]
    return res

def plot_texts(source:str, known:dict, consts:dict=None) -> dict:
    """What a code cell's figures say ({suptitle, title, xlabel, ylabel: [texts]}), f-strings filled in with the notebook's
    top-level constants (`consts`, updated); records the cell's functions in `known` (their f-strings stay `…`)."""
    try: tree = ast.parse('\n'.join(l for l in source.splitlines() if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return {}
    consts = {} if consts is None else consts
    record_constants(tree.body, consts)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)): known[node.name] = _plot_texts(node.body, known)
    return _plot_texts([n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))], known, consts)

def _first_sentence(md:str) -> str:
    "The first sentence of a markdown cell's prose (headings left out), as plain text."
    text = re.sub(r'^\s*#+\s.*$', '', md or '', flags=re.M)
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = re.sub(r'[`*_]{1,2}|\$+|\\(?=[a-zA-Z{])', '', text)
    text = ' '.join(text.split())
    return re.split(r'(?<=[.!?])\s', text, maxsplit=1)[0].rstrip(':.').strip() if text else ''

def figure_alt(texts:dict, prose:str='', heading:str='', limit:int=250) -> str:
    "Alt text of a figure: its titles and axis labels, else the first sentence of the prose before it, else its section."
    titles = (texts or {}).get('suptitle', []) + (texts or {}).get('title', [])
    axes = [f'{k[0]}: {", ".join(v[:3])}' for k in ('xlabel', 'ylabel') if (v := (texts or {}).get(k))]
    what = '; '.join(titles[:5]) or _first_sentence(prose) or (f'a figure of the section “{heading}”' if heading else 'a figure')
    alt = f'Figure: {what}' + (f' ({"; ".join(axes)})' if axes else '')
    return alt if len(alt) <= limit else alt[:limit-1].rstrip() + '…'

def image_key(mime:str, content) -> str:
    "The name myst-nb gives an output image (the sha256 of its bytes), to find it in the built page."
    content = ''.join(content) if isinstance(content, list) else content
    if mime in ('image/png', 'image/jpeg', 'image/gif'): data = base64.b64decode(content)
    else: data = os.linesep.join(content.splitlines()).encode('utf-8')
    return hashlib.sha256(data).hexdigest()

def record_figure_alts(cells, alts:dict, page_title:str=''):
    "Alt text for every image output of `cells` (notebook order), into `alts` (image key -> text)."
    known, consts, prose, heading = {}, {}, '', page_title
    for c in cells:
        if c.cell_type == 'markdown':
            if getattr(c, 'sd_name', None): continue
            prose = c.source
            for m in re.finditer(r'^#+\s+(.+)$', c.source, re.M): heading = m.group(1).strip()
            continue
        if c.cell_type != 'code': continue
        texts = plot_texts(c.source, known, consts)
        imgs = [(m, o['data'][m]) for o in c.get('outputs', []) for m in o.get('data', {}) if m.startswith('image/')]
        for i, (mime, content) in enumerate(imgs, 1):
            alt = figure_alt(texts, prose, heading)
            if len(imgs) > 1: alt += f' ({i} of {len(imgs)})'
            alts.setdefault(image_key(mime, content), alt)

# --- one notebook ------------------------------------------------------------------------------------------------------

def process_notebook(path:Path, cfg, shown, problems, pages:set, page_syms:list, alts:dict=None):
    from fastcore.nbio import read_nb, mk_cell
    from nbdev.processors import FilterDefaults, exec_show_docs, mv_exports
    from nbdev.processors import _default_exp
    nb = read_nb(path)
    nb.path_ = path
    module = _default_exp(nb)
    show_exported_source(nb)
    split_title_cell(nb)
    sd_proc = make_showdoc_proc(shown, problems)
    class Procs(FilterDefaults):  # `mv_exports` matches cells by position: `place_sources` matches them by name
        def base_procs(self): return [sd_proc if p is exec_show_docs else p for p in super().base_procs() if p is not mv_exports]
    Procs()(nb)
    place_sources(nb)
    add_method_docs(nb, page_syms, shown, problems)
    degrade_widgets(nb)
    for c in nb.cells:
        if c.cell_type == 'code' and c.get('outputs'): c.outputs = tidy_progress(c.outputs)

    fm = getattr(nb, 'frontmatter_', {}) or {}
    title, desc = fm.get('title') or path.stem, fm.get('description')
    if alts is not None: record_figure_alts(nb.cells, alts, title)
    doc_prefix = f"{cfg.doc_host.rstrip('/')}/{cfg.doc_baseurl.strip('/')}/".replace('//', '/').replace(':/', '://') \
        if cfg.get('doc_host') else ''
    git = f"{cfg.git_url.rstrip('/')}/blob/{cfg.branch}"
    cells = []
    for c in nb.cells:
        if c.cell_type == 'raw' or (c.cell_type == 'markdown' and c.source.strip().startswith('<!-- WARNING: THIS FILE')):
            continue
        if c.cell_type == 'markdown': c.source = fix_links(c.source, doc_prefix, pages, problems, path.name)
        if c.cell_type == 'code':
            opts = cell_options(c)
            if opts.get('code-fold') == 'show' and not getattr(c, 'fold_owner_', None):  # exported, but no API entry
                c.metadata = {'tags': [t for t in c.metadata.get('tags', []) if t != 'hide-input']}  # (imports, constants,
                if not c.metadata['tags']: c.metadata = {}                                           # helpers): shown
            for o in c.get('outputs', []):
                if 'text/markdown' in o.get('data', {}):
                    o['data']['text/markdown'] = fix_links(''.join(o['data']['text/markdown']), doc_prefix, pages, problems, path.name)
            if not c.source.strip() and not c.get('outputs'): continue
            c.execution_count = None
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

# Styles the build adds after tools/docs/_static/custom.css (served as _static/site.css).
SITE_CSS = """/* Added by tools/build_docs.py, after custom.css. */
/* Figures: never wider than the column on a desktop; on a phone a wide figure keeps 36rem and scrolls sideways
   instead of shrinking until its labels are unreadable. */
div.cell_output { overflow-x: auto; }
div.cell_output img { max-width: max(100%, 36rem); height: auto; }
/* Shell commands wrap instead of running past the right edge (a copy gets them whole, on one line). */
div.highlight-sh pre, div.highlight-bash pre, div.highlight-shell pre, div.highlight-console pre {
  white-space: pre-wrap; overflow-wrap: anywhere; }
/* fastai's training progress, one table per cell (build_docs.tidy_progress) */
table.fastprogress { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
table.fastprogress caption { caption-side: top; text-align: left; color: var(--color-foreground-muted); font-size: 0.9em; }
table.fastprogress th, table.fastprogress td { border: none; border-bottom: 1px solid var(--color-background-border);
  padding: 0.15em 0.6em; text-align: right; }
table.fastprogress thead th { border-bottom: 2px solid var(--color-foreground-border); }
"""

def set_image_alts(doctree, docname:str, alts:dict, problems:list):
    "Give every output image the alt text `record_figure_alts` wrote for it (myst-nb's default is its hashed file name)."
    from docutils import nodes
    for node in doctree.findall(nodes.image):
        key = Path(node.get('uri', '')).stem
        if key in alts: node['alt'] = alts[key]
        elif not node.get('alt'): problems.append(f'{docname}: an image without alt text: {node.get("uri")}')


def build(outdir:Path, verbose=False, root:Path=ROOT) -> list:
    "Build the site of the project at `root` into `outdir`; returns the problems found (show_doc failures, warnings)."
    t0 = time.time()
    os.chdir(root)
    sys.path.insert(0, str(root))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    from nbdev.config import get_config
    import nbformat
    cfg = get_config()
    problems, alts = [], {}
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
            nb, title = process_notebook(path, cfg, shown, problems, set(names), by_page.get(f'{name}.html', []), alts)
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
        static = Path(tmp)/'static'; static.mkdir()
        (static/'site.css').write_text(SITE_CSS)
        overrides.update(html_static_path=[str(CONF_DIR/'_static'), str(static)], html_css_files=['custom.css', 'site.css'])
        app = Sphinx(str(src), str(CONF_DIR), str(html), str(Path(tmp)/'doctrees'), 'html',
                     confoverrides=overrides, status=sys.stdout if verbose else None, warning=warn_io,
                     freshenv=True, parallel=0)
        app.connect('doctree-resolved', lambda app, doctree, docname: set_image_alts(doctree, docname, alts, problems))
        app.build(force_all=True)
        problems += [l for l in warn_io.getvalue().splitlines() if l.strip()]
        problems += [f'{n} has no docstring of its own' for n in dict.fromkeys(shown.renderer.missing)]
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
    parser.add_argument('--out', help='build into this folder instead of docs/ (empty, or a previous build)')
    args = parser.parse_args()
    if args.out and Path(args.out).exists() and any(Path(args.out).iterdir()) and \
       not (Path(args.out)/'objects.inv').is_file():
        sys.exit(f'--out {args.out}: not empty and not a previous build of the site; refusing to replace it')
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
            dest = Path(args.out).resolve() if args.out else DOCS_DIR
            install(built, dest)
            print(f'wrote {dest}/ ({len(tree_files(dest))} files)')
    if args.strict and problems: sys.exit(f'{len(problems)} build warning(s)')

if __name__ == '__main__': main()
