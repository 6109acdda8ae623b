-- wrk script: each request is a random line of the file in $WRK_REQUESTS, one request per line,
-- tab-separated: METHOD, PATH, then header lines "Name: value". The `done` hook prints one JSON
-- line (rate, latency percentiles in microseconds, error answers (status >= 400) and socket
-- errors) for the driver.
local requests = {}

-- Built per thread in init(): only then does wrk know the Host header a line leaves out.
function init()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  local file = assert(io.open(os.getenv("WRK_REQUESTS"), "r"))
  for line in file:lines() do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
    local headers = {}
    for i = 3, #fields do
      local name, value = string.match(fields[i], "^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format(fields[1], fields[2], headers, fields[1] == "POST" and "" or nil)
  end
  file:close()
end

function request()
  return requests[math.random(#requests)]
end
function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,"status_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
