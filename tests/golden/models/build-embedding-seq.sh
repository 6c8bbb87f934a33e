#!/usr/bin/env bash
# Build llama-embedding-seq: llama.cpp's own examples/embedding/embedding.cpp (the llama.cpp of
# tests/reference/build-llamacpp.sh) with one change, so that many texts can go through one
# run and still get the vectors llama-embedding gives each text in a run of its own.
#
# llama-embedding packs the prompts of one run into shared decodes (up to n_batch tokens, as
# separate sequences). On a quantized file that changes the numbers: ggml-cpu's repacked
# matrix products (Q4_0, IQ4_NL, Q2_K, Q4_K, Q5_K, Q6_K ... on AVX2) take 4 activation rows
# at a time and the remaining 1..3 rows through another kernel, and which rows of a text are
# "remaining" depends on the rows around it; Q8_K activations then amplify the last-bit
# differences (Gemma 3 270M Q4_K_M: cosine 0.998 between a short text alone and packed).
# The change: the condition that ends a decode also ends it after every prompt
#     if (batch.size() + n_toks > n_batch || s >= n_seq_max)
#  -> if (batch.size() + n_toks > n_batch || s >= n_seq_max || s > 0)
# so each prompt is decoded alone, with the same context, parameters, graph and memory clear
# as in a run of its own. Everything else (argument parsing, tokenization, pooling,
# normalization, printing) is llama-embedding's code, compiled with the flags and linked with
# the libraries of llama-embedding itself (compile_commands.json, build.ninja of that build).
# reference.py llamacpp --embedding-bin uses it and checks a sample of texts against real
# one-per-run llama-embedding output, bit for bit (the printed text).
#
#   bash tests/golden/models/build-embedding-seq.sh    # prints the binary's path (only that)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
log() { printf '[build-embedding-seq] %s\n' "$*" >&2; }

BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
ROOT="$(cd "$BIN/.." && pwd)"
BUILD="$ROOT/build"
SRC="$ROOT/src/vendor/llama.cpp/examples/embedding/embedding.cpp"
OUTDIR="$ROOT/bin-seq"
OUT="$OUTDIR/llama-embedding-seq"
OLD='if (batch.size() + n_toks > n_batch || s >= n_seq_max) {'
NEW='if (batch.size() + n_toks > n_batch || s >= n_seq_max || s > 0) {'
[ -f "$SRC" ] && [ -f "$BUILD/compile_commands.json" ] && [ -f "$BUILD/build.ninja" ] \
    || { log "llama.cpp build tree incomplete in $ROOT"; exit 1; }
STAMP="$( { sha256sum "$SRC" "$ROOT/BUILD_OK" "$BIN/llama-embedding" | cut -d' ' -f1; printf '%s\n' "$NEW"; } | sha256sum | cut -d' ' -f1)"
if [ -x "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null || true)" = "$STAMP" ]; then
    echo "$OUT"
    exit 0
fi
mkdir -p "$OUTDIR"
[ "$(grep -cF "$OLD" "$SRC")" = 1 ] || { log "$SRC: the decode condition is not there exactly once"; exit 1; }
python3 - "$SRC" "$OUTDIR/embedding-seq.cpp" "$OLD" "$NEW" <<'PYEOF'
import sys
src, dst, old, new = sys.argv[1:]
s = open(src, encoding="utf-8").read()
assert s.count(old) == 1
open(dst, "w", encoding="utf-8").write(s.replace(old, new))
PYEOF
# the compile command of embedding.cpp and the link libraries of llama-embedding, as built
CMDS="$(python3 - "$BUILD" "$SRC" "$OUTDIR/embedding-seq.cpp" "$OUTDIR/embedding-seq.o" "$OUT" <<'PYEOF'
import json, re, shlex, sys
build, src, new_src, obj, out = sys.argv[1:]
cc = next(e for e in json.load(open(build + "/compile_commands.json")) if e["file"] == src)
args = shlex.split(cc["command"])
args[args.index("-o") + 1] = obj
args[args.index("-c") + 1] = new_src
ninja = open(build + "/build.ninja").read()
m = re.search(r"^build bin/llama-embedding: .*?\n((?:  .*\n)+)", ninja, re.M)
vars_ = dict(re.match(r"  (\w+) = ?(.*)", l).groups() for l in m.group(1).splitlines())
libs = [l if l.startswith(("-", "/")) else build + "/" + l for l in vars_["LINK_LIBRARIES"].split()]
print(shlex.join(args))
print(shlex.join([args[0]] + vars_.get("FLAGS", "").split() + [obj, "-o", out] + libs))
PYEOF
)"
log "compiling $OUTDIR/embedding-seq.cpp (llama-embedding's flags)"
(cd "$BUILD" && eval "$(sed -n 1p <<<"$CMDS")") >&2
log "linking $OUT"
(cd "$BUILD" && eval "$(sed -n 2p <<<"$CMDS")") >&2
"$OUT" --version >/dev/null 2>&1 || { log "$OUT does not run"; exit 1; }
printf '%s\n' "$STAMP" > "$OUT.stamp"
echo "$OUT"
