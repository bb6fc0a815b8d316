"Unit tests of the docs builder's transformations (`tools/build_docs.py`); the site itself is tested by `tools/check_docs.py`."
import sys
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
