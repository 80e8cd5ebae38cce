-- wrk script of scripts/load.sh: POST the body in $BODY (a file), or GET
-- when $BODY is empty; print one machine-readable RESULT line at the end.
local body_file = os.getenv("BODY")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  -- requests, duration (µs), p50 (µs), p99 (µs), non-2xx/3xx, socket errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
