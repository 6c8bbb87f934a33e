#!/usr/bin/env bash
# Regenerate tests/golden/vocab/: the token ids llama.cpp's llama-tokenize gives for every
# text of tests/golden/corpus.jsonl with each of llama.cpp's vocab-only GGUFs, and how each
# vocab's .inp/.out pair fares on this llama.cpp build (see generate.py, meta.json).
#
#   bash tests/golden/vocab/generate.sh                 # all 19 vocabs: 48 min CPU, so ~25 min on 2 idle cores
#                                                       (58 min wall here with other jobs running)
#   bash tests/golden/vocab/generate.sh --only gpt-2,qwen2   # just these (meta.json keeps the others)
#   bash tests/golden/vocab/generate.sh --resume             # after a stop (--max-seconds, default 5400)
#
# Steps: build llama.cpp (tests/reference/build-llamacpp.sh, cached), get the vocabs
# (scripts/fetch-vocabs.sh, cached), then generate.py. Extra arguments go to generate.py.
#
# Environment:
#   GGUFEMBED_CACHE       cache root (default ~/.cache/ggufembed)
#   GGUFEMBED_VOCAB_DIR   use this dir of ggml-vocab-* files (skips scripts/fetch-vocabs.sh)
#   GOLDEN_JOBS           parallel llama-tokenize runs (default: nproc)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
PY="$(command -v python3 || command -v python)"

BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
echo "llama.cpp bin: $BIN" >&2
VOCAB="${GGUFEMBED_VOCAB_DIR:-$(bash "$REPO/scripts/fetch-vocabs.sh")}"
echo "vocabs: $VOCAB" >&2

exec "$PY" "$HERE/generate.py" --bin "$BIN" --vocab-dir "$VOCAB" \
    --corpus "$REPO/tests/golden/corpus.jsonl" --out "$HERE" \
    --jobs "${GOLDEN_JOBS:-$(nproc)}" "$@"
