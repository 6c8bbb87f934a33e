#!/usr/bin/env bash
# Builds every WebAssembly flavour of ggufembed into OUT (default: js/dist/wasm).
#
#   Emscripten 3.1.6 (Debian), simd128 kernels, emmalloc, growable memory up to 4 GB:
#     ggufembed-st.{mjs,wasm}         single-threaded, ES module, browsers, workers and Node
#     ggufembed-mt.{mjs,wasm,worker.js} pthreads, ES module, cross-origin-isolated pages
#     node/ggufembed-mt.{js,wasm,worker.js} pthreads, CommonJS, Node (Emscripten 3.1.6's ES
#                                      module + threads cannot start workers in Node)
#   clang-19 + wasi-libc (Debian's clang 14 / binaryen 108 do not know the final relaxed-SIMD
#   opcodes, so relaxed SIMD is built with clang-19 as a WASI reactor):
#     ggufembed-relaxed.wasm          reactor, simd128 + relaxed SIMD, single-threaded
#     ggufembed.wasm                  WASI command: the CLI (embed, tokenize, info, ...)
#     test_kernels-{simd128,relaxed}.wasm  tests/test_kernels.c as WASI commands (build-wasm/)
#     test_quant-{simd128,relaxed}.wasm    tests/test_quant.c as WASI commands (build-wasm/)
#     test_{malformed,abi}.wasm            tests/test_malformed.c, test_abi.c as WASI commands
#
# Needs: emscripten, clang-19, lld-19, libclang-rt-19-dev-wasm32, wasi-libc (see
# scripts/test-js.sh, which installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/js/dist/wasm}
mkdir -p "$OUT" "$OUT/node"
OUT=$(cd "$OUT" && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # Debian's emcc needs acorn from there

# utf8proc compiled in from Debian's source package (the native build links Debian's library)
UTF8PROC=$(bash "$ROOT/scripts/fetch-utf8proc.sh")
CORE=(core/alloc.c core/util.c core/gguf.c core/api.c
      core/vocab.c core/tok_spm.c core/tok_wpm.c core/tok_bpe.c core/tok_bpe_pre.c core/tok_ugm.c core/tok_piece.c
      core/loader.c core/quant.c core/ops.c core/scratch.c core/repack.c core/arch.c core/prompts.c core/gemma.c core/bert.c core/moe.c core/qwen3.c
      simd/kernels_scalar.c simd/kernels_wasm_simd128.c simd/dispatch_wasm.c
      "$UTF8PROC/utf8proc.c")
UTF8PROC_FLAGS=(-DUTF8PROC_STATIC -I"$UTF8PROC")
WARN=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -ffp-contract=off)  # see simd/kernels.h
cd "$ROOT"

# ---------------------------------------------------------------- Emscripten
EM_COMMON=(-std=c11 -O3 -msimd128 -DNDEBUG "${WARN[@]}" "${UTF8PROC_FLAGS[@]}"
  -sMODULARIZE=1 -sEXPORT_NAME=createGgufembed
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sINITIAL_MEMORY=32MB -sMALLOC=emmalloc
  -sABORTING_MALLOC=0 -sTOTAL_STACK=4MB -sFILESYSTEM=0 -sEXIT_RUNTIME=0
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=[]
  -sINCOMING_MODULE_JS_API=[instantiateWasm,print,printErr,locateFile,mainScriptUrlOrBlob,gePoolSize,onAbort]
  wasm/exports.c)

echo "emcc: ggufembed-st (simd128, single thread)" >&2
emcc "${EM_COMMON[@]}" "${CORE[@]}" wasm/pool_serial.c \
  -sEXPORT_ES6=1 -sENVIRONMENT=web,worker -o "$OUT/ggufembed-st.mjs"

MT=(-pthread -sPTHREAD_POOL_SIZE='Module.gePoolSize||0' -sPTHREAD_POOL_SIZE_STRICT=2)
echo "emcc: ggufembed-mt (simd128, pthreads, ES module)" >&2
emcc "${EM_COMMON[@]}" "${CORE[@]}" native/pool_pthread.c "${MT[@]}" \
  -sEXPORT_ES6=1 -sENVIRONMENT=web,worker -o "$OUT/ggufembed-mt.mjs" 2>&1 | grep -v "USE_PTHREADS + ALLOW_MEMORY_GROWTH" >&2 || true
test -s "$OUT/ggufembed-mt.wasm"

echo "emcc: node/ggufembed-mt (simd128, pthreads, CommonJS for Node)" >&2
emcc "${EM_COMMON[@]}" "${CORE[@]}" native/pool_pthread.c "${MT[@]}" \
  -sENVIRONMENT=node,worker -o "$OUT/node/ggufembed-mt.js" 2>&1 | grep -v "USE_PTHREADS + ALLOW_MEMORY_GROWTH" >&2 || true
test -s "$OUT/node/ggufembed-mt.wasm"
printf '{ "type": "commonjs" }\n' > "$OUT/node/package.json"

# ---------------------------------------------------------------- clang-19 + wasi-libc
SYSROOT=$ROOT/build-wasm/wasi-sysroot
mkdir -p "$SYSROOT/lib"
ln -sfn /usr/include/wasm32-wasi "$SYSROOT/include"
ln -sfn /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"
# Compile with -O3, link without -O: clang >= 16 runs the wasm-opt it finds in PATH
# after an optimized link, and Debian's binaryen 108 rejects relaxed-SIMD opcodes.
WASI_CC=(clang-19 --target=wasm32-wasi --sysroot="$SYSROOT" -std=c11 -O3 -DNDEBUG "${WARN[@]}" "${UTF8PROC_FLAGS[@]}")
WASI_LD=(clang-19 --target=wasm32-wasi --sysroot="$SYSROOT" -Wl,--max-memory=4294967296 -Wl,-z,stack-size=4194304)
# wasi_objs DIR FLAGS... -- SOURCES...: compiles into DIR, prints the objects
wasi_objs() {
  local dir=$1; shift
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done; shift
  mkdir -p "$dir"
  local objs=() src obj
  for src in "$@"; do
    obj=$dir/$(echo "$src" | tr / _).o
    "${WASI_CC[@]}" "${flags[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
  done
  echo "${objs[@]}"
}
B=$ROOT/build-wasm
mkdir -p "$B"

echo "clang-19: ggufembed-relaxed.wasm (WASI reactor, relaxed SIMD)" >&2
objs=$(wasi_objs "$B/relaxed" -msimd128 -mrelaxed-simd -- "${CORE[@]}" wasm/pool_serial.c wasm/exports.c)
# shellcheck disable=SC2086
"${WASI_LD[@]}" -Wl,--strip-debug -mexec-model=reactor $objs -o "$OUT/ggufembed-relaxed.wasm"

echo "clang-19: ggufembed.wasm (WASI command line tool, simd128)" >&2
objs=$(wasi_objs "$B/cli" -msimd128 -- "${CORE[@]}" wasm/pool_serial.c wasm/open_file_stdio.c native/cli.c)
# shellcheck disable=SC2086
"${WASI_LD[@]}" -Wl,--strip-debug $objs -o "$OUT/ggufembed.wasm"

echo "clang-19: kernel and quant tests (build-wasm/test_{kernels,quant}-*.wasm)" >&2
K=(simd/kernels_scalar.c simd/kernels_wasm_simd128.c simd/dispatch_wasm.c core/util.c)
Q=(tests/test_quant.c core/quant.c)  # core/quant.c includes core/gguf.h for the type enum only
# objs_in DIR SOURCES...: the objects wasi_objs made of SOURCES in DIR
objs_in() { local d=$1 s; shift; for s in "$@"; do printf '%s ' "$d/$(echo "$s" | tr / _).o"; done; }
for v in simd128 relaxed; do
  flags=(-msimd128); [ "$v" = relaxed ] && flags+=(-mrelaxed-simd)
  wasi_objs "$B/tk-$v" "${flags[@]}" -- "${K[@]}" tests/test_kernels.c "${Q[@]}" > /dev/null
  # shellcheck disable=SC2046
  "${WASI_LD[@]}" $(objs_in "$B/tk-$v" "${K[@]}" tests/test_kernels.c) -o "$B/test_kernels-$v.wasm"
  # shellcheck disable=SC2046
  "${WASI_LD[@]}" $(objs_in "$B/tk-$v" "${K[@]}" "${Q[@]}") -o "$B/test_quant-$v.wasm"
done
echo "clang-19: malformed-file and ABI tests (build-wasm/test_{malformed,abi}.wasm)" >&2
for t in malformed abi; do
  wasi_objs "$B/cli" -msimd128 -- tests/test_$t.c > /dev/null
  # shellcheck disable=SC2046
  "${WASI_LD[@]}" $(objs_in "$B/cli" "${CORE[@]}" wasm/pool_serial.c tests/test_$t.c) -o "$B/test_$t.wasm"
done
ls -l "$OUT" "$OUT/node" >&2
