-- wrk: each request submits one prepared draft (child filled in, 户口簿
-- uploaded beforehand by prepare.py) with its parent's bearer token.
-- DRAFTS_FILE names the file of "token draft_id" lines; each thread takes every
-- Nth line so that no draft is submitted twice.
local lines = {}
local idx, step = 0, 1
local thread_no = 0
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS") or "1")
  idx = tid
  for line in io.lines(os.getenv("DRAFTS_FILE")) do
    lines[#lines + 1] = line
  end
end

function request()
  idx = idx + step
  local line = lines[(idx % #lines) + 1]
  local token, draft = line:match("(%S+) (%S+)")
  return wrk.format("POST", "/api/v1/registration/drafts/" .. draft .. "/submit",
    {["Authorization"] = "Bearer " .. token, ["Idempotency-Key"] = "bench-" .. draft}, "")
end
