#!/usr/bin/env bash
# ctest vocab: unpacks tests/golden/vocab/<name>.jsonl.gz into a temp dir and runs
# test_vocab on the vocabularies scripts/fetch-vocabs.sh fetched (see test_vocab.c).
#   test_vocab.sh TEST_VOCAB_BINARY REPO_DIR NAME...
set -euo pipefail
BIN=$1 REPO=$2
shift 2
VOCABS=$(bash "$REPO/scripts/fetch-vocabs.sh")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for name in "$@"; do
  case "$name" in '!'*) continue ;; esac   # refused vocabularies have no golden
  g="$REPO/tests/golden/vocab/$name.jsonl"
  if [ -f "$g.gz" ]; then gzip -dc "$g.gz" > "$TMP/$name.jsonl"
  elif [ -f "$g" ]; then cp "$g" "$TMP/$name.jsonl"
  else echo "FAIL: no golden $g(.gz)" >&2; exit 1
  fi
done
exec "$BIN" "$VOCABS" "$TMP" "$REPO/tests/golden/corpus.jsonl" "$@"
