-- wrk script: poll a different task id on every request, from a file of ids.
-- wrk ... -s bench/poll.lua <url> -- <ids file> <path with %s for the id> <api key>
local ids = {}
local counter = 0
local path_format, key

init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  path_format = args[2]
  key = args[3]
end

request = function()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  return wrk.format("GET", string.format(path_format, id), {["Authorization"] = "Bearer " .. key})
end
