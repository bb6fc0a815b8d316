#!/usr/bin/env bash
# Prepare, on the CPU machine, what benchmarks/device_check.sh needs on the GPU machine (which has PyTorch but no
# fastai, no spaCy and no network): fastai and its pure-Python dependencies as wheels, and IMDb tokenized into ids.
# Both go to .cache/gpu (ignored by git): carry exactly that folder, `carry=[".cache/gpu"]` (39 MiB:
# 2.2 MB of wheels + 36 MiB of ids; the working tree that travels with it must stay under 64 MiB in all).
#
#     FASTAI_HOME=/tmp/fastai_home bash benchmarks/prepare_device.sh       # ~2-3 minutes on 2 cores; idempotent
set -eu -o pipefail
cd "$(dirname "$0")/.."
CARRY=.cache/gpu; mkdir -p "$CARRY/wheels"
# Versions as in this project's venv (fastai 2.8.12); fastprogress 1.0.3 and plum-dispatch<2.10 as the GPU image needs.
# One version of each: two stop the install there. Python 3.12 is the GPU image's.
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$CARRY/wheels" \
  fastai==2.8.12 fastcore==2.2.41 fasttransform==0.0.5 fastprogress==1.0.3 fastdownload==0.0.8 plum-dispatch==2.9.0 beartype==0.23.1
ls "$CARRY/wheels"
# fastai's own IMDb recipe, for device_check.sh's optional same-device bar (FASTAI_E2E=1)
REF=${SHARED:-../shared}/reference-bench/gpu_e2e_fastai.py
[ -f "$REF" ] && mkdir -p "$CARRY/ref" && cp -f "$REF" "$CARRY/ref/"
[ -f "$CARRY/imdb_ids.npz" ] || python benchmarks/pretok_imdb.py --out "$CARRY/imdb_ids.npz" --workers "${WORKERS:-2}"
du -sh "$CARRY" "$CARRY"/*
echo "tracked + untracked-not-ignored files that travel too:"; git ls-files -co --exclude-standard -z | du -ch --files0-from=- | tail -1
