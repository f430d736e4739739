#!/usr/bin/env bash
# Throughput and latency of `print(1+1)` through sandbox-http's POST /v1/run (driven by wrk)
# beside the same load straight on sandboxd's socket (build/bench/socket_load), at 16, 64 and
# 256 concurrent requests, alternating, in one run. Starts its own sandboxd (temporary socket,
# runtime directory and cgroup subtree) and sandbox-http (as the user sandbox-http, on a
# loopback port), and stops both at the end. Loopback only. Run as root after scripts/build.sh.
#   bench/http_throughput.sh [--duration SECONDS] [--levels "16 64 256"]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-$root/build}
duration=10
levels="16 64 256"
while (($#)); do
    case $1 in
        --duration) duration=$2; shift 2 ;;
        --levels) levels=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S] [--levels \"16 64 256\"]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "run as root (it starts sandboxd)" >&2; exit 1; }
command -v wrk > /dev/null || { echo "wrk is missing: scripts/install-deps.sh installs it" >&2; exit 1; }

# shellcheck source=bench/bench_servers.sh
source "$root/bench/bench_servers.sh"
# Queue room for the largest level, so that neither side sees `busy`.
daemon_args=(--max-queue 512)
proxy_args=()
start_bench_servers

answer=$(curl -s -X POST "$url/v1/run" -H 'Content-Type: application/json' -d '{"language":"python","source":"print(1+1)"}')
[[ $answer == *'"stdout":"2\n"'* ]] || { echo "sanity check failed: $answer" >&2; exit 1; }

echo "print(1+1) as python, $duration s per run, $(nproc) CPUs, sandboxd --max-jobs default ($(( $(nproc) * 2 )))"
declare -A rps p50 p99 errs
for level in $levels; do
    # Warm-up, then the two sides one after the other.
    wrk -t1 -c "$level" -d 2 -s bench/wrk_run.lua "$url/v1/run" > /dev/null
    threads=$(( level < 2 ? 1 : 2 ))
    line=$(wrk -t "$threads" -c "$level" -d "$duration" --timeout 30s -s bench/wrk_run.lua "$url/v1/run" | grep '^RESULT')
    read -r _ _ rps[http-$level] p50[http-$level] p99[http-$level] errs[http-$level] <<< "$line"
    line=$("$build/bench/socket_load" --socket "$socket" --concurrency "$level" --duration "$duration" | grep '^RESULT')
    read -r _ _ _ rps[socket-$level] p50[socket-$level] p99[socket-$level] errs[socket-$level] <<< "$line"
done

printf '\n| concurrency | HTTP req/s | socket req/s | HTTP/socket | HTTP p50 | socket p50 | HTTP p99 | socket p99 | errors (HTTP/socket) |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for level in $levels; do
    ratio=$(awk -v a="${rps[http-$level]}" -v b="${rps[socket-$level]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '| %s | %s | %s | %s | %s ms | %s ms | %s ms | %s ms | %s / %s |\n' "$level" "${rps[http-$level]}" \
        "${rps[socket-$level]}" "$ratio" "${p50[http-$level]}" "${p50[socket-$level]}" "${p99[http-$level]}" \
        "${p99[socket-$level]}" "${errs[http-$level]}" "${errs[socket-$level]}"
done
