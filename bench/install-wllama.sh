#!/usr/bin/env bash
# Install the browser peer, @wllama/wllama@3.13.0 (npm, exact pin; llama.cpp compiled to
# wasm: single-thread and multi-thread builds, ~20 MB), and playwright-core@1.65.1 (drives
# /usr/bin/chromium; never downloads a browser) into
# ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/bench-wllama (never into the repo).
# Prints that directory on stdout.  --if-cached: exit 3 unless already installed.
set -euo pipefail
VERSION=3.13.0
PW_VERSION=1.65.1
DIR="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/bench-wllama"
log() { printf '[install-wllama] %s\n' "$*" >&2; }
installed() {
    [ -f "$DIR/node_modules/@wllama/wllama/package.json" ] &&
        grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/@wllama/wllama/package.json" &&
        [ -f "$DIR/node_modules/playwright-core/package.json" ] &&
        grep -q "\"version\": \"$PW_VERSION\"" "$DIR/node_modules/playwright-core/package.json"
}
if installed; then echo "$DIR"; exit 0; fi
if [ "${1:-}" = --if-cached ]; then log "@wllama/wllama@$VERSION is not installed in $DIR"; exit 3; fi
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { log "node and npm are required"; exit 1; }
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || printf '{"name":"ggufembed-bench-wllama","private":true,"type":"module"}\n' > "$DIR/package.json"
log "npm install @wllama/wllama@$VERSION playwright-core@$PW_VERSION into $DIR"
( cd "$DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install -E --no-audit --no-fund \
    "@wllama/wllama@$VERSION" "playwright-core@$PW_VERSION" >&2 )
installed || { log "install failed"; exit 1; }
echo "$DIR"
