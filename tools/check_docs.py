#!/usr/bin/env python
"""Test the built site `docs/` in a real browser: headless Debian Chromium driven by Playwright, over a local HTTP server.

    apt-get install -y chromium            # Debian's browser; Playwright's own browser downloads are never used
    python tools/check_docs.py [--docs docs] [--screenshots docs/_screenshots] [--require-stlr]

Every page is loaded from http://127.0.0.1:<free port>/ and checked for: no console errors or uncaught exceptions,
no failed request (any request leaving 127.0.0.1 is blocked and counted as a failure: the site must work offline),
every image loaded (naturalWidth > 0), every local <a href> pointing to an existing page and anchor, equations typeset
by MathJax (no raw `$$`, `\\(`, `\\[` left in the text). The STLR page's plot must have loaded; client-side search must
find a page; every exported name in `_modidx.py` must have its API anchor. Screenshots of the index and of the STLR
page go to the screenshots folder (ignored by git). Ends with `N passed, M failed` and exits 1 on any failure.
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
  return {imgs, links, raw,
          math: document.querySelectorAll('.math').length,
          typeset: document.querySelectorAll('mjx-container').length,
          merror: document.querySelectorAll('mjx-merror').length,
          title: document.title,
          plot: [...document.querySelectorAll('article .cell_output img')].map(i => i.naturalWidth)};
}"""

def check_page(page, url, name, docs:Path, res:Results, base:str):
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
    except ImportError as e: res.check(False, 'ulmfit_nbdev._modidx importable', str(e))
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
                info = check_page(page, base + name, name, docs, res, base)
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
