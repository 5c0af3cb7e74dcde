-- tiles.lua: wrk script that cycles through a list of request paths (one per line).
--
--   wrk -t2 -c8 -d10s -s bench/tiles.lua http://127.0.0.1:PORT -- PATHS_FILE [NTHREADS]
--
-- Every wrk thread reads the list, pre-formats the requests once, and starts at its own
-- offset (thread i of n starts at i/n of the list) so the threads do not ask for the same
-- tile at the same moment.  At the end it prints one machine-readable line:
--   BENCH requests=.. duration_us=.. rps=.. p50_us=.. p99_us=.. ... err_status=.. err_other=..
-- err_status counts answers with a status >= 400 (wrk's own rule); 204 is a success.

local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0

function init(args)
   local file = args[1]
   local nthreads = tonumber(args[2] or "2")
   if not file then
      io.stderr:write("tiles.lua: pass the paths file after --\n")
      os.exit(2)
   end
   for line in io.lines(file) do
      if #line > 0 then
         n = n + 1
         reqs[n] = wrk.format("GET", line)
      end
   end
   if n == 0 then
      io.stderr:write("tiles.lua: no paths in " .. file .. "\n")
      os.exit(2)
   end
   i = math.floor(n * id / nthreads) % n
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d err_status=%d err_other=%d bytes=%d\n",
      summary.requests, summary.duration, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect + e.read + e.write + e.timeout, summary.bytes))
end
