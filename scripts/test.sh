#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (as root: the tests run real
# jails). This is what CI runs (.ci/run).
#   scripts/test.sh [--sanitize] [--datasets]
#     --sanitize: the same under AddressSanitizer + UBSan
#     --datasets: also every HumanEval and MultiPL-E problem (ctest label `dataset`, ~1 hour)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=()
datasets=0
for arg in "$@"; do
    case $arg in
        --sanitize) sanitize=(--sanitize) ;;
        --datasets) datasets=1 ;;
        *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

scripts/install-deps.sh
# Every language runtime, so the per-language tests run instead of failing: about 550 MB and
# 2-4 minutes once per machine (nothing when installed), against CI's 90 minutes.
scripts/install-runtimes.sh
scripts/build.sh "${sanitize[@]}"
build_dir=build
((${#sanitize[@]})) && build_dir=build-asan

cd "$build_dir"
# Unit tests in parallel; the others one at a time, since they measure time limits.
ctest -L unit -j "$(nproc)" --output-on-failure
ctest -LE 'unit|dataset' --output-on-failure --timeout 300
if ((datasets)); then
    ctest -L dataset --output-on-failure
fi
