-- wrk script for the resolver benchmark: POST /v1/resolve with the tokens of a file (the one
-- argument after `--`), round-robin, as `Authorization: Bearer`. `done` prints one JSON line
-- the bench parses (latencies in microseconds).
local tokens = {}
local next_token = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
end

function request()
  next_token = next_token + 1
  local token = tokens[((next_token - 1) % #tokens) + 1]
  return wrk.format("POST", "/v1/resolve", { ["authorization"] = token, ["content-length"] = "0" })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,"p50":%d,"p99":%d,"p999":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
