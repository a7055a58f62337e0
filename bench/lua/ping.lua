-- GET /ping of the bare baseline app: what wrk and gunicorn can do with no work behind them.
dofile("common.lua")

request = function()
  return wrk.format("GET", "/ping")
end
