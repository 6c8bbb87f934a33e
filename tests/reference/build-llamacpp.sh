#!/usr/bin/env bash
# Build an independent llama.cpp reference (llama-tokenize, llama-embedding, llama-quantize).
#
# Source: the PyPI source distribution of llama-cpp-python==0.3.36, which vendors the
# whole llama.cpp tree at vendor/llama.cpp (llama.cpp commit 0c1e57098, build b11312).
#
# Output: ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/llama.cpp-0.3.36/bin
# Idempotent: does nothing when both binaries already exist and run.
# Prints the bin directory (only that) on stdout; progress goes to stderr.
#
# Environment:
#   GGUFEMBED_CACHE        cache root (default ~/.cache/ggufembed)
#   LLAMACPP_SDIST         use this llama_cpp_python-0.3.36.tar.gz or unpacked dir instead of pip download
#   LLAMACPP_JOBS          parallel build jobs (default: nproc)
#   LLAMACPP_NATIVE=1      build for the host CPU (GGML_NATIVE=ON, e.g. AVX-512 where present)
#                          instead of the default fixed x86-64-v3 set (AVX2, FMA, F16C, BMI2).
#                          The fixed set makes every machine of ours run the same kernels, so
#                          regenerated goldens do not depend on which CPU they were made on.
set -euo pipefail

LCP_VERSION=0.3.36
# llama.cpp revision vendored by llama-cpp-python 0.3.36 (its CHANGELOG says
# "update llama.cpp to ggml-org/llama.cpp@0c1e57098"); that commit is release tag b11312.
# The sdist carries no git metadata, so we pass these to CMake ourselves.
LLAMA_COMMIT_EXPECTED=0c1e57098
LLAMA_BUILD_NUMBER_EXPECTED=11312

CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
ROOT="$CACHE/llama.cpp-$LCP_VERSION"
BIN="$ROOT/bin"
JOBS="${LLAMACPP_JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf '[build-llamacpp] %s\n' "$*" >&2; }

if [ "${LLAMACPP_NATIVE:-0}" = 1 ]; then
    ISA=native
    ISA_FLAGS=(-DGGML_NATIVE=ON)
else
    ISA=x86-64-v3
    ISA_FLAGS=(-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON
               -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF
               -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF)
fi

if [ -x "$BIN/llama-tokenize" ] && [ -x "$BIN/llama-embedding" ] && [ -x "$BIN/llama-quantize" ] && [ -f "$ROOT/BUILD_OK" ] \
   && grep -qx "isa=$ISA" "$ROOT/BUILD_OK"; then
    echo "$BIN"
    exit 0
fi

for tool in cmake c++ cc; do
    command -v "$tool" >/dev/null 2>&1 || { log "missing tool: $tool (apt-get install -y cmake build-essential)"; exit 1; }
done
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi

mkdir -p "$ROOT"
SRC="$ROOT/src"

if [ ! -f "$SRC/vendor/llama.cpp/CMakeLists.txt" ]; then
    rm -rf "$SRC" "$ROOT/dl"
    mkdir -p "$ROOT/dl"
    if [ -n "${LLAMACPP_SDIST:-}" ] && [ -d "${LLAMACPP_SDIST}" ]; then
        log "copying unpacked sdist from $LLAMACPP_SDIST"
        cp -a "$LLAMACPP_SDIST" "$SRC"
    else
        if [ -n "${LLAMACPP_SDIST:-}" ]; then
            TARBALL="$LLAMACPP_SDIST"
        else
            PY="$(command -v python3 || command -v python)"
            log "downloading llama-cpp-python==$LCP_VERSION sdist from PyPI"
            # Isolated metadata build (pip fetches scikit-build-core itself): with
            # --no-build-isolation a fresh machine fails for lack of scikit_build_core.
            "$PY" -m pip download --no-binary :all: --no-deps \
                -d "$ROOT/dl" "llama-cpp-python==$LCP_VERSION" >&2
            TARBALL="$(ls "$ROOT"/dl/llama_cpp_python-"$LCP_VERSION".tar.gz)"
        fi
        log "unpacking $TARBALL"
        tar -xzf "$TARBALL" -C "$ROOT/dl"
        mv "$ROOT/dl/llama_cpp_python-$LCP_VERSION" "$SRC"
        rm -rf "$ROOT/dl"
    fi
fi

LLAMA_SRC="$SRC/vendor/llama.cpp"
[ -f "$LLAMA_SRC/CMakeLists.txt" ] || { log "vendored llama.cpp not found in $SRC"; exit 1; }

# Confirm the vendored revision from the sdist's changelog.
COMMIT="$(sed -n "/^## \[$LCP_VERSION\]/,/^## \[/p" "$SRC/CHANGELOG.md" \
          | grep -o 'llama.cpp@[0-9a-f]\{7,40\}' | head -n1 | cut -d@ -f2 || true)"
if [ "$COMMIT" = "$LLAMA_COMMIT_EXPECTED" ]; then
    BUILD_NUMBER=$LLAMA_BUILD_NUMBER_EXPECTED
else
    log "warning: changelog names llama.cpp@${COMMIT:-?}, expected $LLAMA_COMMIT_EXPECTED; build number unknown"
    COMMIT="${COMMIT:-unknown}"
    BUILD_NUMBER=0
fi

BUILD="$ROOT/build"
rm -f "$ROOT/BUILD_OK"
log "configuring llama.cpp $COMMIT (b$BUILD_NUMBER, $ISA) in $BUILD"
cmake -S "$LLAMA_SRC" -B "$BUILD" "${GEN[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    "${ISA_FLAGS[@]}" \
    -DGGML_CPU=ON \
    -DGGML_BACKEND_DL=OFF \
    -DGGML_OPENMP=ON \
    -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_COMMON=ON \
    -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_EXAMPLES=ON \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_BUILD_NUMBER="$BUILD_NUMBER" \
    -DLLAMA_BUILD_COMMIT="$COMMIT" \
    >&2

log "building llama-tokenize llama-embedding llama-quantize with $JOBS jobs"
cmake --build "$BUILD" --config Release -j "$JOBS" --target llama-tokenize llama-embedding llama-quantize >&2

mkdir -p "$BIN"
for t in llama-tokenize llama-embedding llama-quantize; do
    cp -f "$BUILD/bin/$t" "$BIN/$t"
done

# Smoke test: both binaries start and report their version.
"$BIN/llama-embedding" --version >"$ROOT/version.txt" 2>&1 || { cat "$ROOT/version.txt" >&2; exit 1; }
cat "$ROOT/version.txt" >&2
printf 'llama-cpp-python=%s\nllama.cpp.commit=%s\nllama.cpp.build=%s\nisa=%s\n' \
    "$LCP_VERSION" "$COMMIT" "$BUILD_NUMBER" "$ISA" >"$ROOT/BUILD_OK"
echo "$BIN"
