#!/usr/bin/env bash
# The HTTP server's test suite: tests/server (pytest) against the real `ggufembed serve`
# binary, the real EmbeddingGemma-300M Q8_0 file and the tiny seed models of tests/fuzz/seeds.
#
#   scripts/test-server.sh [CLI [MODEL]] [-- PYTEST_ARGS...]
#
# CLI   defaults to $GGUFEMBED_CLI, else build/bin/ggufembed (built by the usual cmake build;
#       this script does not build it).
# MODEL defaults to $GGUFEMBED_MODEL_PATH, else `scripts/fetch-model.sh` (the cached file).
#
# The test dependencies live in their own venv, made once and kept:
# ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/venv-server, with pinned openai, pytest and numpy
# from PyPI (remade when the pins change). 209 tests; 60-160 s on a 2-core machine (the load
# test, tests/server/test_load.py, is half of it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CLI=${GGUFEMBED_CLI:-$ROOT/build/bin/ggufembed}
MODEL=${GGUFEMBED_MODEL_PATH:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then CLI=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then MODEL=$1; shift; fi
[ "${1:-}" = "--" ] && shift
if [ -z "$MODEL" ]; then MODEL=$(bash scripts/fetch-model.sh); fi
case $CLI in /*) ;; *) CLI=$ROOT/$CLI ;; esac
case $MODEL in /*) ;; *) MODEL=$ROOT/$MODEL ;; esac
[ -x "$CLI" ] || { echo "test-server.sh: no executable $CLI (build it first)" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "test-server.sh: no model file $MODEL" >&2; exit 1; }

CACHE=${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}
VENV=$CACHE/venv-server
# numpy 2.4.x is the newest line with wheels for Python 3.11 (this machine's python3)
PINS="openai==3.57.0 pytest==9.2.0 numpy==2.4.6"
PY=${GGUFEMBED_PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$PINS" ]; then
  echo "test-server.sh: creating $VENV ($PINS)" >&2
  mkdir -p "$CACHE"
  # .pins is written last: a half-made venv (interrupted install) has none and is remade
  rm -f "$VENV/.pins"
  "$PY" -m venv --clear "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check $PINS
  echo "$PINS" >"$VENV/.pins"
fi

export GGUFEMBED_CLI="$CLI" GGUFEMBED_MODEL_PATH="$MODEL"
start=$SECONDS
set +e
# the whole suite, unless PYTEST_ARGS name test files or directories themselves
where=tests/server
for a in "$@"; do case $a in tests/*) where= ;; esac; done
"$VENV/bin/python" -m pytest -q -p no:cacheprovider $where "$@"
rc=$?
set -e
echo "test-server.sh: pytest exit $rc after $((SECONDS - start)) s" >&2
exit $rc
