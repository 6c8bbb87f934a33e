#!/usr/bin/env bash
# Every JavaScript / WebAssembly test: installs what they need (Debian 12, as root or
# with sudo; idempotent), builds the native CLI (reference vectors), the wasm builds
# and the npm package, then runs the Node suite (golden corpus, API, sources, abort,
# errors, Worker entry point, WASI CLI), the headless-Chromium tests and the npm pack
# install test. Any failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CI=${CI:-true} DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

need=()
for pkg in emscripten clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc chromium cmake gcc make; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing: ${need[*]}" >&2
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
command -v node >/dev/null || { echo "test-js.sh: node (>= 20) is required" >&2; exit 1; }
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
  || { echo "test-js.sh: node >= 20 is required, found $(node --version)" >&2; exit 1; }
export NODE_PATH=/usr/share/nodejs   # Debian's emcc needs acorn from there

MODEL=$(bash scripts/fetch-model.sh | tail -n 1)
export GGUFEMBED_MODEL_PATH="$MODEL"
for f in corpus.jsonl tokens.jsonl embeddings.f32; do
  [ -s "tests/golden/$f" ] || { echo "test-js.sh: tests/golden/$f is missing (tests/golden/generate.sh)" >&2; exit 1; }
done

echo "== native CLI (reference vectors)" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target ggufembed_cli >/dev/null
export GGUFEMBED_NATIVE_CLI=$ROOT/build/bin/ggufembed

echo "== npm ci + npm run build (wasm + package)" >&2
cd js
npm ci --no-audit --no-fund >&2
npm run build >&2

echo "== node --test: golden, API, WASI" >&2
npm test

echo "== headless Chromium" >&2
npm run test:browser

echo "== npm pack, installed into a fresh project" >&2
node --test test/pack/*.test.mjs
