#!/usr/bin/env bash
# bench/quant.sh - the quant table: every weight type of one model side by side (file size,
# RSS, batch throughput of ggufembed zero-copy / repacked and of llama.cpp on the same file,
# cosine to the model's F32 file on the golden corpus). bench/quant_table.py does the work.
#
#   bench/quant.sh                         EmbeddingGemma-300M, every type (~25 min here)
#   bench/quant.sh --family minilm         all-MiniLM-L6-v2 (the 384-wide fallbacks)
#   bench/quant.sh --types "Q8_0 Q4_K_M"   some types only
#   bench/quant.sh --smoke                 2 types, 1 round, every 20th text, 1 rep (CI)
# Options: --threads N (default 2), --rounds N (default 2), --reps N (default 3),
#          --stride K (quality on every K-th corpus text, default 1), --no-llamacpp,
#          --out DIR (default bench/results; smoke: a temp dir).
# The files come from scripts/fetch-model.sh (made by command into the cache); the
# llama.cpp peer from bench/build-llamacpp.sh (cached; ~10 min to build the first time).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CMDLINE="bench/quant.sh${*:+ $*}"
FAMILY=embeddinggemma TYPES="" THREADS=2 ROUNDS=2 REPS=3 STRIDE=1 NO_LLAMA=0 OUT="" SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --family) FAMILY=$2; shift ;;
        --types) TYPES=$2; shift ;;
        --threads) THREADS=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --reps) REPS=$2; shift ;;
        --stride) STRIDE=$2; shift ;;
        --no-llamacpp) NO_LLAMA=1 ;;
        --out) OUT=$2; shift ;;
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bench/quant.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
case "$FAMILY" in
    embeddinggemma) BASE=embeddinggemma-300m-dense ;;
    minilm) BASE=all-minilm-l6-v2 ;;
    *) echo "bench/quant.sh: --family embeddinggemma|minilm" >&2; exit 2 ;;
esac
ALL="F32 BF16 Q8_0 Q6_K Q5_K_M Q5_1 Q5_0 Q4_K_M IQ4_XS IQ4_NL Q4_1 Q4_0 Q3_K_M Q2_K"
[ "$FAMILY" = minilm ] && ALL="F32 F16 Q8_0 Q6_K Q5_K_M Q5_1 Q5_0 Q4_K_M IQ4_XS IQ4_NL Q4_1 Q4_0 Q3_K_M Q2_K"
if [ "$SMOKE" = 1 ]; then
    TYPES=${TYPES:-"Q8_0 Q4_K_M"} ROUNDS=1 REPS=1 STRIDE=20 NO_LLAMA=1
    OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/ggufembed-quant-smoke.XXXXXX")}
fi
TYPES=${TYPES:-$ALL}
OUT=${OUT:-$HERE/results}
log() { printf '[quant.sh] %s\n' "$*" >&2; }

BUILD="${BENCH_BUILD_DIR:-$ROOT/build-bench}"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target ggufembed_archive >/dev/null
mkdir -p "$BUILD/bench"
for prog in bench_ggufembed quality; do
    cc -O2 -std=c11 -Wall -Wextra -I"$ROOT/core" -I"$HERE" "$HERE/$prog.c" "$BUILD/lib/libggufembed.a" \
        $(pkg-config --libs libutf8proc) -pthread -lm -o "$BUILD/bench/$prog"
done

REF=$(bash "$ROOT/scripts/fetch-model.sh" --name "$BASE-F32.gguf")
ARGS=()
for t in $TYPES; do
    f=$(bash "$ROOT/scripts/fetch-model.sh" --name "$BASE-$t.gguf")
    ARGS+=(--model "$t=$f")
done
if [ "$NO_LLAMA" = 0 ]; then
    LLAMA_BIN=$(bash "$HERE/build-llamacpp.sh")
    ARGS+=(--llama-bin "$LLAMA_BIN")
fi
python3 "$HERE/quant_table.py" --ref "$REF" "${ARGS[@]}" --gguf-bin "$BUILD/bench/bench_ggufembed" \
    --quality-bin "$BUILD/bench/quality" --texts "$HERE/texts" --corpus "$ROOT/tests/golden/corpus.jsonl" \
    --out "$OUT" --threads "$THREADS" --rounds "$ROUNDS" --reps "$REPS" --stride "$STRIDE" --command "$CMDLINE"
log "results: $OUT/quant-table.md"
