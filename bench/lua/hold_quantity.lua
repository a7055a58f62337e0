-- POST {PATH} (default /api/Ticket/hold) for 2 seats of event EVENT_ID, a new booking per request.
dofile("common.lua")
local event_id = os.getenv("EVENT_ID")
local path = os.getenv("HOLD_PATH") or "/api/Ticket/hold"
local headers = {["Content-Type"] = "application/json"}

request = function()
  local body = '{"eventId":' .. event_id .. ',"bookingId":"' .. new_uuid() .. '","numberOfTickets":2}'
  return wrk.format("POST", path, headers, body)
end
