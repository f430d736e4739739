# Sourced by the HTTP benchmarks: starts a sandboxd and a sandbox-http of their own and stops
# them (and removes what they made) when the benchmark exits. Loopback only.
#   daemon_args=(...); proxy_args=(...); start_bench_servers
# needs $root and $build; sets $work, $socket, $port and $url.

start_bench_servers() {
    name=sandboxd-bench-$$
    work=/tmp/$name
    mkdir -p "$work"
    chown sandbox-http "$work"
    socket=$work/sandboxd.sock
    daemon_pid= proxy_pid=
    trap stop_bench_servers EXIT

    "$build/daemon/sandboxd" --socket "$socket" --runtime-dir "/run/$name" --cgroup-name "$name" --group sandbox \
        --policies "$root/policy/policies" --languages "$root/policy/languages" --cache-dir "$work/cache" \
        --log-level warn "${daemon_args[@]}" > "$work/sandboxd.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.1; done
    [[ -S $socket ]] || { cat "$work/sandboxd.log" >&2; exit 1; }

    "$build/http-proxy/sandbox-http" --listen 127.0.0.1:0 --socket "$socket" --anonymous --user sandbox-http \
        --db "$work/submissions.db" --log-level info "${proxy_args[@]}" > "$work/sandbox-http.log" 2>&1 &
    proxy_pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/sandbox-http.log")
        [[ -n $port ]] && grep -q "connected to" "$work/sandbox-http.log" && break
        sleep 0.1
    done
    [[ -n $port ]] || { cat "$work/sandbox-http.log" >&2; exit 1; }
    url=http://127.0.0.1:$port
}

stop_bench_servers() {
    [[ -n $proxy_pid ]] && kill -TERM "$proxy_pid" 2> /dev/null && wait "$proxy_pid" 2> /dev/null || true
    [[ -n $daemon_pid ]] && kill -TERM "$daemon_pid" 2> /dev/null && wait "$daemon_pid" 2> /dev/null || true
    rm -rf "$work" "/run/$name"
}
