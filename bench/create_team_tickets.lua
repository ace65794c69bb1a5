-- wrk script for bench/assignment_latency.py: POST /tickets into one team at a paced rate.
-- BENCH_TOKEN: bearer token; BENCH_TEAM: team id; BENCH_DELAY_MS: pause before each request of a
-- connection (connections / delay sets the rate).
local counter = 0
local token = os.getenv("BENCH_TOKEN")
local team = os.getenv("BENCH_TEAM")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
math.randomseed(os.time())

request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("assign-%d-%d-%d", os.time(), math.random(1, 1e9), counter),
  }
  local body = string.format(
    '{"subject":"Invoice %d is wrong","priority":"Medium","channel":"email","team_id":"%s"}',
    counter, team)
  return wrk.format("POST", "/tickets", headers, body)
end

delay = function()
  return pause
end
