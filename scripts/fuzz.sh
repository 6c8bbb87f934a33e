#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] - build the libFuzzer targets (clang-19, ASan+UBSan, coverage in
# the library) and run each for SECONDS (default 60) on the committed seeds.
#
#   fuzz_gguf      the GGUF reader alone                    seeds: tests/fuzz/seeds/model, tokenizer
#   fuzz_model     open + context + tokenize + embed/rerank seeds: the same complete small models
#   fuzz_tokenize  every tokenizer on arbitrary bytes       seeds: tests/fuzz/seeds/tokenize
#   fuzz_embed     embed / embed_batch / rerank options     seeds: tests/fuzz/seeds/embed
#   fuzz_json      the server's JSON reader (request bodies) seeds: tests/fuzz/seeds/json
#   fuzz_serve     the server's endpoints on request bodies  seeds: tests/fuzz/seeds/serve
#
# The targets run at the same time (CI calls this once: the build plus SECONDS, not 6 x SECONDS).
# Each gets a temporary working corpus (a copy of its seeds; nothing is written into the
# repository). Exit status non-zero when any target crashes, leaks, times out or runs out of
# memory; the input that did it is copied to $BUILD/fuzz-artifacts/<target>/ and named in the
# output (minimize it with `<target>_libfuzzer -minimize_crash=1 -runs=10000 FILE`, then add it
# to tests/fuzz/regressions/<target>/, which ctest replays).
#
# Environment: GGUFEMBED_FUZZ_BUILD (default build-fuzz), CC_FUZZ (default clang-19),
# GGUFEMBED_FUZZ_TARGETS (default all six), GGUFEMBED_FUZZ_VOCAB_DIR (extra real
# vocabularies for fuzz_tokenize, e.g. ~/.cache/ggufembed/vocab), GGUFEMBED_FUZZ_KEEP=DIR
# (keep the working corpora in DIR instead of a temporary directory).
set -euo pipefail

secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GGUFEMBED_FUZZ_BUILD:-$root/build-fuzz}
cc=${CC_FUZZ:-clang-19}
targets=${GGUFEMBED_FUZZ_TARGETS:-fuzz_gguf fuzz_model fuzz_tokenize fuzz_embed fuzz_json fuzz_serve}
seeds=$root/tests/fuzz/seeds

if ! command -v "$cc" > /dev/null; then
  echo "fuzz.sh: $cc not found (apt-get install -y clang-19 lld-19 libclang-rt-19-dev)" >&2
  exit 2
fi

mkdir -p "$build" # (the logs go in the build directory, never next to it in the repository)
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGGUFEMBED_SANITIZE=ON -DGGUFEMBED_FUZZ=ON > "$build/fuzz-cmake.log" 2>&1 || { cat "$build/fuzz-cmake.log"; exit 1; }
bins=()
for t in $targets; do bins+=("${t}_libfuzzer"); done
cmake --build "$build" -j"$(nproc)" --target "${bins[@]}" > "$build/fuzz-build.log" 2>&1 || { tail -50 "$build/fuzz-build.log"; exit 1; }

if [ -n "${GGUFEMBED_FUZZ_KEEP:-}" ]; then
  work=$GGUFEMBED_FUZZ_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# per target: seed directories, -max_len (room to grow past the largest seed), -timeout (s)
seeds_of() {
  case $1 in
    fuzz_gguf | fuzz_model) echo "$seeds/model $seeds/tokenizer" ;;
    fuzz_tokenize) echo "$seeds/tokenize" ;;
    fuzz_embed) echo "$seeds/embed" ;;
    fuzz_json) echo "$seeds/json" ;;
    fuzz_serve) echo "$seeds/serve" ;;
  esac
}
max_len_of() { case $1 in fuzz_gguf | fuzz_model) echo 262144 ;; *) echo 4096 ;; esac; }
timeout_of() { case $1 in fuzz_model | fuzz_embed | fuzz_serve) echo 30 ;; *) echo 15 ;; esac; }

pids=()
for t in $targets; do
  d=$work/$t
  mkdir -p "$d/corpus" "$d/artifacts"
  for s in $(seeds_of "$t"); do cp "$s"/* "$d/corpus/"; done
  # ASan: leaks are findings (detect_leaks), and a failed check aborts with a report
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/bin/${t}_libfuzzer" "$d/corpus" -max_total_time="$secs" -max_len="$(max_len_of "$t")" \
    -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$d/artifacts/" \
    > "$d/log" 2>&1 &
  pids+=($!)
done

fail=0
i=0
printf '%-14s %10s %8s %7s %7s %8s  %s\n' target execs exec/s cov ft corpus result
for t in $targets; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  i=$((i + 1))
  d=$work/$t
  log=$d/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(find "$d/corpus" -type f | wc -l)
  arts=$(find "$d/artifacts" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ] || [ "$arts" -ne 0 ]; then
    result="FAILED (exit $rc)"
    fail=1
    mkdir -p "$build/fuzz-artifacts/$t"
    cp "$d"/artifacts/* "$build/fuzz-artifacts/$t/" 2> /dev/null || true
    cp "$log" "$build/fuzz-artifacts/$t/log"
  fi
  printf '%-14s %10s %8s %7s %7s %8s  %s\n' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$result"
done
if [ "$fail" -ne 0 ]; then
  for t in $targets; do
    [ -d "$build/fuzz-artifacts/$t" ] || continue
    echo "== $t: $build/fuzz-artifacts/$t/log"
    grep -E 'ERROR: |SUMMARY: |fuzz check failed|Test unit written|==[0-9]+==' "$build/fuzz-artifacts/$t/log" | head -20
  done
fi
exit "$fail"
