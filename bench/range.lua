-- range.lua: wrk script asking one URL for byte ranges, one Range header per request, from a list
-- of "first-last" lines (bench/packages_range.py writes them from a PMTiles archive's directory).
--
--   wrk -t2 -c16 -d10s -s bench/range.lua http://127.0.0.1:PORT/packages/NAME.pmtiles -- RANGES_FILE [NTHREADS]
--
-- Each thread starts at its own place in the list. An answer other than 206 is counted as an
-- error. At the end: one line
--   BENCH requests=.. duration_us=.. rps=.. p50_us=.. p99_us=.. ... err_status=.. err_other=.. bad=..

local counter = 0
local threads = {}
local reqs, n, i = {}, 0, 0
local bad = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local nthreads = tonumber(args[2] or "2")
   for line in io.lines(args[1]) do
      if #line > 0 then
         n = n + 1
         reqs[n] = wrk.format("GET", wrk.path, {["Range"] = "bytes=" .. line})
      end
   end
   if n == 0 then
      io.stderr:write("range.lua: no ranges in " .. tostring(args[1]) .. "\n")
      os.exit(2)
   end
   i = math.floor(n * id / nthreads) % n
end

function request()
   i = i % n + 1
   return reqs[i]
end

function response(status, headers, body)
   if status ~= 206 then bad = bad + 1 end
end

function done(summary, latency, requests)
   local nbad = 0
   for _, t in ipairs(threads) do nbad = nbad + (t:get("bad") or 0) end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d err_status=%d err_other=%d bad=%d bytes=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect + e.read + e.write + e.timeout, nbad, summary.bytes))
end
