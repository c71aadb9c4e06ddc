-- wrk script for the resolver benchmark: requests carrying the tokens of a file (the first
-- argument after `--`), round-robin, as `Authorization: Bearer`; the method and path are the
-- second and third arguments (default POST /v1/resolve). `done` prints one JSON line the bench
-- parses (latencies in microseconds).
local tokens = {}
local next_token = 0
local method = "POST"
local path = "/v1/resolve"

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  if args[2] then method = args[2] end
  if args[3] then path = args[3] end
end

function request()
  next_token = next_token + 1
  local token = tokens[((next_token - 1) % #tokens) + 1]
  local headers = { ["authorization"] = token }
  if method == "POST" then headers["content-length"] = "0" end
  return wrk.format(method, path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"durationUs":%d,"socketErrors":%d,"non2xx":%d,"p50":%d,"p99":%d,"p999":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
