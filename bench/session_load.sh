#!/usr/bin/env bash
# Stateful sessions under load, over sandboxd's socket and through sandbox-http's interpreter API
# (POST /execute with user_uuid), in one run: build/bench/session_load --socket ... --http ...
# U users each send N calls that depend on the state of the calls before. Starts its own sandboxd
# (temporary socket, runtime directory and cgroup subtree) and sandbox-http (as the user
# sandbox-http, on a loopback port, with a session cap that lets every user in), and stops both
# at the end. Loopback only. Run as root after scripts/build.sh.
#   bench/session_load.sh [--users 30] [--calls 100] [--oneshot-calls 10]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-$root/build}
users=30
calls=100
oneshot=10
while (($#)); do
    case $1 in
        --users) users=$2; shift 2 ;;
        --calls) calls=$2; shift 2 ;;
        --oneshot-calls) oneshot=$2; shift 2 ;;
        *) echo "usage: $0 [--users U] [--calls N] [--oneshot-calls M]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "run as root (it starts sandboxd)" >&2; exit 1; }

# shellcheck source=bench/bench_servers.sh
source "$root/bench/bench_servers.sh"
daemon_args=()
proxy_args=(--session-limit "$users")
start_bench_servers
answer=
for _ in $(seq 50); do
    answer=$(curl -s -X POST "http://127.0.0.1:$port/execute" -d '{"user_uuid":"sanity","code":"6 * 7"}' || true)
    [[ $answer == *'"result_text":"42\n"'* ]] && break
    sleep 0.2
done
[[ $answer == *'"result_text":"42\n"'* ]] || { echo "sanity check failed: $answer" >&2; exit 1; }
curl -s -X POST "http://127.0.0.1:$port/release" -d '{"user_uuid":"sanity"}' > /dev/null

echo "$users users x $calls stateful python calls, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$build/bench/session_load" --socket "$socket" --http "127.0.0.1:$port" --users "$users" --calls "$calls" \
    --oneshot-calls "$oneshot" || status=$?
echo "sandbox-http warnings and errors:"
grep -E " (warning|error|critical) " "$work/sandbox-http.log" || echo "(none)"
exit $status
