-- GET {READ_PATH}{id} for random ids of IDS_FILE (default path /api/Ticket/).
dofile("common.lua")
local path = os.getenv("READ_PATH") or "/api/Ticket/"
local ids = read_ids()

request = function()
  return wrk.format("GET", path .. ids[math.random(#ids)])
end
