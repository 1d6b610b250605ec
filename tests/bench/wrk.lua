-- wrk script for tests/bench.sh: POSTs the body in $BENCH_BODY_FILE with
-- the Authorization header in $BENCH_AUTH (if set), counts 202 answers per
-- thread, and prints one machine-readable summary line at the end:
--   BENCH accepted=N other=N requests=N duration_us=N p50_us=N p99_us=N errors=N
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  other = 0
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local acc, oth = 0, 0
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted")
    oth = oth + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH accepted=%d other=%d requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    acc, oth, summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
end
