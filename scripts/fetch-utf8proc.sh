#!/usr/bin/env bash
# The utf8proc source for the WebAssembly builds (natively the library comes from Debian's
# libutf8proc-dev): Debian's source package, the same 2.8.0 as the native library, so
# native and wasm tokenize with the same Unicode tables.
#
#   dir=$(bash scripts/fetch-utf8proc.sh)   # -> dir holding utf8proc.c, utf8proc.h, utf8proc_data.c
#
# Needs a deb-src entry for the machine's mirror: made from its deb entry when missing.
# Idempotent (stamp file); progress on stderr, only the directory on stdout.
set -euo pipefail
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
VERSION=2.8.0
DIR="$CACHE/utf8proc-$VERSION"
# sha256 of utf8proc.c and utf8proc_data.c in Debian's utf8proc 2.8.0-1 source package
SHA_C=fdcc214d140a526b0de3ad22d816823c3e7940c017568c046e40f444060e7a51
SHA_DATA=57a774e8b9b5ae6b2bca3927adee178c20ffcc1986d7e2eff8f39a015f464c88
if [ -f "$DIR/.ok" ]; then echo "$DIR"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! grep -qs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/*; then
  echo "adding a deb-src entry for the configured mirror" >&2
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
  $SUDO apt-get update -qq >&2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && apt-get source -qq --download-only "utf8proc=$VERSION-1" >&2 && dpkg-source -x utf8proc_$VERSION-1.dsc src >&2)
echo "$SHA_C  $TMP/src/utf8proc.c" | sha256sum -c --quiet - >&2
echo "$SHA_DATA  $TMP/src/utf8proc_data.c" | sha256sum -c --quiet - >&2
mkdir -p "$DIR"
cp "$TMP/src/utf8proc.c" "$TMP/src/utf8proc.h" "$TMP/src/utf8proc_data.c" "$TMP/src/LICENSE.md" "$DIR/"
touch "$DIR/.ok"
echo "$DIR"
