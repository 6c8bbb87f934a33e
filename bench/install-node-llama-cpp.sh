#!/usr/bin/env bash
# Install the second native peer, node-llama-cpp@3.21.1 (npm, exact pin; prebuilt
# llama.cpp binaries, ~730 MB of node_modules), into
# ${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/bench-node-llama-cpp (never into the repo).
# Prints that directory on stdout.  --if-cached: exit 3 unless already installed.
set -euo pipefail
VERSION=3.21.1
DIR="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}/bench-node-llama-cpp"
log() { printf '[install-node-llama-cpp] %s\n' "$*" >&2; }
installed() {
    [ -f "$DIR/node_modules/node-llama-cpp/package.json" ] &&
        grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/node-llama-cpp/package.json"
}
if installed; then echo "$DIR"; exit 0; fi
if [ "${1:-}" = --if-cached ]; then log "node-llama-cpp@$VERSION is not installed in $DIR"; exit 3; fi
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { log "node and npm are required"; exit 1; }
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || printf '{"name":"ggufembed-bench-node-llama-cpp","private":true,"type":"module"}\n' > "$DIR/package.json"
log "npm install node-llama-cpp@$VERSION into $DIR"
# No source build and no binary download beyond the npm packages: the prebuilt CPU
# binaries come as its optional dependency @node-llama-cpp/linux-x64.
( cd "$DIR" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install -E --no-audit --no-fund "node-llama-cpp@$VERSION" >&2 )
installed || { log "install failed"; exit 1; }
echo "$DIR"
