-- wrk script: POST /tickets with a fresh Idempotency-Key per request; prints figures as JSON.
local counter = 0
local token = os.getenv("BENCH_TOKEN")
math.randomseed(os.time())

request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), math.random(1, 1e9), counter),
  }
  local body = string.format(
    '{"subject":"Printer %d is out of toner","description":"Floor 3, near the lifts.",' ..
    '"priority":"High","channel":"email","tags":["printer","hardware"],' ..
    '"requester":{"email":"bench-%d@example.co.id","name":"Bench"}}', counter, counter % 500)
  return wrk.format("POST", "/tickets", headers, body)
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
