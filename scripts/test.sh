#!/usr/bin/env bash
# Every test: native Release build + ctest (unit, API, golden against llama.cpp's
# outputs and reference against sentence-transformers' with the real model), then the
# same under AddressSanitizer + UndefinedBehaviorSanitizer. Installs what it needs and
# fetches the models first (the complete EmbeddingGemma Q8_0 file, and its F32 twin for
# the exact reference test, converted from one download).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
F32_NAME=embeddinggemma-300m-dense-F32.gguf
MODEL=$(GGUFEMBED_CONVERT_NAMES=$F32_NAME bash scripts/fetch-model.sh)
MODEL_F32=$(bash scripts/fetch-model.sh --name $F32_NAME)
# all-MiniLM-L6-v2 (bert + WordPiece) in three weight types, converted from one download
MINILM_Q8=$(GGUFEMBED_CONVERT_NAMES="all-minilm-l6-v2-F32.gguf all-minilm-l6-v2-F16.gguf" \
  bash scripts/fetch-model.sh --name all-minilm-l6-v2-Q8_0.gguf)
for t in F32 F16; do bash scripts/fetch-model.sh --name all-minilm-l6-v2-$t.gguf >/dev/null; done
MINILM_DIR=$(dirname "$MINILM_Q8")
# the quantized files (llama.cpp's llama-quantize on the F32 files; Gemma 3 270M Q4_K_M as
# published), all into the same cache directory
QUANTS="Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS"
for t in $QUANTS; do
  bash scripts/fetch-model.sh --name all-minilm-l6-v2-$t.gguf >/dev/null
  bash scripts/fetch-model.sh --name embeddinggemma-300m-dense-$t.gguf >/dev/null
done
bash scripts/fetch-model.sh --name embeddinggemma-300m-dense-BF16.gguf >/dev/null
bash scripts/fetch-model.sh --name gemma3-270m-Q4_K_M.gguf >/dev/null
# llama.cpp's vocabulary-only GGUFs (the tokenizer tests)
bash scripts/fetch-vocabs.sh >/dev/null
CACHE=${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}
export GGUFEMBED_MODEL_PATH="$MODEL" GGUFEMBED_MODEL_F32_PATH="$MODEL_F32" GGUFEMBED_MINILM_DIR="$MINILM_DIR"
# gguf-py (llama.cpp's Python package, next to the converter fetch-model.sh unpacked) and
# the cache venv's numpy: the dequantization referee (tests/test_dequant.py)
export GGUFEMBED_GGUF_PY_DIR="$CACHE/llama.cpp-from-llama-cpp-python-0.3.36/gguf-py"
export GGUFEMBED_NUMPY_PYTHON="$CACHE/venv/bin/python"
jobs=$(nproc)
stage() { echo "== [$(date -u +%H:%M:%S), ${SECONDS}s] $*" >&2; }

stage "native Release build + tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_MODEL_PATH="$MODEL" \
  -DGGUFEMBED_MODEL_F32_PATH="$MODEL_F32" -DGGUFEMBED_MINILM_DIR="$MINILM_DIR" \
  -DGGUFEMBED_GGUF_PY_DIR="$GGUFEMBED_GGUF_PY_DIR" -DGGUFEMBED_NUMPY_PYTHON="$GGUFEMBED_NUMPY_PYTHON" >/dev/null
cmake --build build -j"$jobs" >/dev/null
ctest --test-dir build --output-on-failure -E "^(golden|reference_f32)$"

stage "ASan + UBSan build + tests"
GGUFEMBED_EGEMMA_STRIDE=115 GGUFEMBED_GEMMA3_STRIDE=42 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGGUFEMBED_SANITIZE=ON -DGGUFEMBED_MODEL_PATH="$MODEL" \
  -DGGUFEMBED_MODEL_F32_PATH="$MODEL_F32" -DGGUFEMBED_MINILM_DIR="$MINILM_DIR" \
  -DGGUFEMBED_GGUF_PY_DIR="$GGUFEMBED_GGUF_PY_DIR" -DGGUFEMBED_NUMPY_PYTHON="$GGUFEMBED_NUMPY_PYTHON" >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
# the CLI test runs in the Release build only (the same code paths, 20x the time under ASan),
# and so do the stress test (56 s in Release) and EmbeddingGemma's K-quant files (their exact
# referee is ~35 s a file even on 5 texts; the K-quant kernels are checked under ASan by
# kernels, quant, minilm_*_K* and the fuzz seeds); the others on every 115th text, Gemma 3 on
# every 42nd; the reference
# test on every 61st text of each section up to 1500 bytes (every code path; the numbers are
# the Release run's)
ASAN_OPTIONS=detect_leaks=1 GGUFEMBED_REFERENCE_STRIDE=61 GGUFEMBED_REFERENCE_MAX_BYTES=1500 GGUFEMBED_MODEL_STRIDE=7 ctest --test-dir build-asan --output-on-failure \
  -E "^(cli|stress|golden|reference_f32|egemma_(Q6_K|Q5_K_M|Q4_K_M|IQ4_XS|Q3_K_M|Q2_K))$"

stage "HTTP server: tests/server against the Release binary, then its error, socket, shutdown and OpenAI-client tests against the ASan+UBSan one"
bash scripts/test-server.sh build/bin/ggufembed "$MODEL"
ASAN_OPTIONS=detect_leaks=1 bash scripts/test-server.sh build-asan/bin/ggufembed "$MODEL" -- tests/server/test_errors.py \
  tests/server/test_sockets.py tests/server/test_shutdown.py tests/server/test_openai_client.py

stage "Python package: the wheel (scikit-build-core, auditwheel) in a fresh venv, python/tests (CLI bits, download, Ray Data)"
bash scripts/test-python.sh build/bin/ggufembed "$MODEL"

stage "valgrind memcheck on a subset of the C tests (Release build)"
bash scripts/valgrind.sh build

stage "libFuzzer targets (clang-19, ASan + UBSan), 60 s each, side by side, on the committed seeds"
bash scripts/fuzz.sh "${GGUFEMBED_FUZZ_SECONDS:-60}"

stage "WebAssembly builds, npm package, Node and headless-Chromium tests"
bash scripts/test-js.sh

stage "benchmark harness smoke runs (the main bench, the quant table, the HTTP servers, the Python package)"
bash bench/run.sh --smoke
bash bench/quant.sh --smoke
bash bench/serve.sh --smoke
bash bench/python.sh --smoke

# last because they are the longest: the whole golden corpus against llama.cpp's
# outputs, the F32 file against sentence-transformers (every 12th text of each section: its float path is slow),
# then every 5th text again under the sanitizers
stage "golden agreement with llama.cpp (Release, then ASan + UBSan), F32 against sentence-transformers"
ctest --test-dir build --output-on-failure -R "^golden$"
GGUFEMBED_REFERENCE_STRIDE=${GGUFEMBED_REFERENCE_F32_STRIDE:-12} ctest --test-dir build --output-on-failure -R "^reference_f32$"
GGUFEMBED_GOLDEN_STRIDE=5 ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -R "^golden$"
stage "all tests passed"
