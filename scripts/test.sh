#!/usr/bin/env bash
# Every test: native Release build + ctest (unit, API, golden against llama.cpp's
# outputs with the real model), then the same under AddressSanitizer +
# UndefinedBehaviorSanitizer. Installs what it needs and fetches the model first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
MODEL=$(bash scripts/fetch-model.sh)
export GGUFEMBED_MODEL_PATH="$MODEL"
jobs=$(nproc)

echo "== native Release build + tests" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_MODEL_PATH="$MODEL" >/dev/null
cmake --build build -j"$jobs" >/dev/null
ctest --test-dir build --output-on-failure -E "^golden$"

echo "== ASan + UBSan build + tests" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGGUFEMBED_SANITIZE=ON -DGGUFEMBED_MODEL_PATH="$MODEL" >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
# the CLI test runs in the Release build only (the same code paths, 20x the time under ASan)
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -E "^(cli|golden)$"

echo "== WebAssembly builds, npm package, Node and headless-Chromium tests" >&2
bash scripts/test-js.sh

echo "== benchmark harness smoke run" >&2
bash bench/run.sh --smoke

# last because they are the longest: the whole golden corpus against llama.cpp's
# outputs, then every 5th text again under the sanitizers
echo "== golden agreement with llama.cpp (Release, then ASan + UBSan)" >&2
ctest --test-dir build --output-on-failure -R "^golden$"
GGUFEMBED_GOLDEN_STRIDE=5 ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -R "^golden$"
