"""Helpers shared by the GPU benchmarks (gpu_lm_loop.py, gpu_clas.py, imdb_time_to_accuracy.py): not a benchmark itself.

Imported as `import gpu_common as C`: a script run as `python benchmarks/<script>.py` has this folder first on `sys.path`.
"""
import datetime, json, platform, shlex, subprocess, sys, time
from pathlib import Path
import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / 'results'
DTYPES = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def block_spacy():
    "fastai imports spaCy lazily; the GPU machine has none and the benchmarks never tokenize: make `import spacy` fail fast."
    sys.modules.setdefault('spacy', None)


def setup(device:str, threads:int=1, seed:int=0) -> torch.device:
    "Threads, seed and cuDNN settings; the torch device."
    torch.set_num_threads(threads)
    torch.manual_seed(seed); np.random.seed(seed)
    device = torch.device(device)
    if device.type == 'cuda':
        if not torch.cuda.is_available(): sys.exit('--device cuda: no CUDA device visible to torch')
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    return device


def default_precision(device:torch.device, precision:str|None) -> str:
    "fp16 on a GPU (fastai's `to_fp16`), fp32 on CPU (oneDNN's LSTM rejects fp16 autocast)."
    if precision is None: return 'fp16' if device.type == 'cuda' else 'fp32'
    if device.type == 'cpu' and precision == 'fp16': sys.exit("fp16 autocast is not supported by oneDNN's CPU LSTM")
    return precision


def sync(device:torch.device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def clock(device:torch.device):
    "Wall clock on a GPU (synchronized by the caller); this process's CPU time on CPU (other jobs on shared cores don't count)."
    return time.perf_counter if device.type == 'cuda' else time.process_time


def reset_peak(device:torch.device):
    if device.type == 'cuda':
        import gc; gc.collect(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device:torch.device):
    "Peak GPU memory allocated by tensors since `reset_peak`, GiB (None on CPU)."
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if device.type == 'cuda' else None


def device_name(device:torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == 'cuda' else (platform.processor() or platform.machine())


def git_commit() -> str|None:
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                               cwd=Path(__file__).parent, timeout=10).stdout.strip() or None
    except Exception: return None


def run_info(device:torch.device) -> dict:
    "Where and when: device, date, command, versions."
    info = dict(device=device.type, device_name=device_name(device),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                command='python ' + ' '.join(shlex.quote(a) for a in sys.argv), torch=torch.__version__,
                git_commit=git_commit())
    try:
        import fastai; info['fastai'] = fastai.__version__
    except Exception: pass
    return info


def write_result(result:dict, out:str|Path, key:str|None=None):
    "Write `result` as JSON to `out` (merged under `key` when given, so CPU and GPU runs live side by side)."
    out = Path(out); out.parent.mkdir(parents=True, exist_ok=True)
    if key is not None:
        merged = json.loads(out.read_text()) if out.exists() else {}
        merged[key] = result; result = merged
    out.write_text(json.dumps(result, indent=2) + '\n')


# --- pre-tokenized IMDb (.npz written by pretok_imdb.py) ------------------------------------------------------------
def load_npz(path:str|Path) -> dict:
    "The arrays of a pre-tokenized corpus, with a clear error when the file is missing or not one of ours."
    path = Path(path)
    if not path.exists(): sys.exit(f'{path}: no such file; make it with `python benchmarks/pretok_imdb.py --out {path}`')
    data = dict(np.load(path, allow_pickle=False))
    if 'vocab' not in data or 'train_ids' not in data:
        sys.exit(f"{path}: expected arrays vocab, train_ids, train_offsets (from pretok_imdb.py), found {sorted(data)}")
    return data


def split_docs(data:dict, split:str, max_docs:int|None=None, vocab_size:int|None=None, rng=None) -> tuple:
    "(documents of `split` as int64 tensor views of one array, their indices); ids >= `vocab_size` become 0 (xxunk); `max_docs`: the first, or a random subset with `rng`."
    ids = torch.from_numpy(data[f'{split}_ids'].astype(np.int64))
    if vocab_size is not None: ids[ids >= vocab_size] = 0
    offsets = data[f'{split}_offsets'] if f'{split}_offsets' in data else np.concatenate([[0], np.cumsum(data[f'{split}_len'])])
    index = np.arange(len(offsets) - 1)
    if max_docs is not None and max_docs < len(index):
        index = np.sort((np.random.default_rng(rng).permutation(len(index)) if rng is not None else index)[:max_docs])
    return [ids[offsets[i]:offsets[i + 1]] for i in index], index


def random_docs(n_tokens:int, vocab_size:int, seed:int=0, mean_len:int=270) -> list:
    "Random documents (each starts with xxbos = 2, other ids in [9, vocab_size)) totalling about `n_tokens`."
    rng = np.random.default_rng(seed)
    lengths = rng.integers(mean_len // 4, 2 * mean_len - mean_len // 4, size=n_tokens // mean_len + 8)
    lengths = lengths[:int(np.searchsorted(np.cumsum(lengths), n_tokens)) + 1]
    ids = torch.from_numpy(rng.integers(min(9, vocab_size - 1), vocab_size, size=int(lengths.sum())))
    docs = list(torch.split(ids, lengths.tolist()))
    for d in docs: d[0] = 2
    return docs


# --- schedules ------------------------------------------------------------------------------------------------------
def one_cycle(pct:float, lr_max:float, pct_start:float=0.25, div:float=25., div_final:float=1e5) -> float:
    "fastai's `fit_one_cycle` learning rate at progress `pct` in [0, 1]: cosine up from lr/div, cosine down to lr/div_final."
    def cos(start, end, p): return end + (start - end) / 2 * (1 + np.cos(np.pi * p))
    if pct < pct_start: return cos(lr_max / div, lr_max, pct / pct_start)
    return cos(lr_max, lr_max / div_final, (pct - pct_start) / (1 - pct_start))


def one_cycle_mom(pct:float, moms=(0.95, 0.85, 0.95), pct_start:float=0.25) -> float:
    "fastai's `fit_one_cycle` momentum (Adam's beta1) at progress `pct`."
    def cos(start, end, p): return end + (start - end) / 2 * (1 + np.cos(np.pi * p))
    if pct < pct_start: return cos(moms[0], moms[1], pct / pct_start)
    return cos(moms[1], moms[2], (pct - pct_start) / (1 - pct_start))

