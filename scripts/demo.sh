#!/usr/bin/env bash
# The main job on a fresh machine: install what the build needs, build, fetch the
# default model (EmbeddingGemma-300M Q8_0 with its dense projections, cached outside the
# repo and verified by sha256), then embed the model card's example (a query against four
# documents) and a few sentences, and print their similarities.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
MODEL=$(bash scripts/fetch-model.sh)
echo "model: $MODEL" >&2
echo "The model card's example (query task for the query, document task for the documents):"
./build/bin/ggufembed similarity -m "$MODEL" --query "Which planet is known as the Red Planet?" \
  "Venus is often called Earth's twin because of its similar size and proximity." \
  "Mars, known for its reddish appearance, is often referred to as the Red Planet." \
  "Jupiter, the largest planet in our solar system, has a prominent red spot." \
  "Saturn, famous for its rings, is sometimes mistaken for the Red Planet."
echo
echo "Sentence similarity (--task sentence-similarity, 768 dimensions, cosine):"
./build/bin/ggufembed similarity -m "$MODEL" --task sentence-similarity \
  "The quick brown fox jumps over the lazy dog." \
  "A fast brown fox leaps over a sleepy dog." \
  "Stock markets fell sharply on Monday." \
  "Les marchés boursiers ont fortement baissé lundi." \
  "def add(a, b): return a + b"
