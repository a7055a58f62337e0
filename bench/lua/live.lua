-- GET /health/live of the API: what it answers with no work behind the answer.
dofile("common.lua")

request = function()
  return wrk.format("GET", "/health/live")
end
