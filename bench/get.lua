-- wrk script: the same GET (BENCH_PATH) with a bearer token (BENCH_TOKEN); prints figures as JSON.
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH")

request = function()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

done = function(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d,' ..
    ' "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d,' ..
    ' "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
