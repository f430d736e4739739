#!/usr/bin/env bash
# Configures and builds sandboxd into build/ (or the directory in $BUILD_DIR).
#   scripts/build.sh [--sanitize]     --sanitize: AddressSanitizer + UBSan, into build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=OFF
build_dir=${BUILD_DIR:-build}
if [[ ${1:-} == --sanitize ]]; then
    sanitize=ON
    build_dir=${BUILD_DIR:-build-asan}
fi

launcher=()
# Rebuilds after small changes are much cheaper with ccache, when it is installed.
if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANDBOXD_SANITIZE=$sanitize "${launcher[@]}" > /dev/null
cmake --build "$build_dir" -j "$(nproc)"
echo "built in $build_dir"
