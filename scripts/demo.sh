#!/usr/bin/env bash
# The main job on a fresh machine: install what the build needs, build, fetch the
# default model (EmbeddingGemma-300M Q8_0, cached outside the repo and verified by
# sha256), then embed a few example sentences and print their similarity matrix.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
MODEL=$(bash scripts/fetch-model.sh)
echo "model: $MODEL" >&2
./build/bin/ggufembed similarity -m "$MODEL" --task sentence-similarity \
  "The quick brown fox jumps over the lazy dog." \
  "A fast brown fox leaps over a sleepy dog." \
  "Stock markets fell sharply on Monday." \
  "Les marchés boursiers ont fortement baissé lundi." \
  "def add(a, b): return a + b"
