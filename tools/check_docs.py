#!/usr/bin/env python
"""Test the built site `docs/` in a real browser: headless Debian Chromium driven by Playwright, over a local HTTP server.

    apt-get install -y chromium            # Debian's browser; Playwright's own browser downloads are never used
    python tools/check_docs.py [--docs docs] [--screenshots docs/_screenshots] [--require-stlr]

Every page is loaded from http://127.0.0.1:<free port>/ and checked for: no console errors or uncaught exceptions,
no failed request (any request leaving 127.0.0.1 is blocked and counted as a failure: the site must work offline),
every image loaded (naturalWidth > 0), every local <a href> pointing to an existing page and anchor, equations typeset
by MathJax (no raw `$$`, `\\(`, `\\[` left in the text). The STLR page's plot must have loaded; client-side search must
find a page; every exported name in `_modidx.py` must have its API anchor.

What a reader sees, on every page (issue 12):
- API entries: no docstring inherited from PyTorch or fastai (their first lines, reST roles such as `:class:`), no
  entry without a description, no `NoneType=None` in a signature;
- every "Show exported source" fold holds the definition of the entry it sits under;
- no run of more than MAX_ONE_ROW_TABLES consecutive one-row tables (fastai's per-fit progress), no progress bar;
- every image has alt text that is neither empty nor a file name or hash; no image is rendered shorter than
  MIN_FIGURE_HEIGHT px when it is taller than that, on a desktop or a phone-width (390 px) window;
- code blocks are fully visible or scroll sideways, shell commands wrap (fully visible), at both widths;
- no text written for this repository's build machines (BUILD_MACHINE_TEXT).
Screenshots of the index, of the STLR page (desktop and phone) and of the search go to the screenshots folder (ignored
by git). Ends with `N passed, M failed` and exits 1 on any failure.
"""
import argparse, functools, html.parser, re, sys, tempfile, threading, time, urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--disable-dev-shm-usage']
STLR_PAGE = 'stlr.html'  # nbs/05_stlr.ipynb
PHONE = {'width': 390, 'height': 844}
MAX_ONE_ROW_TABLES = 3    # consecutive one-row tables allowed (more: fastai's per-fit progress not summarised)
MIN_FIGURE_HEIGHT = 120   # px: a figure rendered shorter than this (and than its natural height) is unreadable
# Text meant for this repository's build machines, not for a user on their own machine.
BUILD_MACHINE_TEXT = ('../shared', 'seed-fastai-cache', 'not on the machines', 'device machine', 'load average', '/tmp/')
# First lines of docstrings a project class inherits (PyTorch's `forward`, fastai's callback events) and reST markup:
# an API entry shows the project's own docstring or none.
INHERITED_DOC_TEXT = ('Define the computation performed at every call', 'Initialize container for hyper-parameters',
                      'Set the proper hyper-parameters in the optimizer', 'Return the extra representation of the module')
RST_MARKUP = re.compile(r':(?:class|meth|func|attr|mod|obj|exc|data|ref):`|^\s*\.\. (?:note|warning|code-block)::', re.M)

def inherited_docstrings(modidx:dict) -> set:
    "First lines (20+ characters) of the docstrings of methods the project's classes inherit from other libraries."
    import importlib, inspect
    res = set(INHERITED_DOC_TEXT)
    for mod_name, syms in modidx['syms'].items():
        try: mod = importlib.import_module(mod_name)
        except Exception: continue
        for full in syms:
            obj = getattr(mod, full[len(mod_name)+1:], None)
            if not inspect.isclass(obj): continue
            for base in obj.__mro__[1:]:
                if base is object or base.__module__.startswith(mod_name.split('.')[0]): continue
                for v in vars(base).values():
                    doc = inspect.getdoc(v) if callable(v) else None
                    line = doc.strip().splitlines()[0].strip() if doc and doc.strip() else ''
                    if len(line) >= 20: res.add(line)
    return res

class Results:
    def __init__(self): self.passed, self.failed, self.skipped = 0, [], []
    def check(self, ok, what, detail=''):
        if ok: self.passed += 1
        else: self.failed.append(f'{what}: {detail}' if detail else what); print(f'FAIL {what}: {detail}')
    def skip(self, what): self.skipped.append(what); print(f'SKIP {what}')

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def serve(directory:Path):
    "A local HTTP server for `directory` on a free port, in a daemon thread."
    server = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_address[1]}/'

class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('id', 'name') and v: self.ids.add(v)

@functools.lru_cache(None)
def page_ids(path:Path) -> frozenset:
    p = _Ids(); p.feed(path.read_text(encoding='utf-8')); return frozenset(p.ids)

# Runs in the page: what the checks need, after MathJax (if any) has typeset.
PAGE_PROBE = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const imgs = await Promise.all([...document.images].map(async img => {
    if (!img.complete) await new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 5000); });
    return {src: img.currentSrc || img.src, width: img.naturalWidth};
  }));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const skip = 'PRE,CODE,SCRIPT,STYLE,MJX-CONTAINER,TEXTAREA,svg';
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  let raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest(skip)) continue;
    const m = n.textContent.match(/\$\$|\\\(|\\\[|\$\\[A-Za-z]/);
    if (m) raw.push(n.textContent.trim().slice(0, 80));
  }
  const article = document.querySelector('article') || document.body;
  // API entries: a heading followed by the signature nbdev's show_doc renders
  const headings = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')];
  const name = h => [...h.childNodes].filter(n => !(n.classList && n.classList.contains('headerlink')))
                                      .map(n => n.textContent).join('').trim();
  const isEntry = h => { const n = h.nextElementSibling;
    return !!n && n.matches('div.highlight-python') && /^(async\s+)?(def|class)\s/.test(n.textContent.trim()); };
  const entries = headings.filter(isEntry);
  // described: documented parameters (comments in the signature) or text between the signature and the next entry
  const described = h => {
    if (h.nextElementSibling.querySelector('.c1')) return true;
    for (let e = h.nextElementSibling.nextElementSibling; e && !e.matches('hr, h1, h2, h3, h4, h5, h6, section');
         e = e.nextElementSibling)
      if (!e.querySelector('a.showdoc-source') && e.textContent.trim()) return true;
    return false; };
  const emptyEntries = entries.filter(h => !described(h)).map(name);
  const folds = [...article.querySelectorAll('details.hide.above-input')].map(d => {
    const before = headings.filter(h => h.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING);
    const h = before[before.length - 1];
    return {heading: h ? name(h) : null, entry: !!h && isEntry(h), code: (d.querySelector('pre') || d).textContent}; });
  // runs of one-row tables with nothing but white space between them
  const tables = [...article.querySelectorAll('table')];
  const oneRow = t => t.querySelectorAll('tbody tr').length === 1 ||
                      (!t.querySelector('tbody') && t.querySelectorAll('tr').length === 2);
  let run = 0, maxRun = 0;
  tables.forEach((t, i) => {
    if (!oneRow(t)) { run = 0; return; }
    let adjacent = false;
    if (i > 0 && run > 0) { const r = document.createRange(); r.setStartAfter(tables[i-1]); r.setEndBefore(t);
                            adjacent = !r.toString().trim(); }
    run = adjacent ? run + 1 : 1; maxRun = Math.max(maxRun, run); });
  return {imgs, links, raw, emptyEntries, folds, maxRun, progress: article.querySelectorAll('progress').length,
          text: article.textContent, entryCount: entries.length,
          alts: [...article.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'), alt: i.getAttribute('alt')})),
          math: document.querySelectorAll('.math').length,
          typeset: document.querySelectorAll('mjx-container').length,
          merror: document.querySelectorAll('mjx-merror').length,
          title: document.title,
          plot: [...document.querySelectorAll('article .cell_output img')].map(i => i.naturalWidth)};
}"""

# Runs in the page at the current window size: rendered sizes of figures and code blocks.
LAYOUT_PROBE = r"""() => {
  const article = document.querySelector('article') || document.body;
  const imgs = [...article.querySelectorAll('img')].filter(i => i.naturalHeight > 0).map(i => ({
    src: i.getAttribute('src'), natural: i.naturalHeight, shown: i.getBoundingClientRect().height}));
  const scrolls = el => { for (let e = el; e && e !== article.parentElement; e = e.parentElement) {
    const o = getComputedStyle(e).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const code = [...article.querySelectorAll('pre')].filter(p => p.getClientRects().length).map(p => ({
    text: p.textContent.trim().slice(0, 60), overflow: p.scrollWidth > p.clientWidth + 1, scrollable: scrolls(p),
    shell: !!p.closest('div.highlight-sh, div.highlight-bash, div.highlight-shell, div.highlight-console')}));
  return {imgs, code};
}"""

def check_layout(page, name, res:Results, where:str):
    "Figures not shrunk to illegibility, code blocks visible or scrollable, shell commands fully visible."
    info = page.evaluate(LAYOUT_PROBE)
    small = [f"{i['src']} ({i['shown']:.0f}px of {i['natural']}px)" for i in info['imgs']
             if i['shown'] + 1 < min(MIN_FIGURE_HEIGHT, i['natural'])]
    res.check(not small, f'{name}: figures at least {MIN_FIGURE_HEIGHT}px high ({where})', ', '.join(small)[:500])
    hidden = [c['text'] for c in info['code'] if c['overflow'] and (c['shell'] or not c['scrollable'])]
    res.check(not hidden, f'{name}: code blocks fully visible or scrollable, commands wrap ({where})', ' | '.join(hidden)[:500])

_re_file_alt = re.compile(r'^\S*\.(png|jpe?g|gif|svg|webp)$|[0-9a-f]{16,}', re.I)

def check_content(info:dict, name:str, res:Results, inherited:set):
    "The checks of issue 12 on what the page says (see the module docstring)."
    text = info['text']
    found = sorted({t for t in inherited if t in text} | set(m.group(0).strip() for m in RST_MARKUP.finditer(text)))
    res.check(not found, f'{name}: no docstring inherited from PyTorch/fastai, no reST markup', '; '.join(found)[:500])
    res.check(not info['emptyEntries'], f"{name}: no API entry without a description ({info['entryCount']} entries)",
              ', '.join(info['emptyEntries'])[:500])
    wrong = []
    for f in info['folds']:
        short = (f['heading'] or '').rsplit('.', 1)[-1]
        defines = short and re.search(rf'^\s*(?:@\w+.*\n\s*)*(?:async\s+)?(?:def|class)\s+{re.escape(short)}\b|'
                                      rf'^{re.escape(short)}\s*[:=]', f['code'], re.M)
        if not (f['entry'] and defines): wrong.append(f"under {f['heading']!r}: {f['code'].strip()[:50]!r}")
    res.check(not wrong, f"{name}: each source fold holds the definition of its entry ({len(info['folds'])} folds)",
              '; '.join(wrong)[:800])
    res.check(info['maxRun'] <= MAX_ONE_ROW_TABLES and not info['progress'],
              f'{name}: training progress summarised (at most {MAX_ONE_ROW_TABLES} one-row tables in a row, no progress bar)',
              f"{info['maxRun']} consecutive one-row tables, {info['progress']} progress bars")
    res.check('NoneType=None' not in text, f'{name}: no NoneType=None in signatures', f"{text.count('NoneType=None')} found")
    bad_alt = [f"{i['src']}: {i['alt']!r}" for i in info['alts'] if not (i['alt'] or '').strip() or _re_file_alt.search(i['alt'])]
    res.check(not bad_alt, f'{name}: every image has meaningful alt text', ', '.join(bad_alt)[:500])
    low = text.lower()
    machine = [f"{t!r}: ...{' '.join(text[max(0, i-50):i+len(t)+50].split())}..." for t in BUILD_MACHINE_TEXT
               if (i := low.find(t.lower())) >= 0]
    res.check(not machine, f"{name}: no text written for the project's build machines", ' | '.join(machine)[:800])

def check_page(page, url, name, docs:Path, res:Results, base:str, inherited:set=frozenset()):
    console, errors, failed = [], [], []
    page.on('console', lambda m: console.append(m.text) if m.type == 'error' else None)
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.on('requestfailed', lambda r: failed.append(f'{r.url} ({r.failure})') if not r.url.startswith('data:') else None)
    page.on('response', lambda r: failed.append(f'{r.url} (HTTP {r.status})') if r.status >= 400 else None)
    resp = page.goto(url, wait_until='load')
    res.check(resp is not None and resp.ok, f'{name} loads', f'HTTP {resp.status if resp else "?"}')
    info = page.evaluate(PAGE_PROBE)
    page.wait_for_timeout(200)
    res.check(not console and not errors, f'{name}: no console errors', '; '.join(console + errors)[:500])
    res.check(not failed, f'{name}: no failed requests', '; '.join(failed)[:500])
    bad_imgs = [i['src'] for i in info['imgs'] if not i['width']]
    res.check(not bad_imgs, f'{name}: every image loaded', ', '.join(bad_imgs)[:500])
    broken = []
    for href in info['links']:
        if not href.startswith(base): continue
        parts = urllib.parse.urlsplit(href)
        rel = urllib.parse.unquote(parts.path[len(urllib.parse.urlsplit(base).path):]) or 'index.html'
        target = docs/rel
        if target.is_dir(): target = target/'index.html'
        if not target.is_file(): broken.append(f'{href} (no such file)'); continue
        if parts.fragment and target.suffix == '.html' and urllib.parse.unquote(parts.fragment) not in page_ids(target):
            broken.append(f'{href} (no anchor #{parts.fragment})')
    res.check(not broken, f'{name}: internal links resolve', ', '.join(sorted(set(broken)))[:800])
    if info['math']:
        res.check(info['typeset'] >= info['math'] and not info['merror'] and not info['raw'],
                  f'{name}: equations rendered',
                  f"{info['math']} math elements, {info['typeset']} typeset, {info['merror']} errors, raw: {info['raw'][:3]}")
    elif info['raw']: res.check(False, f'{name}: no raw TeX left', str(info['raw'][:3]))
    check_content(info, name, res, inherited)
    check_layout(page, name, res, 'desktop')
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)
    check_layout(page, name, res, f"phone, {PHONE['width']}px")
    return info

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--docs', default=str(ROOT/'docs'), help='the built site')
    parser.add_argument('--screenshots', default=str(ROOT/'docs'/'_screenshots'), help='where screenshots go (ignored)')
    parser.add_argument('--require-stlr', action='store_true', help=f'fail (not skip) when {STLR_PAGE} is missing')
    parser.add_argument('--chromium', default=CHROMIUM)
    args = parser.parse_args()
    docs, shots = Path(args.docs).resolve(), Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    res = Results()
    t0 = time.time()
    if not (docs/'index.html').is_file():
        print(f'{docs}/index.html missing: run `python tools/build_docs.py` first\n0 passed, 1 failed'); sys.exit(1)
    if not Path(args.chromium).exists():
        print(f'{args.chromium} missing: `apt-get update && apt-get install -y chromium chromium-driver`\n0 passed, 1 failed')
        sys.exit(1)

    # static checks: no CDN, .nojekyll, API anchors for every exported name
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob('*.html') if p.relative_to(docs).parts[0] != '_screenshots')
    external = [f'{p}: {m}' for p in pages for m in
                re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', (docs/p).read_text(encoding='utf-8'))]
    res.check(not external, 'no resource loaded from another host (CDN)', '; '.join(external)[:500])
    res.check((docs/'.nojekyll').is_file(), 'docs/.nojekyll exists (GitHub Pages serves _static/)')
    sys.path.insert(0, str(ROOT))
    try:
        from ulmfit_nbdev._modidx import d as modidx
        sys.path.insert(0, str(ROOT/'tools'))
        from build_docs import is_public
        missing = []
        for mod, syms in modidx['syms'].items():
            for full, (link, _) in syms.items():
                short = full[len(mod)+1:]
                if not is_public(short): continue
                page_name, anchor = link.split('#', 1)
                if not (docs/page_name).is_file() or anchor not in page_ids(docs/page_name): missing.append(f'{full} -> {link}')
        res.check(not missing, f'API entry for every exported name ({sum(map(len, modidx["syms"].values()))} in _modidx.py)',
                  ', '.join(missing)[:800])
        inherited = inherited_docstrings(modidx)
    except ImportError as e: res.check(False, 'ulmfit_nbdev._modidx importable', str(e)); inherited = set(INHERITED_DOC_TEXT)
    from build_docs import notebook_paths, docname
    nb_pages = [docname(p) + '.html' for p in notebook_paths(ROOT/'nbs')]
    res.check(set(nb_pages) <= set(pages), 'a page for every notebook', str(sorted(set(nb_pages) - set(pages))))
    bad_src = [p for p in pages if re.search(r'#LNone\b', (docs/p).read_text(encoding='utf-8'))]
    res.check(not bad_src, 'API [source] links carry line numbers', ', '.join(bad_src))
    no_gh = [p for p in nb_pages if (docs/p).is_file() and
             not re.search(r'class="page-source[^>]*>.*?href="https://github\.com/', (docs/p).read_text(encoding='utf-8'), re.S)]
    res.check(not no_gh, 'every notebook page links to its notebook on GitHub', ', '.join(no_gh))

    from playwright.sync_api import sync_playwright
    server, base = serve(docs)
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix='chromium-profile-') as profile:
            ctx = pw.chromium.launch_persistent_context(profile, executable_path=args.chromium, headless=True,
                                                         args=CHROMIUM_ARGS, viewport={'width': 1280, 'height': 900})
            blocked = []
            def route(r):
                if r.request.url.startswith(base) or r.request.url.startswith('data:'): r.continue_()
                else: blocked.append(r.request.url); r.abort()
            ctx.route('**/*', route)
            for name in pages:
                page = ctx.new_page()
                info = check_page(page, base + name, name, docs, res, base, inherited)
                if name == STLR_PAGE: page.screenshot(path=str(shots/'stlr_phone.png'))
                page.set_viewport_size({'width': 1280, 'height': 900})
                if name == 'index.html':
                    page.screenshot(path=str(shots/'index.png'))
                    nav = [urllib.parse.urlsplit(h).path.rsplit('/', 1)[-1] for h in
                           page.eval_on_selector_all('.sidebar-tree a.reference', 'els => els.map(e => e.href)')]
                    want = [n for n in nb_pages if n != 'index.html']
                    res.check(nav == want, 'navigation lists the notebooks in order', f'sidebar {nav}, notebooks {want}')
                if name == STLR_PAGE:
                    res.check(bool(info['plot']) and info['plot'][0] > 0, f'{STLR_PAGE}: the STLR plot is shown',
                              f'output image widths {info["plot"]}')
                    page.screenshot(path=str(shots/'stlr.png'))
                    img = page.locator('article .cell_output img').first
                    if img.count():  # instant scroll: furo's smooth scrolling would be caught half-way
                        page.evaluate("() => { const i = document.querySelector('article .cell_output img'); "
                                      "window.scrollTo({top: i.getBoundingClientRect().top + scrollY - 250, behavior: 'instant'}) }")
                        page.wait_for_timeout(500); page.screenshot(path=str(shots/'stlr_plot.png'))
                page.close()
            if STLR_PAGE not in pages:
                (res.check(False, f'{STLR_PAGE} exists') if args.require_stlr
                 else res.skip(f'{STLR_PAGE} not built yet (nbs/05_stlr.ipynb missing): STLR plot check skipped'))
            # client-side search finds the project's own words
            page = ctx.new_page()
            page.goto(base + 'search.html?q=ulmfit', wait_until='load')
            try:
                page.wait_for_selector('#search-results li, .search li', timeout=15000)
                hits = page.locator('#search-results li, .search li').count()
            except Exception: hits = 0
            res.check(hits > 0, 'search finds "ulmfit"', f'{hits} results')
            page.screenshot(path=str(shots/'search.png'))
            res.check(not blocked, 'no request left 127.0.0.1', ', '.join(sorted(set(blocked)))[:500])
            ctx.close()
    finally:
        server.shutdown()
    print(f'checked {len(pages)} pages in {time.time()-t0:.1f}s; screenshots in {shots}')
    summary = f'{res.passed} passed, {len(res.failed)} failed' + (f', {len(res.skipped)} skipped' if res.skipped else '')
    print(summary)
    sys.exit(1 if res.failed else 0)

if __name__ == '__main__': main()
