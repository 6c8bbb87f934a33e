#!/usr/bin/env bash
# bench/dense_cost.sh - what EmbeddingGemma's dense projections (dense_2 768->3072,
# dense_3 3072->768: 4.72 M multiply-adds per text, independent of its length) cost:
# ggufembed on the complete file vs the same conversion without them, latency on the
# bench texts and throughput on the batches, 1 thread, the two files interleaved
# (ABBA per round) so machine noise hits both alike. Prints a Markdown table.
#
#   bash bench/dense_cost.sh [--rounds N] [--reps N]
#
# Uses bench/run.sh's build of the driver ($BENCH_BUILD_DIR, default build-bench; built
# here when missing) and fetch-model.sh for both files.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=3 REPS=30
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift ;;
        --reps) REPS=$2; shift ;;
        *) echo "dense_cost.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
BUILD="${BENCH_BUILD_DIR:-$ROOT/build-bench}"
DRV="$BUILD/bench/bench_ggufembed"
if [ ! -x "$DRV" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGUFEMBED_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target ggufembed_archive >/dev/null
    mkdir -p "$BUILD/bench"
    "${CC:-cc}" -O2 -std=c11 -I"$ROOT/core" -I"$HERE" "$HERE/bench_ggufembed.c" "$BUILD/lib/libggufembed.a" \
        $(pkg-config --libs libutf8proc) -pthread -lm -o "$DRV"
fi
WITH=$(bash "$ROOT/scripts/fetch-model.sh" 2>/dev/null)
WITHOUT=$(bash "$ROOT/scripts/fetch-model.sh" --name embeddinggemma-300m-Q8_0.gguf 2>/dev/null)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for r in $(seq 1 "$ROUNDS"); do
    order="with without"; [ $((r % 2)) = 0 ] && order="without with"
    for which in $order; do
        m=$WITH; [ "$which" = without ] && m=$WITHOUT
        for t in short long xlong; do
            "$DRV" --model "$m" --mode latency --text "$HERE/texts/$t.txt" --label "$t" --threads 1 \
                --reps "$REPS" --warmup 3 >>"$OUT/$which.jsonl"
        done
        for b in batch-short batch-long; do
            "$DRV" --model "$m" --mode batch --text "$HERE/texts/$b.txt" --label "$b" --threads 1 \
                --reps 2 --warmup 1 >>"$OUT/$which.jsonl"
        done
    done
done
python3 - "$OUT" "$ROUNDS" "$REPS" <<'PY'
import json, os, statistics, sys, platform
out, rounds, reps = sys.argv[1], sys.argv[2], sys.argv[3]
def load(w):
    rows = {}
    for line in open(os.path.join(out, w + ".jsonl")):
        line = line.strip()
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        rows.setdefault(o["label"], []).append(o)
    return rows
a, b = load("with"), load("without")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("dense projections' cost, 1 thread, %s rounds (%s, %s, load %.2f)" % (rounds, cpu, platform.node(), os.getloadavg()[0]))
print()
print("| scenario | with dense_2/dense_3 | without | ratio |")
print("|---|---|---|---|")
for label in ("short", "long", "xlong"):
    pa = statistics.median(s for o in a[label] for s in o["samples_ms"])
    pb = statistics.median(s for o in b[label] for s in o["samples_ms"])
    print("| latency P50, %s text (ms) | %.2f | %.2f | %.3f |" % (label, pa, pb, pa / pb))
for label in ("batch-short", "batch-long"):
    def rate(rows):
        return statistics.median(o["n_docs"] * 1000.0 / s for o in rows for s in o["samples_ms"])
    ra, rb = rate(a[label]), rate(b[label])
    print("| %s, 96 docs (emb/s) | %.1f | %.1f | %.3f |" % (label, ra, rb, ra / rb))
PY
