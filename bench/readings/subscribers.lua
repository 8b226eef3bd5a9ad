-- wrk script of bench/readings/run.py: one thread of one connection per subscriber, so that
-- every connection sends its own session cookie, CSRF token and meter.
--   LKK_BENCH_SUBSCRIBERS  the JSON file run.py wrote: [{cookie, csrf, path, meter, base}]
--   LKK_BENCH_MODE         "readings" (POST a new value) or "registry" (GET /lkk/accounts)

local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

-- A tiny reader for the flat JSON run.py writes (strings and integers only).
local function subscribers(path)
   local f = assert(io.open(path, "r"))
   local text = f:read("*a")
   f:close()
   local list = {}
   for object in text:gmatch("{(.-)}") do
      local s = {}
      for key, value in object:gmatch('"(%w+)":%s*"?([^",]*)"?') do
         s[key] = value
      end
      list[#list + 1] = s
   end
   return list
end

local me, mode, count

function init(args)
   local all = subscribers(os.getenv("LKK_BENCH_SUBSCRIBERS"))
   me = all[(id % #all) + 1]
   mode = os.getenv("LKK_BENCH_MODE")
   count = 0
end

function request()
   local headers = { ["Cookie"] = me.cookie }
   if mode == "registry" then
      return wrk.format("GET", "/lkk/accounts", headers)
   end
   count = count + 1
   -- Up to 399 m³ above the last reading: never a confirmation, never below it.
   local value = tonumber(me.base) + (count % 400)
   headers["Content-Type"] = "application/x-www-form-urlencoded"
   local body = "meter=" .. me.meter .. "&value=" .. value .. "&csrf=" .. me.csrf
   return wrk.format("POST", me.path, headers, body)
end
