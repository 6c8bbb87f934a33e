#!/usr/bin/env bash
# bench/run.sh - the measuring stick of issue #4, in one command.
#
#   bench/run.sh            full run: every scenario, ggufembed and llama.cpp interleaved,
#                           1 and 2 threads; writes bench/results/results.{md,json}
#   bench/run.sh --smoke    the same harness with tiny repetition counts (well under a
#                           minute once the model and builds are cached, plus 1-2 minutes
#                           for the browser half when wllama is cached); writes to a temp
#                           dir. Builds ggufembed itself; the llama.cpp peer only runs when
#                           its build is already cached (building it takes ~10 minutes).
#
# Peers: llama.cpp built from the llama-cpp-python==0.3.36 sdist (bench/build-llamacpp.sh)
# and node-llama-cpp@3.21.1 from npm (bench/install-node-llama-cpp.sh), both cached outside
# the repo; a smoke run uses llama.cpp only when it is already cached and skips node-llama-cpp.
# Browser half: ggufembed-wasm (js/dist) vs @wllama/wllama@3.13.0 in headless Chromium
# (bench/bench_wasm_browser.mjs; wllama installed by bench/install-wllama.sh into the cache);
# full runs install wllama when missing, a smoke run uses it only when it is already cached.
# Options: --model FILE|NAME (another GGUF: a path, or a fetch-model.sh --name; default
#          EmbeddingGemma Q8_0; bench/quant.sh runs the per-type quant table),
#          --rounds N (interleaved rounds, default 3; smoke 1), --threads 1,2,
#          --out DIR (where results.{md,json} go), --no-llamacpp, --no-node-llama-cpp,
#          --no-wasm (ggufembed-wasm in Node runs in full runs when js/dist/node.js is built),
#          --no-browser (skip the Chromium half; it needs /usr/bin/chromium and js/dist built).
# Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed: model, llama.cpp build),
#          GGUFEMBED_MODEL_PATH (a local copy of the GGUF), BENCH_BUILD_DIR (default
#          <repo>/build-bench), BENCH_JOBS (build jobs), CC (default cc), CHROMIUM (default
#          /usr/bin/chromium).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CMDLINE="bench/run.sh${*:+ $*}"
SMOKE=0 ROUNDS="" THREADS="1,2" OUT="" NO_LLAMA=0 NO_NLC=0 NO_WASM=0 NO_BROWSER=0 MODEL_ARG=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --model) MODEL_ARG=$2; shift ;;
        --no-llamacpp) NO_LLAMA=1 ;;
        --no-node-llama-cpp) NO_NLC=1 ;;
        --no-wasm) NO_WASM=1 ;;
        --no-browser) NO_BROWSER=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[bench] %s\n' "$*" >&2; }
T_START=$(date +%s)
BUILD="${BENCH_BUILD_DIR:-$ROOT/build-bench}"
JOBS="${BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}"
CC="${CC:-cc}"
command -v python3 >/dev/null 2>&1 || { log "python3 is required (apt-get install -y python3)"; exit 1; }
command -v cmake >/dev/null 2>&1 || { log "cmake is required (apt-get install -y cmake build-essential)"; exit 1; }

# 1. the model (cached; fetch-model.sh verifies its sha256), or --model: a file path or one
#    of fetch-model.sh's names (e.g. embeddinggemma-300m-dense-Q4_K_M.gguf)
if [ -n "$MODEL_ARG" ] && [ -f "$MODEL_ARG" ]; then
    MODEL=$(cd "$(dirname "$MODEL_ARG")" && pwd)/$(basename "$MODEL_ARG")
elif [ -n "$MODEL_ARG" ]; then
    MODEL=$(bash "$ROOT/scripts/fetch-model.sh" --name "$MODEL_ARG" 2> >(sed 's/^/  /' >&2))
else
    MODEL=$(bash "$ROOT/scripts/fetch-model.sh" 2> >(sed 's/^/  /' >&2))
fi
[ -f "$MODEL" ] || { log "no model"; exit 1; }
log "model: $MODEL"

# 2. ggufembed: the library as in this tree (Release), the driver and the limits probe
log "building ggufembed (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target ggufembed_archive >/dev/null
mkdir -p "$BUILD/bench"
"$CC" -O2 -std=c11 -Wall -Wextra -I"$ROOT/core" -I"$HERE" "$HERE/bench_ggufembed.c" \
    "$BUILD/lib/libggufembed.a" $(pkg-config --libs libutf8proc) -pthread -lm -o "$BUILD/bench/bench_ggufembed"
"$CC" -O2 -std=c11 -Wall -Wextra "$HERE/limits.c" -pthread -o "$BUILD/bench/limits"

# 3. the llama.cpp peer
LLAMA_BIN="" LLAMA_INFO="" SKIP_REASON=""
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
if [ "$NO_LLAMA" = 1 ]; then
    SKIP_REASON="--no-llamacpp given"
elif [ "$SMOKE" = 1 ]; then
    set +e
    LLAMA_BIN=$(bash "$HERE/build-llamacpp.sh" --if-cached)
    rc=$?
    set -e
    if [ $rc = 3 ]; then
        LLAMA_BIN=""
        SKIP_REASON="smoke run: no cached llama.cpp build in $CACHE/bench-llamacpp-0.3.36 (a full bench/run.sh builds it)"
    elif [ $rc != 0 ]; then
        log "llama.cpp build failed"; exit 1
    fi
else
    LLAMA_BIN=$(bash "$HERE/build-llamacpp.sh")
fi
if [ -n "$LLAMA_BIN" ]; then
    LLAMA_INFO="$(dirname "$(dirname "$LLAMA_BIN")")/BUILD_OK"
    log "llama.cpp peer: $LLAMA_BIN"
else
    log "*** llama.cpp peer SKIPPED: $SKIP_REASON ***"
fi

# 4. the second native peer, node-llama-cpp (optional)
NLC_DIR="" NLC_SKIP=""
if [ "$NO_NLC" = 1 ]; then
    NLC_SKIP="--no-node-llama-cpp given"
elif [ "$SMOKE" = 1 ]; then
    NLC_SKIP="not part of smoke runs (its process start-up alone takes seconds)"
else
    set +e
    NLC_DIR=$(bash "$HERE/install-node-llama-cpp.sh")
    rc=$?
    set -e
    if [ $rc != 0 ]; then NLC_DIR=""; NLC_SKIP="npm install failed"; fi
fi
[ -n "$NLC_SKIP" ] && log "node-llama-cpp peer skipped: $NLC_SKIP"

# 5. ggufembed-wasm in Node, when the npm package in js/ has been built (js/dist is not
# tracked: build it with its own script; this harness does not build it)
WASM_PKG="" WASM_SKIP=""
if [ "$NO_WASM" = 1 ]; then
    WASM_SKIP="--no-wasm given"
elif [ "$SMOKE" = 1 ]; then
    WASM_SKIP="not part of smoke runs"
elif [ ! -f "$ROOT/js/dist/node.js" ] || ! command -v node >/dev/null 2>&1; then
    WASM_SKIP="js/dist/node.js not built (or no node)"
else
    WASM_PKG="$ROOT/js"
fi
[ -n "$WASM_SKIP" ] && log "ggufembed-wasm skipped: $WASM_SKIP"

# 6. ggufembed-wasm vs wllama in headless Chromium (js/dist must be built; Chromium from apt)
WLLAMA_DIR="" BROWSER_SKIP=""
CHROMIUM_BIN="${CHROMIUM:-/usr/bin/chromium}"
if [ "$NO_BROWSER" = 1 ]; then
    BROWSER_SKIP="--no-browser given"
elif [ ! -x "$CHROMIUM_BIN" ]; then
    BROWSER_SKIP="no Chromium at $CHROMIUM_BIN (apt-get install -y chromium)"
elif [ ! -f "$ROOT/js/dist/browser.js" ] || ! command -v node >/dev/null 2>&1; then
    BROWSER_SKIP="js/dist/browser.js not built (cd js && npm run build) or no node"
elif [ "$SMOKE" = 1 ]; then
    # a smoke run never downloads: wllama only when a full run (or install-wllama.sh) cached it
    WLLAMA_DIR=$(bash "$HERE/install-wllama.sh" --if-cached 2>/dev/null) || {
        WLLAMA_DIR=""; BROWSER_SKIP="smoke run: @wllama/wllama not cached in $CACHE/bench-wllama (bash bench/install-wllama.sh installs it)"; }
else
    WLLAMA_DIR=$(bash "$HERE/install-wllama.sh") || { WLLAMA_DIR=""; BROWSER_SKIP="npm install of @wllama/wllama failed"; }
fi
if [ -n "$BROWSER_SKIP" ]; then log "*** browser half (ggufembed-wasm vs wllama in Chromium) SKIPPED: $BROWSER_SKIP ***"
else log "browser half: Chromium $CHROMIUM_BIN, wllama in $WLLAMA_DIR"; fi

# 7. run
if [ -z "$OUT" ]; then
    if [ "$SMOKE" = 1 ]; then OUT=$(mktemp -d "${TMPDIR:-/tmp}/ggufembed-bench-smoke.XXXXXX"); else OUT="$HERE/results"; fi
fi
REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
ARGS=(--model "$MODEL" --gguf-bin "$BUILD/bench/bench_ggufembed" --limits-bin "$BUILD/bench/limits"
      --texts "$HERE/texts" --out "$OUT" --threads "$THREADS" --command "$CMDLINE" --repo-rev "$REV")
[ "$SMOKE" = 1 ] && ARGS+=(--smoke)
[ -n "$ROUNDS" ] && ARGS+=(--rounds "$ROUNDS")
[ -n "$LLAMA_BIN" ] && ARGS+=(--llama-bin "$LLAMA_BIN" --llama-info "$LLAMA_INFO")
[ -n "$SKIP_REASON" ] && ARGS+=(--llama-skip-reason "$SKIP_REASON")
[ -n "$NLC_DIR" ] && ARGS+=(--nlc-dir "$NLC_DIR")
[ -n "$NLC_SKIP" ] && ARGS+=(--nlc-skip-reason "$NLC_SKIP")
[ -n "$WASM_PKG" ] && ARGS+=(--wasm-pkg "$WASM_PKG")
[ -n "$WASM_SKIP" ] && ARGS+=(--wasm-skip-reason "$WASM_SKIP")
[ -n "$WLLAMA_DIR" ] && ARGS+=(--browser --browser-wllama-dir "$WLLAMA_DIR" --browser-pkg "$ROOT/js")
[ -n "$BROWSER_SKIP" ] && ARGS+=(--browser-skip-reason "$BROWSER_SKIP")
set +e
python3 "$HERE/harness.py" "${ARGS[@]}"
rc=$?
set -e
[ "$SMOKE" = 1 ] && [ -f "$OUT/results.md" ] && cat "$OUT/results.md"
log "results: $OUT/results.md, $OUT/results.json ($(( $(date +%s) - T_START )) s in total)"
[ -n "$SKIP_REASON" ] && log "*** llama.cpp peer SKIPPED: $SKIP_REASON ***"
[ -n "$BROWSER_SKIP" ] && log "*** browser half SKIPPED: $BROWSER_SKIP ***"
exit $rc
