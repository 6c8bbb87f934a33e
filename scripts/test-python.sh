#!/usr/bin/env bash
# The Python package: builds the wheel from python/ (scikit-build-core, the same CMake
# project), installs it into a fresh venv (not the source tree) and runs python/tests there.
#
#   scripts/test-python.sh [CLI [MODEL]]     (defaults: build/bin/ggufembed, scripts/fetch-model.sh)
#
# Work in progress for issue 13: not yet part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CLI=${1:-${GGUFEMBED_CLI:-$ROOT/build/bin/ggufembed}}
MODEL=${2:-${GGUFEMBED_MODEL_PATH:-$(bash scripts/fetch-model.sh)}}
case $CLI in /*) ;; *) CLI=$ROOT/$CLI ;; esac
case $MODEL in /*) ;; *) MODEL=$ROOT/$MODEL ;; esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${GGUFEMBED_PYTHON:-python3}
"$PY" -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/python" -m pip install -q --disable-pip-version-check build==1.6.1
"$WORK/build-venv/bin/python" -m build --wheel --outdir "$WORK/dist" python >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "$WORK"/dist/ggufembed-*.whl pytest==9.2.0 "ray[data]==2.60.0"
cd "$WORK" # not the source tree: the installed package is what is tested
GGUFEMBED_CLI="$CLI" GGUFEMBED_MODEL_PATH="$MODEL" "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/python/tests"
