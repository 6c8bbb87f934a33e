#!/usr/bin/env bash
# test_symbols.sh STATIC_LIB SHARED_LIB HEADER
# The libraries export exactly the functions the header declares (GGUFEMBED_API), and
# the static library defines no global symbol outside the ggufembed_ prefix (so linking
# it cannot clash with a program's own names). The shared library's SONAME carries
# GGUFEMBED_ABI_VERSION.
set -euo pipefail
A=$1 SO=$2 H=$3
fail=0
declared=$(grep -A2 '^GGUFEMBED_API' "$H" | tr '\n' ' ' | grep -o 'ggufembed_[a-z0-9_]*(' | tr -d '(' | sort -u)
# defined, global (T/D/B/R...), not weak-undefined; sanitizer builds add their own
# (__asan_*, __ubsan_*, __odr_asan_*) which are not the library's
static_syms=$(nm --defined-only --extern-only "$A" | awk 'NF == 3 {print $3}' | grep -v '^__\(asan\|ubsan\|odr_asan\|sancov\)' | sort -u)
stray=$(printf '%s\n' "$static_syms" | grep -v '^ggufembed_' | grep -v '^$' || true)
if [ -n "$stray" ]; then
  echo "FAIL: $A defines global symbols outside the ggufembed_ prefix:"; printf '  %s\n' $stray | head -20; fail=1
fi
for lib in "$A" "$SO"; do
  if [ "$lib" = "$SO" ]; then
    syms=$(nm -D --defined-only "$SO" | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' | grep '^ggufembed_' | sort -u)
  else
    syms=$(printf '%s\n' "$static_syms" | grep '^ggufembed_' | sort -u)
  fi
  if [ "$syms" != "$declared" ]; then
    echo "FAIL: $lib exports differ from the header's GGUFEMBED_API functions:"
    diff <(printf '%s\n' "$declared") <(printf '%s\n' "$syms") | sed 's/^/  /' | head -20; fail=1
  fi
done
abi=$(sed -n 's/^#define GGUFEMBED_ABI_VERSION \([0-9]*\).*/\1/p' "$H")
soname=$(objdump -p "$SO" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libggufembed.so.$abi" ] || { echo "FAIL: SONAME $soname, expected libggufembed.so.$abi"; fail=1; }
n=$(printf '%s\n' "$declared" | wc -l)
[ "$n" -ge 20 ] || { echo "FAIL: only $n declared functions found in $H (parse error?)"; fail=1; }
[ $fail = 0 ] && echo "test_symbols: $n functions exported by both libraries, nothing else global in the archive, SONAME $soname"
exit $fail
