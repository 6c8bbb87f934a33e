#!/usr/bin/env bash
# Regenerate tests/synth/golden/*.json: small random models (make_models.py: gemma-embedding;
# families.py: bert, nomic-bert, nomic-bert-moe, jina-bert-v2, qwen3, gemma3, rerankers) run
# through llama.cpp's llama-tokenize and llama-embedding.
#
#   bash tests/synth/generate.sh                    # every variant
#   bash tests/synth/generate.sh --only 'bert_*'    # some (comma-separated globs)
#
# families.py needs llama.cpp's vocab-only GGUFs (scripts/fetch-vocabs.sh) and, for gemma3,
# EmbeddingGemma's GGUF (scripts/fetch-model.sh); see tests/synth/README.md.
# The models are written to a temporary directory and deleted afterwards (never committed);
# the goldens record each model's sha256 so tests/synth/test_synth.py can detect generator drift.
#
# Environment:
#   GGUFEMBED_CACHE          cache root for the llama.cpp build, the venv, gguf-py (default ~/.cache/ggufembed)
#   GGUFEMBED_SYNTH_PYTHON   python with numpy + pyyaml (default: $GGUFEMBED_CACHE/venv/bin/python)
#   GGUFEMBED_GGUF_PY        directory holding llama.cpp's gguf-py package (default: see synthlib.py)
#   SYNTH_THREADS            threads per llama-embedding run (default 1; the models are tiny)
#   GGUFEMBED_SYNTH_ONLY     default for --only
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$(command -v python3 || command -v python)"

BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
echo "llama.cpp bin: $BIN" >&2

"$PY" "$HERE/generate.py" --bin "$BIN" --out "$HERE/golden" --threads "${SYNTH_THREADS:-1}" "$@"
