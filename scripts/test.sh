#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (as root: the tests run real
# jails). This is what CI runs (.ci/run).
#   scripts/test.sh [--sanitize]     --sanitize: the same under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh "$@"
build_dir=build
[[ ${1:-} == --sanitize ]] && build_dir=build-asan

cd "$build_dir"
# Unit tests in parallel; the others one at a time, since they measure time limits.
ctest -L unit -j "$(nproc)" --output-on-failure
ctest -LE unit --output-on-failure --timeout 300
