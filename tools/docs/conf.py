# Sphinx configuration of the documentation site. `tools/build_docs.py` uses this folder as Sphinx's confdir and
# passes the per-project values (project name, version, repository URL) as `confoverrides`; read that file first.
# Everything the pages need is served from the site itself: no CDN, no network, no Quarto.

project = 'ulmfit_nbdev'            # overridden from pyproject.toml
author = 'ulmfit_nbdev contributors'
copyright = 'ulmfit_nbdev contributors'  # no year: rebuilding must not change the output
version = release = ''              # overridden from the package's __version__

extensions = ['myst_nb', 'sphinx.ext.mathjax']
root_doc = 'index'
exclude_patterns = ['_build', 'jupyter_execute', '**.ipynb_checkpoints']
suppress_warnings = ['myst.header']  # show_doc headings are ### whatever the level of the section above

# --- notebooks (myst-nb): render the stored outputs, never execute ---------------------------------------------------
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'  # text/markdown outputs may hold $math$ and tables
nb_ipywidgets_js = {}               # widgets are replaced by their static output in build_docs.py: no require.js/CDN
nb_merge_streams = True
nb_code_prompt_show = 'Show exported source'  # only exported cells are folded (tools/build_docs.py)
nb_code_prompt_hide = 'Hide exported source'
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'attrs_inline', 'attrs_block', 'strikethrough', 'smartquotes']
myst_dmath_double_inline = True
myst_all_links_external = True      # build_docs.py rewrites notebook and doc links to the pages' relative .html URLs
myst_heading_anchors = 0

# --- maths: MathJax 3 from _static/mathjax (vendored, see _static/mathjax/README.md) ---------------------------------
mathjax_path = 'mathjax/tex-chtml-full.js'
mathjax3_config = {'options': {'enableMenu': False}}  # fonts load from the script's own folder

# --- HTML ------------------------------------------------------------------------------------------------------------
html_theme = 'furo'
html_title = 'ulmfit_nbdev'         # overridden from pyproject.toml
html_static_path = ['_static']
html_css_files = ['custom.css']
html_copy_source = False            # the notebooks are on GitHub; keep the site small
html_show_sourcelink = False
html_show_sphinx = True
html_use_index = False              # no general index page (it would be empty): search is the way in
html_last_updated_fmt = None        # no timestamps: the committed docs/ must rebuild byte-identical
html_permalinks_icon = '#'
html_theme_options = {
    'top_of_page_buttons': [],      # build_docs.py puts links to the notebook and module at the top of every page
    'navigation_with_keys': True,
}
pygments_style = 'sphinx'
pygments_dark_style = 'monokai'
