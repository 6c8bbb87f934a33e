#!/usr/bin/env bash
# The CLI end to end with the real model: outputs parse, and every kind of bad
# input gives a non-zero exit and exactly one line on stderr (never a crash).
#   test_cli.sh BIN MODEL SCRATCH_DIR
set -uo pipefail
BIN=$1 MODEL=$2 T=$3
pass=0 fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

# expect_error NAME EXPECTED_EXIT GREP_PATTERN -- command...
expect_error() {
  local name=$1 want=$2 pat=$3; shift 4
  "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep -q -- "$pat" "$T/err"; then ok
  else bad "$name: exit $rc (want $want), stderr ($lines lines): $(cat "$T/err")"; fi
}

printf 'hello\n' >"$T/text.gguf"
head -c 5000000 "$MODEL" >"$T/trunc.gguf"
long=$(python3 -c "print('word ' * 2500)")

expect_error "missing file"   1 "cannot open"        -- "$BIN" embed -m "$T/nope.gguf" hi
expect_error "not a gguf"     1 "not a GGUF"         -- "$BIN" embed -m "$T/text.gguf" hi
expect_error "truncated"      1 "truncated"          -- "$BIN" info -m "$T/trunc.gguf"
expect_error "too long"       1 "context is 2048"    -- "$BIN" embed -m "$MODEL" "$long"
expect_error "unknown option" 2 "unknown option"     -- "$BIN" embed -m "$MODEL" --frobnicate hi
expect_error "bad task"       2 "unknown task"       -- "$BIN" embed -m "$MODEL" --task nonsense hi
expect_error "bad dim"        1 "dimensions"         -- "$BIN" embed -m "$MODEL" --dim 1000 hi
expect_error "bad format"     2 "format"             -- "$BIN" embed -m "$MODEL" --format xml hi
expect_error "no model"       2 "no model"           -- env -u GGUFEMBED_MODEL "$BIN" embed hi
expect_error "unknown cmd"    2 "unknown command"    -- "$BIN" frobnicate

# embed: json (array of arrays) and ndjson (one per line), stdin lines, truncation
"$BIN" embed -m "$MODEL" --format json "first text" "second text" >"$T/a.json" && \
python3 - "$T/a.json" <<'PY' && ok || bad "json output"
import json, sys, math
v = json.load(open(sys.argv[1]))
assert len(v) == 2 and all(len(x) == 768 for x in v)
assert all(abs(math.fsum(a * a for a in x) - 1) < 1e-5 for x in v)
PY
printf 'line one\nline two\nline three\n' | "$BIN" embed -m "$MODEL" --format ndjson --dim 256 --task query >"$T/b.ndjson" && \
python3 - "$T/b.ndjson" <<'PY' && ok || bad "ndjson from stdin"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3 and all(len(r) == 256 for r in rows), [len(r) for r in rows]
PY
"$BIN" embed -m "$MODEL" --truncate "$long" >/dev/null 2>&1 && ok || bad "--truncate"
# packed (the default) and zero-copy weights give the same bytes
[ "$("$BIN" embed -m "$MODEL" --format ndjson "same either way")" = \
  "$("$BIN" embed -m "$MODEL" --format ndjson --no-repack "same either way")" ] && ok || bad "--no-repack output"
[ "$("$BIN" tokenize -m "$MODEL" "Hello world")" = "[2, 9259, 1902, 1]" ] && ok || bad "tokenize Hello world"
[ "$("$BIN" tokenize -m "$MODEL" "")" = "[2, 1]" ] && ok || bad "tokenize empty"
"$BIN" info -m "$MODEL" | grep -q "architecture:    gemma-embedding" && ok || bad "info"
"$BIN" info -m "$MODEL" | grep -q "projections:     dense_2/dense_3 present" && ok || bad "info: projections"
# the complete model embeds without a warning (synth checks the warning on files without them)
"$BIN" embed -m "$MODEL" "quiet" >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] && ok || bad "embed warned: $(cat "$T/err")"
# whitespace: stripped by default (sentence-transformers), kept with --keep-whitespace (llama.cpp)
[ "$("$BIN" embed -m "$MODEL" --format ndjson "  padded  ")" = "$("$BIN" embed -m "$MODEL" --format ndjson "padded")" ] \
  && ok || bad "default strips surrounding whitespace"
[ "$("$BIN" embed -m "$MODEL" --format ndjson --keep-whitespace "  padded  ")" != \
  "$("$BIN" embed -m "$MODEL" --format ndjson "padded")" ] && ok || bad "--keep-whitespace keeps it"
# similarity --query: the query task for Q, the document task for the TEXTs, one line per TEXT
"$BIN" similarity -m "$MODEL" --query "Which planet is known as the Red Planet?" \
  "Venus is often called Earth's twin because of its similar size and proximity." \
  "Mars, known for its reddish appearance, is often referred to as the Red Planet." >"$T/q.txt" && \
  [ "$(wc -l <"$T/q.txt")" = 2 ] && awk 'NR==1 {a=$1} NR==2 {exit !($1 > a)}' "$T/q.txt" && ok || bad "similarity --query: $(cat "$T/q.txt")"
expect_error "query + task"   2 "drop --task"        -- "$BIN" similarity -m "$MODEL" --task query --query q a
expect_error "query on embed" 2 "similarity and rerank commands" -- "$BIN" embed -m "$MODEL" --query q a
"$BIN" similarity -m "$MODEL" "a cat" "a kitten" "tax law" | awk 'NR==1 { exit !($2 > $3) }' && ok || bad "similarity ordering"
"$BIN" version | grep -q "ggufembed " && ok || bad "version"
echo "test_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
