-- wrk script of `make bench`: send the requests of a file in turn, then report as JSON.
-- Usage: wrk ... -s bench/requests.lua <url> -- <requests file> <Authorization header value>
-- One request per line: a path (GET), or tab-separated fields: METHOD, path, body ("" for none),
-- then any number of "Name: value" headers.
local requests = {}
local position = 0
local thread_index = 0

function setup(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end

local function parse(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
  if #fields == 1 then return wrk.format("GET", fields[1]) end
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end  -- wrk.format does not merge them
  for i = 4, #fields do
    local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  local body = fields[3] ~= "" and fields[3] or nil
  if body then headers["Content-Type"] = headers["Content-Type"] or "application/json" end
  return wrk.format(fields[1], fields[2], headers, body)
end

function init(args)
  if args[2] and #args[2] > 0 then wrk.headers["Authorization"] = args[2] end
  wrk.headers["Accept"] = "application/json"
  for line in io.lines(args[1]) do
    if #line > 0 then requests[#requests + 1] = parse(line) end
  end
  if #requests == 0 then error("no requests in " .. args[1]) end
  -- threads start at different places so that they do not ask for the same thing at once
  position = (thread_index * 7919) % #requests
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"min": %d, "mean": %.1f, "max": %d, ' ..
    '"p50": %d, "p90": %d, "p95": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
