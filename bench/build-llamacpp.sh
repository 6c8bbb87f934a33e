#!/usr/bin/env bash
# Build the llama.cpp peer for the benchmark: llama.cpp as vendored by the PyPI source
# distribution of llama-cpp-python==0.3.36 (vendor/llama.cpp, llama.cpp commit 0c1e57098,
# release b11312), Release, GGML_NATIVE=ON (every ISA extension of this CPU), OpenMP,
# no curl; plus bench/bench_llamacpp.cpp linked against it (llama.h C API).
# On a CPU with AMX, GGML_NATIVE=ON segfaults in ggml_backend_amx_mul_mat (llama.cpp issue
# 20824), so there the build uses the same ISA extensions spelled out, minus AMX
# (isa=native-no-amx in BUILD_OK; isa=native elsewhere).
#
# Output: ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/bench-llamacpp-0.3.36/bin/bench_llamacpp
#   with --server: .../bench-llamacpp-0.3.36/bin/llama-server (the HTTP server of the same
#   tree and build directory: LLAMA_BUILD_COMMON/TOOLS/SERVER=ON, no UI, no curl/openssl)
# Idempotent and incremental (re-running only recompiles the driver when it changed).
# Prints the driver path (only that) on stdout - or, with --server, the llama-server path
# (only that); progress goes to stderr.
#
#   --if-cached    only (re)build when an earlier full build exists (with --server: an earlier
#                  llama-server build); exit 3 otherwise
#   --server       build llama-server instead of the driver and print its path
# Environment:
#   GGUFEMBED_CACHE   cache root (default ~/.cache/ggufembed)
#   LLAMACPP_SDIST    a llama_cpp_python-0.3.36.tar.gz or an unpacked copy, instead of pip download
#   BENCH_JOBS        parallel build jobs (default: nproc)
set -euo pipefail

LCP_VERSION=0.3.36
LCP_SDIST_SHA=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_COMMIT=0c1e57098
LLAMA_BUILD_NUMBER=11312

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
ROOT="$CACHE/bench-llamacpp-$LCP_VERSION"
SRC="$ROOT/src"
BUILD="$ROOT/build"
JOBS="${BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}"
log() { printf '[build-llamacpp] %s\n' "$*" >&2; }

IF_CACHED=0
SERVER=0
for arg in "$@"; do
    case "$arg" in
        --if-cached) IF_CACHED=1 ;;
        --server) SERVER=1 ;;
        *) log "unknown argument: $arg (--if-cached, --server)"; exit 2 ;;
    esac
done

# ISA: every extension of this CPU (GGML_NATIVE=ON), except AMX (see the header).
if grep -qwE 'amx_tile|amx_int8|amx_bf16' /proc/cpuinfo 2>/dev/null; then
    ISA=native-no-amx
    ISA_FLAGS=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
               -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON
               -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF
               -DGGML_AMX_BF16=OFF)
else
    ISA=native
    ISA_FLAGS=(-DGGML_NATIVE=ON)
fi
# the options that add llama-server (and the common/tools it needs) to the build tree
SERVER_FLAGS=(-DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON
              -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
              -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF)

if [ "$IF_CACHED" = 1 ] && [ ! -f "$ROOT/BUILD_OK" ]; then
    log "no cached llama.cpp build in $ROOT (--if-cached): skipping"
    exit 3
fi
if [ "$IF_CACHED" = 1 ] && [ "$SERVER" = 1 ] && [ ! -x "$ROOT/bin/llama-server" ]; then
    log "no cached llama-server build in $ROOT/bin (--if-cached --server): skipping"
    exit 3
fi

for tool in cmake c++ cc; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing tool: $tool (apt-get install -y cmake build-essential)"; exit 1; }
done
mkdir -p "$ROOT"

if [ ! -f "$SRC/vendor/llama.cpp/CMakeLists.txt" ]; then
    rm -rf "$SRC" "$ROOT/dl"
    mkdir -p "$ROOT/dl"
    if [ -n "${LLAMACPP_SDIST:-}" ] && [ -d "$LLAMACPP_SDIST" ]; then
        log "copying unpacked sdist from $LLAMACPP_SDIST"
        cp -a "$LLAMACPP_SDIST" "$SRC.tmp" && mv "$SRC.tmp" "$SRC"
    else
        if [ -n "${LLAMACPP_SDIST:-}" ]; then
            TARBALL=$LLAMACPP_SDIST
        else
            TARBALL="$ROOT/dl/llama_cpp_python-$LCP_VERSION.tar.gz"
            PY=$(command -v python3 || command -v python) || { log "python3 not found (needed for pip download)"; exit 1; }
            log "downloading llama-cpp-python==$LCP_VERSION sdist from PyPI"
            # --no-binary for this package only: pip still prepares its metadata, and
            # its build backend (scikit-build-core) may then come as a wheel.
            "$PY" -m pip download --no-binary llama-cpp-python --no-deps \
                -d "$ROOT/dl" "llama-cpp-python==$LCP_VERSION" >&2
        fi
        got=$(sha256sum "$TARBALL" | cut -d' ' -f1)
        [ "$got" = "$LCP_SDIST_SHA" ] || { log "$TARBALL: sha256 $got, expected $LCP_SDIST_SHA"; exit 1; }
        log "unpacking $TARBALL"
        tar -xzf "$TARBALL" -C "$ROOT/dl"
        mv "$ROOT/dl/llama_cpp_python-$LCP_VERSION" "$SRC"
        rm -rf "$ROOT/dl"
    fi
fi
LLAMA_SRC="$SRC/vendor/llama.cpp"
COMMIT=$(sed -n "/^## \[$LCP_VERSION\]/,/^## \[/p" "$SRC/CHANGELOG.md" \
         | grep -o 'llama.cpp@[0-9a-f]\{7,40\}' | head -n1 | cut -d@ -f2 || true)
if [ "$COMMIT" != "$LLAMA_COMMIT" ]; then
    log "warning: the sdist changelog names llama.cpp@${COMMIT:-?}, expected $LLAMA_COMMIT"
    LLAMA_BUILD_NUMBER=0
fi

GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
# the ISA the build directory was configured for (builds before this line existed: native)
OLD_ISA=
if [ -f "$BUILD/CMakeCache.txt" ]; then
    OLD_ISA=$(sed -n 's/^isa=//p' "$ROOT/BUILD_OK" 2>/dev/null || true)
    OLD_ISA=${OLD_ISA:-native}
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    log "configuring llama.cpp ${COMMIT:-?} (b$LLAMA_BUILD_NUMBER), isa=$ISA, Release, in $BUILD"
    cmake -S "$HERE/llamacpp" -B "$BUILD" "${GEN[@]}" \
        -DLLAMA_SRC="$LLAMA_SRC" \
        -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS=OFF \
        "${ISA_FLAGS[@]}" \
        -DGGML_CPU=ON \
        -DGGML_BACKEND_DL=OFF \
        -DGGML_OPENMP=ON \
        -DLLAMA_CURL=OFF \
        -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_COMMON=OFF \
        -DLLAMA_BUILD_TOOLS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_SERVER=OFF \
        -DLLAMA_BUILD_NUMBER="$LLAMA_BUILD_NUMBER" \
        -DLLAMA_BUILD_COMMIT="${COMMIT:-unknown}" >&2
elif [ "$OLD_ISA" != "$ISA" ]; then
    log "reconfiguring $BUILD for isa=$ISA (it was built for isa=$OLD_ISA)"
    rm -f "$ROOT/BUILD_OK"
    cmake "$BUILD" "${ISA_FLAGS[@]}" >&2
fi
if [ "$SERVER" = 1 ] && ! grep -q '^LLAMA_BUILD_SERVER:BOOL=ON$' "$BUILD/CMakeCache.txt"; then
    # same tree and ggml/llama flags: only the common, tools and server targets are added,
    # so the driver and libllama do not recompile
    log "adding llama-server to $BUILD (LLAMA_BUILD_COMMON/TOOLS/SERVER=ON, no UI)"
    cmake "$BUILD" "${SERVER_FLAGS[@]}" >&2
fi
if [ "$ISA" = native ]; then ISA_DESC="GGML_NATIVE=ON"; else ISA_DESC="GGML_NATIVE=OFF, AVX2/AVX-512 (F,VBMI,VNNI,BF16)/AVX-VNNI, AMX off"; fi
mkdir -p "$ROOT/bin"
if [ "$SERVER" = 1 ]; then
    log "building llama-server with $JOBS jobs"
    cmake --build "$BUILD" -j "$JOBS" --target llama-server >&2
    cp -f "$BUILD/bin/llama-server" "$ROOT/bin/llama-server.tmp"
    mv -f "$ROOT/bin/llama-server.tmp" "$ROOT/bin/llama-server"
    "$ROOT/bin/llama-server" --version >"$ROOT/server-version.txt" 2>&1 \
        || { cat "$ROOT/server-version.txt" >&2; log "llama-server --version failed"; exit 1; }
    OUT="$ROOT/bin/llama-server"
else
    log "building bench_llamacpp with $JOBS jobs"
    cmake --build "$BUILD" -j "$JOBS" --target bench_llamacpp >&2
    cp -f "$BUILD/bench_llamacpp" "$ROOT/bin/bench_llamacpp.tmp"
    mv -f "$ROOT/bin/bench_llamacpp.tmp" "$ROOT/bin/bench_llamacpp"
    OUT="$ROOT/bin/bench_llamacpp"
fi
if [ ! -f "$ROOT/BUILD_OK" ]; then
    CC_VER=$(c++ --version | head -n1)
    printf 'llama-cpp-python=%s\nllama.cpp.commit=%s\nllama.cpp.build=b%s\nflags=%s Release OpenMP static\nisa=%s\ncompiler=%s\n' \
        "$LCP_VERSION" "${COMMIT:-unknown}" "$LLAMA_BUILD_NUMBER" "$ISA_DESC" "$ISA" "$CC_VER" >"$ROOT/BUILD_OK"
fi
echo "$OUT"
