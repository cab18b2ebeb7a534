-- wrk script: each request carries the bearer token of a random line of the file given after
-- `--` (one token per line), so a load spreads over many users. The requests are formatted
-- once, in init, so that the load generator spends as little of the shared CPU as it can.
--   wrk -t2 -c32 -d10s --latency -s bench/scripts/random_token.lua URL -- tokens.txt
local requests = {}

function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. line })
  end
  math.randomseed(os.time() + #requests)
end

function request()
  return requests[math.random(#requests)]
end
