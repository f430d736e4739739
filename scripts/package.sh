#!/usr/bin/env bash
# Builds the Debian package from the build in build/ (building it first when needed):
#   scripts/package.sh        -> build/sandboxd_<version>_<arch>.deb and its -dbgsym .ddeb
# Install it with `apt install ./build/sandboxd_<version>_<arch>.deb` (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh > /dev/null
cd build
cpack --config CPackConfig.cmake -B . | grep -E "package: " || true
ls -1 "$PWD"/sandboxd*_"$(dpkg --print-architecture)".*deb
