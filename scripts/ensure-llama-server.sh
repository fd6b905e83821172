#!/usr/bin/env bash
# Build llama-server (CPU) from the llama.cpp vendored in the llama-cpp-python sdist,
# cached outside the repo and keyed by version, so a second run reuses the binary.
# Prints the path of the binary on stdout.
set -euo pipefail
VERSION="${LLAMA_CPP_PYTHON_VERSION:-$("$(dirname "$0")/pin.sh" LLAMA_CPP_PYTHON_VERSION)}"
CACHE="${LLMC_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc-tools}/llama-server-${VERSION}"
BIN="$CACHE/bin/llama-server"
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"; exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
if [ -f "$CACHE/llama_cpp_python-${VERSION}.tar.gz" ]; then
  cp "$CACHE/llama_cpp_python-${VERSION}.tar.gz" .
else
  python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==${VERSION}" -d . >&2
fi
tar xzf "llama_cpp_python-${VERSION}.tar.gz"
SRC="$WORK/llama_cpp_python-${VERSION}/vendor/llama.cpp"
cmake -S "$SRC" -B build -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release >&2
cmake --build build --target llama-server -j"$(nproc)" >&2
mkdir -p "$CACHE/bin"
cp build/bin/llama-server "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
echo "$BIN"
