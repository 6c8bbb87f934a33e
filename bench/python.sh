#!/usr/bin/env bash
# bench/python.sh - the Python package against the Python peers (issue 13, item 4):
# embeddings/s of ggufembed (the wheel, ctypes over libggufembed.so) vs llama-cpp-python
# (0.3.36, built here from its sdist, on the same GGUF) vs sentence-transformers (fp32,
# PyTorch, CPU, on the original weights), same texts, one process per engine and run, the
# engine order alternating per round; plus the memory of Ray Data actors (EmbedBatch)
# with zero-copy (repack=False) vs repacked (repack=True) weights.
#
#   bench/python.sh               full run (~25 min on a quiet 2-core machine, plus ~10 min
#                                 to build llama-cpp-python once): waits for a quiet machine,
#                                 tunes the peers, 3 rounds, threads 2 and 1; writes
#                                 bench/results/python-<UTC date>.md
#   bench/python.sh --smoke       tiny counts (< 2 min with the caches), results in a temp dir;
#                                 fails when an engine fails or the vectors disagree. Uses
#                                 llama-cpp-python only when its build is cached (it says so
#                                 loudly otherwise), unless --build-peers.
#
# Options: --rounds N (default 3; smoke 1), --threads LIST (default 2,1; smoke 2),
#          --out FILE.md, --model FILE (default: scripts/fetch-model.sh), --no-llamacpp,
#          --no-st, --no-ray, --no-tune, --build-peers (smoke: build llama-cpp-python when
#          it is not cached), --no-quiet-wait (do not wait for load average < 0.5),
#          --quick (development: the full run's code paths at smoke counts, report in a temp dir)
# Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed), GGUFEMBED_MODEL_PATH.
#
# What goes where (nothing in the source tree but the results file):
#   $CACHE/bench-python/venv        python3 venv: numpy, ray[data], build, the ggufembed wheel,
#                                   llama-cpp-python (its deps pinned below)
#   $CACHE/bench-python/wheels/     the ggufembed wheel per source hash, the llama-cpp-python
#                                   wheel per ISA flag set (the build takes minutes: cached)
#   $CACHE/venv + $CACHE/st-lib     sentence-transformers exactly as tests/golden/st_generate.sh
#                                   runs it: fetch-model.sh's converter venv (torch 2.11.0,
#                                   transformers 4.57.6, untouched) + the pinned packages of
#                                   st_generate.sh installed with pip --target beside it
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CMDLINE="bench/python.sh${*:+ $*}"
SMOKE=0 QUICK=0 ROUNDS="" THREADS="" OUT="" MODEL="" NO_LLAMA=0 NO_ST=0 NO_RAY=0 NO_TUNE=0 BUILD_PEERS=0 QUIET=1
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --quick) QUICK=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --model) MODEL=$2; shift ;;
        --no-llamacpp) NO_LLAMA=1 ;;
        --no-st) NO_ST=1 ;;
        --no-ray) NO_RAY=1 ;;
        --no-tune) NO_TUNE=1 ;;
        --build-peers) BUILD_PEERS=1 ;;
        --no-quiet-wait) QUIET=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
        *) echo "bench/python.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[python-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[python-bench] *** FAILED: %s ***\n' "$*" >&2; exit 1; }
loud() { printf '\n[python-bench] ********** %s **********\n\n' "$*" >&2; }

CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
BENCH="$CACHE/bench-python"
VENV="$BENCH/venv"
WHEELS="$BENCH/wheels"
mkdir -p "$WHEELS"
T_START=$(date +%s)
DATE=$(date -u +%Y-%m-%d)
TMP=$(mktemp -d /tmp/python-bench.XXXXXX)
# smoke runs keep their temp dir (the report is there); full runs clean up on success
cleanup() { local rc=$?; [ "$SMOKE" = 1 ] || [ "$QUICK" = 1 ] || [ "$rc" != 0 ] || rm -rf "$TMP"; exit "$rc"; }
trap cleanup EXIT
if [ -z "$OUT" ]; then
    if [ "$SMOKE" = 1 ] || [ "$QUICK" = 1 ]; then OUT="$TMP/python-smoke.md"; else OUT="$HERE/results/python-$DATE.md"; fi
fi

# ---- 1. the model (GGUF) and the original weights for sentence-transformers ----
if [ -z "$MODEL" ]; then
    MODEL=${GGUFEMBED_MODEL_PATH:-$(bash "$ROOT/scripts/fetch-model.sh")}
fi
[ -f "$MODEL" ] || die "model not found: $MODEL"
ST_SKIP=""
ST_DIR="$CACHE/work/embeddinggemma-300M"
ST_PY="$CACHE/venv/bin/python"
ST_LIB="$CACHE/st-lib"
# the pins of tests/golden/st_generate.sh (keep them identical: the directory is shared)
ST_PINS="sentence-transformers==5.1.2 scikit-learn==1.9.1 scipy==1.17.1 pillow==13.0.0 joblib==1.6.0
threadpoolctl==3.8.0 cloudpickle==3.1.3 narwhals==2.29.0"
if [ "$NO_ST" = 1 ]; then
    ST_SKIP="--no-st"
elif [ ! -f "$ST_DIR/.ok" ] || [ ! -x "$ST_PY" ]; then
    # the original weights are an intermediate of fetch-model.sh, kept only on request
    ST_SKIP="the original model $ST_DIR (or the venv $CACHE/venv) is missing: remove the cached GGUF and run GGUFEMBED_KEEP_INTERMEDIATES=1 scripts/fetch-model.sh"
    [ "$SMOKE" = 1 ] || die "$ST_SKIP (or pass --no-st)"
    loud "sentence-transformers SKIPPED: $ST_SKIP"
elif [ "$(cat "$ST_LIB/.pins" 2>/dev/null || true)" != "$ST_PINS" ]; then
    log "installing sentence-transformers beside the converter venv ($ST_LIB, as tests/golden/st_generate.sh)"
    rm -rf "$ST_LIB"
    # shellcheck disable=SC2086
    "$ST_PY" -m pip install -q --disable-pip-version-check --no-deps --target "$ST_LIB" $ST_PINS >&2
    printf '%s' "$ST_PINS" > "$ST_LIB/.pins"
fi

# ---- 2. the bench venv (recreated when the pins change) ----
# numpy as in the converter venv; llama-cpp-python's own dependencies pinned here because
# its wheel is installed with --no-deps
VENV_PINS="numpy==2.2.6 ray[data]==2.60.0 build==1.6.1 typing-extensions==4.16.0 diskcache==5.6.3 jinja2==3.1.6 MarkupSafe==3.0.4"
if [ "$(cat "$VENV/.pins" 2>/dev/null || true)" != "$VENV_PINS" ]; then
    log "creating the bench venv $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check $VENV_PINS >&2
    printf '%s' "$VENV_PINS" > "$VENV/.pins"
fi
PY="$VENV/bin/python"

# ---- 3. the ggufembed wheel, built from this tree (not installed from the source tree) ----
# keyed by the content of everything the wheel is built from, so a re-run only rebuilds
# after a change (the working tree counts, committed or not: the report says which)
cd "$ROOT"
SRC_HASH=$(git ls-files -z -co --exclude-standard -- core simd native formats python CMakeLists.txt \
               ':!python/tests' ':!python/examples' | python3 -c '
import hashlib, os, sys
h = hashlib.sha256()
for p in sorted(x for x in sys.stdin.buffer.read().split(b"\0") if x):
    if os.path.isfile(p):  # a tracked file deleted in the tree is simply not an input
        h.update(p + b"\0" + open(p, "rb").read())
print(h.hexdigest()[:16])')
GE_WHEEL_DIR="$WHEELS/ggufembed-$SRC_HASH"
if ! ls "$GE_WHEEL_DIR"/ggufembed-*.whl >/dev/null 2>&1; then
    log "building the ggufembed wheel (python -m build --wheel python; sources $SRC_HASH)"
    rm -rf "$GE_WHEEL_DIR.tmp"
    "$PY" -m build --wheel --outdir "$GE_WHEEL_DIR.tmp" python >"$TMP/wheel-build.log" 2>&1 \
        || { tail -40 "$TMP/wheel-build.log" >&2; die "the ggufembed wheel did not build"; }
    mv "$GE_WHEEL_DIR.tmp" "$GE_WHEEL_DIR"
    # wheels of older sources are never used again
    find "$WHEELS" -maxdepth 1 -name 'ggufembed-*' ! -name "ggufembed-$SRC_HASH" -exec rm -rf {} +
fi
GE_WHEEL=$(ls "$GE_WHEEL_DIR"/ggufembed-*.whl | head -n1)
if [ "$(cat "$VENV/.ggufembed-wheel" 2>/dev/null || true)" != "$GE_WHEEL" ]; then
    log "installing $(basename "$GE_WHEEL") into the bench venv"
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$GE_WHEEL" >&2
    printf '%s' "$GE_WHEEL" > "$VENV/.ggufembed-wheel"
fi
GE_REV="$(git describe --always --dirty 2>/dev/null || echo '?')"
GE_DIRTY="$(git status --porcelain -- core simd native formats python CMakeLists.txt ':!python/tests' ':!python/examples' 2>/dev/null | awk '{print $2}' | paste -sd' ' -)"

# ---- 4. llama-cpp-python 0.3.36 from its sdist (cached wheel) ----
LCP_VERSION=0.3.36
LCP_SDIST_SHA=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e  # as bench/build-llamacpp.sh
# The ISA flags of bench/build-llamacpp.sh: every extension of this CPU, except AMX, whose
# kernel segfaults on the first embedding (llama.cpp issue 20824). LLAVA_BUILD=OFF: the
# multimodal library (mtmd) is imported lazily and never used for text embeddings; skipping
# it saves minutes of compiling. LLAMA_CURL is forced off by the package's CMakeLists.
if grep -qwE 'amx_tile|amx_int8|amx_bf16' /proc/cpuinfo 2>/dev/null; then
    LCP_ISA=native-no-amx
    LCP_CMAKE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
else
    LCP_ISA=native
    LCP_CMAKE="-DGGML_NATIVE=ON"
fi
LCP_CMAKE="$LCP_CMAKE -DLLAVA_BUILD=OFF"
# a native build is only valid on the CPU it was built for: the key includes the CPU model
CPU_KEY=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sha256sum | cut -c1-8)
LCP_DIR="$WHEELS/llama-cpp-python-$LCP_VERSION-$LCP_ISA-$CPU_KEY"
LCP_SKIP=""
if [ "$NO_LLAMA" = 1 ]; then
    LCP_SKIP="--no-llamacpp"
elif [ ! -f "$LCP_DIR/BUILD_OK" ] && [ "$SMOKE" = 1 ] && [ "$BUILD_PEERS" = 0 ]; then
    LCP_SKIP="no cached build in $LCP_DIR (building takes ~10 min: run bench/python.sh once, or --smoke --build-peers)"
    loud "llama-cpp-python SKIPPED: $LCP_SKIP"
elif [ ! -f "$LCP_DIR/BUILD_OK" ]; then
    log "building llama-cpp-python==$LCP_VERSION from its sdist ($LCP_ISA; several minutes)"
    rm -rf "$LCP_DIR" && mkdir -p "$LCP_DIR/dl"
    "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
        -d "$LCP_DIR/dl" "llama-cpp-python==$LCP_VERSION" >&2
    SDIST="$LCP_DIR/dl/llama_cpp_python-$LCP_VERSION.tar.gz"
    got=$(sha256sum "$SDIST" | cut -d' ' -f1)
    [ "$got" = "$LCP_SDIST_SHA" ] || die "$SDIST: sha256 $got, expected $LCP_SDIST_SHA"
    # the build backend pinned like ggufembed's (pip passes PIP_CONSTRAINT on to the
    # isolated build environment)
    printf 'scikit-build-core==1.1.2\n' > "$LCP_DIR/build-constraints.txt"
    t0=$(date +%s)
    PIP_CONSTRAINT="$LCP_DIR/build-constraints.txt" CMAKE_ARGS="$LCP_CMAKE" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$PY" -m pip wheel --disable-pip-version-check --no-deps -w "$LCP_DIR" "$SDIST" >"$LCP_DIR/build.log" 2>&1 \
        || { tail -40 "$LCP_DIR/build.log" >&2; die "llama-cpp-python did not build (log: $LCP_DIR/build.log)"; }
    printf 'llama-cpp-python==%s isa=%s built=%s seconds=%s\nCMAKE_ARGS=%s\n' "$LCP_VERSION" "$LCP_ISA" \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(( $(date +%s) - t0 ))" "$LCP_CMAKE" > "$LCP_DIR/BUILD_OK"
    log "llama-cpp-python built in $(( $(date +%s) - t0 )) s"
fi
LCP_WHEEL=""
if [ -z "$LCP_SKIP" ]; then
    LCP_WHEEL=$(ls "$LCP_DIR"/llama_cpp_python-*.whl | head -n1)
    if [ "$(cat "$VENV/.llama-cpp-python-wheel" 2>/dev/null || true)" != "$LCP_WHEEL" ]; then
        log "installing $(basename "$LCP_WHEEL") into the bench venv"
        "$PY" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$LCP_WHEEL" >&2
        printf '%s' "$LCP_WHEEL" > "$VENV/.llama-cpp-python-wheel"
    fi
fi

# ---- 5. measure and report (bench/python_bench.py) ----
ARGS=(--model "$MODEL" --texts "$HERE/texts" --out "$OUT" --tmp "$TMP" --command "$CMDLINE"
      --t-start "$T_START" --ge-wheel "$(basename "$GE_WHEEL")" --ge-rev "$GE_REV" "--ge-dirty=$GE_DIRTY"
      --st-python "$ST_PY" --st-lib "$ST_LIB" --st-model "$ST_DIR")
[ "$SMOKE" = 1 ] && ARGS+=(--smoke)
[ "$QUICK" = 1 ] && ARGS+=(--quick)
[ -n "$ROUNDS" ] && ARGS+=(--rounds "$ROUNDS")
[ -n "$THREADS" ] && ARGS+=(--threads "$THREADS")
[ "$NO_RAY" = 1 ] && ARGS+=(--no-ray)
[ "$NO_TUNE" = 1 ] && ARGS+=(--no-tune)
[ "$QUIET" = 1 ] && [ "$SMOKE" = 0 ] && [ "$QUICK" = 0 ] && ARGS+=(--quiet-wait 1800)
[ -n "$ST_SKIP" ] && ARGS+=("--st-skip=$ST_SKIP")
if [ -n "$LCP_SKIP" ]; then
    ARGS+=("--llama-skip=$LCP_SKIP")
else
    ARGS+=(--llama-build "$(paste -sd' ' "$LCP_DIR/BUILD_OK")")
fi
# the driver runs in the bench venv (numpy for the cosines; the engines run in subprocesses)
"$PY" "$HERE/python_bench.py" "${ARGS[@]}"
log "wrote $OUT ($(( $(date +%s) - T_START )) s)"
