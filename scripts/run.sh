#!/usr/bin/env bash
# Installs what is needed, builds, and starts sandboxd on its shipped defaults (policies and
# languages from this checkout, socket /run/sandboxd/sandboxd.sock, group sandbox) and
# sandbox-http on port 8000 (as the user sandbox-http; without a token file on loopback only,
# anonymous), then runs a first jailed program through each. Run as root. Under systemd, prefer
# the units in systemd/.
#   scripts/run.sh            start (or restart) in the background; logs in /var/log/sandboxd.log
#                             and /var/log/sandbox-http.log
#   scripts/run.sh --stop     stop what this script started
# With /etc/sandboxd/tokens present, sandbox-http listens on 0.0.0.0:8000 and requires tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pidfile=/run/sandboxd/sandboxd.pid
http_pidfile=/run/sandboxd/sandbox-http.pid
socket=/run/sandboxd/sandboxd.sock

stop_one() {  # pidfile, name
    if [[ -f $1 ]] && kill -0 "$(cat "$1")" 2> /dev/null; then
        kill -TERM "$(cat "$1")"
        for _ in $(seq 150); do
            kill -0 "$(cat "$1")" 2> /dev/null || break
            sleep 0.1
        done
        echo "stopped $2 ($(cat "$1"))"
    fi
    rm -f "$1"
}

stop() {
    stop_one "$http_pidfile" sandbox-http
    stop_one "$pidfile" sandboxd
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

# sandbox-http: the unit's defaults when a token file exists, else loopback and anonymous.
if [[ -f /etc/sandboxd/tokens ]]; then
    http_args=(--listen 0.0.0.0:8000 --tokens /etc/sandboxd/tokens)
else
    http_args=(--listen 127.0.0.1:8000 --anonymous)
fi
install -d -m 0750 -o sandbox-http -g sandbox-http /var/lib/sandbox-http
setsid "$root/build/http-proxy/sandbox-http" --socket "$socket" --user sandbox-http "${http_args[@]}" \
    >> /var/log/sandbox-http.log 2>&1 < /dev/null &
echo $! > "$http_pidfile"
for _ in $(seq 100); do
    curl -sf -o /dev/null http://127.0.0.1:8000/healthz && break
    kill -0 "$(cat "$http_pidfile")" 2> /dev/null || break
    sleep 0.1
done
if ! curl -sf -o /dev/null http://127.0.0.1:8000/healthz; then
    echo "sandbox-http did not start; the end of /var/log/sandbox-http.log:" >&2
    tail -20 /var/log/sandbox-http.log >&2
    exit 1
fi
echo "sandbox-http is running (pid $(cat "$http_pidfile")) on ${http_args[1]}; log: /var/log/sandbox-http.log"
if [[ ${http_args[2]} == --anonymous ]]; then
    echo "a first request:"
    curl -s http://127.0.0.1:8000/v1/run -d '{"language": "python", "source": "print(6 * 7)"}'
    echo
fi
echo
echo "try: $root/build/ctl/sandboxctl --help, or curl http://127.0.0.1:8000/openapi.json"
