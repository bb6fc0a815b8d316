"Unit tests of the docs builder's transformations (`tools/build_docs.py`); the site itself is tested by `tools/check_docs.py`."
import inspect, sys
from pathlib import Path

from fastcore.basics import AttrDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import build_docs as bd

PREFIX = 'https://ulmfit-nbdev.github.io/ulmfit_nbdev/'

def test_notebook_order(tmp_path):
    for n in ['10_inference.ipynb', '02_batching.ipynb', 'index.ipynb', '_draft.ipynb', '00_data.ipynb']:
        (tmp_path/n).write_text('{}')
    assert [p.name for p in bd.notebook_paths(tmp_path)] == \
        ['index.ipynb', '00_data.ipynb', '02_batching.ipynb', '10_inference.ipynb']

def test_docname_like_nbdev():
    assert bd.docname(Path('nbs/05_stlr.ipynb')) == 'stlr'
    assert bd.docname(Path('index.ipynb')) == 'index'
    assert bd.docname(Path('04_awd_lstm.ipynb')) == 'awd_lstm'

def test_links_become_relative_when_the_page_is_built():
    pages, problems = {'index', 'stlr', 'data'}, []
    md = (f'see [`stlr`]({PREFIX}stlr.html#stlr), [data](00_data.ipynb#load), [stlr](stlr.html), '
          f'[later](07_unfreezing.ipynb), [later too](cli.html#main), [search](search.html), [web](https://example.org/x.html)')
    out = bd.fix_links(md, PREFIX, pages, problems, 'index.ipynb')
    assert '(stlr.html#stlr)' in out and '(data.html#load)' in out and '(stlr.html)' in out
    assert f'({PREFIX}unfreezing.html)' in out and f'({PREFIX}cli.html#main)' in out  # not built yet: hosted page
    assert '(search.html)' in out and '(https://example.org/x.html)' in out
    assert len(problems) == 2 and all('no notebook builds yet' in p for p in problems)

def test_quarto_callout_becomes_admonition():
    assert bd.fix_links('::: {.callout-warning}\nCareful\n:::', PREFIX, set()) == ':::{warning}\nCareful\n:::'

def test_cell_options_become_tags():
    cell = AttrDict(source='#| echo: false\n#| output: asis\nshow_doc(f)', metadata={})
    bd.cell_options(cell)
    assert cell.source == 'show_doc(f)' and cell.metadata == {'tags': ['remove-input']}
    cell = AttrDict(source='#| code-fold: show\n#| code-summary: "Exported source"\ndef f(): pass', metadata={})
    bd.cell_options(cell)
    assert cell.source == 'def f(): pass' and cell.metadata == {'tags': ['hide-input', 'exported']}

def test_widget_degrades_to_its_last_output():
    png = {'output_type': 'display_data', 'data': {'image/png': 'iVBOR', 'text/plain': '<Figure>'}, 'metadata': {}}
    state = {'box': {'model_name': 'VBoxModel', 'state': {'children': ['IPY_MODEL_slider', 'IPY_MODEL_out']}},
             'slider': {'model_name': 'FloatSliderModel', 'state': {}},
             'out': {'model_name': 'OutputModel', 'state': {'outputs': [png]}}}
    view = {'output_type': 'display_data', 'metadata': {},
            'data': {bd.WIDGET_VIEW: {'model_id': 'box'}, 'text/plain': "interactive(children=(FloatSlider(...), Output()))"}}
    assert bd.widget_fallback(view, state) == [png]
    assert bd.widget_fallback(view, {}) == []  # no state stored: the widget's repr is not shown either
    bar = dict(view, data={bd.WIDGET_VIEW: {'model_id': 'x'}, 'text/plain': ' 50%|#####     | 5/10'})
    assert bd.widget_fallback(bar, {})[0]['data'] == {'text/plain': ' 50%|#####     | 5/10'}

def test_degrade_widgets_removes_widget_state():
    nb = AttrDict(metadata={'widgets': {bd.WIDGET_STATE: {'state': {}}}},
                  cells=[AttrDict(cell_type='code', outputs=[{'output_type': 'display_data', 'metadata': {},
                                                              'data': {bd.WIDGET_VIEW: {'model_id': 'a'}}}])])
    bd.degrade_widgets(nb)
    assert 'widgets' not in nb.metadata and nb.cells[0].outputs == []

def test_public_names():
    assert bd.is_public('stlr') and bd.is_public('STLRCallback.before_batch') and bd.is_public('Head.__call__')
    assert not bd.is_public('_helper') and not bd.is_public('Enc.__init__') and not bd.is_public('_Unpickler.find_class')
    assert not bd.is_public('Loader.__len__')

def test_showdoc_anchor_is_nbdevs():
    md = ('---\n\n[source](https://github.com/o/r/blob/main/ulmfit_nbdev/stlr.py#L3){target="_blank" style="float:right"}\n\n'
          '### stlr_schedule\n\n>      stlr_schedule (step:int)\n')
    out, name = bd.showdoc_markdown(md)
    assert name == 'stlr_schedule'
    assert '<span id="stlr_schedule"></span>' in out and '### stlr\\_schedule' in out
    assert '[source](https://github.com/o/r/blob/main/ulmfit_nbdev/stlr.py#L3){.showdoc-source}' in out
    out, _ = bd.showdoc_markdown('### STLRCallback\n')
    assert '<span' not in out  # docutils' id is already nbdev's anchor

def test_prose_in_the_title_cell_is_kept():
    from fastcore.nbio import mk_cell
    nb = AttrDict(cells=[mk_cell('#| default_exp x', 'code'),
                         mk_cell('# Title\n\n> The summary\n\n- **Step**: do it\n\nMore prose.', 'markdown')])
    bd.split_title_cell(nb)
    assert [c.source for c in nb.cells[1:]] == ['# Title\n\n> The summary', '- **Step**: do it\n\nMore prose.']
    nb = AttrDict(cells=[mk_cell('# Title\n\n> The summary', 'markdown')])
    bd.split_title_cell(nb)
    assert len(nb.cells) == 1

# --- API entries: own docstrings, no empty entries, `=None` ------------------------------------------------------------

from torch import nn

class _Block(nn.Module):
    "A block."
    def forward(self, x): return x
class _Plain(_Block): pass
class _WithInit(_Block):
    def __init__(self):
        "Made here."
        super().__init__()

def test_own_docstring_is_never_inherited():
    assert inspect.getdoc(_Block.forward).startswith('Define the computation performed at every call')  # PyTorch's
    assert bd.own_docstring(_Block.forward) == '' and bd.own_docstring(_Block) == 'A block.'
    assert inspect.getdoc(_Plain) == 'A block.' and bd.own_docstring(_Plain) == ''
    assert bd.own_docstring(_WithInit) == 'Made here.'

def test_entry_without_docstring_says_what_it_is():
    from fastai.callback.core import Callback
    from torch import nn
    class Cb(Callback):
        def before_fit(self): pass
    class Mod(nn.Module):
        def forward(self, x): return x
    Renderer = bd._make_renderer()
    md = Renderer(Cb.before_fit, name='Cb.before_fit')._repr_markdown_()
    assert "Callback event: fastai's `Learner` calls it at `before_fit`" in md and '{.showdoc-desc .showdoc-nodoc}' in md
    md = Renderer(Mod.forward, name='Mod.forward')._repr_markdown_()
    assert 'Define the computation' not in md and ':class:' not in md and 'The forward pass' in md
    def helper(x): return x
    text, warn = bd.missing_docstring(helper, 'helper')
    assert warn and 'no docstring' in text

def test_entry_with_docstring_is_marked_and_has_no_nonetype():
    def f(a:int, # the a
          seed=None, # a seed
         ):
        "Do f.\n\nMore about f."
    md = bd._make_renderer()(f, name='f')._repr_markdown_()
    assert 'NoneType' not in md and 'seed=None, # a seed' in md
    assert '{.showdoc-desc}\n*Do f.*' in md and md.rstrip().endswith('More about f.')
    assert bd.signature_markdown('    lr_max:NoneType=None, # x\n    b:NoneType = None') == '    lr_max=None, # x\n    b = None'

# --- "Show exported source" under the right entry ---------------------------------------------------------------------

def test_defined_names():
    src = ('#| code-fold: show\nLR = 2.6\nA, B = 1, 2\ndef f(): pass\nclass C:\n    def m(self): pass\n'
           '@patch\ndef g(self:C): pass\n@patch\ndef h(self:C|D): pass\n%time f()')
    assert bd.defined_names(src) == [('LR', False), ('A', False), ('B', False), ('f', False), ('C', False),
                                     ('C.m', True), ('C.g', False), ('C.h', False), ('D.h', False)]
    assert bd.defined_names('def broken(:') == []

def _cell(kind, source, **kw):
    from fastcore.nbio import mk_cell
    c = mk_cell(source, kind)
    for k, v in kw.items(): c[k] = v
    return c

def test_place_sources_matches_cells_by_name():
    const = _cell('code', 'LR_DECAY = 2.6', directives_={'exports': []})
    fn = _cell('code', 'def lrs(lr): pass', directives_={'exports': []})
    doc = _cell('markdown', '### lrs', sd_name='lrs', has_sd=True)
    prose = _cell('markdown', 'Some prose.')
    multi = _cell('code', 'def a(): pass\ndef b(): pass\ndef _c(): pass', directives_={'exports': []})
    doc_b, doc_a = _cell('markdown', '### b', sd_name='b', has_sd=True), _cell('markdown', '### a', sd_name='a', has_sd=True)
    cls = _cell('code', 'class K:\n    def run(self): pass', directives_={'exports': []})
    doc_k = _cell('markdown', '### K', sd_name='K', has_sd=True)
    doc_run = _cell('markdown', '#### K.run', sd_name='K.run')
    # nbdev's add_show_docs: the entries after their cell, several names' entries in reverse order
    nb = AttrDict(cells=[const, fn, doc, prose, multi, doc_b, doc_a, cls, doc_k, doc_run])
    bd.place_sources(nb)
    assert [c.source for c in nb.cells] == ['LR_DECAY = 2.6', '### lrs', 'def lrs(lr): pass', 'Some prose.',
                                            '### a', '### b', multi.source, '### K', cls.source, '#### K.run']
    assert const.fold_owner_ is None and fn.fold_owner_ == 'lrs' and multi.fold_owner_ == 'b' and cls.fold_owner_ == 'K'

def test_method_entries_go_after_the_class_source_and_its_patches():
    from types import SimpleNamespace
    class K:
        "K."
        def a(self): "A."
        def b(self): "B."
    cls = _cell('code', 'class K: ...', directives_={'exports': []})
    patch = _cell('code', '@patch\ndef a(self:K): ...', directives_={'exports': []})
    nb = AttrDict(cells=[_cell('markdown', '### K', sd_name='K', has_sd=True), cls,
                         _cell('markdown', '#### K.a', sd_name='K.a', has_sd=True), patch, _cell('markdown', 'Prose.')],
                  path_=Path('x.ipynb'))
    cls.fold_owner_, patch.fold_owner_ = 'K', 'K.a'
    Renderer = bd._make_renderer()
    shown = SimpleNamespace(modules={'m': SimpleNamespace(K=K)},
                            show_doc=lambda obj, name, title_level: Renderer(obj, name=name, title_level=title_level))
    bd.add_method_docs(nb, [('m.K', 'K', 'k'), ('m.K.a', 'K.a', 'k.a'), ('m.K.b', 'K.b', 'k.b')], shown, [])
    assert [getattr(c, 'sd_name', None) or c.source[:12] for c in nb.cells] == \
        ['K', 'class K: ...', 'K.a', '@patch\ndef a', 'K.b', 'Prose.']

# --- fastai's training progress ---------------------------------------------------------------------------------------

def _progress(header, *rows, bar=False):
    th = ''.join(f'<th>{h}</th>' for h in header)
    trs = ''.join('<tr>' + ''.join(f'<td>{v}</td>' for v in r) + '</tr>' for r in rows)
    html = (f'<div><progress max="3" value="1"></progress> 33.33% [1/3 00:01&lt;00:02]</div>' if bar else '') + \
           f'<div><table class="fastprogress"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div>'
    return {'output_type': 'display_data', 'metadata': {},
            'data': {'text/html': html, 'text/markdown': '```html\n...\n```', 'text/plain': html}}

def test_progress_tables_merge_into_one_per_cell():
    lm, clas = ('epoch', 'train_loss', 'perplexity', 'time'), ('epoch', 'train_loss', 'accuracy', 'time')
    style = {'output_type': 'display_data', 'metadata': {},
             'data': {'text/html': '<style>table.fastprogress { border: 0 } progress { width: 300px }</style>',
                      'text/plain': '<IPython.core.display.HTML object>'}}
    text = {'output_type': 'stream', 'name': 'stdout', 'text': 'stage 2\n'}
    outs = [style, _progress(lm, (0, '5.4', '223.5', '00:00')), text,
            _progress(clas, (0, '1.90', '0.16', '00:00')), _progress(clas, bar=True),  # a fit interrupted at once
            _progress(clas, (0, '1.87', '0.20', '00:00'), bar=True), _progress(clas, (0, '1.80', '0.25', '00:00')),
            {'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': '', 'text/plain': ''}}]
    res = bd.tidy_progress(outs)
    assert len(res) == 3 and res[1] is text
    assert bd.progress_tables(res[0]['data']['text/html']) == [(lm, [['0', '5.4', '223.5', '00:00']])]
    html = res[2]['data']['text/html']
    assert '<progress' not in html and '3 fits, one row per epoch' in html
    assert bd.progress_tables(html) == [(('fit',) + clas, [['1', '0', '1.90', '0.16', '00:00'],
                                                            ['2', '0', '1.87', '0.20', '00:00'],
                                                            ['3', '0', '1.80', '0.25', '00:00']])]
    bar_only = {'output_type': 'display_data', 'metadata': {},
                'data': {'text/html': '<div><progress max="5" value="5"></progress> 100.00% [5/5 00:00&lt;00:00]</div>'}}
    assert bd.tidy_progress([bar_only]) == []
    other = {'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': '<table class="dataframe"></table>'}}
    assert bd.tidy_progress([other]) == [other] and not bd.is_progress_output('<b>progress</b> of the fit')

# --- alt text of figures ----------------------------------------------------------------------------------------------

def test_figure_alt_from_titles_labels_and_constants():
    known, consts = {}, {}
    bd.plot_texts("def plot_it(T, ax=None):\n    ax.set(xlabel='iteration t', ylabel='rate', title=f'STLR: T={T}')", known, consts)
    texts = bd.plot_texts("T_plot, lr_max = 1000, 0.01\nplot_it(5)\nplt.suptitle(f'{lr_max:g} peak, T={T_plot}')\n"
                          "plt.title(f'{name}')", known, consts)
    assert texts == {'suptitle': ['0.01 peak, T=1000'], 'title': ['STLR: T=…'], 'xlabel': ['iteration t'],
                     'ylabel': ['rate']}
    assert bd.figure_alt(texts) == 'Figure: 0.01 peak, T=1000; STLR: T=… (x: iteration t; y: rate)'
    prose = 'A picture of the **difference**: black is dropped, for `one` sequence. Then more.'
    assert bd.figure_alt({}, prose) == 'Figure: A picture of the difference: black is dropped, for one sequence'
    assert bd.figure_alt({}, '', 'Demo') == 'Figure: a figure of the section “Demo”'
    assert len(bd.figure_alt({'title': ['x' * 400]})) == 250

def test_figure_alts_keyed_like_myst_nb():
    import base64, hashlib
    png1, png2 = base64.b64encode(b'\x89PNG one').decode(), base64.b64encode(b'\x89PNG two').decode()
    img = lambda b: {'output_type': 'display_data', 'metadata': {}, 'data': {'image/png': b, 'text/plain': '<Figure>'}}
    cells = [_cell('markdown', '## Section\n\nThe schedule, drawn.'),
             _cell('code', "plt.plot(x); plt.xlabel('step')", outputs=[img(png1), img(png2)])]
    alts = {}
    bd.record_figure_alts(cells, alts)
    assert alts == {hashlib.sha256(b'\x89PNG one').hexdigest(): 'Figure: The schedule, drawn (x: step) (1 of 2)',
                    hashlib.sha256(b'\x89PNG two').hexdigest(): 'Figure: The schedule, drawn (x: step) (2 of 2)'}

# --- the browser test's judgements on a page's content (tools/check_docs.py) -------------------------------------------

def test_browser_checks_catch_each_problem():
    import check_docs as cd
    good = dict(text='A page.', emptyEntries=[], entryCount=1, maxRun=1, progress=0,
                folds=[{'heading': 'Learner.fit_stlr', 'entry': True, 'code': '@patch\ndef fit_stlr(self:Learner): pass'},
                       {'heading': 'LR_DECAY', 'entry': True, 'code': 'LR_DECAY = 2.6'}],
                alts=[{'src': '_images/ab.png', 'alt': 'Figure: STLR (x: iteration)'}])
    res = cd.Results(); cd.check_content(good, 'p.html', res, set(cd.INHERITED_DOC_TEXT))
    assert not res.failed
    bad = dict(good, text='Define the computation performed at every call. :class:`Module` x NoneType=None; '
                          'see ../shared/PAPER.md, load average 3.1, /tmp/x',
               emptyEntries=['K.before_fit'], maxRun=5, progress=1,
               folds=[{'heading': 'discriminative_lrs', 'entry': True, 'code': 'LR_DECAY = 2.6'}],
               alts=[{'src': 'a.png', 'alt': '_images/0123456789abcdef0123.png'}, {'src': 'b.png', 'alt': ''}])
    res = cd.Results(); cd.check_content(bad, 'p.html', res, set(cd.INHERITED_DOC_TEXT))
    assert len(res.failed) == 7, res.failed
    assert any('../shared' in f and 'load average' in f and '/tmp/' in f for f in res.failed)
