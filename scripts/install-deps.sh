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
    # SHA-256 of compile cache keys (libcrypto); the gzip-compressed HumanEval dataset in tests
    libssl-dev zlib1g-dev
    # runtime: jails run /usr/bin/python3 and /bin/sh programs; networking tools for the
    # network tests; bubblewrap is the peer the benchmarks measure beside
    python3 iproute2 nftables procps bubblewrap
    # sandbox-http's /py_coverage runs coverage.py in the jail; wrk is the HTTP load tool of
    # bench/http_throughput.sh; scripts/run.sh checks sandbox-http with curl
    python3-coverage wrk curl
    # stateful sessions: the JavaScript driver's runtime, and matplotlib for figures in Python
    nodejs python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

# The install tests (tests/install) check the units with systemd-analyze and create accounts and
# directories with systemd-sysusers and systemd-tmpfiles (the systemd package provides them
# without becoming the init system), render man pages (man-db, groff), and build the .deb
# (CPack needs `file`). Looked up by command, since such packages may be waiting for triggers.
declare -A tools=([systemd-analyze]=systemd [systemd-sysusers]=systemd [systemd-tmpfiles]=systemd
                  [man]=man-db [groff]=groff-base [file]=file [dpkg-shlibdeps]=dpkg-dev
                  [deb-systemd-helper]=init-system-helpers)
for tool in "${!tools[@]}"; do
    if ! command -v "$tool" > /dev/null && [[ " ${missing[*]} " != *" ${tools[$tool]} "* ]]; then
        missing+=("${tools[$tool]}")
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

# The unprivileged user sandbox-http runs as (sandbox-http --user sandbox-http): a system user
# without a home or shell, in group sandbox so that it may use sandboxd's socket (0660 root:sandbox).
if ! getent passwd sandbox-http > /dev/null; then
    useradd --system --user-group --groups sandbox --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "sandboxd HTTP proxy" sandbox-http
    echo "created user sandbox-http"
elif ! id -nG sandbox-http | tr ' ' '\n' | grep -qx sandbox; then
    usermod --append --groups sandbox sandbox-http
    echo "added user sandbox-http to group sandbox"
fi
