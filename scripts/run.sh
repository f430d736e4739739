#!/usr/bin/env bash
# Installs what is needed, builds, and starts sandboxd on its shipped defaults (policies and
# languages from this checkout, socket /run/sandboxd/sandboxd.sock, group sandbox), then runs
# a first jailed program through it. Run as root. Under systemd, prefer the units in systemd/.
#   scripts/run.sh            start (or restart) in the background; log in /var/log/sandboxd.log
#   scripts/run.sh --stop     stop what this script started
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pidfile=/run/sandboxd/sandboxd.pid
socket=/run/sandboxd/sandboxd.sock

stop() {
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
        kill -TERM "$(cat "$pidfile")"
        for _ in $(seq 150); do
            kill -0 "$(cat "$pidfile")" 2> /dev/null || break
            sleep 0.1
        done
        echo "stopped sandboxd ($(cat "$pidfile"))"
    fi
    rm -f "$pidfile"
}

if [[ ${1:-} == --stop ]]; then
    stop
    exit 0
fi

scripts/install-deps.sh
scripts/build.sh
stop

mkdir -p /run/sandboxd
setsid "$root/build/daemon/sandboxd" --socket "$socket" >> /var/log/sandboxd.log 2>&1 < /dev/null &
echo $! > "$pidfile"
for _ in $(seq 100); do
    [[ -S $socket ]] && break
    sleep 0.1
done
if [[ ! -S $socket ]]; then
    echo "sandboxd did not start; the end of /var/log/sandboxd.log:" >&2
    tail -20 /var/log/sandboxd.log >&2
    exit 1
fi
echo "sandboxd is running (pid $(cat "$pidfile")), listening on $socket; log: /var/log/sandboxd.log"
echo
echo "a first jailed program:"
"$root/build/ctl/sandboxctl" --socket "$socket" exec -- /usr/bin/python3 -c \
    'import os, socket; print("hello from uid", os.getuid(), "on", socket.gethostname(), "with", socket.if_nameindex())'
echo
echo "try: $root/build/ctl/sandboxctl --help"
