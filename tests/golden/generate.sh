#!/usr/bin/env bash
# Regenerate the golden data in tests/golden/ with llama.cpp's own tools.
#
#   bash tests/golden/generate.sh            # corpus -> tokens.jsonl, embeddings.f32, corpus.bin, meta.json
#
# Steps: build llama.cpp (tests/reference/build-llamacpp.sh, cached), get the model
# (scripts/fetch-model.sh, or $GGUFEMBED_MODEL, or the cache default), rewrite corpus.jsonl
# from make_corpus.py, run llama-tokenize and llama-embedding once per text
# (golden.py generate), then sanity-check the results (golden.py check).
# Fails if any text fails.
#
# Environment:
#   GGUFEMBED_MODEL   model file to use (skips scripts/fetch-model.sh)
#   GGUFEMBED_CACHE   cache root for the llama.cpp build and the model (default ~/.cache/ggufembed)
#   GOLDEN_THREADS    threads per llama-embedding run (default: nproc)
#   GOLDEN_JOBS       parallel llama-embedding runs (default 1)
#   GOLDEN_TOK_JOBS   parallel llama-tokenize runs (default: nproc)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$(command -v python3 || command -v python)"

BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
echo "llama.cpp bin: $BIN" >&2

if [ -n "${GGUFEMBED_MODEL:-}" ]; then
    MODEL="$GGUFEMBED_MODEL"
elif [ -f "$REPO/scripts/fetch-model.sh" ]; then
    MODEL="$(cd "$REPO" && bash scripts/fetch-model.sh | tail -n 1)"
else
    MODEL="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/embeddinggemma-300m-Q8_0.gguf"
fi
[ -f "$MODEL" ] || { echo "model not found: $MODEL" >&2; exit 1; }
echo "model: $MODEL" >&2

"$PY" "$HERE/make_corpus.py" "$HERE/corpus.jsonl"
"$PY" "$HERE/golden.py" generate --bin "$BIN" --model "$MODEL" --out "$HERE" \
    --threads "${GOLDEN_THREADS:-$(nproc)}" --jobs "${GOLDEN_JOBS:-1}" \
    --tok-jobs "${GOLDEN_TOK_JOBS:-$(nproc)}"
"$PY" "$HERE/golden.py" check --out "$HERE"
