-- wrk: a parent's status page (JSON) of a submitted application, round robin
-- over the "token application_id" lines of STATUS.
local lines = {}
local idx = 0
function init(args)
  for line in io.lines(os.getenv("STATUS_FILE")) do
    lines[#lines + 1] = line
  end
  idx = math.random(#lines)
end
function request()
  idx = idx + 1
  local token, app = lines[(idx % #lines) + 1]:match("(%S+) (%S+)")
  return wrk.format("GET", "/api/v1/registration/applications/" .. app, {["Authorization"] = "Bearer " .. token})
end
