-- wrk script: POST /api/Ticket/hold for 2 seats of one event, a new booking per request.
-- EVENT_ID comes from the environment.
local event_id = os.getenv("EVENT_ID")
local counter = 0

local function hex(digits)
  local out = {}
  for i = 1, digits do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

function setup(thread)
  thread:set("seed", math.random(1, 2^30))
end

function init(args)
  math.randomseed(seed + os.time())
end

request = function()
  counter = counter + 1
  local booking = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(12)
  local body = '{"eventId":' .. event_id .. ',"bookingId":"' .. booking .. '","numberOfTickets":2}'
  return wrk.format("POST", "/api/Ticket/hold", {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f seconds=%.3f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
