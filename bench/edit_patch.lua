-- edit_patch.lua: wrk script for audited PATCHes with If-Match (bench/edit_throughput.py).
--
--   wrk -t2 -c64 -d10s -s bench/edit_patch.lua http://127.0.0.1:PORT -- ITEMS_FILE TOKEN NTHREADS
--
-- ITEMS_FILE has one "collection fid etag" line per item. Thread i of n takes every n-th item
-- (its own: no two threads edit one item, so no 412 is expected). Each connection has one
-- request in flight; an item is sent again only after its answer, with the ETag that answer
-- carried, so every PATCH passes If-Match. Prints one machine-readable line at the end:
--   BENCH requests=.. rps=.. p50_us=.. p99_us=.. err_status=.. err_other=..

local counter = 0
function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

local free = {}      -- items ready to send: {coll, fid, etag}
local byfid = {}
local token
local flip = 0

function init(args)
   local nthreads = tonumber(args[3])
   token = args[2]
   local k = 0
   for line in io.lines(args[1]) do
      local coll, fid, etag = line:match("^(%S+) (%d+) (.+)$")
      if coll and k % nthreads == id then
         local it = {coll = coll, fid = fid, etag = etag}
         table.insert(free, it)
         byfid[fid] = it
      end
      k = k + 1
   end
end

function request()
   local it = table.remove(free, 1)
   if not it then
      io.stderr:write("edit_patch.lua: more connections than items\n")
      os.exit(2)
   end
   flip = flip + 1
   local body = string.format('{"properties":{"status":"%s"}}', (flip % 2 == 0) and "faulty" or "working")
   return wrk.format("PATCH", "/ogc/collections/" .. it.coll .. "/items/" .. it.fid,
                     {["Authorization"] = "Bearer " .. token, ["If-Match"] = it.etag,
                      ["Content-Type"] = "application/merge-patch+json"}, body)
end

function response(status, headers, body)
   local fid = body:match('"id":(%d+)')
   local it = fid and byfid[fid]
   if it then
      it.etag = headers["ETag"] or headers["etag"] or it.etag
      table.insert(free, it)
   else
      io.stderr:write("edit_patch.lua: answer " .. status .. " without an item: " .. body:sub(1, 200) .. "\n")
      os.exit(3)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d err_status=%d err_other=%d\n",
      summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
      latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
