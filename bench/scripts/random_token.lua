-- wrk script: each request carries the bearer token of a random line of the file given after
-- `--` (one token per line), so a load spreads over many users.
--   wrk -t2 -c32 -d10s --latency -s bench/scripts/random_token.lua URL -- tokens.txt
local tokens = {}

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() + #tokens)
end

function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end
