"""The notebooks live (issue 12): JupyterLab on localhost runs `nbs/05_stlr.ipynb` in headless Chromium, and moving a
slider of the STLR widget redraws its figure.

The server gets a free port, a random token, its own settings/workspace/runtime folders and a copy of the notebook in a
temporary folder (so the committed notebook is never saved over); it is stopped, with its kernel, whatever happens.
Chromium is Debian's `/usr/bin/chromium` driven by Playwright (never `playwright install`); without it the test is
skipped. A screenshot of the widget after the move goes to `docs/_screenshots/jupyterlab_stlr.png` (ignored by git).
"""
import base64, json, os, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = Path('nbs')/'05_stlr.ipynb'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
SHOTS = ROOT/'docs'/'_screenshots'
START_TIMEOUT, RUN_TIMEOUT, REDRAW_TIMEOUT = 90, 300, 60   # seconds: generous, the whole test takes about a minute

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f'{CHROMIUM} is missing: `apt-get install -y chromium` to run JupyterLab in a browser')

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for_server(url:str, proc, log:Path, timeout:float):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: pytest.fail(f'JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: pass
        time.sleep(0.5)
    pytest.fail(f'JupyterLab did not answer {url} within {timeout}s:\n{log.read_text()[-3000:]}')

@pytest.fixture
def jupyterlab(tmp_path):
    "A JupyterLab server on 127.0.0.1 serving a copy of the notebook: yields (base URL, token); stopped afterwards."
    work = tmp_path/'root'
    (work/NOTEBOOK.parent).mkdir(parents=True)
    nb = json.loads((ROOT/NOTEBOOK).read_text(encoding='utf-8'))
    nb['metadata']['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    (work/NOTEBOOK).write_text(json.dumps(nb), encoding='utf-8')  # nbdev-clean drops the kernelspec: no kernel dialog
    results = work/'benchmarks'/'results'; results.mkdir(parents=True)    # the measured rows its last section reads
    shutil.copy(ROOT/'benchmarks'/'results'/'ablations.json', results)
    for plugin, value in {'notebook-extension/tracker': {'windowingMode': 'none'},  # every cell in the DOM
                          'docmanager-extension/plugin': {'autosave': False},
                          'apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False}}.items():
        f = tmp_path/'settings'/'@jupyterlab'/f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))
    port, token = free_port(), base64.b32encode(os.urandom(15)).decode().lower()
    env = {k: v for k, v in os.environ.items() if k != 'MPLBACKEND'}  # figures inline, as a user sees them
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'), JUPYTER_CONFIG_DIR=str(tmp_path/'config'),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get('PYTHONPATH')])))
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work}',
           f'--LabApp.user_settings_dir={tmp_path/"settings"}', f'--LabApp.workspaces_dir={tmp_path/"workspaces"}',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.extension_manager=readonly',
           '--ServerApp.terminals_enabled=False'] + (['--allow-root'] if os.geteuid() == 0 else [])  # CI containers
    log = tmp_path/'jupyterlab.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        wait_for_server(f'{base}/api/status?token={token}', proc, log, START_TIMEOUT)
        yield base, token, log
    finally:  # the server and its kernel are this process group, started here
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try: proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)

PROMPTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim())"""
ERRORS = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
  .map(e => e.textContent).filter(t => /Traceback|Error:/.test(t)).map(t => t.slice(-600))"""
WIDGET_IMG = """() => { const i = document.querySelector('.widget-interact .widget-output img'); return i ? i.src : null; }"""

def run_all_cells(page, log:Path):
    "Run > Run All Cells, then wait until every code cell has its execution count (fail fast on an error)."
    page.locator('#jp-MainMenu .lm-MenuBar-itemLabel').get_by_text('Run', exact=True).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    t0, idle_since = time.time(), None
    while time.time() - t0 < RUN_TIMEOUT:
        prompts = page.evaluate(PROMPTS)
        if prompts and all(p.strip('[]:').isdigit() for p in prompts): return time.time() - t0
        if errors := page.evaluate(ERRORS): pytest.fail('a cell failed in JupyterLab:\n' + '\n---\n'.join(errors))
        busy = any('*' in p for p in prompts)
        idle_since = None if busy else (idle_since or time.time())
        if idle_since and time.time() - idle_since > 30:
            pytest.fail(f'the kernel is idle but cells did not run: {prompts}\n{log.read_text()[-2000:]}')
        page.wait_for_timeout(500)
    pytest.fail(f'the notebook did not finish within {RUN_TIMEOUT}s: {page.evaluate(PROMPTS)}')

def test_stlr_widget_redraws_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright
    base, token, log = jupyterlab
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'])
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 1000})
            page.set_default_timeout(START_TIMEOUT * 1000)
            page.route('**/*', lambda r: r.continue_() if r.request.url.startswith((base, 'data:', 'blob:')) else r.abort())
            page.goto(f'{base}/lab/tree/{NOTEBOOK.as_posix()}?token={token}', wait_until='domcontentloaded')
            page.wait_for_selector('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')
            page.wait_for_function("""() => /Python/.test((document.querySelector('.jp-NotebookPanel .jp-KernelName')
                                                            || {}).textContent || '')""")
            page.wait_for_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]')
            seconds = run_all_cells(page, log)

            interact = page.locator('.widget-interact').first
            interact.wait_for()
            page.wait_for_function(WIDGET_IMG, timeout=REDRAW_TIMEOUT * 1000)
            before = page.evaluate(WIDGET_IMG)
            assert before.startswith('data:image/png'), before[:80]
            interact.scroll_into_view_if_needed()
            slider = interact.locator('.widget-slider').nth(1)      # cut_frac: 0.1 -> a later peak
            readout = slider.locator('.widget-readout').inner_text()
            handle = slider.locator('.noUi-handle').first
            track = slider.locator('.noUi-target').first.bounding_box()
            box = handle.bounding_box()
            page.mouse.move(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2)
            page.mouse.down()
            page.mouse.move(track['x'] + track['width'] * 0.6, box['y'] + box['height'] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function(f'() => {{ const s = ({WIDGET_IMG})(); return s && s !== {json.dumps(before)}; }}',
                                   timeout=REDRAW_TIMEOUT * 1000)
            page.wait_for_timeout(1000)  # let the last redraw of the drag land before the screenshot
            after = page.evaluate(WIDGET_IMG)
            moved = slider.locator('.widget-readout').inner_text()
            interact.screenshot(path=str(SHOTS/'jupyterlab_stlr.png'))
        finally:
            browser.close()
    assert moved != readout, f'the cut_frac slider did not move: {readout} -> {moved}'
    png = lambda src: base64.b64decode(src.split(',', 1)[1])
    assert png(after)[:8] == b'\x89PNG\r\n\x1a\n' and png(after) != png(before), 'the figure did not change'
    print(f'ran {NOTEBOOK} in {seconds:.0f}s; cut_frac {readout} -> {moved}; figure redrawn')
