-- wrk script: POST a status read for a different task id on every request, from a file of ids.
-- wrk ... -s bench/post.lua <url> -- <ids file> <path> <api key> <body with %s for the id>
local ids = {}
local counter = 0
local path, headers, body_format

init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  path = args[2]
  headers = {["Authorization"] = "Bearer " .. args[3], ["Content-Type"] = "application/json"}
  body_format = args[4]
end

request = function()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  return wrk.format("POST", path, headers, string.format(body_format, id))
end
