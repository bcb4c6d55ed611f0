-- wrk: the public catchment lookup over a few real addresses of the demo map.
local addrs = {"凤城镇东岳社区二环路123号", "凤城镇东岳社区二环路7号", "城厢镇", "凤城镇"}
local i = 0
local function enc(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function request()
  i = i + 1
  return wrk.format("GET", "/api/v1/catchment/lookup?grade=1&address=" .. enc(addrs[(i % #addrs) + 1]))
end
