#!/usr/bin/env bash
# Installs the system packages the native build and tests need (Debian 12).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
need=()
for pkg in cmake gcc make pkg-config python3 python3-venv curl ca-certificates libutf8proc-dev libmicrohttpd-dev valgrind binutils clang-19 lld-19 libclang-rt-19-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
