-- POST /api/Ticket/hold for COUNT seats of event EVENT_ID, a new booking per request;
-- ADJACENT=true asks for them side by side in one row.
dofile("common.lua")
local event_id = os.getenv("EVENT_ID")
local count = os.getenv("COUNT") or "4"
local adjacent = os.getenv("ADJACENT") == "true"
local headers = {["Content-Type"] = "application/json"}

request = function()
  local body = '{"eventId":' .. event_id .. ',"bookingId":"' .. new_uuid() .. '","numberOfTickets":' .. count
  if adjacent then body = body .. ',"adjacent":true' end
  return wrk.format("POST", "/api/Ticket/hold", headers, body .. "}")
end
