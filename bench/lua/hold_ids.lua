-- POST {HOLD_PATH} for 2 distinct random tickets of event EVENT_ID (ids from IDS_FILE), a new booking per request.
dofile("common.lua")
local event_id = os.getenv("EVENT_ID")
local path = os.getenv("HOLD_PATH") or "/api/Ticket/hold"
local headers = {["Content-Type"] = "application/json"}
local ids = read_ids()

request = function()
  local first = math.random(#ids)
  local second = math.random(#ids - 1)
  if second >= first then second = second + 1 end
  local body = '{"eventId":' .. event_id .. ',"bookingId":"' .. new_uuid() .. '","ticketIds":["'
    .. ids[first] .. '","' .. ids[second] .. '"]}'
  return wrk.format("POST", path, headers, body)
end
