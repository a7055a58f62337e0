-- Shared by the wrk scripts (run with bench/lua as the working directory):
-- answers counted by status in every thread, a booking id generator, ids read from a
-- file, and one RESULT line at the end for bench/harness.py to parse.
-- BENCH_SEED (from the harness) seeds the random numbers, so every run draws its own.
local threads = {}
ok, refused, other = 0, 0, 0
codes = {}

math.randomseed(tonumber(os.getenv("BENCH_SEED") or os.time()))

function setup(thread)
  thread:set("seed", math.random(1, 2^30))
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed)
end

function response(status, headers, body)
  if status < 300 then
    ok = ok + 1
  elseif status == 409 then
    refused = refused + 1
  else
    other = other + 1
    codes[status] = (codes[status] or 0) + 1
  end
end

local function hex(digits)
  local out = {}
  for i = 1, digits do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

function new_uuid()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(12)
end

function read_ids()
  local ids = {}
  for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
  return ids
end

function done(summary, latency, requests)
  local counts, statuses = {ok = 0, refused = 0, other = 0}, {}
  for _, thread in ipairs(threads) do
    for name in pairs(counts) do counts[name] = counts[name] + thread:get(name) end
    for status, count in pairs(thread:get("codes")) do statuses[status] = (statuses[status] or 0) + count end
  end
  local listed = {}
  for status, count in pairs(statuses) do listed[#listed + 1] = status .. "x" .. count end
  io.write("OTHER " .. table.concat(listed, " ") .. "\n")
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d ok=%d refused=%d other=%d socket_errors=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f"
      .. " max_ms=%.2f seconds=%.3f\n",
    summary.requests, counts.ok, counts.refused, counts.other,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.duration / 1e6))
end
