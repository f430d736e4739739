-- wrk script: POST /v1/run with print(1+1) on every request (bench/http_throughput.sh).
wrk.method = "POST"
wrk.body = '{"language":"python","source":"print(1+1)\\n"}'
wrk.headers["Content-Type"] = "application/json"

-- Non-2xx answers are counted by wrk itself (summary.errors.status).
done = function(summary, latency, requests)
  io.write(string.format("RESULT http %.1f %.2f %.2f %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
