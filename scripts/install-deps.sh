#!/usr/bin/env bash
# Installs what sandboxd needs to build, run and be tested, from Debian 12's packages.
# Idempotent: only missing packages are installed (after `apt-get update`). Run as root.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: run as root" >&2
    exit 1
fi

packages=(
    # build
    build-essential cmake pkg-config git
    # libraries (see the design's dependency table)
    libseccomp-dev libnl-3-dev libnl-route-3-dev libnftables-dev
    libboost-dev libmsgpack-cxx-dev libspdlog-dev libfmt-dev
    libtomlplusplus-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    # runtime: jails run /usr/bin/python3 and /bin/sh programs; networking tools for the
    # network tests; bubblewrap is the peer the benchmarks measure beside
    python3 iproute2 nftables procps bubblewrap
    # stateful sessions: the JavaScript driver's runtime, and matplotlib for figures in Python
    nodejs python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "installing: ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "all ${#packages[@]} packages are installed"
fi

# The group whose members may use sandboxd's socket.
if ! getent group sandbox > /dev/null; then
    groupadd --system sandbox
    echo "created group sandbox"
fi
