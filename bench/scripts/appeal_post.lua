-- wrk: POST /api/v1/appeals as an enterprise user (token given with -H "Authorization: ...").
-- The category (POST_CATEGORY, default `energy`) has a routing rule in the seeded data, so each
-- request assigns the appeal at once and notifies the department: the appeal, its 3 SLA
-- clocks, 2 timeline lines, the assignment, the department users' notifications and mails.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local n = 0
local category = os.getenv("POST_CATEGORY") or "energy"
request = function()
    n = n + 1
    local body = string.format(
        '{"title":"压测诉求：厂区周边道路维修 %d","content":"厂区周边道路维修。目前项目进度受到影响，恳请相关部门协调解决，并告知所需材料和办理时限。","category":"%s"}',
        n, category)
    return wrk.format(nil, nil, nil, body)
end
