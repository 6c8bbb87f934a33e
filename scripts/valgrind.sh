#!/usr/bin/env bash
# valgrind.sh BUILD_DIR - valgrind memcheck on a representative subset of the C tests,
# built without sanitizers (valgrind and ASan do not mix): the GGUF reader's corruptions,
# every malformed-file class, the ABI (allocator hook, versioned structs), the kernels
# and quant decoders (scalar and AVX2: valgrind hides AVX-512 from CPUID), and one
# tokenizer on its real vocabulary. Any memcheck error or definite/indirect leak fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run() { echo "valgrind: $*" >&2; "${VG[@]}" "$@" | tail -n 1; }
run "$BUILD/bin/test_gguf"
run "$BUILD/bin/test_malformed"
run "$BUILD/bin/test_abi"
run "$BUILD/bin/test_kernels"
run "$BUILD/bin/test_quant"
VOCABS=$(bash "$ROOT/scripts/fetch-vocabs.sh")
gzip -dc "$ROOT/tests/golden/vocab/bert-bge.jsonl.gz" > "$TMP/bert-bge.jsonl"
run "$BUILD/bin/test_vocab" "$VOCABS" "$TMP" "$ROOT/tests/golden/corpus.jsonl" bert-bge
echo "valgrind.sh: no memcheck errors, no leaks" >&2
